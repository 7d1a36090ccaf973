package server

import (
	"errors"
	"net"
	"syscall"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// synFilter drops TCP segments that open a connection (SYN without ACK)
// and passes everything else, so handshakes already under way complete.
// A socket filter on a TCP socket sees the segment from its TCP header on;
// byte 13 holds the flags.
var synFilter = func() []unix.SockFilter {
	raw, err := bpf.Assemble([]bpf.Instruction{
		bpf.LoadAbsolute{Off: 13, Size: 1},
		bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: 0x12}, // SYN | ACK
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: 0x02, SkipTrue: 1},
		bpf.RetConstant{Val: 0xffffffff},
		bpf.RetConstant{Val: 0},
	})
	if err != nil {
		panic(err) // a constant program; it assembles or the build is broken
	}
	f := make([]unix.SockFilter, len(raw))
	for i, r := range raw {
		f[i] = unix.SockFilter{Code: r.Op, Jt: r.Jt, Jf: r.Jf, K: r.K}
	}
	return f
}()

// dropNewConnections makes the kernel ignore new connection attempts to l
// while it keeps completing handshakes already begun. A client whose SYN
// is ignored sends it again about a second later and, the listener being
// closed by then, is refused: a clean "connection refused" instead of a
// connection the kernel accepted and the process never served.
func dropNewConnections(l net.Listener) error {
	return control(l, func(fd int) error {
		prog := unix.SockFprog{Len: uint16(len(synFilter)), Filter: &synFilter[0]}
		return unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, &prog)
	})
}

// acceptQueue is how many connections the kernel has accepted on l that the
// process has not taken yet.
func acceptQueue(l net.Listener) (int, error) {
	n := 0
	err := control(l, func(fd int) error {
		info, err := unix.GetsockoptTCPInfo(fd, unix.IPPROTO_TCP, unix.TCP_INFO)
		if err != nil {
			return err
		}
		// For a listening socket the kernel reports its accept queue's
		// length here.
		n = int(info.Unacked)
		return nil
	})
	return n, err
}

func control(l net.Listener, f func(fd int) error) error {
	sc, ok := l.(syscall.Conn)
	if !ok {
		return errors.ErrUnsupported
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := raw.Control(func(fd uintptr) { ferr = f(int(fd)) }); err != nil {
		return err
	}
	return ferr
}
