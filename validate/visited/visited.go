// Package visited records how a describer treated each node of a parse
// tree, by node identity, so the fail-closed coverage nets can find nodes
// no rule looked at. A set is an open-addressing hash table reused from
// statement to statement through a pool: bumping its generation empties it,
// so a statement pays neither for allocating a map nor for clearing one.
package visited

import "sync"

// Set maps node identities to what was recorded for them.
type Set[K comparable, V any] struct {
	pool  *Pool[K, V]
	slots []slot[K, V]
	gen   uint32
	used  int
	shift uint // 64 - log2(len(slots))
}

type slot[K comparable, V any] struct {
	key K
	gen uint32
	val V
}

// Pool hands out empty sets.
type Pool[K comparable, V any] struct {
	pool    sync.Pool
	hash    func(K) uint64
	maxBits uint
}

// NewPool makes sets that start with 2^minBits slots; a set grown past
// 2^maxBits is dropped on Release rather than kept for every statement.
// hash gives a key's identity, such as a node's address; it is mixed here.
func NewPool[K comparable, V any](hash func(K) uint64, minBits, maxBits uint) *Pool[K, V] {
	p := &Pool[K, V]{hash: hash, maxBits: maxBits}
	p.pool.New = func() any {
		return &Set[K, V]{pool: p, slots: make([]slot[K, V], 1<<minBits), shift: 64 - minBits}
	}
	return p
}

// Get returns an empty set.
func (p *Pool[K, V]) Get() *Set[K, V] {
	s := p.pool.Get().(*Set[K, V])
	s.gen++
	s.used = 0
	if s.gen == 0 {
		// The generation wrapped: old stamps could match again.
		clear(s.slots)
		s.gen = 1
	}
	return s
}

// Release returns the set to its pool. The stale slots keep their keys
// reachable only until the GC next empties the pool.
func (s *Set[K, V]) Release() {
	if len(s.slots) <= 1<<s.pool.maxBits {
		s.pool.pool.Put(s)
	}
}

// find returns k's slot, or the empty slot where k would go.
func (s *Set[K, V]) find(k K) *slot[K, V] {
	mask := uint64(len(s.slots) - 1)
	for i := (s.pool.hash(k) * 0x9E3779B97F4A7C15) >> s.shift; ; i = (i + 1) & mask {
		sl := &s.slots[i]
		if sl.gen != s.gen || sl.key == k {
			return sl
		}
	}
}

// Get returns what was recorded for k, the zero value when nothing was.
func (s *Set[K, V]) Get(k K) V {
	if sl := s.find(k); sl.gen == s.gen {
		return sl.val
	}
	var zero V
	return zero
}

// Put records v for k.
func (s *Set[K, V]) Put(k K, v V) {
	sl := s.find(k)
	if sl.gen == s.gen {
		sl.val = v
		return
	}
	if (s.used+1)*2 > len(s.slots) {
		s.grow()
		sl = s.find(k)
	}
	*sl = slot[K, V]{key: k, gen: s.gen, val: v}
	s.used++
}

func (s *Set[K, V]) grow() {
	old := s.slots
	s.slots = make([]slot[K, V], 2*len(old))
	s.shift--
	for _, sl := range old {
		if sl.gen == s.gen {
			*s.find(sl.key) = sl
		}
	}
}
