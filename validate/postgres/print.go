package postgres

import (
	"errors"
	"fmt"

	pg_query "github.com/pganalyze/pg_query_go/v6"
	pgparser "github.com/pganalyze/pg_query_go/v6/parser"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Print returns the statement's own text without its comments and with
// the row cap applied (see splice), and deparses it where that text cannot
// be handed back. Only queries the describer found nothing
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
	if out, ok := p.splice(maxRows); ok {
		return out, nil
	}
	pb := p.pb
	if maxRows > 0 {
		sel := root.GetStmt().GetSelectStmt()
		changed, restore := capRows(sel, maxRows)
		defer restore()
		if changed {
			pb = withLimit(p.pb, sel)
		}
	}
	if pb == nil {
		// The parser's own bytes could not be reused; encode the tree.
		var err error
		if pb, err = proto.Marshal(p.tree); err != nil {
			return "", fmt.Errorf("printing the statement: %w", err)
		}
	}
	out, err := pgparser.DeparseFromProtobuf(pb)
	if err != nil {
		return "", fmt.Errorf("printing the statement: %w", err)
	}
	// The check reads the printed text back as JSON, which libpg_query
	// writes several times faster than protobuf, and compares it with the
	// judged tree (cap included) field by field.
	again, err := pgparser.ParseToJSON(out)
	if err != nil {
		return "", fmt.Errorf("%w: it does not parse (%v)", errRoundTrip, err)
	}
	if !matchesJSON(again, p.tree.Version, root.GetStmt()) {
		return "", fmt.Errorf("%w: it parses to a different statement", errRoundTrip)
	}
	return out, nil
}

// errRoundTrip is a deparser output that does not read back as the
// statement that was judged, such as (0).a printed as 0.a: refused rather
// than run.
var errRoundTrip = errors.New("the printer's output does not read back as the same statement")

// Protobuf field numbers on the path from a parse result to its first
// statement's LIMIT, from the generated descriptors.
var (
	fieldStmts       = fieldNumber(&pg_query.ParseResult{}, "stmts")
	fieldStmt        = fieldNumber(&pg_query.RawStmt{}, "stmt")
	fieldSelectStmt  = fieldNumber(&pg_query.Node{}, "select_stmt")
	fieldLimitCount  = fieldNumber(&pg_query.SelectStmt{}, "limit_count")
	fieldLimitOption = fieldNumber(&pg_query.SelectStmt{}, "limit_option")
)

func fieldNumber(m proto.Message, name protoreflect.Name) protowire.Number {
	fd := m.ProtoReflect().Descriptor().Fields().ByName(name)
	if fd == nil {
		panic("pg_query: no field " + string(name)) // checked by the package's tests
	}
	return fd.Number()
}

// withLimit returns the parser's protobuf bytes for a one-statement parse
// result whose top SELECT takes sel's LIMIT count and option: the fields
// on the path down to that SELECT are copied with new lengths and the rest
// of the bytes as they are, so the tree need not be marshalled whole. It
// returns nil when pb does not have the expected shape. A mistake here
// would show in the round-trip check, which compares the printed text with
// sel's tree.
func withLimit(pb []byte, sel *pg_query.SelectStmt) []byte {
	// The path: ParseResult.stmts → RawStmt.stmt → Node.select_stmt.
	type level struct{ pre, post []byte }
	var path [3]level
	msg := pb
	for i, num := range [...]protowire.Number{fieldStmts, fieldStmt, fieldSelectStmt} {
		start, end, ok := onlyField(msg, num)
		if !ok {
			return nil
		}
		path[i] = level{pre: msg[:start], post: msg[end:]}
		inner, n := protowire.ConsumeBytes(msg[start+protowire.SizeTag(num) : end])
		if n < 0 {
			return nil
		}
		msg = inner
	}
	var count []byte
	if sel.LimitCount != nil {
		var err error
		if count, err = proto.Marshal(sel.LimitCount); err != nil {
			return nil
		}
	}
	// The SELECT's own fields but the LIMIT ones, then the new LIMIT.
	size := 0
	for rest := msg; len(rest) > 0; {
		num, typ, n := protowire.ConsumeTag(rest)
		if n < 0 {
			return nil
		}
		m := protowire.ConsumeFieldValue(num, typ, rest[n:])
		if m < 0 {
			return nil
		}
		if num != fieldLimitCount && num != fieldLimitOption {
			size += n + m
		}
		rest = rest[n+m:]
	}
	if count != nil {
		size += protowire.SizeTag(fieldLimitCount) + protowire.SizeBytes(len(count))
	}
	if sel.LimitOption != 0 {
		size += protowire.SizeTag(fieldLimitOption) + protowire.SizeVarint(uint64(sel.LimitOption))
	}
	// Lengths of the enclosing messages, innermost first.
	nums := [...]protowire.Number{fieldStmts, fieldStmt, fieldSelectStmt}
	var sizes [3]int // sizes[i]: the contents of the field at level i
	sizes[2] = size
	for i := 1; i >= 0; i-- {
		sizes[i] = len(path[i+1].pre) + protowire.SizeTag(nums[i+1]) + protowire.SizeBytes(sizes[i+1]) + len(path[i+1].post)
	}
	total := len(path[0].pre) + protowire.SizeTag(nums[0]) + protowire.SizeBytes(sizes[0]) + len(path[0].post)

	out := make([]byte, 0, total)
	for i := range path {
		out = append(out, path[i].pre...)
		out = protowire.AppendTag(out, nums[i], protowire.BytesType)
		out = protowire.AppendVarint(out, uint64(sizes[i]))
	}
	for rest := msg; len(rest) > 0; {
		num, typ, n := protowire.ConsumeTag(rest)
		m := protowire.ConsumeFieldValue(num, typ, rest[n:])
		if num != fieldLimitCount && num != fieldLimitOption {
			out = append(out, rest[:n+m]...)
		}
		rest = rest[n+m:]
	}
	if count != nil {
		out = protowire.AppendTag(out, fieldLimitCount, protowire.BytesType)
		out = protowire.AppendBytes(out, count)
	}
	if sel.LimitOption != 0 {
		out = protowire.AppendTag(out, fieldLimitOption, protowire.VarintType)
		out = protowire.AppendVarint(out, uint64(sel.LimitOption))
	}
	for i := len(path) - 1; i >= 0; i-- {
		out = append(out, path[i].post...)
	}
	if len(out) != total {
		return nil
	}
	return out
}

// onlyField finds the one occurrence of the length-delimited field num in
// msg and returns where it starts and ends (tag included).
func onlyField(msg []byte, num protowire.Number) (start, end int, ok bool) {
	start = -1
	for off := 0; off < len(msg); {
		n, typ, tagLen := protowire.ConsumeTag(msg[off:])
		if tagLen < 0 {
			return 0, 0, false
		}
		valLen := protowire.ConsumeFieldValue(n, typ, msg[off+tagLen:])
		if valLen < 0 {
			return 0, 0, false
		}
		if n == num {
			if start >= 0 || typ != protowire.BytesType || tagLen != protowire.SizeTag(num) {
				return 0, 0, false
			}
			start, end = off, off+tagLen+valLen
		}
		off += tagLen + valLen
	}
	return start, end, start >= 0
}

// capRows limits the rows sel returns to limit: a missing LIMIT is added; a
// constant integer LIMIT above limit, a non-constant one, LIMIT ALL and
// LIMIT NULL are replaced by limit. FETCH FIRST ... WITH TIES may return
// more rows than its count, so it becomes a plain count. OFFSET is kept.
// It reports whether it changed anything; the returned function undoes
// the change.
func capRows(sel *pg_query.SelectStmt, limit int) (changed bool, restore func()) {
	count, option := sel.LimitCount, sel.LimitOption
	restore = func() { sel.LimitCount, sel.LimitOption = count, option }
	if n, ok := constInt(count); ok && n >= 0 && n <= int64(limit) {
		if option == pg_query.LimitOption_LIMIT_OPTION_WITH_TIES {
			sel.LimitOption = pg_query.LimitOption_LIMIT_OPTION_COUNT
			return true, restore
		}
		return false, restore
	}
	sel.LimitCount = pg_query.MakeAConstIntNode(int64(limit), -1)
	sel.LimitOption = pg_query.LimitOption_LIMIT_OPTION_COUNT
	return true, restore
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

func isLocationField(name string) bool {
	switch name {
	case "Location", "StmtLocation", "StmtLen", "NameLocation":
		return true
	}
	return false
}
