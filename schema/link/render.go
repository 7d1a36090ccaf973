package link

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/texttosql/text2sql/schema"
)

// detail is how much of a table is rendered.
type detail int

const (
	// detailFull renders up to Options.MaxColumns columns with descriptions.
	detailFull detail = iota
	// detailCompact renders key columns, columns the question names and a
	// few more, with short descriptions.
	detailCompact
	// detailBare renders key columns and columns the question names, no
	// descriptions.
	detailBare
)

// compactExtra is how many columns beyond keys and hits a compact table
// keeps.
const compactExtra = 6

// compactDescription caps descriptions in compact tables, and
// otherDescription those of columns the question does not name, in
// characters.
const (
	compactDescription = 60
	otherDescription   = 80
)

// renderer prints tables as compact DDL for one dialect.
type renderer struct {
	dialect        string
	maxColumns     int
	maxDescription int
	// catalogs says the database has several catalogs, so every name is
	// printed catalog.schema.table; otherwise only a table outside the
	// default catalog is.
	catalogs       bool
	defaultCatalog string
}

// rendered is a table printed at one level of detail.
type rendered struct {
	text    string
	columns []string // the columns printed, in table order
	omitted int      // visible columns left out
}

// view is what render needs to know beyond the table: which of its columns
// the caller may see (nil: all), how strongly the question names column i
// (0: not at all; it decides which columns survive trimming), and which of
// its foreign keys and metrics the caller may see (nil: all).
type view struct {
	colVisible    func(i int) bool
	hit           func(i int) float64
	fkVisible     func(schema.ForeignKey) bool
	metricVisible func(schema.Metric) bool
}

// render prints t at the given level of detail. Columns the caller may not
// see are left out, and so are keys that use them or point at a table or
// column the caller may not see: a key is printed whole or not at all.
func (r renderer) render(t *schema.Table, lvl detail, v view) rendered {
	colVisible, hit := v.colVisible, v.hit
	if hit == nil {
		hit = func(int) float64 { return 0 }
	}
	keys := keyColumns(t)
	var vis []int
	for i := range t.Columns {
		if colVisible == nil || colVisible(i) {
			vis = append(vis, i)
		}
	}
	visSet := map[string]bool{}
	for _, i := range vis {
		visSet[t.Columns[i].Name] = true
	}

	// Pick the columns to print: keys and hits first, then by the
	// question's evidence, then in table order.
	limit := len(vis)
	descLimit := r.maxDescription
	switch lvl {
	case detailFull:
		if r.maxColumns > 0 && limit > r.maxColumns {
			limit = r.maxColumns
		}
	case detailCompact:
		descLimit = min(descLimit, compactDescription)
		must := 0
		for _, i := range vis {
			if keys[t.Columns[i].Name] || hit(i) > 0 {
				must++
			}
		}
		limit = min(limit, must+compactExtra)
	case detailBare:
		descLimit = 0
		must := 0
		for _, i := range vis {
			if keys[t.Columns[i].Name] || hit(i) > 0 {
				must++
			}
		}
		limit = must
	}
	keep := map[int]bool{}
	if limit >= len(vis) {
		for _, i := range vis {
			keep[i] = true
		}
	} else {
		order := append([]int(nil), vis...)
		prio := func(i int) int {
			switch {
			case keys[t.Columns[i].Name] && hit(i) > 0:
				return 0
			case hit(i) > 0:
				return 1
			case keys[t.Columns[i].Name]:
				return 2
			}
			return 3
		}
		slices.SortFunc(order, func(a, b int) int {
			if pa, pb := prio(a), prio(b); pa != pb {
				return cmp.Compare(pa, pb)
			}
			if ha, hb := hit(a), hit(b); ha != hb {
				return -cmp.Compare(ha, hb)
			}
			return cmp.Compare(a, b)
		})
		for _, i := range order[:limit] {
			keep[i] = true
		}
	}

	var b strings.Builder
	if d := commentText(t.Description, descLimit); d != "" {
		b.WriteString("-- ")
		b.WriteString(d)
		b.WriteByte('\n')
	}
	b.WriteString("CREATE TABLE ")
	b.WriteString(r.tableName(t.Catalog, t.Schema, t.Name))
	b.WriteString(" (\n")

	type item struct{ text, comment string }
	var items []item
	var cols []string
	for _, i := range vis {
		if !keep[i] {
			continue
		}
		c := t.Columns[i]
		cols = append(cols, c.Name)
		text := r.ident(c.Name)
		if typ := typeText(c.Type); typ != "" {
			text += " " + typ
		}
		// Columns the question names keep their whole description; the
		// others a short one.
		limit := descLimit
		if hit(i) == 0 && !keys[c.Name] {
			limit = min(limit, otherDescription)
		}
		items = append(items, item{text, columnComment(c, limit)})
	}
	omitted := len(vis) - len(cols)

	if len(t.PrimaryKey) > 0 && allIn(t.PrimaryKey, visSet) {
		items = append(items, item{"PRIMARY KEY (" + r.idents(t.PrimaryKey) + ")", ""})
	}
	for _, fk := range t.ForeignKeys {
		rc, rs := cmp.Or(fk.References.Catalog, t.Catalog), cmp.Or(fk.References.Schema, t.Schema)
		if !allIn(fk.Columns, visSet) || (v.fkVisible != nil && !v.fkVisible(fk)) {
			continue
		}
		items = append(items, item{"FOREIGN KEY (" + r.idents(fk.Columns) + ") REFERENCES " +
			r.tableName(rc, rs, fk.References.Table) + " (" + r.idents(fk.References.Columns) + ")", ""})
	}

	for k, it := range items {
		b.WriteString("  ")
		b.WriteString(it.text)
		if k < len(items)-1 {
			b.WriteByte(',')
		}
		if it.comment != "" {
			b.WriteString(" -- ")
			b.WriteString(it.comment)
		}
		b.WriteByte('\n')
		// The note on left-out columns goes after the last column.
		if omitted > 0 && k == len(cols)-1 {
			b.WriteString("  -- " + strconv.Itoa(omitted) + " more columns\n")
		}
	}
	if omitted > 0 && len(cols) == 0 {
		b.WriteString("  -- " + strconv.Itoa(omitted) + " more columns\n")
	}
	b.WriteString(");\n")
	if descLimit > 0 {
		for _, m := range t.Metrics {
			if v.metricVisible != nil && !v.metricVisible(m) {
				continue
			}
			b.WriteString(metricLine(m, descLimit))
		}
	}
	return rendered{text: b.String(), columns: cols, omitted: omitted}
}

// metricLine prints a saved metric as a comment line.
func metricLine(m schema.Metric, limit int) string {
	var b strings.Builder
	b.WriteString("-- metric ")
	b.WriteString(commentText(m.Name, limit))
	if v := commentText(m.VerboseName, limit); v != "" && !sameWords(v, m.Name) {
		b.WriteString(" (" + v + ")")
	}
	if e := commentText(m.Expression, 2*limit); e != "" {
		b.WriteString(" = " + e)
	}
	if d := commentText(m.Description, limit); d != "" {
		b.WriteString(": " + d)
	}
	b.WriteByte('\n')
	return b.String()
}

// columnComment is the trailing comment of a column: its verbose name when
// that says more than the name, then its description.
func columnComment(c schema.Column, limit int) string {
	if limit <= 0 {
		return ""
	}
	var parts []string
	v := commentText(c.VerboseName, limit)
	if v != "" && !sameWords(v, c.Name) {
		parts = append(parts, v)
	}
	// A description often opens by repeating the name or verbose name.
	d := c.Description
	for _, n := range []string{c.Name, c.VerboseName} {
		d = trimRepeat(d, n)
	}
	if d := commentText(d, limit); d != "" {
		parts = append(parts, d)
	}
	return strings.Join(parts, ": ")
}

// squash is s in lower case with everything but letters and digits removed.
func squash(s string) string {
	return strings.Join(words(s), "")
}

// sameWords reports whether two texts have the same letters and digits,
// ignoring case, spaces and punctuation ("Order Date", order_date,
// "CDSCode" and cdscode).
func sameWords(a, b string) bool {
	return squash(a) == squash(b)
}

// trimRepeat removes name from the start of text when text opens with it
// (ignoring case, spaces and punctuation), and the punctuation after it.
func trimRepeat(text, name string) string {
	want := squash(name)
	if want == "" {
		return text
	}
	got := ""
	for i, r := range text {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			got += string(unicode.ToLower(r))
			if len(got) > len(want) || !strings.HasPrefix(want, got) {
				return text
			}
			if got == want {
				rest := text[i+utf8.RuneLen(r):]
				// Only at a word boundary: "Code" must not eat "Codes".
				if next, _ := utf8.DecodeRuneInString(rest); unicode.IsLetter(next) || unicode.IsDigit(next) {
					return text
				}
				return strings.TrimLeft(rest, " \t:;,.-–—()")
			}
		}
	}
	return text
}

func allIn(cols []string, set map[string]bool) bool {
	for _, c := range cols {
		if !set[c] {
			return false
		}
	}
	return true
}

// commentText makes untrusted text safe inside a "--" line comment: line
// breaks and every other control or separator character become spaces (a
// line comment ends only at a line break), block-comment markers are
// broken up, runs of spaces collapse, and the text is cut to limit
// characters. A description can therefore never end its comment and put
// text outside it.
func commentText(s string, limit int) string {
	if limit <= 0 || s == "" {
		return ""
	}
	var b strings.Builder
	space := false
	for _, r := range s {
		if r == utf8.RuneError || unicode.IsControl(r) || unicode.IsSpace(r) ||
			unicode.In(r, unicode.Zl, unicode.Zp, unicode.Cf) {
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	out := b.String()
	for strings.Contains(out, "*/") || strings.Contains(out, "/*") {
		out = strings.ReplaceAll(out, "*/", "* /")
		out = strings.ReplaceAll(out, "/*", "/ *")
	}
	if utf8.RuneCountInString(out) > limit {
		rs := []rune(out)
		out = strings.TrimRight(string(rs[:limit]), " ") + "…"
	}
	return out
}

// typeText keeps a column type only when it looks like one: letters,
// digits, spaces and the punctuation of types such as "numeric(10, 2)",
// "character varying" or "int[]". Anything else is dropped rather than
// printed into the DDL.
func typeText(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 64 {
		return ""
	}
	for _, r := range s {
		switch {
		case r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r)):
		case strings.ContainsRune(" _(),.[]", r):
		default:
			return ""
		}
	}
	return s
}

func (r renderer) tableName(catalog, schemaName, name string) string {
	switch {
	case catalog != "" && (r.catalogs || catalog != r.defaultCatalog):
		return r.ident(catalog) + "." + r.ident(schemaName) + "." + r.ident(name)
	case schemaName == "":
		return r.ident(name)
	}
	return r.ident(schemaName) + "." + r.ident(name)
}

func (r renderer) idents(names []string) string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = r.ident(n)
	}
	return strings.Join(out, ", ")
}

// ident quotes an identifier only when the dialect needs it: MySQL with
// backticks when the name is not a plain word or is reserved; PostgreSQL
// (and any other dialect) with double quotes when the name is not a plain
// lower-case word (unquoted names fold to lower case there) or is reserved.
// Control characters, which no sane name holds, are replaced by spaces so a
// name cannot break the layout of the prompt.
func (r renderer) ident(name string) string {
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.In(r, unicode.Zl, unicode.Zp) {
			return ' '
		}
		return r
	}, name)
	if r.dialect == schema.DialectMySQL {
		if plainIdent(name, true) && !reserved[strings.ToLower(name)] {
			return name
		}
		return "`" + strings.ReplaceAll(name, "`", "``") + "`"
	}
	if plainIdent(name, false) && !reserved[name] {
		return name
	}
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// plainIdent reports whether name can be written without quotes: ASCII
// letters, digits, _ and $, not starting with a digit or $, and (unless
// upper case is allowed) no upper-case letters.
func plainIdent(name string, upperOK bool) bool {
	if name == "" {
		return false
	}
	for i, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r == '_':
		case r >= 'A' && r <= 'Z':
			if !upperOK {
				return false
			}
		case r >= '0' && r <= '9', r == '$':
			if i == 0 {
				return false
			}
		default:
			return false
		}
	}
	return true
}
