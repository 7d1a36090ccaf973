package mysql

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/texttosql/text2sql/validate/stmt"
)

func TestNewSQLMode(t *testing.T) {
	for _, tc := range []struct {
		mode string
		ok   bool
	}{
		{"", true},
		{"ANSI_QUOTES", true},
		{"ansi_quotes, pipes_as_concat", true},
		{"TRADITIONAL", true},
		{"ANSI", true},
		{"NOT_A_MODE", false},
		{"ANSI_QUOTES,BOGUS", false},
	} {
		_, err := New(Options{SQLMode: tc.mode})
		if (err == nil) != tc.ok {
			t.Errorf("New(%q): err = %v, want ok=%v", tc.mode, err, tc.ok)
		}
	}
}

func TestDialect(t *testing.T) {
	d := parserFor(t, "").Dialect()
	if d.Name != "mysql" || !d.CaseInsensitive || d.WholeRowRefs {
		t.Errorf("dialect %+v", d)
	}
	for _, s := range []string{"information_schema", "mysql", "performance_schema", "sys"} {
		if !strings.Contains(strings.Join(d.SystemSchemas, ","), s) {
			t.Errorf("system schema %s missing", s)
		}
	}
	// Functions with side effects, waits, locks, files, or server and
	// session state must never be on the list.
	for _, f := range []string{
		"sleep", "benchmark", "get_lock", "release_lock", "release_all_locks", "is_free_lock", "is_used_lock",
		"load_file", "user", "current_user", "session_user", "system_user", "current_role", "database", "schema",
		"version", "connection_id", "last_insert_id", "row_count", "found_rows", "uuid_short", "master_pos_wait",
		"source_pos_wait", "wait_for_executed_gtid_set", "wait_until_sql_thread_after_gtids", "name_const",
		"nextval", "lastval", "setval", "password", "encrypt", "aes_encrypt", "aes_decrypt", "des_encrypt",
		"des_decrypt", "random_bytes", "validate_password_strength", "tidb_version", "json_memberof",
		"char_func", "insert_func",
	} {
		if d.Functions[f] {
			t.Errorf("%s must not be allowed", f)
		}
	}
	for _, f := range []string{
		"count", "sum", "group_concat", "json_arrayagg", "std", "stddev_pop", "var_pop", "row_number", "rank",
		"lag", "lead", "ntile", "first_value", "date_format", "str_to_date", "datediff", "timestampdiff",
		"date_add", "date_sub", "extract", "year", "month", "day", "now", "curdate", "current_date",
		"current_timestamp", "unix_timestamp", "from_unixtime", "last_day", "week", "quarter", "concat",
		"concat_ws", "substring", "substring_index", "replace", "locate", "instr", "lpad", "trim", "regexp_replace",
		"format", "if", "ifnull", "nullif", "coalesce", "json_extract", "json_unquote", "json_contains", "cast",
		"convert", "rand", "uuid", "char", "insert",
	} {
		if !d.Functions[f] {
			t.Errorf("%s must be allowed", f)
		}
	}
}

func TestSplitTypeName(t *testing.T) {
	for in, want := range map[string]string{
		"CreateTable":          "CREATE TABLE",
		"DropDatabase":         "DROP DATABASE",
		"BRIE":                 "BRIE",
		"CreateSequence":       "CREATE SEQUENCE",
		"ImportIntoAction":     "IMPORT INTO ACTION",
		"FlashBackToTimestamp": "FLASH BACK TO TIMESTAMP",
		"":                     "UNKNOWN",
	} {
		if got := splitTypeName(in); got != want {
			t.Errorf("splitTypeName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestInvalidUTF8(t *testing.T) {
	_, err := parserFor(t, "").Parse("SELECT 1 --\xa0 UNION SELECT password_hash FROM users")
	pe, ok := err.(*stmt.ParseError)
	if !ok || pe.Code != stmt.CodeParseError || pe.Pos != 11 {
		t.Fatalf("got %#v", err)
	}
}

// TestConcurrentParse uses one Parser from many goroutines; run with
// -race to check the pooling.
func TestConcurrentParse(t *testing.T) {
	p := parserFor(t, "")
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				sql := fmt.Sprintf("SELECT id, total FROM orders_%d WHERE id = %d", g, i)
				parsed, err := p.Parse(sql)
				if err != nil {
					errs <- err
					return
				}
				st := parsed.Describe()
				want := fmt.Sprintf("orders_%d", g)
				if len(st.Query.From) != 1 || st.Query.From[0].Name[0].Name != want {
					errs <- fmt.Errorf("%s: got %+v", sql, st.Query.From)
					return
				}
				out, err := parsed.Print(10)
				if err != nil || !strings.Contains(out, want) {
					errs <- fmt.Errorf("%s: printed %q %v", sql, out, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestDescribeTwice returns the same description, also after printing,
// which rewrites parts of the tree.
func TestDescribeTwice(t *testing.T) {
	parsed, err := parserFor(t, "").Parse("SELECT CHAR(65 USING latin1), INSERT('ab', 1, 1, 'x') FROM orders LIMIT 5000")
	if err != nil {
		t.Fatal(err)
	}
	a := parsed.Describe()
	if _, err := parsed.Print(10); err != nil {
		t.Fatal(err)
	}
	if b := parsed.Describe(); b != a {
		t.Fatal("second Describe differs")
	}
	// A fresh parse described after printing sees the same facts.
	p2, _ := parserFor(t, "").Parse("SELECT CHAR(65 USING latin1) FROM orders")
	if _, err := p2.Print(10); err != nil {
		t.Fatal(err)
	}
	st := p2.Describe()
	if len(st.Findings) != 0 || len(st.Query.Funcs) != 1 || st.Query.Funcs[0].Name[0].Name != "char" {
		t.Fatalf("after Print: %+v %+v", st.Findings, st.Query.Funcs)
	}
}

// TestDeepNesting checks that statements nested beyond stmt.MaxNesting are
// refused as TOO_COMPLEX before any recursive walk goes that deep.
func TestDeepNesting(t *testing.T) {
	for _, sql := range []string{
		"SELECT " + strings.Repeat("(", 5000) + "1" + strings.Repeat(")", 5000),
		"SELECT 1" + strings.Repeat("+1", 24000),
		"SELECT 1 FROM orders WHERE " + strings.Repeat("NOT ", 3000) + "1",
		"SELECT " + strings.Repeat("(SELECT ", 1500) + "1" + strings.Repeat(")", 1500),
	} {
		parsed, err := parserFor(t, "").Parse(sql)
		if err != nil {
			t.Errorf("%.30s...: %v", sql, err)
			continue
		}
		st := parsed.Describe()
		found := false
		for _, f := range st.Findings {
			found = found || f.Code == stmt.CodeTooComplex
		}
		if !found {
			t.Errorf("%.30s... (%d bytes): no TOO_COMPLEX finding in %+v", sql, len(sql), st.Findings)
		}
		if _, err := parsed.Print(0); err == nil {
			t.Errorf("%.30s...: printed", sql)
		}
	}
}
