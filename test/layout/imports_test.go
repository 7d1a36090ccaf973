// Package layout checks which packages may import which: the binary links
// no test code, and the domain packages know nothing of the wire.
package layout

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/texttosql/text2sql"

// imports maps every non-test Go file of the module (relative path, with
// slashes) to the import paths it names.
func imports(t *testing.T) map[string][]string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("no module root at %s: %v", root, err)
	}
	out := map[string][]string{}
	fset := token.NewFileSet()
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != root && (name == "testdata" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			out[rel] = append(out[rel], p)
		}
		if out[rel] == nil {
			out[rel] = []string{}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) < 50 {
		t.Fatalf("found only %d Go files under %s", len(out), root)
	}
	return out
}

// Only tests, fakes used by tests and benchmark programs live under test/;
// nothing outside it may import them, nor the testing package, so the
// binary links no test code.
func TestNoPackageOutsideTestImportsTest(t *testing.T) {
	for file, paths := range imports(t) {
		if strings.HasPrefix(file, "test/") {
			continue
		}
		for _, p := range paths {
			if strings.HasPrefix(p, module+"/test/") || p == "testing" {
				t.Errorf("%s imports %s: only tests may", file, p)
			}
		}
	}
}

// The domain packages hand back answers and typed errors; only the server
// turns them into protocol messages and status codes.
func TestDomainPackagesKnowNoWire(t *testing.T) {
	domain := []string{"generate/", "llm/", "schema/", "validate/"}
	wire := []string{module + "/proto/", module + "/server", "google.golang.org/grpc", "github.com/grpc-ecosystem/"}
	checked := 0
	for file, paths := range imports(t) {
		inDomain := false
		for _, d := range domain {
			inDomain = inDomain || strings.HasPrefix(file, d)
		}
		if !inDomain {
			continue
		}
		checked++
		for _, p := range paths {
			for _, w := range wire {
				if p == strings.TrimSuffix(w, "/") || strings.HasPrefix(p, w) {
					t.Errorf("%s imports %s: domain packages know nothing of the wire", file, p)
				}
			}
		}
	}
	if checked == 0 {
		t.Fatal("no domain package files found")
	}
}
