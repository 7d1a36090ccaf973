package postgres

import (
	"reflect"
	"sync"
)

// ptrSet records how the describer treated each message of a tree, by
// address (messages are distinct heap objects while the tree lives). It is
// an open-addressing hash table reused from statement to statement:
// bumping the generation empties it without clearing or allocating.
type ptrSet struct {
	slots []ptrSlot
	gen   uint32
	used  int
	shift uint // 64 - log2(len(slots))
}

type ptrSlot struct {
	p     uintptr
	gen   uint32
	state nodeState
}

const ptrSetMinBits = 8

var ptrSets = sync.Pool{New: func() any {
	return &ptrSet{slots: make([]ptrSlot, 1<<ptrSetMinBits), shift: 64 - ptrSetMinBits}
}}

// getPtrSet returns an empty set from the pool.
func getPtrSet() *ptrSet {
	s := ptrSets.Get().(*ptrSet)
	s.gen++
	s.used = 0
	if s.gen == 0 {
		// The generation wrapped: old stamps could match again.
		clear(s.slots)
		s.gen = 1
	}
	return s
}

// release returns the set to the pool; an unusually large one is dropped.
func (s *ptrSet) release() {
	if len(s.slots) <= 1<<16 {
		ptrSets.Put(s)
	}
}

func (s *ptrSet) slot(p uintptr) *ptrSlot {
	mask := uint64(len(s.slots) - 1)
	for i := (uint64(p) * 0x9E3779B97F4A7C15) >> s.shift; ; i = (i + 1) & mask {
		sl := &s.slots[i]
		if sl.gen != s.gen || sl.p == p {
			return sl
		}
	}
}

// get returns how the message at p was treated, 0 when not at all.
func (s *ptrSet) get(p uintptr) nodeState {
	if sl := s.slot(p); sl.gen == s.gen {
		return sl.state
	}
	return 0
}

func (s *ptrSet) set(p uintptr, st nodeState) {
	sl := s.slot(p)
	if sl.gen == s.gen {
		sl.state = st
		return
	}
	if (s.used+1)*2 > len(s.slots) {
		s.grow()
		sl = s.slot(p)
	}
	*sl = ptrSlot{p: p, gen: s.gen, state: st}
	s.used++
}

func (s *ptrSet) grow() {
	old := s.slots
	s.slots = make([]ptrSlot, 2*len(old))
	s.shift--
	for _, sl := range old {
		if sl.gen == s.gen {
			*s.slot(sl.p) = sl
		}
	}
}

// addr is a message's address; m is a pointer to a generated struct.
func addr(m any) uintptr {
	if v := reflect.ValueOf(m); v.Kind() == reflect.Pointer {
		return v.Pointer()
	}
	return 0
}
