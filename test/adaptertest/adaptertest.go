// Package adaptertest holds the checks that the tests of every dialect
// adapter share.
package adaptertest

import (
	"errors"
	"testing"

	"github.com/texttosql/text2sql/validate/stmt"
)

// FuzzRoundTrip fuzzes p from the seeds f already holds: no input panics;
// an error is a *stmt.ParseError located inside the input; and a query
// described without findings prints, capped, to text that parses and is
// again described without findings. A Print that refuses by its own proof
// is a refusal, not a failure.
func FuzzRoundTrip(f *testing.F, p stmt.Parser) {
	f.Fuzz(func(t *testing.T, sql string) {
		parsed, err := p.Parse(sql)
		if err != nil {
			var pe *stmt.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %T is not a *stmt.ParseError", err)
			}
			if pe.Pos < -1 || pe.Pos > len(sql) {
				t.Fatalf("error position %d outside the %d-byte input", pe.Pos, len(sql))
			}
			return
		}
		d := parsed.Describe()
		if d.Query == nil || len(d.Findings) > 0 {
			return
		}
		out, err := parsed.Print(100)
		if err != nil {
			return
		}
		again, err := p.Parse(out)
		if err != nil {
			t.Fatalf("printed text does not parse: %v\nin:  %q\nout: %q", err, sql, out)
		}
		if d2 := again.Describe(); d2.Query == nil || len(d2.Findings) > 0 {
			t.Fatalf("printed text is judged differently: %+v\nin:  %q\nout: %q", d2.Findings, sql, out)
		}
	})
}
