// Package deploy holds the tests of the deployment files: the Kubernetes
// manifests, the image recipe and the Superset blueprint. The files
// themselves are data (YAML, Dockerfile, Python); these tests build and run
// them with the real tools.
package deploy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/texttosql/text2sql/internal/needs"
)

// tmpRoot is a directory for the whole test binary's run, removed by
// TestMain, so the binary built once is shared by every test that needs it.
var tmpRoot string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "text2sql-deploy-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	tmpRoot = dir
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// repoRoot is the module root: the parent of this directory.
func repoRoot(t testing.TB) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Dir(wd)
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("no go.mod above %s: %v", wd, err)
	}
	return root
}

// requireTool skips (or, under CI=true, fails) when a prerequisite is
// missing.
func requireTool(t *testing.T, what, hint string, err error) {
	t.Helper()
	if err != nil {
		needs.Missing(t, what+" ("+hint+")", err)
	}
}

// dockerBuild is the build recipe read from the Dockerfile.
type dockerBuild struct {
	// Env of the build stage (ENV lines), e.g. CGO_ENABLED=1.
	Env map[string]string
	// Args of `go build`, without "-o <path>" and the package.
	Flags []string
	// Output is the -o path inside the build stage.
	Output string
	// Package built, e.g. ./cmd/text2sql.
	Package string
	// BuildImage and RuntimeImage are the FROM references.
	BuildImage, RuntimeImage string
	// RuntimeUser is the runtime stage's USER.
	RuntimeUser string
	// Entrypoint is the runtime stage's ENTRYPOINT in exec form.
	Entrypoint []string
	// CopiedBinary is the destination of COPY --from=<build stage>.
	CopiedBinary string
	// CopiedFrom is the source path of that COPY.
	CopiedFrom string
}

// readDockerfile parses the two-stage Dockerfile at path.
func readDockerfile(t testing.TB, path string) *dockerBuild {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// Join continuation lines and drop comments, as the Dockerfile parser
	// does.
	var logical []string
	var cur strings.Builder
	for _, line := range strings.Split(string(data), "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "#") {
			continue
		}
		if strings.HasSuffix(trimmed, "\\") {
			cur.WriteString(strings.TrimSuffix(trimmed, "\\"))
			cur.WriteString(" ")
			continue
		}
		cur.WriteString(trimmed)
		if s := strings.TrimSpace(cur.String()); s != "" {
			logical = append(logical, s)
		}
		cur.Reset()
	}
	b := &dockerBuild{Env: map[string]string{}}
	stage := ""
	buildStage := ""
	stages := 0
	for _, l := range logical {
		instr, rest, _ := strings.Cut(l, " ")
		rest = strings.TrimSpace(rest)
		switch strings.ToUpper(instr) {
		case "FROM":
			stages++
			f := strings.Fields(rest)
			var ref string
			for _, w := range f {
				if !strings.HasPrefix(w, "--") {
					ref = w
					break
				}
			}
			stage = ""
			if len(f) >= 3 && strings.EqualFold(f[len(f)-2], "AS") {
				stage = f[len(f)-1]
			}
			if stages == 1 {
				b.BuildImage, buildStage = ref, stage
			} else {
				b.RuntimeImage = ref
			}
		case "ENV":
			if stages != 1 {
				continue
			}
			words, err := shellWords(rest)
			if err != nil {
				t.Fatalf("Dockerfile ENV %q: %v", rest, err)
			}
			for _, w := range words {
				k, v, ok := strings.Cut(w, "=")
				if !ok {
					t.Fatalf("Dockerfile ENV %q: use the KEY=VALUE form", rest)
				}
				b.Env[k] = v
			}
		case "RUN":
			if stages != 1 || !strings.Contains(rest, "go build") {
				continue
			}
			words, err := shellWords(rest)
			if err != nil {
				t.Fatalf("Dockerfile RUN %q: %v", rest, err)
			}
			for len(words) > 0 && strings.HasPrefix(words[0], "--") {
				words = words[1:] // --mount=... options of RUN
			}
			if len(words) < 3 || words[0] != "go" || words[1] != "build" {
				t.Fatalf("the build RUN line must be a single `go build` command, got %q", rest)
			}
			args := words[2:]
			for i := 0; i < len(args); i++ {
				a := args[i]
				switch {
				case a == "-o" && i+1 < len(args):
					b.Output = args[i+1]
					i++
				case strings.HasPrefix(a, "-o="):
					b.Output = strings.TrimPrefix(a, "-o=")
				case !strings.HasPrefix(a, "-"):
					if b.Package != "" {
						t.Fatalf("go build builds more than one package: %q", rest)
					}
					b.Package = a
				case a == "-ldflags" || a == "-tags" || a == "-gcflags":
					if i+1 >= len(args) {
						t.Fatalf("%s without a value in %q", a, rest)
					}
					b.Flags = append(b.Flags, a, args[i+1])
					i++
				default:
					b.Flags = append(b.Flags, a)
				}
			}
		case "USER":
			if stages == 2 {
				b.RuntimeUser = rest
			}
		case "ENTRYPOINT":
			if stages == 2 {
				b.Entrypoint = jsonArray(t, rest)
			}
		case "COPY":
			if stages != 2 {
				continue
			}
			f := strings.Fields(rest)
			if len(f) == 3 && f[0] == "--from="+buildStage {
				b.CopiedFrom, b.CopiedBinary = f[1], f[2]
			}
		}
	}
	if stages != 2 {
		t.Fatalf("Dockerfile has %d stages, want a build and a runtime stage", stages)
	}
	if b.Package == "" || b.Output == "" {
		t.Fatal("Dockerfile: no `go build -o <path> <package>` in the build stage")
	}
	return b
}

// shellWords splits a command line the way sh does for the plain cases the
// Dockerfile uses: spaces separate words; single and double quotes group.
func shellWords(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	var quote rune
	for _, r := range s {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == ' ' || r == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case r == '$' || r == '`' || r == ';' || r == '&' || r == '|':
			return nil, fmt.Errorf("shell syntax %q is not supported here", r)
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, errors.New("unterminated quote")
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

var jsonArrayRE = regexp.MustCompile(`^\[\s*("(?:[^"\\]|\\.)*"\s*(,\s*"(?:[^"\\]|\\.)*"\s*)*)?\]$`)

func jsonArray(t testing.TB, s string) []string {
	t.Helper()
	if !jsonArrayRE.MatchString(s) {
		t.Fatalf("ENTRYPOINT %s is not in exec (JSON array) form", s)
	}
	var out []string
	for _, m := range regexp.MustCompile(`"((?:[^"\\]|\\.)*)"`).FindAllStringSubmatch(s, -1) {
		out = append(out, m[1])
	}
	return out
}

// dockerignore is the parsed .dockerignore.
type dockerignore struct{ patterns []string }

func readDockerignore(t testing.TB, path string) *dockerignore {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	d := &dockerignore{}
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasPrefix(line, "!") {
			t.Fatalf(".dockerignore: exceptions (%q) are not supported by this test; keep the file to plain patterns", line)
		}
		line = strings.TrimPrefix(strings.TrimSuffix(line, "/"), "/")
		if _, err := filepath.Match(strings.ReplaceAll(line, "**/", ""), "x"); err != nil {
			t.Fatalf(".dockerignore: bad pattern %q: %v", line, err)
		}
		d.patterns = append(d.patterns, line)
	}
	return d
}

// excluded reports whether rel (slash-separated, relative to the context)
// or one of its parent directories matches a pattern, as Docker's matcher
// does for these forms: "dir", "*.ext" (root only) and "**/glob" (any
// depth).
func (d *dockerignore) excluded(rel string) bool {
	parts := strings.Split(rel, "/")
	for i := 1; i <= len(parts); i++ {
		prefix := strings.Join(parts[:i], "/")
		for _, p := range d.patterns {
			if tail, ok := strings.CutPrefix(p, "**/"); ok {
				if m, _ := filepath.Match(tail, parts[i-1]); m {
					return true
				}
				continue
			}
			if m, _ := filepath.Match(p, prefix); m {
				return true
			}
		}
	}
	return false
}

// copyContext copies the repository into dst the way `docker build .`
// sends it: everything except what .dockerignore excludes.
func copyContext(t testing.TB, root, dst string, ig *dockerignore) {
	t.Helper()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if rel == "." {
			return nil
		}
		rel = filepath.ToSlash(rel)
		if ig.excluded(rel) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if !d.Type().IsRegular() {
			return nil // sockets, symlinks: not part of a Go build
		}
		return copyFile(path, target)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

var (
	buildOnce sync.Once
	builtPath string
	buildErr  error
	buildLog  string
)

// text2sqlBinary builds cmd/text2sql exactly as the Dockerfile does (same
// environment, same flags, from the same filtered build context) once per
// test binary, and returns its path.
func text2sqlBinary(t testing.TB) string {
	t.Helper()
	root := repoRoot(t)
	buildOnce.Do(func() {
		df := readDockerfile(t, filepath.Join(root, "Dockerfile"))
		ig := readDockerignore(t, filepath.Join(root, ".dockerignore"))
		ctx := filepath.Join(tmpRoot, "context")
		if err := os.MkdirAll(ctx, 0o755); err != nil {
			buildErr = err
			return
		}
		copyContext(t, root, ctx, ig)
		builtPath = filepath.Join(tmpRoot, "bin", "text2sql")
		args := append([]string{"build"}, df.Flags...)
		args = append(args, "-o", builtPath, df.Package)
		cmd := exec.Command("go", args...)
		cmd.Dir = ctx
		cmd.Env = buildEnv(df.Env)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		buildErr = cmd.Run()
		buildLog = fmt.Sprintf("go %s (env %v)\n%s", strings.Join(args, " "), df.Env, out.String())
	})
	if buildErr != nil {
		t.Fatalf("building the image's binary failed: %v\n%s", buildErr, buildLog)
	}
	return builtPath
}

// buildEnv is the current environment with GOFLAGS cleared (so no flag
// outside the Dockerfile sneaks in) and the Dockerfile's ENV applied.
func buildEnv(dockerEnv map[string]string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if k == "GOFLAGS" || k == "CGO_ENABLED" || k == "GOOS" || k == "GOARCH" {
			continue
		}
		if _, set := dockerEnv[k]; set {
			continue
		}
		env = append(env, kv)
	}
	keys := make([]string, 0, len(dockerEnv))
	for k := range dockerEnv {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		env = append(env, k+"="+dockerEnv[k])
	}
	return append(env, "GOOS="+runtime.GOOS, "GOARCH="+runtime.GOARCH)
}
