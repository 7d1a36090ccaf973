// Package proto_test checks the API contract: buf lint passes, and the
// committed generated code is what the pinned generators make from the
// .proto files today.
package proto_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// moduleRoot is where buf.yaml and buf.gen.yaml live; tests run in proto/.
const moduleRoot = ".."

// generated reports whether a file under proto/ is generator output.
func generated(path string) bool {
	for _, suffix := range []string{".pb.go", ".pb.gw.go", ".swagger.json"} {
		if strings.HasSuffix(path, suffix) {
			return true
		}
	}
	return false
}

// goTool runs a tool pinned in go.mod from the module root. The tools are
// built from the module cache, so nothing is fetched when it is filled.
func goTool(t *testing.T, args ...string) {
	t.Helper()
	cmd := exec.Command("go", append([]string{"tool"}, args...)...)
	cmd.Dir = moduleRoot
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("go tool %s: %v\n%s", strings.Join(args, " "), err, out.String())
	}
}

func TestBufLint(t *testing.T) {
	goTool(t, "buf", "lint")
}

func TestGeneratedCodeIsCurrent(t *testing.T) {
	tmp := t.TempDir()
	// --output prefixes every "out" of buf.gen.yaml, so fresh files land in
	// tmp/proto/... and the committed ones stay untouched.
	goTool(t, "buf", "generate", "--output", tmp)

	const fix = "regenerate with `go tool buf generate` at the module root and commit the result"
	fresh := map[string]bool{}
	err := filepath.WalkDir(tmp, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(tmp, path)
		if err != nil {
			return err
		}
		fresh[rel] = true
		want, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		got, err := os.ReadFile(filepath.Join(moduleRoot, rel))
		switch {
		case os.IsNotExist(err):
			t.Errorf("%s is generated but not committed; %s", rel, fix)
		case err != nil:
			return err
		case !bytes.Equal(got, want):
			t.Errorf("%s differs from what the generators make now (%s)", rel, describeDiff(got, want))
			t.Log(fix)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(fresh) == 0 {
		t.Fatal("buf generate produced no files")
	}
	// A committed generated file that nothing generates any more is left
	// over from a removed .proto file.
	err = filepath.WalkDir(filepath.Join(moduleRoot, "proto"), func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !generated(path) {
			return err
		}
		rel, err := filepath.Rel(moduleRoot, path)
		if err != nil {
			return err
		}
		if !fresh[rel] {
			t.Errorf("%s is committed but no longer generated; delete it, or %s", rel, fix)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// describeDiff names the first line where committed and fresh differ.
func describeDiff(committed, fresh []byte) string {
	a := strings.Split(string(committed), "\n")
	b := strings.Split(string(fresh), "\n")
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			return fmt.Sprintf("first difference at line %d: committed %.120q, fresh %.120q", i+1, a[i], b[i])
		}
	}
	return fmt.Sprintf("committed has %d lines, fresh has %d", len(a), len(b))
}
