package mysql

import (
	"reflect"

	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/texttosql/text2sql/validate/stmt"
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

// mark records how the walk treated a node, for the cross-check.
type mark uint8

const (
	// walked: the describer read this node and all that hangs off it.
	walked mark = iota + 1
	// reported: the describer reported this node as a finding and did not
	// look inside it.
	reported
)

// crossCheck walks the tree with the parser's own visitor and reports
// every node the describer did not read: a field the describer does not
// know about can never hide a table, column or function. The same walk
// makes the printer's fixes (see printFixer) on the way back up, after
// every check of the node and its children.
func (d *describer) crossCheck(root ast.Node) {
	d.check = checker{d: d, fix: printFixer{src: d.src, ansiQuotes: d.ansiQuotes, noBackslashEscapes: d.noBackslashEscapes}}
	root.Accept(&d.check)
}

type checker struct {
	d   *describer
	fix printFixer
	// skipped says that the walk left out the insides of a node.
	skipped bool
}

func (c *checker) Enter(n ast.Node) (ast.Node, bool) {
	switch n.(type) {
	case *ast.WindowSpec:
		// The visitor hands out copies of a SELECT's named windows, so
		// their identity cannot match; their clauses are checked below.
		return n, false
	}
	switch c.d.seen.Get(n) {
	case walked:
		return n, false
	case reported:
		c.skipped = true
		return n, true
	}
	c.d.seen.Put(n, reported)
	c.d.find(stmt.CodeUnsupportedSyntax, offset(n), "unsupported syntax: %s", nodeName(n))
	c.skipped = true
	return n, true
}

func (c *checker) Leave(n ast.Node) (ast.Node, bool) {
	c.fix.Enter(n)
	return c.fix.Leave(n)
}
