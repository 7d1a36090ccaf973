package validate

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"

	"github.com/texttosql/text2sql/schema"
)

// DefaultMaxRows caps result size when a policy does not say.
const DefaultMaxRows = 1000

// Work bounds when a policy does not say: rows one generator or bounded
// recursive CTE may produce, characters one amplifying function may
// build, and joins without any join predicate per SELECT block.
const (
	DefaultMaxGeneratedRows = 100000
	DefaultMaxStringLength  = 10000
	DefaultMaxCrossJoins    = 1
)

// Policy is the operator's policy file. The top-level rules apply to every
// database; a section under Databases adds to them for one database (denies
// and functions add up; its allow_tables and max_rows replace the top-level
// ones when set).
type Policy struct {
	Rule      `yaml:",inline"`
	Databases map[string]Rule `yaml:"databases,omitempty"`
}

// Rule is one set of allow and deny lists.
//
// Table entries are "name", "schema.name", "schema.*", "*", and, where
// tables have catalogs, "catalog.schema.name" or "catalog.schema.*"; an
// entry without a catalog names tables of every catalog. Column entries are
// a table entry followed by the column ("customers.email",
// "sales.public.customers.email"), with "*" allowed for any part but the
// column ("*.ssn" denies every column named ssn). Names compare ignoring
// case, so a deny cannot be dodged by spelling.
type Rule struct {
	AllowTables    []string `yaml:"allow_tables,omitempty"`
	DenyTables     []string `yaml:"deny_tables,omitempty"`
	DenyColumns    []string `yaml:"deny_columns,omitempty"`
	AllowFunctions []string `yaml:"allow_functions,omitempty"`
	MaxRows        int      `yaml:"max_rows,omitempty"`
	// TemplateProcessing says whether Superset renders Jinja templates
	// over the database's SQL; unset means yes, the safe assumption, and
	// statements whose text holds a template delimiter are refused.
	TemplateProcessing *bool `yaml:"template_processing,omitempty"`
	// MaxGeneratedRows caps generate_series and the like, and bounded
	// recursive CTEs (DefaultMaxGeneratedRows when 0).
	MaxGeneratedRows int `yaml:"max_generated_rows,omitempty"`
	// UnsizedGenerators lets generators run whose size is not constant
	// (generate_series between a table's first and last date); their
	// constant sizes are still capped. For databases whose dry run has a
	// cost ceiling to stop the ones that are too large.
	UnsizedGenerators *bool `yaml:"unsized_generators,omitempty"`
	// MaxStringLength caps repeat, lpad and the like (DefaultMaxStringLength when 0).
	MaxStringLength int `yaml:"max_string_length,omitempty"`
	// MaxCrossJoins is how many joins without any join predicate one
	// SELECT block may hold (DefaultMaxCrossJoins when unset; 0 allows none).
	MaxCrossJoins *int `yaml:"max_cross_joins,omitempty"`
}

// DefaultPolicy allows every table of the schema, denies nothing and caps
// results at DefaultMaxRows.
func DefaultPolicy() *Policy {
	return &Policy{Rule: Rule{AllowTables: []string{"*"}, MaxRows: DefaultMaxRows}}
}

// LoadPolicy reads a policy file.
func LoadPolicy(path string) (*Policy, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	p, err := ParsePolicy(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

// ParsePolicy decodes a policy file; unknown keys and malformed entries are
// errors.
func ParsePolicy(data []byte) (*Policy, error) {
	var p Policy
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&p); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	if err := p.check(); err != nil {
		return nil, err
	}
	return &p, nil
}

func (p *Policy) check() error {
	rules := map[string]Rule{"": p.Rule}
	for name, r := range p.Databases {
		rules[name] = r
	}
	for name, r := range rules {
		where := ""
		if name != "" {
			where = fmt.Sprintf("databases.%s.", name)
		}
		if r.MaxRows < 0 || r.MaxGeneratedRows < 0 || r.MaxStringLength < 0 || (r.MaxCrossJoins != nil && *r.MaxCrossJoins < 0) {
			return fmt.Errorf("%smax_rows, max_generated_rows, max_string_length and max_cross_joins must not be negative", where)
		}
		for _, e := range append(append([]string{}, r.AllowTables...), r.DenyTables...) {
			if n := len(splitName(e)); n < 1 || n > 3 {
				return fmt.Errorf("%stable entry %q: want name, schema.name, catalog.schema.name, schema.* or *", where, e)
			}
		}
		for _, e := range r.DenyColumns {
			parts := splitName(e)
			if n := len(parts); n < 2 || n > 4 {
				return fmt.Errorf("%sdeny_columns entry %q: want table.column, schema.table.column or catalog.schema.table.column", where, e)
			}
			if parts[len(parts)-1] == "*" {
				return fmt.Errorf("%sdeny_columns entry %q: name the column; to deny a whole table use deny_tables", where, e)
			}
		}
		for _, e := range r.AllowFunctions {
			if n := len(splitName(e)); n < 1 || n > 2 {
				return fmt.Errorf("%sallow_functions entry %q: want name or schema.name", where, e)
			}
		}
	}
	return nil
}

// splitName splits a dotted entry, dropping empty parts' entries entirely so
// "a..b" is rejected by the length checks.
func splitName(e string) []string {
	e = strings.TrimSpace(e)
	if e == "" {
		return nil
	}
	parts := strings.Split(e, ".")
	for _, p := range parts {
		if strings.TrimSpace(p) == "" {
			return nil
		}
	}
	return parts
}

// For returns the rule that applies to one database.
func (p *Policy) For(database string) Rule {
	r := p.Rule
	d, ok := p.Databases[database]
	if !ok {
		return r
	}
	if d.AllowTables != nil {
		r.AllowTables = d.AllowTables
	}
	if d.MaxRows > 0 {
		r.MaxRows = d.MaxRows
	}
	if d.TemplateProcessing != nil {
		r.TemplateProcessing = d.TemplateProcessing
	}
	if d.MaxGeneratedRows > 0 {
		r.MaxGeneratedRows = d.MaxGeneratedRows
	}
	if d.MaxStringLength > 0 {
		r.MaxStringLength = d.MaxStringLength
	}
	if d.UnsizedGenerators != nil {
		r.UnsizedGenerators = d.UnsizedGenerators
	}
	if d.MaxCrossJoins != nil {
		r.MaxCrossJoins = d.MaxCrossJoins
	}
	r.DenyTables = append(append([]string{}, r.DenyTables...), d.DenyTables...)
	r.DenyColumns = append(append([]string{}, r.DenyColumns...), d.DenyColumns...)
	r.AllowFunctions = append(append([]string{}, r.AllowFunctions...), d.AllowFunctions...)
	return r
}

// Rules is a policy compiled against one database's catalog, possibly
// narrowed to what one caller may see. It is immutable and safe to share.
type Rules struct {
	db          *schema.Database
	allowed     map[*schema.Table]bool
	denied      map[*schema.Table]map[string]bool // lower-case column names
	functions   map[string]bool                   // lower-case, "name" or "schema.name"
	maxRows     int
	work        workBounds
	fingerprint func() string // computed once, on first use
	// names holds each table's qualified name ("schema.table", or
	// "catalog.schema.table" when it has a catalog), built once rather than
	// for every statement that reads the table.
	names map[*schema.Table]string
}

// Compile resolves the policy's entries against db. Warnings name entries
// that match nothing, which usually means a typo in the policy.
func (p *Policy) Compile(db *schema.Database) (*Rules, []string) {
	r, checks := p.compile(db)
	var warnings []string
	for _, c := range checks {
		if !c.matched {
			warnings = append(warnings, fmt.Sprintf("database %s: %s entry %q matches no %s", db.Name, c.list, c.entry, c.kind()))
		}
	}
	return r, warnings
}

// CompileAll compiles the policy against every database. It warns once for
// each entry that matches nothing in any database it applies to, saying how
// many it was checked against: a top-level entry is checked against every
// database, and naming a table of only some of them is normal.
func (p *Policy) CompileAll(dbs []*schema.Database) (map[*schema.Database]*Rules, []string) {
	type tally struct {
		check   entryCheck
		checked int // databases
		matched bool
		last    *schema.Database // the last database checked
	}
	rules := make(map[*schema.Database]*Rules, len(dbs))
	var order []*tally
	tallies := map[[2]string]*tally{}
	for _, db := range dbs {
		r, checks := p.compile(db)
		rules[db] = r
		for _, c := range checks {
			k := [2]string{c.list, c.entry}
			t := tallies[k]
			if t == nil {
				t = &tally{check: c}
				tallies[k] = t
				order = append(order, t)
			}
			if t.last != db { // an entry both top-level and in the database's section counts once
				t.checked++
				t.last = db
			}
			t.matched = t.matched || c.matched
		}
	}
	var warnings []string
	for _, t := range order {
		if t.matched {
			continue
		}
		c := t.check
		if t.checked == 1 {
			warnings = append(warnings, fmt.Sprintf("%s entry %q matches no %s in database %s, the only database it was checked against",
				c.list, c.entry, c.kind(), t.last.Name))
		} else {
			warnings = append(warnings, fmt.Sprintf("%s entry %q matches no %s in any of the %d databases it was checked against",
				c.list, c.entry, c.kind(), t.checked))
		}
	}
	return rules, warnings
}

// entryCheck is one policy entry as resolved against one database.
type entryCheck struct {
	list    string // the policy key: allow_tables, deny_tables or deny_columns
	entry   string
	matched bool
}

func (c entryCheck) kind() string {
	if c.list == "deny_columns" {
		return "column"
	}
	return "table"
}

func (p *Policy) compile(db *schema.Database) (*Rules, []entryCheck) {
	rule := p.For(db.Name)
	r := &Rules{
		db:        db,
		allowed:   map[*schema.Table]bool{},
		denied:    map[*schema.Table]map[string]bool{},
		functions: map[string]bool{},
		maxRows:   rule.MaxRows,
		work:      rule.workBounds(),
		names:     make(map[*schema.Table]string, len(db.Tables)),
	}
	for _, t := range db.Tables {
		r.names[t] = t.QualifiedName()
	}
	if r.maxRows <= 0 {
		r.maxRows = DefaultMaxRows
	}
	var checks []entryCheck
	matchTables := func(list []string, key string, f func(*schema.Table)) {
		for _, e := range list {
			n := 0
			for _, t := range db.Tables {
				if tableMatches(e, t) {
					f(t)
					n++
				}
			}
			if e != "*" {
				checks = append(checks, entryCheck{key, e, n > 0})
			}
		}
	}
	matchTables(rule.AllowTables, "allow_tables", func(t *schema.Table) { r.allowed[t] = true })
	matchTables(rule.DenyTables, "deny_tables", func(t *schema.Table) { delete(r.allowed, t) })
	for _, e := range rule.DenyColumns {
		parts := splitName(strings.ToLower(e))
		col := parts[len(parts)-1]
		tbl := strings.Join(parts[:len(parts)-1], ".")
		n := 0
		for _, t := range db.Tables {
			if !tableMatches(tbl, t) {
				continue
			}
			for _, c := range t.Columns {
				if strings.EqualFold(c.Name, col) {
					if r.denied[t] == nil {
						r.denied[t] = map[string]bool{}
					}
					r.denied[t][col] = true
					n++
				}
			}
		}
		checks = append(checks, entryCheck{"deny_columns", e, n > 0})
	}
	for _, f := range rule.AllowFunctions {
		r.functions[strings.ToLower(strings.TrimSpace(f))] = true
	}
	r.fingerprint = sync.OnceValue(r.computeFingerprint)
	return r, checks
}

// tableMatches reports whether entry ([[catalog.]schema.]name, with * for
// any part) names t, ignoring case. An entry without a catalog part names
// the table in every catalog.
func tableMatches(entry string, t *schema.Table) bool {
	parts := splitName(entry)
	if len(parts) < 1 || len(parts) > 3 {
		return false
	}
	names := []string{t.Catalog, t.Schema, t.Name}[3-len(parts):]
	for i, p := range parts {
		if p != "*" && !strings.EqualFold(p, names[i]) {
			return false
		}
	}
	return true
}

// Database is the catalog the rules were compiled against.
func (r *Rules) Database() *schema.Database { return r.db }

// FunctionAllowed reports whether the policy adds the function name,
// given as [schema.]name in lower case.
func (r *Rules) FunctionAllowed(name string) bool { return r.functions[name] }

// qualifiedName is t's qualified name, as Table.QualifiedName.
func (r *Rules) qualifiedName(t *schema.Table) string {
	if n, ok := r.names[t]; ok {
		return n
	}
	return t.QualifiedName()
}

// MaxRows is the row cap.
func (r *Rules) MaxRows() int { return r.maxRows }

// Restrict narrows the rules to the tables visible reports true for: the
// caller's scope intersected with the operator's allowlist.
func (r *Rules) Restrict(visible func(*schema.Table) bool) *Rules {
	out := &Rules{db: r.db, denied: r.denied, functions: r.functions, maxRows: r.maxRows, work: r.work, names: r.names,
		allowed: make(map[*schema.Table]bool, len(r.allowed))}
	for t := range r.allowed {
		if visible(t) {
			out.allowed[t] = true
		}
	}
	out.fingerprint = sync.OnceValue(out.computeFingerprint)
	return out
}

// Fingerprint is a short hash of what the rules allow: two rules with the
// same fingerprint judge every statement alike. Answer caches key on it, so
// callers with different scopes never share an answer.
func (r *Rules) Fingerprint() string { return r.fingerprint() }

func (r *Rules) computeFingerprint() string {
	var lines []string
	for t := range r.allowed {
		lines = append(lines, "t "+t.QualifiedName())
	}
	for t, cols := range r.denied {
		for c := range cols {
			lines = append(lines, "c "+t.QualifiedName()+"."+c)
		}
	}
	for f := range r.functions {
		lines = append(lines, "f "+f)
	}
	sort.Strings(lines)
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%d\n%+v\n", r.db.Name, r.maxRows, r.work)
	for _, l := range lines {
		h.Write([]byte(l))
		h.Write([]byte{'\n'})
	}
	return hex.EncodeToString(h.Sum(nil)[:12])
}
