package server

import (
	"bufio"
	"context"
	"errors"
	"net"
	"runtime"
	"syscall"
	"testing"
	"time"
)

// Connections the kernel accepted before the gate closed are all served,
// even when the server takes them from the queue slowly; connections
// attempted after are refused at connect time.
func TestGateServesWhatTheKernelAccepted(t *testing.T) {
	g, err := listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	go func() {
		for {
			time.Sleep(10 * time.Millisecond) // a busy server: connections wait in the queue
			c, err := g.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				line, err := bufio.NewReader(c).ReadString('\n')
				if err == nil {
					_, _ = c.Write([]byte("echo " + line))
				}
			}()
		}
	}()
	const clients = 20
	conns := make([]net.Conn, clients)
	for i := range conns {
		if conns[i], err = net.Dial("tcp", g.Addr().String()); err != nil {
			t.Fatal(err)
		}
		defer conns[i].Close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	g.refuse(ctx)
	if ctx.Err() != nil {
		t.Fatal("refuse did not return")
	}
	if runtime.GOOS == "linux" {
		// The kernel ignores the attempt: no connection, no refusal yet.
		if c, err := net.DialTimeout("tcp", g.Addr().String(), 200*time.Millisecond); err == nil {
			c.Close()
			t.Error("a connection was accepted after refuse")
		} else if errors.Is(err, syscall.ECONNREFUSED) {
			t.Errorf("refused before the listener closed: %v", err)
		}
	}
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
	for i, c := range conns {
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := c.Write([]byte("ping\n")); err != nil {
			t.Fatalf("client %d: %v", i, err)
		}
		got, err := bufio.NewReader(c).ReadString('\n')
		if err != nil || got != "echo ping\n" {
			t.Errorf("client %d got %q, %v: its connection was dropped", i, got, err)
		}
	}
	if _, err := net.DialTimeout("tcp", g.Addr().String(), 5*time.Second); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("dial after close: %v, want connection refused", err)
	}
}
