package execdb

import (
	"errors"
	"testing"

	"github.com/texttosql/text2sql/schema"
)

func TestInspect(t *testing.T) {
	const pgd, myd = schema.DialectPostgres, schema.DialectMySQL
	cases := []struct {
		dialect, sql string
		ordered      bool
		notQuery     bool // ErrNotQuery
		parseErr     bool
	}{
		{pgd, "SELECT a FROM t ORDER BY a", true, false, false},
		{pgd, "SELECT a FROM t ORDER BY a;", true, false, false},
		{pgd, "SELECT a FROM (SELECT a FROM t ORDER BY a LIMIT 3) s", false, false, false},
		{pgd, "WITH s AS (SELECT a FROM t ORDER BY a) SELECT a FROM s", false, false, false},
		{pgd, "SELECT a, rank() OVER (ORDER BY a) FROM t", false, false, false},
		{pgd, "SELECT a FROM t UNION SELECT b FROM u ORDER BY 1", true, false, false},
		{pgd, "(SELECT a FROM t ORDER BY a LIMIT 1)", true, false, false},
		{pgd, "SELECT 1; SELECT 2", false, true, false},
		{pgd, "DELETE FROM t", false, true, false},
		{pgd, "COPY (SELECT 1) TO PROGRAM 'true'", false, true, false},
		{pgd, "SELECT a INTO t2 FROM t", false, true, false},
		{pgd, "SELECT a FROM t FOR UPDATE", false, true, false},
		{pgd, "WITH d AS (DELETE FROM t RETURNING a) SELECT a FROM d", false, true, false},
		{pgd, "SET statement_timeout = 0", false, true, false},
		{pgd, "SELEC 1", false, false, true},
		{myd, "SELECT `a` FROM `t` ORDER BY `a` DESC LIMIT 1", true, false, false},
		{myd, "SELECT a FROM t WHERE a IN (SELECT b FROM u ORDER BY b)", false, false, false},
		{myd, "SELECT a FROM t UNION SELECT b FROM u ORDER BY a", true, false, false},
		{myd, "SELECT a FROM t INTERSECT SELECT b FROM u", false, false, false},
		{myd, "SELECT a FROM t INTO OUTFILE '/tmp/x'", false, true, false},
		{myd, "SELECT a FROM t FOR UPDATE", false, true, false},
		{myd, "SELECT a FROM t WHERE a IN (SELECT b FROM u FOR UPDATE)", false, true, false},
		{myd, "CREATE TABLE x (a INT)", false, true, false},
		{myd, "SELECT 1; SELECT 2", false, true, false},
		{myd, "SELECT FROM", false, false, true},
	}
	for _, c := range cases {
		q, err := inspect(c.dialect, c.sql)
		switch {
		case c.parseErr:
			if err == nil || errors.Is(err, ErrNotQuery) {
				t.Errorf("%s %q: err %v, want a parse error", c.dialect, c.sql, err)
			}
		case c.notQuery:
			if !errors.Is(err, ErrNotQuery) {
				t.Errorf("%s %q: err %v, want ErrNotQuery", c.dialect, c.sql, err)
			}
		case err != nil:
			t.Errorf("%s %q: %v", c.dialect, c.sql, err)
		case q.outerOrderBy != c.ordered:
			t.Errorf("%s %q: outer ORDER BY %v, want %v", c.dialect, c.sql, q.outerOrderBy, c.ordered)
		}
	}
	if _, err := HasOuterOrderBy("sqlite", "SELECT 1"); err == nil {
		t.Error("unknown dialect accepted")
	}
}

func TestTieProbe(t *testing.T) {
	type probeFunc func(string) (string, int, int64, int64, error)
	cases := []struct {
		name          string
		probe         probeFunc
		dialect, sql  string
		nkeys         int
		offset, count int64
		unsupported   bool
		none          bool // no probe: no ORDER BY with LIMIT
	}{
		{"pg keys", pgTieProbe, schema.DialectPostgres, "SELECT name FROM t ORDER BY score DESC, id LIMIT 3 OFFSET 2", 2, 2, 3, false, false},
		{"pg alias and position", pgTieProbe, schema.DialectPostgres, "SELECT name, count(*) AS n FROM t GROUP BY name ORDER BY n DESC, 1 LIMIT 1", 2, 0, 1, false, false},
		{"pg no limit", pgTieProbe, schema.DialectPostgres, "SELECT name FROM t ORDER BY name", 0, 0, 0, false, true},
		{"pg distinct", pgTieProbe, schema.DialectPostgres, "SELECT DISTINCT name FROM t ORDER BY name LIMIT 1", 0, 0, 0, true, false},
		{"pg set operation", pgTieProbe, schema.DialectPostgres, "SELECT a FROM t UNION SELECT b FROM u ORDER BY 1 LIMIT 1", 0, 0, 0, true, false},
		{"pg with ties", pgTieProbe, schema.DialectPostgres, "SELECT a FROM t ORDER BY a FETCH FIRST 1 ROWS WITH TIES", 0, 0, 0, true, false},
		{"mysql keys", myTieProbe, schema.DialectMySQL, "SELECT `name` FROM `t` GROUP BY `name` ORDER BY COUNT(*) DESC LIMIT 1", 1, 0, 1, false, false},
		{"mysql offset", myTieProbe, schema.DialectMySQL, "SELECT name FROM t ORDER BY a, b LIMIT 2, 5", 2, 2, 5, false, false},
		{"mysql alias and position", myTieProbe, schema.DialectMySQL, "SELECT name, COUNT(*) AS n FROM t GROUP BY name ORDER BY n, 1 LIMIT 1", 2, 0, 1, false, false},
		{"mysql no order", myTieProbe, schema.DialectMySQL, "SELECT name FROM t LIMIT 1", 0, 0, 0, false, true},
		{"mysql distinct", myTieProbe, schema.DialectMySQL, "SELECT DISTINCT name FROM t ORDER BY name LIMIT 1", 0, 0, 0, true, false},
	}
	for _, c := range cases {
		probe, nkeys, offset, count, err := c.probe(c.sql)
		switch {
		case c.unsupported:
			if !errors.Is(err, ErrTieProbeUnsupported) {
				t.Errorf("%s: err %v, want ErrTieProbeUnsupported", c.name, err)
			}
			continue
		case err != nil:
			t.Errorf("%s: %v", c.name, err)
			continue
		case c.none:
			if probe != "" {
				t.Errorf("%s: probe %q, want none", c.name, probe)
			}
			continue
		}
		if nkeys != c.nkeys || offset != c.offset || count != c.count {
			t.Errorf("%s: keys %d offset %d count %d, want %d %d %d", c.name, nkeys, offset, count, c.nkeys, c.offset, c.count)
		}
		// The probe is a plain query without LIMIT, still sorted.
		q, err := inspect(c.dialect, probe)
		if err != nil || !q.outerOrderBy {
			t.Errorf("%s: probe %q: ordered %v, err %v", c.name, probe, q.outerOrderBy, err)
		}
		if again, _, _, _, _ := c.probe(probe); again != "" {
			t.Errorf("%s: probe %q still has a LIMIT", c.name, probe)
		}
	}
}
