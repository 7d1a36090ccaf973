package mysql

import (
	"errors"
	"slices"
	"testing"

	"github.com/texttosql/text2sql/validate/hostile"
	"github.com/texttosql/text2sql/validate/stmt"
)

// fuzzModes are the sql_modes the fuzz target parses under; the second
// argument picks one.
var fuzzModes = []string{"", "ANSI_QUOTES", "NO_BACKSLASH_ESCAPES", "ANSI", "ANSI_QUOTES,NO_BACKSLASH_ESCAPES", "HIGH_NOT_PRECEDENCE,PIPES_AS_CONCAT"}

// FuzzParse checks that no input panics, that errors and positions are
// well formed, and that a clean query prints to text that parses to a
// clean query over the same tables.
func FuzzParse(f *testing.F) {
	for _, c := range allTestSQL(f) {
		mode := uint8(slices.Index(fuzzModes, c.mode))
		if mode == 255 {
			mode = 0
		}
		f.Add(c.sql, mode)
	}
	for _, sh := range hostile.Shapes() {
		f.Add(sh.SQL(512), uint8(0))
	}
	parsers := make([]*Parser, len(fuzzModes))
	for i, m := range fuzzModes {
		p, err := New(Options{SQLMode: m})
		if err != nil {
			f.Fatal(err)
		}
		parsers[i] = p
	}
	f.Fuzz(func(t *testing.T, sql string, mode uint8) {
		p := parsers[int(mode)%len(parsers)]
		parsed, err := p.Parse(sql)
		if err != nil {
			var pe *stmt.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse error is %T, not *stmt.ParseError", err)
			}
			if pe.Message == "" || pe.Pos < -1 || pe.Pos > len(sql) {
				t.Fatalf("bad ParseError %+v for %q", pe, sql)
			}
			return
		}
		st := parsed.Describe()
		if st.Verb == "" {
			t.Fatalf("no verb for %q", sql)
		}
		for _, fd := range st.Findings {
			if fd.Code == "" || fd.Message == "" || fd.Pos < -1 || fd.Pos >= len(sql) {
				t.Fatalf("bad finding %+v for %q", fd, sql)
			}
		}
		if st.Query == nil || len(st.Findings) > 0 {
			// Printing must not panic either, whatever the statement.
			_, _ = parsed.Print(100)
			return
		}
		checkRoundTrip(t, p, sql, parsed, st)
	})
}
