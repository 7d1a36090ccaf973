package benchdata

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestManifest holds the benchmark copies to their manifests: every data
// file is listed, with the size and sha256 of the upstream file, and every
// listed file is there. The data is redistributed unmodified under its
// licences, so an edit shows up here rather than in a benchmark figure.
func TestManifest(t *testing.T) {
	dir := Require(t)
	// Each manifest lists the files under its own directory, except the
	// directories of the other manifests.
	manifests := map[string]string{"": "MANIFEST.tsv", "spider2_lite": "spider2_lite/MANIFEST.tsv"}
	notes := map[string]bool{"SOURCES.md": true, "LICENSES.md": true}
	listed := map[string][]string{} // relative path -> size, sha256
	for base, m := range manifests {
		data, err := os.ReadFile(filepath.Join(dir, m))
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
		for i, line := range lines[1:] {
			f := strings.Split(line, "\t")
			if len(f) < 3 {
				t.Fatalf("%s:%d: want path, bytes, sha256 and origin, got %q", m, i+2, line)
			}
			listed[filepath.ToSlash(filepath.Join(base, f[0]))] = f[1:3]
		}
	}
	seen := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if notes[rel] || rel == manifests[""] || rel == manifests["spider2_lite"] {
			return nil
		}
		want, ok := listed[rel]
		if !ok {
			t.Errorf("%s is not in a manifest: add its origin (repository, path, commit) and sha256", rel)
			return nil
		}
		seen++
		delete(listed, rel)
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		if got := hex.EncodeToString(sum[:]); got != want[1] || strconv.Itoa(len(data)) != want[0] {
			t.Errorf("%s: %d bytes, sha256 %s; the manifest lists %s bytes, %s: the copy is not the upstream file", rel, len(data), got, want[0], want[1])
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for rel := range listed {
		t.Errorf("%s is in a manifest but missing", rel)
	}
	if seen == 0 {
		t.Fatalf("no data files under %s", dir)
	}
}
