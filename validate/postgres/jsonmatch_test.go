package postgres

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	pg_query "github.com/pganalyze/pg_query_go/v6"
	pgparser "github.com/pganalyze/pg_query_go/v6/parser"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// testStatements gathers the package's test SQL: describe cases, print
// cases, the hidden reads and the fuzz corpus, one statement each.
func testStatements(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, cases := range loadYAML[describeCase](t, "describe/*.yaml") {
		for _, c := range cases {
			out = append(out, c.SQL)
		}
	}
	for _, c := range loadYAML[printCase](t, "print.yaml")["print.yaml"] {
		out = append(out, c.SQL)
	}
	data, err := os.ReadFile(filepath.Join("testdata", "hidden_reads.txt"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			out = append(out, line)
		}
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "fuzz", "FuzzParse", "*"))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		// go test fuzz v1, then string("...").
		for _, line := range strings.Split(string(data), "\n")[1:] {
			var s string
			if _, err := fmt.Sscanf(strings.TrimSuffix(strings.TrimPrefix(line, "string("), ")"), "%q", &s); err == nil {
				out = append(out, s)
			}
		}
	}
	return out
}

// parseBoth returns the protobuf tree and the JSON text of a one-statement
// SQL text, or ok false.
func parseBoth(sql string) (tree *pg_query.ParseResult, js string, ok bool) {
	tree, err := pg_query.Parse(sql)
	if err != nil || len(tree.Stmts) != 1 || tree.Stmts[0].Stmt == nil {
		return nil, "", false
	}
	js, err = pgparser.ParseToJSON(sql)
	return tree, js, err == nil
}

// TestJSONMatchesProtobuf checks, on every test statement, that the JSON
// the C library writes holds the same tree as its protobuf (read with
// protojson as the reference), and that the matcher agrees.
func TestJSONMatchesProtobuf(t *testing.T) {
	n := 0
	for _, sql := range testStatements(t) {
		tree, js, ok := parseBoth(sql)
		if !ok {
			continue
		}
		n++
		ref := &pg_query.ParseResult{}
		if err := protojson.Unmarshal([]byte(js), ref); err != nil {
			t.Errorf("%s: protojson cannot read the JSON: %v", sql, err)
		} else if !proto.Equal(ref, tree) {
			t.Errorf("%s: the JSON and protobuf trees differ", sql)
		}
		if !matchesJSON(js, tree.Version, tree.Stmts[0].Stmt) {
			t.Errorf("%s: matchesJSON refuses the tree's own JSON", sql)
		}
	}
	if n < 100 {
		t.Fatalf("only %d statements checked", n)
	}
}

// TestMatchesJSONSeesEveryChange changes the judged tree in one place at a
// time (every scalar, every message present or absent, every list length,
// every oneof) and expects the matcher to see the difference; changing a
// location only must not matter.
func TestMatchesJSONSeesEveryChange(t *testing.T) {
	sites, locations := 0, 0
	for _, sql := range testStatements(t) {
		tree, js, ok := parseBoth(sql)
		if !ok {
			continue
		}
		root := tree.Stmts[0].Stmt
		mutations(reflect.ValueOf(root), func(what string, location bool) {
			got := matchesJSON(js, tree.Version, root)
			if location {
				locations++
				if !got {
					t.Errorf("%s: a changed location (%s) counts as a difference", sql, what)
				}
				return
			}
			sites++
			if got {
				t.Errorf("%s: change not seen: %s", sql, what)
			}
		})
		if !matchesJSON(js, tree.Version, root) {
			t.Fatalf("%s: the tree was not restored", sql)
		}
	}
	if sites < 5000 || locations < 500 {
		t.Fatalf("only %d changes and %d locations tried", sites, locations)
	}
	// A different version, a second statement and trailing bytes differ too.
	tree, js, _ := parseBoth("SELECT 1")
	root := tree.Stmts[0].Stmt
	for _, bad := range []string{js + "x", js[:len(js)-1], strings.Replace(js, `"stmts":[`, `"stmts":[{"stmt":{}},`, 1), ""} {
		if matchesJSON(bad, tree.Version, root) {
			t.Errorf("matched %q", bad)
		}
	}
	if matchesJSON(js, tree.Version+1, root) {
		t.Errorf("matched another version")
	}
}

// mutations changes v's tree in each possible place in turn, calls check,
// and undoes the change. v is a non-nil pointer to a message struct.
func mutations(v reflect.Value, check func(what string, location bool)) {
	e := v.Elem()
	st := e.Type()
	for i := 0; i < st.NumField(); i++ {
		f := st.Field(i)
		if !f.IsExported() {
			continue
		}
		fv := e.Field(i)
		what := st.Name() + "." + f.Name
		old := reflect.New(f.Type).Elem()
		old.Set(fv)
		try := func(nv reflect.Value, desc string) {
			fv.Set(nv)
			check(what+" "+desc, false)
			fv.Set(old)
		}
		switch f.Type.Kind() {
		case reflect.String:
			try(reflect.ValueOf(fv.String()+"x").Convert(f.Type), "+x")
		case reflect.Bool:
			try(reflect.ValueOf(!fv.Bool()), "flipped")
		case reflect.Int32, reflect.Int64:
			nv := reflect.New(f.Type).Elem()
			nv.SetInt(fv.Int() + 1)
			if isLocationField(f.Name) {
				fv.Set(nv)
				check(what, true)
				fv.Set(old)
			} else {
				try(nv, "+1")
			}
		case reflect.Uint32, reflect.Uint64:
			nv := reflect.New(f.Type).Elem()
			nv.SetUint(fv.Uint() + 1)
			try(nv, "+1")
		case reflect.Pointer:
			if fv.IsNil() {
				try(reflect.New(f.Type.Elem()), "set")
			} else {
				try(reflect.Zero(f.Type), "removed")
				mutations(fv, check)
			}
		case reflect.Slice:
			if fv.Len() > 0 {
				try(fv.Slice(0, fv.Len()-1), "shortened")
				for j := 0; j < fv.Len(); j++ {
					if !fv.Index(j).IsNil() {
						mutations(fv.Index(j), check)
					}
				}
			}
			if f.Type.Elem().Kind() == reflect.Pointer {
				try(reflect.Append(fv, reflect.New(f.Type.Elem().Elem())), "lengthened")
			}
		case reflect.Interface:
			if fv.IsNil() {
				continue
			}
			try(reflect.Zero(f.Type), "oneof cleared")
			inner := fv.Elem().Elem().Field(0)
			if inner.Kind() == reflect.Pointer && !inner.IsNil() {
				mutations(inner, check)
			}
		}
	}
}

// TestWithLimit checks the spliced protobuf against marshalling the capped
// tree whole.
func TestWithLimit(t *testing.T) {
	n := 0
	for _, sql := range testStatements(t) {
		pb, err := pgparser.ParseToProtobuf(sql)
		if err != nil {
			continue
		}
		tree := &pg_query.ParseResult{}
		if proto.Unmarshal(pb, tree) != nil || len(tree.Stmts) != 1 {
			continue
		}
		sel := tree.Stmts[0].Stmt.GetSelectStmt()
		if sel == nil {
			continue
		}
		for _, limit := range []int{1, 100} {
			changed, restore := capRows(sel, limit)
			if changed {
				n++
				got := &pg_query.ParseResult{}
				out := withLimit(pb, sel)
				if out == nil || proto.Unmarshal(out, got) != nil || !proto.Equal(got, tree) {
					t.Errorf("%s: LIMIT %d spliced wrongly", sql, limit)
				}
			}
			restore()
		}
	}
	if n < 100 {
		t.Fatalf("only %d splices checked", n)
	}
	if withLimit([]byte{0xff}, &pg_query.SelectStmt{}) != nil {
		t.Errorf("malformed input spliced")
	}
}
