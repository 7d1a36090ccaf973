// Package funclist reads the function allowlists that every dialect adapter
// keeps as data (its functions.txt), so a reviewer reads one name per line
// and every dialect loads the file by the same rules.
//
// Format: one lower-case name per line; blank lines and "#" comments are
// skipped; a comment line "# [kind]" starts a section whose names are also
// listed under that kind (for instance "aggregate"), until the next section.
package funclist

import (
	"fmt"
	"strings"
)

// List is a parsed allowlist.
type List struct {
	// All holds every listed name.
	All map[string]bool
	// Kinds maps a section name to the names listed under it.
	Kinds map[string]map[string]bool
}

// Kind returns the names of one section (an empty set when there is none).
func (l *List) Kind(kind string) map[string]bool {
	if k := l.Kinds[kind]; k != nil {
		return k
	}
	return map[string]bool{}
}

// Parse reads an allowlist. A name that is not lower-case letters, digits
// and underscores, or one listed twice, is an error naming its line.
func Parse(text string) (*List, error) {
	l := &List{All: map[string]bool{}, Kinds: map[string]map[string]bool{}}
	kind := ""
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if rest, ok := strings.CutPrefix(line, "#"); ok {
			rest = strings.TrimSpace(rest)
			if strings.HasPrefix(rest, "[") && strings.HasSuffix(rest, "]") {
				kind = strings.TrimSpace(rest[1 : len(rest)-1])
			}
			continue
		}
		if j := strings.IndexByte(line, '#'); j >= 0 {
			line = strings.TrimSpace(line[:j])
		}
		if line == "" {
			continue
		}
		if !validName(line) {
			return nil, fmt.Errorf("functions.txt line %d: %q is not a lower-case function name", i+1, line)
		}
		if l.All[line] {
			return nil, fmt.Errorf("functions.txt line %d: %q listed twice", i+1, line)
		}
		l.All[line] = true
		if kind != "" {
			if l.Kinds[kind] == nil {
				l.Kinds[kind] = map[string]bool{}
			}
			l.Kinds[kind][line] = true
		}
	}
	return l, nil
}

// MustParse is Parse for an embedded file, which the adapter's tests load
// once: a malformed line panics at start-up rather than passing silently.
func MustParse(text string) *List {
	l, err := Parse(text)
	if err != nil {
		panic(err)
	}
	return l
}

func validName(s string) bool {
	for _, r := range s {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '_' {
			return false
		}
	}
	return s != ""
}
