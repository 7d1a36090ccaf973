package postgres

import (
	"reflect"

	"github.com/texttosql/text2sql/validate/visited"
)

// ptrSets record how the describer treated each message of a tree, by
// address: messages are distinct heap objects while the tree lives.
var ptrSets = visited.NewPool[uintptr, nodeState](func(p uintptr) uint64 { return uint64(p) }, 8, 16)

// addr is a message's address; m is a pointer to a generated struct.
func addr(m any) uintptr {
	if v := reflect.ValueOf(m); v.Kind() == reflect.Pointer {
		return v.Pointer()
	}
	return 0
}
