package benchdata

import (
	"fmt"
	"sort"
	"strings"
	"sync"

	pg "github.com/pganalyze/pg_query_go/v6"
	"github.com/pingcap/tidb/pkg/parser"
	"github.com/pingcap/tidb/pkg/parser/ast"
	_ "github.com/pingcap/tidb/pkg/parser/test_driver" // literal constructors the parser needs
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/texttosql/text2sql/schema"
)

// DialectSQLite is the dialect of Spider's original gold queries. Spider
// publishes its own parse of every gold query, which is where those
// questions' gold tables come from.
const DialectSQLite = "sqlite"

// TableName is a relation a query reads, spelled as the dialect's parser
// leaves it: PostgreSQL names are already case-folded (unquoted to lower
// case, quoted kept), MySQL names are as written. Schema is empty when the
// query does not qualify the name.
type TableName struct {
	Schema string
	Name   string
}

func (t TableName) String() string {
	if t.Schema == "" {
		return t.Name
	}
	return t.Schema + "." + t.Name
}

// ReadTables parses sql with the dialect's real parser (pg_query for
// postgresql, the TiDB parser for mysql) and returns the distinct tables it
// reads: every relation in a FROM/JOIN position, minus references to CTEs in
// scope. PostgreSQL names come in order of first appearance in the text;
// MySQL ones in the order the parse tree visits them (the TiDB parser keeps
// no positions for table names), which differs from the text only when a
// subquery in the select list reads a table.
func ReadTables(dialect, sql string) ([]TableName, error) {
	switch dialect {
	case schema.DialectPostgres:
		return readTablesPostgres(sql)
	case schema.DialectMySQL:
		return readTablesMySQL(sql)
	case schema.DialectSQLite:
		// BIRD's SQLite gold quotes names with backticks and strings with
		// single or double quotes, as MySQL reads them: the TiDB parser is
		// a reader independent of SQLite, which the validator uses. SQLite
		// scopes CTEs its own way (below).
		return readTablesWith(sql, &mysqlWalker{selfReferring: true})
	}
	return nil, fmt.Errorf("no parser for dialect %q", dialect)
}

// qualify gives unqualified names the default schema, and drops repeats.
func qualify(names []TableName, defaultSchema string) []TableName {
	var out []TableName
	seen := map[TableName]bool{}
	for _, n := range names {
		if n.Schema == "" {
			n.Schema = defaultSchema
		}
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}

// Resolve finds each name in db: an exact match first, then, for dialects
// whose identifiers compare ignoring case (everything but PostgreSQL), a
// case-insensitive one. Unqualified names resolve in db's default schema.
// It returns the tables found, in order, and the names that matched none.
func Resolve(db *schema.Database, names []TableName) (found []*schema.Table, missing []TableName) {
	for _, n := range names {
		s := n.Schema
		if s == "" {
			s = db.DefaultSchema
		}
		t := db.Table(s, n.Name)
		if t == nil && db.Dialect() != schema.DialectPostgres {
			if ts := db.TablesFold(s, n.Name); len(ts) == 1 {
				t = ts[0]
			}
		}
		if t == nil {
			missing = append(missing, n)
			continue
		}
		found = append(found, t)
	}
	return found, missing
}

// QualifiedNames returns the "schema.table" names of tables, sorted and
// without repeats.
func QualifiedNames(tables []*schema.Table) []string {
	seen := map[string]bool{}
	var out []string
	for _, t := range tables {
		q := t.QualifiedName()
		if !seen[q] {
			seen[q] = true
			out = append(out, q)
		}
	}
	sort.Strings(out)
	return out
}

// --- PostgreSQL ---

func readTablesPostgres(sql string) ([]TableName, error) {
	tree, err := pg.Parse(sql)
	if err != nil {
		return nil, err
	}
	var w pgWalker
	for _, s := range tree.Stmts {
		w.walk(s.Stmt.ProtoReflect(), nil)
	}
	return w.found.list(), nil
}

// foundTables collects distinct names with the first position each was
// seen at (a text offset for PostgreSQL, a visit count for MySQL).
type foundTables map[TableName]int

func (f *foundTables) add(n TableName, pos int) {
	if *f == nil {
		*f = foundTables{}
	}
	if p, ok := (*f)[n]; !ok || pos < p {
		(*f)[n] = pos
	}
}

func (f foundTables) list() []TableName {
	out := make([]TableName, 0, len(f))
	for n := range f {
		out = append(out, n)
	}
	sort.Slice(out, func(i, j int) bool {
		if f[out[i]] != f[out[j]] {
			return f[out[i]] < f[out[j]]
		}
		return out[i].String() < out[j].String()
	})
	return out
}

type pgWalker struct {
	found foundTables
}

// walk visits every message below m. scope holds the CTE names visible at m,
// innermost last. A node carrying a WITH clause opens a scope for its own
// body; each CTE body sees the CTEs declared before it, or all of them when
// the clause is RECURSIVE.
func (w *pgWalker) walk(m protoreflect.Message, scope []map[string]bool) {
	if rv, ok := m.Interface().(*pg.RangeVar); ok {
		w.rangeVar(rv, scope)
		return
	}
	withField := m.Descriptor().Fields().ByName("with_clause")
	if withField != nil && m.Has(withField) {
		wc, _ := m.Get(withField).Message().Interface().(*pg.WithClause)
		if wc != nil {
			frame := map[string]bool{}
			if wc.Recursive {
				for _, c := range wc.Ctes {
					frame[c.GetCommonTableExpr().GetCtename()] = true
				}
			}
			inner := append(append([]map[string]bool{}, scope...), frame)
			for _, c := range wc.Ctes {
				cte := c.GetCommonTableExpr()
				if cte == nil {
					continue
				}
				if cte.Ctequery != nil {
					w.walk(cte.Ctequery.ProtoReflect(), inner)
				}
				frame[cte.Ctename] = true
			}
			scope = inner
		}
	}
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if fd == withField {
			return true
		}
		switch {
		case fd.IsList() && fd.Message() != nil:
			l := v.List()
			for i := 0; i < l.Len(); i++ {
				w.walk(l.Get(i).Message(), scope)
			}
		case fd.IsMap():
		case fd.Message() != nil:
			w.walk(v.Message(), scope)
		}
		return true
	})
}

func (w *pgWalker) rangeVar(rv *pg.RangeVar, scope []map[string]bool) {
	if rv.Schemaname == "" && rv.Catalogname == "" {
		for i := len(scope) - 1; i >= 0; i-- {
			if scope[i][rv.Relname] {
				return
			}
		}
	}
	w.found.add(TableName{Schema: rv.Schemaname, Name: rv.Relname}, int(rv.Location))
}

// --- MySQL ---

// The TiDB parser is not safe for concurrent use; keep one per goroutine.
var mysqlParsers = sync.Pool{New: func() any { return parser.New() }}

func parseMySQL(sql string) ([]ast.StmtNode, error) {
	p := mysqlParsers.Get().(*parser.Parser)
	defer mysqlParsers.Put(p)
	stmts, _, err := p.ParseSQL(sql)
	return stmts, err
}

func readTablesMySQL(sql string) ([]TableName, error) {
	return readTablesWith(sql, &mysqlWalker{})
}

func readTablesWith(sql string, v *mysqlWalker) ([]TableName, error) {
	stmts, err := parseMySQL(sql)
	if err != nil {
		return nil, err
	}
	if len(stmts) == 0 {
		return nil, fmt.Errorf("no statement")
	}
	for _, s := range stmts {
		s.Accept(v)
	}
	return v.found.list(), nil
}

// mysqlWalker collects TableName nodes that are not CTE references. A node
// with a WITH clause pushes a frame of CTE names when entered and pops it
// when left; a non-recursive CTE's name joins its frame only after its body
// has been visited, so the body sees only the CTEs before it (the WITH
// clause is visited before the rest of its statement).
type mysqlWalker struct {
	frames []map[string]bool
	found  foundTables
	seq    int
	// selfReferring: every CTE sees its own name in its body, with or
	// without RECURSIVE (SQLite's rule).
	selfReferring bool
}

func withOf(n ast.Node) *ast.WithClause {
	switch x := n.(type) {
	case *ast.SelectStmt:
		return x.With
	case *ast.SetOprStmt:
		return x.With
	case *ast.SetOprSelectList:
		return x.With
	case *ast.UpdateStmt:
		return x.With
	case *ast.DeleteStmt:
		return x.With
	}
	return nil
}

func (v *mysqlWalker) Enter(n ast.Node) (ast.Node, bool) {
	if wc := withOf(n); wc != nil {
		frame := map[string]bool{}
		if wc.IsRecursive {
			for _, c := range wc.CTEs {
				frame[c.Name.L] = true
			}
		}
		v.frames = append(v.frames, frame)
	}
	if c, ok := n.(*ast.CommonTableExpression); ok && v.selfReferring && len(v.frames) > 0 {
		v.frames[len(v.frames)-1][c.Name.L] = true
	}
	if tn, ok := n.(*ast.TableName); ok {
		v.table(tn)
	}
	return n, false
}

func (v *mysqlWalker) Leave(n ast.Node) (ast.Node, bool) {
	if c, ok := n.(*ast.CommonTableExpression); ok && len(v.frames) > 0 {
		v.frames[len(v.frames)-1][c.Name.L] = true
	}
	if withOf(n) != nil {
		v.frames = v.frames[:len(v.frames)-1]
	}
	return n, true
}

func (v *mysqlWalker) table(tn *ast.TableName) {
	if tn.Schema.L == "" {
		for i := len(v.frames) - 1; i >= 0; i-- {
			if v.frames[i][tn.Name.L] {
				return
			}
		}
	}
	v.seq++
	v.found.add(TableName{Schema: tn.Schema.O, Name: tn.Name.O}, v.seq)
}

// splitQualified splits "schema.table" at its first dot.
func splitQualified(q string) TableName {
	if i := strings.IndexByte(q, '.'); i >= 0 {
		return TableName{Schema: q[:i], Name: q[i+1:]}
	}
	return TableName{Name: q}
}
