package postgres

import (
	"errors"
	"fmt"
	"reflect"
	"sync"

	pg_query "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/proto"
)

// Print deparses the statement. Only queries the describer found nothing
// wrong with are printed: pg_query's deparser is C code that can crash the
// process on trees it does not expect (a LOAD with an empty file name did;
// so does nesting thousands of levels deep). When maxRows > 0 the
// outermost query's row count is capped first (see capRows). The printed
// text is parsed again and must give back the same tree, locations aside,
// so that what runs is exactly what was judged. Print leaves the tree as
// Parse made it, so it may be called again.
func (p *parsed) Print(maxRows int) (string, error) {
	root := p.tree.Stmts[0]
	st := p.Describe()
	if st.Query == nil {
		return "", fmt.Errorf("only queries are printed, not %s", st.Verb)
	}
	if len(st.Findings) > 0 {
		// Refused subtrees are not searched (for depth, among others), so
		// they are never handed to the deparser.
		return "", fmt.Errorf("the statement was refused: %s", st.Findings[0].Message)
	}
	if maxRows > 0 {
		restore := capRows(root.GetStmt().GetSelectStmt(), maxRows)
		defer restore()
	}
	out, err := pg_query.Deparse(p.tree)
	if err != nil {
		return "", fmt.Errorf("printing the statement: %w", err)
	}
	again, err := pg_query.Parse(out)
	if err != nil {
		return "", fmt.Errorf("%w: it does not parse (%v)", errRoundTrip, err)
	}
	if len(again.Stmts) != 1 || !sameTree(root.GetStmt(), again.Stmts[0].GetStmt()) {
		return "", fmt.Errorf("%w: it parses to a different statement", errRoundTrip)
	}
	return out, nil
}

// errRoundTrip is a deparser output that does not read back as the
// statement that was judged, such as (0).a printed as 0.a: refused rather
// than run.
var errRoundTrip = errors.New("the printer's output does not read back as the same statement")

// capRows limits the rows sel returns to limit: a missing LIMIT is added; a
// constant integer LIMIT above limit, a non-constant one, LIMIT ALL and
// LIMIT NULL are replaced by limit. FETCH FIRST ... WITH TIES may return
// more rows than its count, so it becomes a plain count. OFFSET is kept.
// The returned function undoes the change.
func capRows(sel *pg_query.SelectStmt, limit int) (restore func()) {
	count, option := sel.LimitCount, sel.LimitOption
	restore = func() { sel.LimitCount, sel.LimitOption = count, option }
	if n, ok := constInt(count); ok && n >= 0 && n <= int64(limit) {
		if option == pg_query.LimitOption_LIMIT_OPTION_WITH_TIES {
			sel.LimitOption = pg_query.LimitOption_LIMIT_OPTION_COUNT
		}
		return restore
	}
	sel.LimitCount = pg_query.MakeAConstIntNode(int64(limit), -1)
	sel.LimitOption = pg_query.LimitOption_LIMIT_OPTION_COUNT
	return restore
}

// constInt reports the value of an integer literal.
func constInt(n *pg_query.Node) (int64, bool) {
	c := n.GetAConst()
	if c == nil || c.Isnull {
		return 0, false
	}
	if i, ok := c.Val.(*pg_query.A_Const_Ival); ok && i.Ival != nil {
		return int64(i.Ival.Ival), true
	}
	return 0, false
}

// sameTree compares two parse trees, ignoring where in the text each node
// was. It walks the generated structs with Go reflection (field lists
// cached per type), which is several times faster than protoreflect.
func sameTree(a, b proto.Message) bool {
	return sameMessage(reflect.ValueOf(a), reflect.ValueOf(b))
}

// sameMessage compares two pointers to generated message structs.
func sameMessage(a, b reflect.Value) bool {
	if a.IsNil() || b.IsNil() {
		return a.IsNil() == b.IsNil()
	}
	if a.Type() != b.Type() {
		return false
	}
	ea, eb := a.Elem(), b.Elem()
	for _, f := range compareFields(a.Type()) {
		fa, fb := ea.Field(f.index), eb.Field(f.index)
		switch f.kind {
		case childMessage:
			if !sameMessage(fa, fb) {
				return false
			}
		case childList:
			if fa.Len() != fb.Len() {
				return false
			}
			for i := 0; i < fa.Len(); i++ {
				if !sameMessage(fa.Index(i), fb.Index(i)) {
					return false
				}
			}
		case childOneof:
			if fa.IsNil() || fb.IsNil() {
				if fa.IsNil() != fb.IsNil() {
					return false
				}
				continue
			}
			wa, wb := fa.Elem(), fb.Elem()
			if wa.Type() != wb.Type() {
				return false
			}
			// The wrapper struct's single field holds the value.
			va, vb := wa.Elem().Field(0), wb.Elem().Field(0)
			if va.Kind() == reflect.Pointer {
				if !sameMessage(va, vb) {
					return false
				}
			} else if !va.Equal(vb) {
				return false
			}
		default:
			if !reflect.DeepEqual(fa.Interface(), fb.Interface()) {
				return false
			}
		}
	}
	return true
}

const childScalar childKind = 255

var compareCache sync.Map // reflect.Type → []childField

// compareFields lists the exported fields of a generated message type that
// carry meaning: every field but the unexported bookkeeping and the
// locations.
func compareFields(t reflect.Type) []childField {
	if v, ok := compareCache.Load(t); ok {
		return v.([]childField)
	}
	var out []childField
	st := t.Elem()
	for i := 0; i < st.NumField(); i++ {
		f := st.Field(i)
		if !f.IsExported() {
			continue
		}
		switch {
		case f.Type.Kind() == reflect.Int32 && isLocationField(f.Name):
		case f.Type.Kind() == reflect.Pointer && f.Type.Implements(protoMessage):
			out = append(out, childField{i, childMessage})
		case f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() == reflect.Pointer && f.Type.Elem().Implements(protoMessage):
			out = append(out, childField{i, childList})
		case f.Type.Kind() == reflect.Interface && f.Tag.Get("protobuf_oneof") != "":
			out = append(out, childField{i, childOneof})
		default:
			out = append(out, childField{i, childScalar})
		}
	}
	compareCache.Store(t, out)
	return out
}

func isLocationField(name string) bool {
	switch name {
	case "Location", "StmtLocation", "StmtLen", "NameLocation":
		return true
	}
	return false
}
