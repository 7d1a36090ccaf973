package deploy

import (
	"bytes"
	"debug/buildinfo"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// runtimeLibraries are the shared objects every glibc runtime image
// (gcr.io/distroless/base-debian12 and cc-debian12) provides: glibc and its
// companions, and OpenSSL. The cc image adds the C++ runtime
// (ccLibraries). A cgo dependency needing anything else (libpq...) needs
// another runtime image, and this test says so.
var runtimeLibraries = map[string]bool{
	"libc.so.6":                   true,
	"libm.so.6":                   true,
	"libpthread.so.0":             true,
	"libdl.so.2":                  true,
	"librt.so.1":                  true,
	"libresolv.so.2":              true,
	"libssl.so.3":                 true,
	"libcrypto.so.3":              true,
	"ld-linux-x86-64.so.2":        true,
	"ld-linux-aarch64.so.1":       true,
	"/lib64/ld-linux-x86-64.so.2": true,
	"/lib/ld-linux-aarch64.so.1":  true,
}

// Runtime images known to ship glibc; "static" and "scratch" do not, and
// cannot run a cgo binary.
// ccLibraries are what gcr.io/distroless/cc-debian12 adds to base.
var ccLibraries = map[string]bool{"libstdc++.so.6": true, "libgcc_s.so.1": true}

var glibcRuntimes = []string{"gcr.io/distroless/base-debian12", "gcr.io/distroless/base-nossl-debian12", "gcr.io/distroless/cc-debian12"}

func TestDockerfileRecipe(t *testing.T) {
	root := repoRoot(t)
	df := readDockerfile(t, filepath.Join(root, "Dockerfile"))

	for _, ref := range []string{df.BuildImage, df.RuntimeImage} {
		if err := pinnedImage(ref); err != nil {
			t.Errorf("FROM %s: %v", ref, err)
		}
	}
	if df.Env["CGO_ENABLED"] != "1" {
		t.Errorf("build stage CGO_ENABLED = %q; the PostgreSQL parser needs cgo (1)", df.Env["CGO_ENABLED"])
	}
	for _, want := range []string{"-trimpath", "-buildvcs=false"} {
		if !contains(df.Flags, want) {
			t.Errorf("go build flags %v lack %s", df.Flags, want)
		}
	}
	if ld := flagValue(df.Flags, "-ldflags"); !strings.Contains(ld, "-s") || !strings.Contains(ld, "-w") {
		t.Errorf("-ldflags %q should strip symbols and DWARF (-s -w)", ld)
	}
	if df.CopiedFrom != df.Output {
		t.Errorf("the runtime stage copies %q but the build writes %q", df.CopiedFrom, df.Output)
	}
	if len(df.Entrypoint) == 0 || df.Entrypoint[0] != df.CopiedBinary {
		t.Errorf("ENTRYPOINT %v should start the copied binary %s directly (no shell in the runtime image)", df.Entrypoint, df.CopiedBinary)
	}
	user, _, _ := strings.Cut(df.RuntimeUser, ":")
	if uid, err := strconv.Atoi(user); err != nil || uid == 0 {
		t.Errorf("runtime USER %q must be a numeric non-root uid (Kubernetes' runAsNonRoot cannot check a name)", df.RuntimeUser)
	}
	if !hasAnyPrefix(df.RuntimeImage, glibcRuntimes) {
		t.Errorf("runtime image %s is not one of the glibc images %v; the cgo binary needs glibc", df.RuntimeImage, glibcRuntimes)
	}
}

func TestImageBinary(t *testing.T) {
	bin := text2sqlBinary(t)

	// The binary runs and documents its commands and settings.
	for _, args := range [][]string{{"--help"}, {"serve", "--help"}} {
		out, err := exec.Command(bin, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("text2sql %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		if !bytes.Contains(out, []byte("serve")) {
			t.Errorf("text2sql %s does not mention serve:\n%s", strings.Join(args, " "), out)
		}
	}

	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	libs, err := f.ImportedLibraries()
	if err != nil {
		t.Fatal(err)
	}
	if len(libs) == 0 {
		t.Errorf("the binary is static; the Dockerfile's cgo build should link glibc dynamically (if it became static on purpose, switch the runtime image to distroless/static and update this test)")
	}
	df := readDockerfile(t, filepath.Join(repoRoot(t), "Dockerfile"))
	cc := strings.HasPrefix(df.RuntimeImage, "gcr.io/distroless/cc-debian12")
	for _, lib := range libs {
		if !runtimeLibraries[lib] && !(cc && ccLibraries[lib]) {
			t.Errorf("the binary needs %s, which the runtime image does not provide", lib)
		}
	}
	if interp := interpreter(t, f); interp != "" && !runtimeLibraries[interp] {
		t.Errorf("ELF interpreter %s is not in the runtime image", interp)
	}
	t.Logf("shared libraries the runtime image must provide: %v", libs)

	// -s: no symbol table; -w: no DWARF.
	if f.Section(".symtab") != nil {
		t.Error("the binary has a symbol table; -ldflags -s did not apply")
	}
	if f.Section(".debug_info") != nil || f.Section(".zdebug_info") != nil {
		t.Error("the binary has DWARF; -ldflags -w did not apply")
	}

	info, err := buildinfo.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	if settings["CGO_ENABLED"] != "1" {
		t.Errorf("build info CGO_ENABLED = %q, want 1", settings["CGO_ENABLED"])
	}
	if settings["-trimpath"] != "true" {
		t.Errorf("build info -trimpath = %q, want true", settings["-trimpath"])
	}
	if _, ok := settings["vcs.revision"]; ok {
		t.Error("build info carries VCS data; the build should use -buildvcs=false so the image is reproducible from the tree alone")
	}

	// -trimpath: no path of the build machine in the binary.
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(data, []byte(tmpRoot)) {
		t.Errorf("the binary contains the build directory %s; -trimpath did not apply", tmpRoot)
	}
}

func TestDockerignoreKeepsBuildInputs(t *testing.T) {
	root := repoRoot(t)
	ig := readDockerignore(t, filepath.Join(root, ".dockerignore"))
	for _, keep := range []string{"go.mod", "go.sum", "cmd/text2sql/main.go"} {
		if ig.excluded(keep) {
			t.Errorf(".dockerignore excludes %s, which the build needs", keep)
		}
	}
	for _, drop := range []string{".git", "deploy/README.md", "server/server_test.go"} {
		if !ig.excluded(drop) {
			t.Errorf(".dockerignore should exclude %s", drop)
		}
	}
}

func interpreter(t *testing.T, f *elf.File) string {
	t.Helper()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			b := make([]byte, p.Filesz)
			if _, err := p.ReadAt(b, 0); err != nil {
				t.Fatal(err)
			}
			return strings.TrimRight(string(b), "\x00")
		}
	}
	return ""
}

// pinnedImage accepts a reference with a digest, or a tag that names a
// version (not "latest" and not absent).
func pinnedImage(ref string) error {
	if strings.Contains(ref, "@sha256:") {
		return nil
	}
	name := ref
	if i := strings.LastIndex(ref, "/"); i >= 0 {
		name = ref[i+1:]
	}
	_, tag, ok := strings.Cut(name, ":")
	switch {
	case !ok || tag == "":
		return errorf("no tag or digest; pin a version")
	case tag == "latest":
		return errorf("tag latest is not a pinned version")
	}
	return nil
}

type stringError string

func (e stringError) Error() string { return string(e) }

func errorf(s string) error { return stringError(s) }

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

func flagValue(flags []string, name string) string {
	for i, f := range flags {
		if f == name && i+1 < len(flags) {
			return flags[i+1]
		}
		if v, ok := strings.CutPrefix(f, name+"="); ok {
			return v
		}
	}
	return ""
}
