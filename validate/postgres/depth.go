package postgres

import (
	pg_query "github.com/pganalyze/pg_query_go/v6"
	pgparser "github.com/pganalyze/pg_query_go/v6/parser"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/texttosql/text2sql/validate/nesting"
	"github.com/texttosql/text2sql/validate/stmt"
)

// tooDeep measures how deeply sql can nest, from PostgreSQL's own scanner
// tokens, before the parser's recursive C code sees it; it returns the
// refusal of a statement over stmt.MaxNesting, else nil. The scanner is
// flex-generated and does not recurse. Statements whose bytes alone bound
// the depth under the limit are not scanned at all.
func tooDeep(sql string) *stmt.ParseError {
	if nesting.Bound(sql) <= stmt.MaxNesting {
		return nil
	}
	pb, err := pgparser.ScanToProtobuf(sql)
	if err != nil {
		// A lexical error: the parser stops at the same token, before it
		// builds a tree, and reports it.
		return nil
	}
	var m nesting.Meter
	// The tokens are read straight off the wire: a large statement has
	// hundreds of thousands of them, not worth a message each.
	ok := forEachToken(pb, func(tok pg_query.Token, start int) {
		switch tok {
		case pg_query.Token_ASCII_40: // (
			m.Open('(', start)
		case pg_query.Token_ASCII_41:
			m.Close('(')
		case pg_query.Token_ASCII_91: // [
			m.Open('[', start)
		case pg_query.Token_ASCII_93:
			m.Close('[')
		case pg_query.Token_CASE:
			m.Open('c', start)
		case pg_query.Token_END_P:
			m.Close('c')
		case pg_query.Token_ASCII_44, pg_query.Token_AND, pg_query.Token_OR,
			pg_query.Token_WHEN, pg_query.Token_THEN, pg_query.Token_ELSE:
			// The grammar makes a flat list of AND and OR operands.
			m.Separate()
		case pg_query.Token_UNION, pg_query.Token_INTERSECT, pg_query.Token_EXCEPT, pg_query.Token_JOIN:
			m.Link(start)
		case pg_query.Token_Op, pg_query.Token_TYPECAST,
			pg_query.Token_LESS_EQUALS, pg_query.Token_GREATER_EQUALS, pg_query.Token_NOT_EQUALS,
			pg_query.Token_ASCII_37, pg_query.Token_ASCII_42, pg_query.Token_ASCII_43, pg_query.Token_ASCII_45,
			pg_query.Token_ASCII_47, pg_query.Token_ASCII_60, pg_query.Token_ASCII_61, pg_query.Token_ASCII_62,
			pg_query.Token_ASCII_94,
			pg_query.Token_NOT, pg_query.Token_NOT_LA, pg_query.Token_IS, pg_query.Token_ISNULL, pg_query.Token_NOTNULL,
			pg_query.Token_LIKE, pg_query.Token_ILIKE, pg_query.Token_SIMILAR, pg_query.Token_BETWEEN,
			pg_query.Token_IN_P, pg_query.Token_COLLATE, pg_query.Token_AT, pg_query.Token_OPERATOR,
			pg_query.Token_OVERLAPS, pg_query.Token_ESCAPE:
			m.Chain(start)
		}
	})
	if !ok {
		return &stmt.ParseError{Code: stmt.CodeParseError, Message: "the PostgreSQL scanner's tokens could not be read", Pos: -1}
	}
	return m.Err()
}

// forEachToken calls f with each token of a ScanResult message: field 2
// holds the tokens, and in each token field 1 is the start offset and
// field 4 the token. It reports whether the message was well formed.
func forEachToken(pb []byte, f func(tok pg_query.Token, start int)) bool {
	for len(pb) > 0 {
		num, typ, n := protowire.ConsumeTag(pb)
		if n < 0 {
			return false
		}
		pb = pb[n:]
		if num != 2 || typ != protowire.BytesType {
			if n = protowire.ConsumeFieldValue(num, typ, pb); n < 0 {
				return false
			}
			pb = pb[n:]
			continue
		}
		msg, n := protowire.ConsumeBytes(pb)
		if n < 0 {
			return false
		}
		pb = pb[n:]
		var tok pg_query.Token
		start := 0
		for len(msg) > 0 {
			num, typ, n := protowire.ConsumeTag(msg)
			if n < 0 {
				return false
			}
			msg = msg[n:]
			if typ == protowire.VarintType && (num == 1 || num == 4) {
				v, n := protowire.ConsumeVarint(msg)
				if n < 0 {
					return false
				}
				msg = msg[n:]
				if num == 1 {
					start = int(int32(v))
				} else {
					tok = pg_query.Token(v)
				}
				continue
			}
			if n = protowire.ConsumeFieldValue(num, typ, msg); n < 0 {
				return false
			}
			msg = msg[n:]
		}
		f(tok, start)
	}
	return true
}
