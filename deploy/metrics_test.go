package deploy

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// exportedMetrics finds the Prometheus metrics defined under dirs: every
// prometheus.{Counter,Gauge,Histogram,Summary}Opts literal, with its
// Namespace, Subsystem and Name resolved from string literals and
// constants of the same package. The alert rules are checked against this
// set, so a renamed metric fails the test instead of silencing an alert.
func exportedMetrics(t *testing.T, dirs ...string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, dir := range dirs {
		pkgs := map[string][]*ast.File{}
		fset := token.NewFileSet()
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if d.Name() == "testdata" {
					return filepath.SkipDir
				}
				return nil
			}
			if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return nil
			}
			f, err := parser.ParseFile(fset, path, nil, 0)
			if err != nil {
				return err
			}
			pkgs[filepath.Dir(path)] = append(pkgs[filepath.Dir(path)], f)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, files := range pkgs {
			consts := map[string]string{}
			for _, f := range files {
				ast.Inspect(f, func(n ast.Node) bool {
					gd, ok := n.(*ast.GenDecl)
					if !ok || gd.Tok != token.CONST {
						return true
					}
					for _, spec := range gd.Specs {
						vs := spec.(*ast.ValueSpec)
						for i, name := range vs.Names {
							if i < len(vs.Values) {
								if s, ok := stringLit(vs.Values[i], nil); ok {
									consts[name.Name] = s
								}
							}
						}
					}
					return true
				})
			}
			for _, f := range files {
				ast.Inspect(f, func(n ast.Node) bool {
					cl, ok := n.(*ast.CompositeLit)
					if !ok {
						return true
					}
					sel, ok := cl.Type.(*ast.SelectorExpr)
					if !ok || !strings.HasSuffix(sel.Sel.Name, "Opts") {
						return true
					}
					if x, ok := sel.X.(*ast.Ident); !ok || x.Name != "prometheus" {
						return true
					}
					var parts [3]string
					for _, el := range cl.Elts {
						kv, ok := el.(*ast.KeyValueExpr)
						if !ok {
							continue
						}
						key, _ := kv.Key.(*ast.Ident)
						if key == nil {
							continue
						}
						v, ok := stringLit(kv.Value, consts)
						if !ok {
							continue
						}
						switch key.Name {
						case "Namespace":
							parts[0] = v
						case "Subsystem":
							parts[1] = v
						case "Name":
							parts[2] = v
						}
					}
					if parts[2] == "" {
						return true
					}
					var nonEmpty []string
					for _, p := range parts {
						if p != "" {
							nonEmpty = append(nonEmpty, p)
						}
					}
					out[strings.Join(nonEmpty, "_")] = true
					return true
				})
			}
		}
	}
	return out
}

func stringLit(e ast.Expr, consts map[string]string) (string, bool) {
	switch v := e.(type) {
	case *ast.BasicLit:
		if v.Kind == token.STRING {
			s, err := strconv.Unquote(v.Value)
			return s, err == nil
		}
	case *ast.Ident:
		s, ok := consts[v.Name]
		return s, ok
	}
	return "", false
}

func TestExportedMetricsFindsDefinitions(t *testing.T) {
	root := repoRoot(t)
	got := exportedMetrics(t, filepath.Join(root, "server"), filepath.Join(root, "schema"), filepath.Join(root, "generate"), filepath.Join(root, "llm"))
	// Metrics the alert rules depend on, each defined a different way
	// (constant name, literal name, namespace+subsystem+name).
	for _, want := range []string{"text2sql_requests_total", "text2sql_llm_errors_total", "text2sql_schema_stale"} {
		if !got[want] {
			t.Errorf("metric %s not found; found %d: %v", want, len(got), got)
		}
	}
}
