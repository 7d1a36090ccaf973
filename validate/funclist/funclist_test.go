package funclist

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	l, err := Parse("# header\nabs\n\n# [aggregate]\ncount # rows\nsum\n# [window]\nrank\n")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"abs", "count", "sum", "rank"} {
		if !l.All[n] {
			t.Errorf("%s not listed", n)
		}
	}
	if !l.Kind("aggregate")["count"] || !l.Kind("aggregate")["sum"] || l.Kind("aggregate")["abs"] || l.Kind("aggregate")["rank"] {
		t.Errorf("aggregate section = %v", l.Kind("aggregate"))
	}
	if len(l.Kind("none")) != 0 {
		t.Error("a missing section must be empty")
	}
}

func TestParseRefusesMalformedLines(t *testing.T) {
	for _, text := range []string{"Abs\n", "pg_catalog.abs\n", "a b\n", "abs\nabs\n"} {
		if _, err := Parse(text); err == nil || !strings.Contains(err.Error(), "line") {
			t.Errorf("Parse(%q) = %v, want an error naming the line", text, err)
		}
	}
}
