package mysql

import (
	"reflect"
	"sync"

	"github.com/pingcap/tidb/pkg/parser/ast"
)

// nodeSet records how the describer treated each node, by node identity,
// for the cross-check. It is an open-addressing hash table that is reused
// from statement to statement: bumping the generation empties it, so a
// statement pays neither for allocating a map nor for clearing one.
type nodeSet struct {
	slots []nodeSlot
	gen   uint32
	used  int
	shift uint // 64 - log2(len(slots))
}

type nodeSlot struct {
	n    ast.Node
	gen  uint32
	mark mark
}

const nodeSetMinBits = 7

var nodeSets = sync.Pool{New: func() any {
	return &nodeSet{slots: make([]nodeSlot, 1<<nodeSetMinBits), shift: 64 - nodeSetMinBits}
}}

// getNodeSet returns an empty set from the pool.
func getNodeSet() *nodeSet {
	s := nodeSets.Get().(*nodeSet)
	s.gen++
	s.used = 0
	if s.gen == 0 {
		// The generation wrapped: old stamps could match again.
		clear(s.slots)
		s.gen = 1
	}
	return s
}

// release returns the set to the pool. A set that grew unusually large is
// dropped instead of being kept for every statement. The stale slots keep
// the last tree reachable only until the pool is next emptied by the GC.
func (s *nodeSet) release() {
	if len(s.slots) <= 1<<14 {
		nodeSets.Put(s)
	}
}

// slot finds n's slot, or the empty slot where n would go.
func (s *nodeSet) slot(n ast.Node) *nodeSlot {
	// Nodes are pointers: the address is hashed, and the interface
	// comparison below checks the type as well.
	var h uint64
	if v := reflect.ValueOf(n); v.Kind() == reflect.Pointer {
		h = uint64(v.Pointer()) * 0x9E3779B97F4A7C15
	}
	mask := uint64(len(s.slots) - 1)
	for i := h >> s.shift; ; i = (i + 1) & mask {
		sl := &s.slots[i]
		if sl.gen != s.gen || sl.n == n {
			return sl
		}
	}
}

// get returns how n was treated, 0 when the describer never saw it.
func (s *nodeSet) get(n ast.Node) mark {
	if sl := s.slot(n); sl.gen == s.gen {
		return sl.mark
	}
	return 0
}

// set records how n was treated.
func (s *nodeSet) set(n ast.Node, m mark) {
	sl := s.slot(n)
	if sl.gen == s.gen {
		sl.mark = m
		return
	}
	if (s.used+1)*2 > len(s.slots) {
		s.grow()
		sl = s.slot(n)
	}
	*sl = nodeSlot{n: n, gen: s.gen, mark: m}
	s.used++
}

func (s *nodeSet) grow() {
	old := s.slots
	s.slots = make([]nodeSlot, 2*len(old))
	s.shift--
	for _, sl := range old {
		if sl.gen == s.gen {
			*s.slot(sl.n) = sl
		}
	}
}
