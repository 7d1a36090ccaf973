package visited

import (
	"testing"
	"unsafe"
)

type node struct{ _ int }

func TestSet(t *testing.T) {
	pool := NewPool[*node, int](func(n *node) uint64 { return uint64(uintptr(unsafe.Pointer(n))) }, 3, 12)
	s := pool.Get()
	var nodes []*node
	for i := range 1000 {
		n := &node{}
		nodes = append(nodes, n)
		s.Put(n, i%2+1)
	}
	s.Put(nodes[0], 7)
	for i, n := range nodes[1:] {
		if got := s.Get(n); got != (i+1)%2+1 {
			t.Fatalf("node %d: %d", i+1, got)
		}
	}
	if s.Get(nodes[0]) != 7 || s.Get(&node{}) != 0 || s.Get(nil) != 0 {
		t.Fatal("overwrite or unknown node")
	}
	s.Release()
	s = pool.Get()
	for _, n := range nodes {
		if s.Get(n) != 0 {
			t.Fatal("a node survived into the next statement")
		}
	}
	// The generation wraps around.
	s.gen = ^uint32(0)
	s.Put(nodes[0], 1)
	s.Release()
	s = pool.Get()
	if s.gen != 1 || s.Get(nodes[0]) != 0 {
		t.Fatalf("after wrapping: gen %d, value %d", s.gen, s.Get(nodes[0]))
	}
	s.Release()
}
