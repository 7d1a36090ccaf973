package mysql

import (
	"reflect"

	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/texttosql/text2sql/validate/visited"
)

// nodeSets record how the describer treated each node, for the
// cross-check. Keys are the nodes themselves: the address is hashed and the
// interface comparison also checks the type, which tells apart two nodes
// sharing an address (a parameter marker embeds its value first).
var nodeSets = visited.NewPool[ast.Node, mark](nodeAddr, 7, 14)

func nodeAddr(n ast.Node) uint64 {
	if v := reflect.ValueOf(n); v.Kind() == reflect.Pointer {
		return uint64(v.Pointer())
	}
	return 0
}
