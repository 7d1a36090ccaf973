package execdb

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"
)

// loaderVersion is part of every source digest: a change to how files are
// loaded reloads every database, as a change to the files does.
const loaderVersion = "text2sql-execdb/1"

// LoadReport tells what a loader did with one database.
type LoadReport struct {
	Database string        // name on the server
	Source   string        // benchmark database it holds
	Loaded   bool          // true: (re)created and filled; false: verified only
	Reason   string        // why it was loaded (empty when verified)
	Tables   int           // tables in the database
	Rows     int64         // rows over all tables
	Empty    []string      // tables the source gives no data file for (left empty)
	Elapsed  time.Duration // time spent on this database
}

func (r LoadReport) String() string {
	what := "verified"
	if r.Loaded {
		what = "loaded (" + r.Reason + ")"
	}
	s := fmt.Sprintf("%s: %s, %d tables, %d rows, %s", r.Database, what, r.Tables, r.Rows, r.Elapsed.Round(time.Millisecond))
	if len(r.Empty) > 0 {
		s += ", no data for " + strings.Join(r.Empty, ", ")
	}
	return s
}

// sourceDigest hashes the loader version and the named files (name and
// content, in the given order).
func sourceDigest(files []string, names []string) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00", loaderVersion)
	for i, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			return "", err
		}
		fi, err := fh.Stat()
		if err != nil {
			fh.Close()
			return "", err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", names[i], fi.Size())
		_, err = io.Copy(h, fh)
		fh.Close()
		if err != nil {
			return "", err
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// contentDigest hashes table names with their row counts.
func contentDigest(counts map[string]int64) string {
	names := make([]string, 0, len(counts))
	for n := range counts {
		names = append(names, n)
	}
	sort.Strings(names)
	h := sha256.New()
	for _, n := range names {
		fmt.Fprintf(h, "%s=%d\n", n, counts[n])
	}
	return hex.EncodeToString(h.Sum(nil))
}

// marker is what a loaded database carries (as its comment), written last.
type marker struct {
	Source  string // sourceDigest of the files it was loaded from
	Content string // contentDigest of its tables when loaded
}

func (m marker) String() string {
	return loaderVersion + " source=" + m.Source + " content=" + m.Content
}

func parseMarker(s string) (marker, bool) {
	f := strings.Fields(s)
	if len(f) != 3 || f[0] != loaderVersion {
		return marker{}, false
	}
	src, ok1 := strings.CutPrefix(f[1], "source=")
	cnt, ok2 := strings.CutPrefix(f[2], "content=")
	if !ok1 || !ok2 || len(src) != 64 || len(cnt) != 64 {
		return marker{}, false
	}
	return marker{Source: src, Content: cnt}, true
}

// checkMarker says why a database with comment comment and current table
// counts must be reloaded from files with digest source ("" when it need
// not be).
func checkMarker(comment string, exists bool, source string, counts func() (map[string]int64, error)) (string, error) {
	if !exists {
		return "absent", nil
	}
	m, ok := parseMarker(comment)
	if !ok {
		return "no load marker (earlier load unfinished, or not ours)", nil
	}
	if m.Source != source {
		return "source files changed", nil
	}
	c, err := counts()
	if err != nil {
		return "", err
	}
	if contentDigest(c) != m.Content {
		return "tables or row counts changed since loaded", nil
	}
	return "", nil
}

func sumRows(c map[string]int64) int64 {
	var n int64
	for _, v := range c {
		n += v
	}
	return n
}
