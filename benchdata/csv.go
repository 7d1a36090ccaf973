package benchdata

import (
	"fmt"
	"os"
	"strings"
)

// readCSV reads a CSV file with a header row into one map per row.
//
// The files were written for Python's csv module and are read the way it
// reads them (the "excel" dialect, not strict): some rows hold a stray
// quote after a quoted field ("...changes". Return...), which Python keeps
// reading as part of the same field and encoding/csv rejects, even with
// LazyQuotes (it then reads on past the delimiter).
func readCSV(path string) ([]map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	recs := parsePythonCSV(string(data))
	if len(recs) == 0 {
		return nil, fmt.Errorf("%s: empty", path)
	}
	head := recs[0]
	out := make([]map[string]string, 0, len(recs)-1)
	for i, rec := range recs[1:] {
		if len(rec) == 0 {
			continue // csv.DictReader skips blank lines
		}
		if len(rec) != len(head) {
			return nil, fmt.Errorf("%s: record %d has %d fields, the header %d", path, i+1, len(rec), len(head))
		}
		m := make(map[string]string, len(head))
		for j, h := range head {
			m[h] = rec[j]
		}
		out = append(out, m)
	}
	return out, nil
}

// parsePythonCSV follows the state machine of CPython's Modules/_csv.c for
// the excel dialect with strict off: a quote opens a quoted field only at
// the start of a field; inside one, a doubled quote is a quote, a quote
// before a delimiter or line end closes the field, and a quote before
// anything else is dropped and the field goes on unquoted. A blank line
// is an empty record. Line ends are normalised first, as Python's text
// mode does.
func parsePythonCSV(s string) [][]string {
	s = strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
	const (
		startRecord = iota
		startField
		inField
		inQuoted
		quoteInQuoted
	)
	var (
		recs  [][]string
		rec   []string
		field strings.Builder
		state = startRecord
	)
	saveField := func() {
		rec = append(rec, field.String())
		field.Reset()
	}
	endRecord := func() {
		saveField()
		recs = append(recs, rec)
		rec = nil
		state = startRecord
	}
	for _, c := range s {
		isEOL := c == '\n' || c == '\r'
		switch state {
		case startRecord:
			if isEOL {
				recs = append(recs, []string{})
				continue
			}
			state = startField
			fallthrough
		case startField:
			switch {
			case isEOL:
				endRecord()
			case c == '"':
				state = inQuoted
			case c == ',':
				saveField()
			default:
				field.WriteRune(c)
				state = inField
			}
		case inField:
			switch {
			case isEOL:
				endRecord()
			case c == ',':
				saveField()
				state = startField
			default:
				field.WriteRune(c)
			}
		case inQuoted:
			if c == '"' {
				state = quoteInQuoted
			} else {
				field.WriteRune(c)
			}
		case quoteInQuoted:
			switch {
			case c == '"':
				field.WriteRune('"')
				state = inQuoted
			case c == ',':
				saveField()
				state = startField
			case isEOL:
				endRecord()
			default:
				field.WriteRune(c)
				state = inField
			}
		}
	}
	if state != startRecord {
		endRecord()
	}
	return recs
}
