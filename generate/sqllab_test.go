package generate

import "testing"

func TestSQLLabURL(t *testing.T) {
	for _, tc := range []struct {
		base   string
		id     int64
		schema string
		sql    string
		want   string
	}{
		{"", 1, "public", "SELECT 1", ""},
		{"https://bi.example.com/", 3, "public", "SELECT a FROM t WHERE b = 'x&y'",
			"https://bi.example.com/sqllab/?dbid=3&schema=public&sql=SELECT+a+FROM+t+WHERE+b+%3D+%27x%26y%27"},
		{"http://superset:8088", 0, "", "SELECT 1", "http://superset:8088/sqllab/?sql=SELECT+1"},
	} {
		if got := SQLLabURL(tc.base, tc.id, tc.schema, tc.sql); got != tc.want {
			t.Errorf("SQLLabURL(%q, %d, %q, %q)\n got %s\nwant %s", tc.base, tc.id, tc.schema, tc.sql, got, tc.want)
		}
	}
}
