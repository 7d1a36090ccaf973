package postgres

import (
	"reflect"

	pg_query "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/texttosql/text2sql/validate/stmt"
	"github.com/texttosql/text2sql/validate/visited"
)

// coverage is the second net under the describer: it walks the whole tree
// generically and refuses the statement when it finds
//
//   - a node type outside the set the describer knows, or
//   - a node that carries meaning (a table, column, function, type,
//     subquery, ...) that the describer never examined — a clause it
//     forgot to walk would otherwise pass unseen.
//
// Subtrees the describer already refused are not searched.
func (d *describer) coverage(root *pg_query.Node) {
	d.cover(reflect.ValueOf(root), nil, 0)
}

// maxDepth bounds how deeply parse-tree messages may nest. pg_query's C
// deparser recurses once per level on the thread's stack and crashed the
// process at about 9,800 levels with an 8 MiB stack; the deepest of some
// 3,000 benchmark queries nests 33 levels. A deeper statement is refused,
// and Print never deparses a refused statement. Every nesting level a
// person sees is at least one message level, so this is the same bound as
// the one tooDeep applies before parsing.
const maxDepth = stmt.MaxNesting

// cover walks with Go reflection over the generated structs rather than
// protoreflect, following the fields worked out once per type (types.go).
func (d *describer) cover(v reflect.Value, mi *msgInfo, depth int) {
	if v.IsNil() {
		return
	}
	if mi == nil {
		mi = infoOf(v.Type())
	}
	if depth > maxDepth {
		d.add(stmt.CodeTooComplex, -1, "%s", stmt.TooComplex(0, -1).Message)
		return
	}
	switch d.state.Get(v.Pointer()) {
	case refused:
		return
	case examined:
	default:
		if mi.typ == nodeType {
			if n := v.Interface().(*pg_query.Node); n.Node != nil && !knownNode(n) {
				d.unsupported(n)
				return
			}
		} else if mi.tracked {
			m := v.Interface().(proto.Message).ProtoReflect()
			d.add(stmt.CodeUnsupportedSyntax, messageLocation(m), "unsupported syntax: %s in a place the validator does not examine", m.Descriptor().Name())
			return
		}
	}
	e := v.Elem()
	for _, f := range mi.children {
		fv := e.Field(f.index)
		switch f.kind {
		case childMessage:
			d.cover(fv, f.info, depth+1)
		case childList:
			for i := 0; i < fv.Len(); i++ {
				d.cover(fv.Index(i), f.info, depth+1)
			}
		case childOneof:
			if fv.IsNil() {
				continue
			}
			w := fv.Elem()
			mem, ok := mi.wrappers[w.Type()]
			if !ok {
				// Not a member this type was built with: look at what
				// it holds.
				inner := w.Elem().Field(0)
				mem.msg = inner.Kind() == reflect.Pointer && inner.Type().Implements(protoMessage)
			}
			if mem.msg {
				d.cover(w.Elem().Field(0), mem.info, depth+1)
			}
		}
	}
}

var nodeType = reflect.TypeOf((*pg_query.Node)(nil))

func messageLocation(m protoreflect.Message) int {
	if fd := m.Descriptor().Fields().ByName("location"); fd != nil && fd.Kind() == protoreflect.Int32Kind {
		return int(m.Get(fd).Int())
	}
	return -1
}

// tracked says whether a message means something for the judgement, so
// that the describer must have examined it.
func tracked(m any) bool {
	switch m.(type) {
	case *pg_query.SelectStmt, *pg_query.RangeVar, *pg_query.ColumnRef, *pg_query.FuncCall,
		*pg_query.SQLValueFunction, *pg_query.TypeName, *pg_query.SubLink, *pg_query.RangeFunction,
		*pg_query.RangeSubselect, *pg_query.RangeTableSample, *pg_query.JoinExpr, *pg_query.JsonTable,
		*pg_query.JsonArrayQueryConstructor, *pg_query.CommonTableExpr, *pg_query.WithClause,
		*pg_query.LockingClause, *pg_query.IntoClause, *pg_query.WindowDef, *pg_query.ColumnDef,
		*pg_query.InsertStmt, *pg_query.UpdateStmt, *pg_query.DeleteStmt, *pg_query.MergeStmt:
		return true
	}
	return false
}

// knownNode says whether a node type may appear in a query the describer
// accepts. Types that are always refused (ParamRef, SetToDefault, every
// statement other than SELECT, ...) are absent.
func knownNode(n *pg_query.Node) bool {
	switch n.Node.(type) {
	case *pg_query.Node_SelectStmt, *pg_query.Node_CommonTableExpr, *pg_query.Node_WithClause,
		*pg_query.Node_ResTarget, *pg_query.Node_RangeVar, *pg_query.Node_RangeSubselect,
		*pg_query.Node_RangeFunction, *pg_query.Node_RangeTableSample, *pg_query.Node_JoinExpr,
		*pg_query.Node_ColumnDef, *pg_query.Node_CollateClause, *pg_query.Node_SortBy, *pg_query.Node_WindowDef,
		*pg_query.Node_GroupingSet, *pg_query.Node_TypeName,
		// expressions
		*pg_query.Node_AConst, *pg_query.Node_ColumnRef, *pg_query.Node_AStar, *pg_query.Node_FuncCall,
		*pg_query.Node_SqlvalueFunction, *pg_query.Node_TypeCast, *pg_query.Node_SubLink, *pg_query.Node_AExpr,
		*pg_query.Node_BoolExpr, *pg_query.Node_NullTest, *pg_query.Node_BooleanTest, *pg_query.Node_List,
		*pg_query.Node_CaseExpr, *pg_query.Node_CaseWhen, *pg_query.Node_CoalesceExpr, *pg_query.Node_MinMaxExpr,
		*pg_query.Node_RowExpr, *pg_query.Node_AArrayExpr, *pg_query.Node_AIndirection, *pg_query.Node_AIndices,
		*pg_query.Node_NamedArgExpr, *pg_query.Node_GroupingFunc, *pg_query.Node_XmlExpr, *pg_query.Node_XmlSerialize,
		// names and literals inside the nodes above
		*pg_query.Node_String_, *pg_query.Node_Integer, *pg_query.Node_Float, *pg_query.Node_Boolean,
		*pg_query.Node_BitString,
		// SQL/JSON
		*pg_query.Node_JsonTable, *pg_query.Node_JsonTableColumn, *pg_query.Node_JsonTablePathSpec,
		*pg_query.Node_JsonObjectConstructor, *pg_query.Node_JsonArrayConstructor,
		*pg_query.Node_JsonArrayQueryConstructor, *pg_query.Node_JsonObjectAgg, *pg_query.Node_JsonArrayAgg,
		*pg_query.Node_JsonAggConstructor, *pg_query.Node_JsonParseExpr, *pg_query.Node_JsonScalarExpr,
		*pg_query.Node_JsonSerializeExpr, *pg_query.Node_JsonFuncExpr, *pg_query.Node_JsonIsPredicate,
		*pg_query.Node_JsonKeyValue, *pg_query.Node_JsonValueExpr, *pg_query.Node_JsonArgument,
		*pg_query.Node_JsonOutput, *pg_query.Node_JsonReturning, *pg_query.Node_JsonFormat,
		*pg_query.Node_JsonBehavior:
		return true
	}
	return false
}

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

type nodeState uint8

const (
	examined nodeState = iota + 1
	// refused: a finding already rejects this node; its subtree need not
	// be examined.
	refused
)
