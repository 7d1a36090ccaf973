package postgres

import (
	_ "embed"
	"fmt"
	"strings"
)

// functionsTxt is the allowlist of built-in read-only functions, kept as
// data so it can be reviewed line by line.
//
//go:embed functions.txt
var functionsTxt string

var builtinFunctions, aggregateFunctions = loadFunctions(functionsTxt)

// loadFunctions reads the allowlist: one lower-case name per line, "#"
// comments, and "# [kind]" lines that start a section. It panics on a
// malformed line, which the package tests catch.
func loadFunctions(text string) (all, aggregates map[string]bool) {
	all = map[string]bool{}
	aggregates = map[string]bool{}
	kind := ""
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if rest, ok := strings.CutPrefix(line, "#"); ok {
			rest = strings.TrimSpace(rest)
			if strings.HasPrefix(rest, "[") && strings.HasSuffix(rest, "]") {
				kind = rest[1 : len(rest)-1]
			}
			continue
		}
		if !validFunctionName(line) {
			panic(fmt.Sprintf("functions.txt:%d: %q is not a lower-case function name", i+1, line))
		}
		if all[line] {
			panic(fmt.Sprintf("functions.txt:%d: %q listed twice", i+1, line))
		}
		all[line] = true
		if kind == "aggregate" {
			aggregates[line] = true
		}
	}
	return all, aggregates
}

func validFunctionName(s string) bool {
	for _, r := range s {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '_' {
			return false
		}
	}
	return s != ""
}
