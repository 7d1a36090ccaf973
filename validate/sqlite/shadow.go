package sqlite

import (
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"

	lru "github.com/hashicorp/golang-lru/v2"
	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/texttosql/text2sql/schema"
)

// A shadow is an in-memory SQLite database holding the catalog's tables
// (same schemas, names, columns and declared types) and no rows. SQLite
// prepares a statement against it exactly as it would against the real
// database, and its authorizer reports every table and column the
// statement reads and every function it calls. Preparing never runs the
// statement.
type shadow struct {
	// schemas maps SQLite's name for a shadow schema ("main" or an attached
	// name, lower case) to the catalog's schema name.
	schemas map[string]string
	// tables maps a lower-case table name to the catalog schemas holding it.
	tables map[string][]string
	// columns maps lower(schema NUL table) to the table's column names.
	columns map[string][]string
	ddl     []string

	mu     sync.Mutex
	idle   []*conn
	open   int
	closed bool
	free   *sync.Cond
}

// maxConns bounds the connections of one shadow: preparing is quick, so
// more than one per core only holds memory.
var maxConns = max(2, runtime.GOMAXPROCS(0))

// conn is one SQLite connection to a shadow. It is used by one goroutine
// at a time (a libc.TLS must not be shared).
type conn struct {
	tls   *libc.TLS
	db    uintptr
	id    uintptr
	trace []event
	roots map[[2]int64]rootTable // (database index, root page) → table
}

// event is one authorizer call.
type event struct {
	action             int32
	arg1, arg2, dbName string
}

// conns finds a connection from the authorizer's pArg.
var conns sync.Map // uintptr → *conn

var connIDs atomic.Uintptr

// authorize records every request and allows only what a read-only query
// needs; anything else is denied, so the statement does not prepare.
func authorize(_ *libc.TLS, pArg uintptr, action int32, z1, z2, z3, _ uintptr) int32 {
	v, ok := conns.Load(pArg)
	if !ok {
		return sqlite3.SQLITE_DENY
	}
	c := v.(*conn)
	e := event{action: action, arg1: goString(z1), arg2: goString(z2), dbName: goString(z3)}
	c.trace = append(c.trace, e)
	if !knownAction(action) || action == sqlite3.SQLITE_READ && systemTable(e.arg1) {
		return sqlite3.SQLITE_DENY
	}
	return sqlite3.SQLITE_OK
}

// readPtr reads a pointer SQLite wrote into memory allocated for it.
func readPtr(p uintptr) uintptr { return uintptr(binary.NativeEndian.Uint64(libc.GoBytes(p, 8))) }

func goString(p uintptr) string {
	if p == 0 {
		return ""
	}
	return libc.GoString(p)
}

// cFuncPointer turns a Go function into the pointer the transpiled SQLite
// calls back through (the representation of https://golang.org/s/go11func).
func cFuncPointer[T any](f T) uintptr {
	return *(*uintptr)(unsafe.Pointer(&struct{ f T }{f}))
}

var authorizer = cFuncPointer(authorize)

// typePattern is a declared type SQLite reads as a type name; anything else
// is left out of the shadow (SQLite needs no type to resolve names).
var typePattern = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_ ]*(\([0-9 ,]*\))?$`)

// newShadow builds the DDL of db's tables. Tables of the default schema
// (or of "main") live in main; every other schema is an attached
// in-memory database of that name.
func newShadow(db *schema.Database) (*shadow, error) {
	s := &shadow{schemas: map[string]string{}, tables: map[string][]string{}, columns: map[string][]string{}}
	s.free = sync.NewCond(&s.mu)
	attached := map[string]bool{}
	for _, t := range db.Tables {
		if systemTable(t.Name) {
			// SQLite's own tables (a catalog may list sqlite_sequence) are
			// never created by hand and never read.
			continue
		}
		sq := "main"
		if t.Schema != "" && t.Schema != db.DefaultSchema && !strings.EqualFold(t.Schema, "main") {
			sq = strings.ToLower(t.Schema)
			if sq == "temp" {
				return nil, fmt.Errorf("schema %q cannot be reproduced in SQLite", t.Schema)
			}
			if !attached[sq] {
				attached[sq] = true
				s.ddl = append(s.ddl, fmt.Sprintf("ATTACH ':memory:' AS %s", quoteIdent(t.Schema)))
			}
		}
		if prev, ok := s.schemas[sq]; ok && prev != t.Schema {
			return nil, fmt.Errorf("schemas %q and %q are the same SQLite schema", prev, t.Schema)
		}
		s.schemas[sq] = t.Schema
		var cols []string
		key := strings.ToLower(t.Schema + "\x00" + t.Name)
		for _, c := range t.Columns {
			s.columns[key] = append(s.columns[key], c.Name)
			def := quoteIdent(c.Name)
			if typePattern.MatchString(c.Type) {
				def += " " + c.Type
			}
			cols = append(cols, def)
		}
		if len(cols) == 0 {
			continue
		}
		s.ddl = append(s.ddl, fmt.Sprintf("CREATE TABLE %s.%s (%s)", quoteIdent(sq), quoteIdent(t.Name), strings.Join(cols, ", ")))
		k := strings.ToLower(t.Name)
		s.tables[k] = append(s.tables[k], t.Schema)
	}
	return s, nil
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// get takes an idle connection, opening one when fewer than maxConns are
// open, and otherwise waits for one.
func (s *shadow) get() (*conn, error) {
	s.mu.Lock()
	for len(s.idle) == 0 && s.open >= maxConns && !s.closed {
		s.free.Wait()
	}
	if n := len(s.idle); n > 0 {
		c := s.idle[n-1]
		s.idle = s.idle[:n-1]
		s.mu.Unlock()
		return c, nil
	}
	s.open++
	s.mu.Unlock()
	c, err := s.connect()
	if err != nil {
		s.mu.Lock()
		s.open--
		s.free.Signal()
		s.mu.Unlock()
		return nil, err
	}
	return c, nil
}

// put returns a connection; a shadow evicted from the cache closes it.
func (s *shadow) put(c *conn) {
	c.trace = c.trace[:0]
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		s.open--
		c.close()
		return
	}
	s.idle = append(s.idle, c)
	s.free.Signal()
}

// close closes the idle connections now and the busy ones when returned.
func (s *shadow) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	for _, c := range s.idle {
		c.close()
		s.open--
	}
	s.idle = nil
	s.free.Broadcast()
}

// SQLite settings of a shadow connection.
const (
	sqlLengthLimit = 1 << 20 // longest statement accepted, bytes
	exprDepthLimit = 200     // deepest expression tree
	compoundLimit  = 100     // most arms of a compound SELECT
)

func (s *shadow) connect() (c *conn, err error) {
	c = &conn{tls: libc.NewTLS()}
	defer func() {
		if err != nil {
			c.close()
		}
	}()
	name, err := libc.CString(":memory:")
	if err != nil {
		return c, err
	}
	defer libc.Xfree(c.tls, name)
	pdb := libc.Xmalloc(c.tls, 8)
	if pdb == 0 {
		return c, fmt.Errorf("out of memory")
	}
	defer libc.Xfree(c.tls, pdb)
	rc := sqlite3.Xsqlite3_open_v2(c.tls, name, pdb, sqlite3.SQLITE_OPEN_READWRITE|sqlite3.SQLITE_OPEN_CREATE|sqlite3.SQLITE_OPEN_MEMORY|sqlite3.SQLITE_OPEN_NOMUTEX, 0)
	c.db = readPtr(pdb)
	if rc != sqlite3.SQLITE_OK {
		return c, fmt.Errorf("open shadow: %s", c.errmsg())
	}
	// Double-quoted text is always an identifier here; Parse retries a
	// name that resolves to nothing as the string SQLite would have made
	// of it, and prints it as one, so the executed text is unambiguous.
	for _, op := range []int32{sqlite3.SQLITE_DBCONFIG_DQS_DML, sqlite3.SQLITE_DBCONFIG_DQS_DDL} {
		if rc := c.dbConfig(op, 0); rc != sqlite3.SQLITE_OK {
			return c, fmt.Errorf("configure shadow: %s", c.errmsg())
		}
	}
	sqlite3.Xsqlite3_limit(c.tls, c.db, sqlite3.SQLITE_LIMIT_SQL_LENGTH, sqlLengthLimit)
	sqlite3.Xsqlite3_limit(c.tls, c.db, sqlite3.SQLITE_LIMIT_EXPR_DEPTH, exprDepthLimit)
	sqlite3.Xsqlite3_limit(c.tls, c.db, sqlite3.SQLITE_LIMIT_COMPOUND_SELECT, compoundLimit)
	for _, ddl := range s.ddl {
		if err := c.exec(ddl); err != nil {
			return c, fmt.Errorf("shadow schema: %s: %w", ddl, err)
		}
	}
	if err := c.loadRoots(); err != nil {
		return c, fmt.Errorf("shadow schema: %w", err)
	}
	c.id = connIDs.Add(1)
	conns.Store(c.id, c)
	if rc := sqlite3.Xsqlite3_set_authorizer(c.tls, c.db, authorizer, c.id); rc != sqlite3.SQLITE_OK {
		return c, fmt.Errorf("authorizer: %s", c.errmsg())
	}
	return c, nil
}

func (c *conn) dbConfig(op, v int32) int32 {
	bp := libc.Xmalloc(c.tls, 16)
	if bp == 0 {
		return sqlite3.SQLITE_NOMEM
	}
	defer libc.Xfree(c.tls, bp)
	return sqlite3.Xsqlite3_db_config(c.tls, c.db, op, libc.VaList(bp, v, uintptr(0)))
}

func (c *conn) errmsg() string { return goString(sqlite3.Xsqlite3_errmsg(c.tls, c.db)) }

func (c *conn) exec(sql string) error {
	z, err := libc.CString(sql)
	if err != nil {
		return err
	}
	defer libc.Xfree(c.tls, z)
	if rc := sqlite3.Xsqlite3_exec(c.tls, c.db, z, 0, 0, 0); rc != sqlite3.SQLITE_OK {
		return fmt.Errorf("%s", c.errmsg())
	}
	return nil
}

func (c *conn) close() {
	if c.id != 0 {
		conns.Delete(c.id)
	}
	if c.db != 0 {
		sqlite3.Xsqlite3_close_v2(c.tls, c.db)
		c.db = 0
	}
	if c.tls != nil {
		c.tls.Close()
		c.tls = nil
	}
}

// prepared is what SQLite made of one statement text.
type prepared struct {
	trace     []event
	text      string // the statement's own text, without what follows it
	rest      string // text after the statement
	readonly  bool
	explain   bool
	empty     bool   // no statement at all
	err       string // SQLite's message when it refused the statement
	errOffset int    // byte offset SQLite blamed, -1 when none
}

// prepare compiles sql (which must not hold a NUL byte) and finalizes the
// statement at once: nothing is ever stepped.
func (c *conn) prepare(sql string) prepared {
	c.trace = c.trace[:0]
	p := prepared{errOffset: -1}
	z, err := libc.CString(sql)
	if err != nil {
		p.err = err.Error()
		return p
	}
	defer libc.Xfree(c.tls, z)
	out := libc.Xmalloc(c.tls, 16)
	if out == 0 {
		p.err = "out of memory"
		return p
	}
	defer libc.Xfree(c.tls, out)
	rc := sqlite3.Xsqlite3_prepare_v2(c.tls, c.db, z, int32(len(sql)+1), out, out+8)
	p.trace = append([]event(nil), c.trace...)
	pstmt := readPtr(out)
	if rc != sqlite3.SQLITE_OK {
		p.err = c.errmsg()
		p.errOffset = int(sqlite3.Xsqlite3_error_offset(c.tls, c.db))
		if pstmt != 0 {
			sqlite3.Xsqlite3_finalize(c.tls, pstmt)
		}
		return p
	}
	tail := int(readPtr(out+8) - z)
	if tail < 0 || tail > len(sql) {
		tail = len(sql)
	}
	p.rest = sql[tail:]
	if pstmt == 0 {
		p.empty = true
		return p
	}
	defer sqlite3.Xsqlite3_finalize(c.tls, pstmt)
	p.text = sql[:tail]
	p.readonly = sqlite3.Xsqlite3_stmt_readonly(c.tls, pstmt) != 0
	p.explain = sqlite3.Xsqlite3_stmt_isexplain(c.tls, pstmt) != 0
	return p
}

// cache holds shadows by catalog version, least recently used first out.
type cache struct {
	seed   maphash.Seed
	mu     sync.Mutex
	shadow *lru.Cache[uint64, *shadow]
}

// maxShadows bounds how many catalog versions keep a shadow.
const maxShadows = 64

func newCache() *cache {
	c := &cache{seed: maphash.MakeSeed()}
	c.shadow, _ = lru.NewWithEvict[uint64, *shadow](maxShadows, func(_ uint64, s *shadow) { s.close() })
	return c
}

// version hashes what a shadow reproduces: schemas, tables, columns,
// declared types, and the default schema.
func (c *cache) version(db *schema.Database) uint64 {
	var h maphash.Hash
	h.SetSeed(c.seed)
	h.WriteString(db.DefaultSchema)
	for _, t := range db.Tables {
		h.WriteByte(0)
		h.WriteString(t.Schema)
		h.WriteByte(1)
		h.WriteString(t.Name)
		for _, col := range t.Columns {
			h.WriteByte(2)
			h.WriteString(col.Name)
			h.WriteByte(3)
			h.WriteString(col.Type)
		}
	}
	return h.Sum64()
}

func (c *cache) get(db *schema.Database) (*shadow, error) {
	v := c.version(db)
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.shadow.Get(v); ok {
		return s, nil
	}
	s, err := newShadow(db)
	if err != nil {
		return nil, err
	}
	c.shadow.Add(v, s)
	return s, nil
}

// op is one instruction of a compiled statement, as EXPLAIN lists it.
type op struct {
	name       string
	p1, p2, p3 int64
}

// program compiles "EXPLAIN sql" and lists its instructions; listing them
// runs nothing of the statement itself.
func (c *conn) program(sql string) ([]op, error) {
	saved := c.trace
	c.trace = nil
	defer func() { c.trace = saved[:0] }()
	rows, err := c.query("EXPLAIN "+sql, 5)
	if err != nil {
		return nil, err
	}
	out := make([]op, 0, len(rows))
	for _, r := range rows {
		out = append(out, op{name: r[1].(string), p1: r[2].(int64), p2: r[3].(int64), p3: r[4].(int64)})
	}
	return out, nil
}

// query runs a statement of the shadow's own and returns the first cols
// columns of its rows, each value an int64 or a string.
func (c *conn) query(sql string, cols int) ([][]any, error) {
	z, err := libc.CString(sql)
	if err != nil {
		return nil, err
	}
	defer libc.Xfree(c.tls, z)
	out := libc.Xmalloc(c.tls, 8)
	if out == 0 {
		return nil, fmt.Errorf("out of memory")
	}
	defer libc.Xfree(c.tls, out)
	if rc := sqlite3.Xsqlite3_prepare_v2(c.tls, c.db, z, int32(len(sql)+1), out, 0); rc != sqlite3.SQLITE_OK {
		return nil, fmt.Errorf("%s", c.errmsg())
	}
	pstmt := readPtr(out)
	if pstmt == 0 {
		return nil, nil
	}
	defer sqlite3.Xsqlite3_finalize(c.tls, pstmt)
	n := min(cols, int(sqlite3.Xsqlite3_column_count(c.tls, pstmt)))
	var rows [][]any
	for {
		switch rc := sqlite3.Xsqlite3_step(c.tls, pstmt); rc {
		case sqlite3.SQLITE_ROW:
			row := make([]any, n)
			for i := range n {
				if sqlite3.Xsqlite3_column_type(c.tls, pstmt, int32(i)) == sqlite3.SQLITE_INTEGER {
					row[i] = sqlite3.Xsqlite3_column_int64(c.tls, pstmt, int32(i))
				} else {
					row[i] = goString(sqlite3.Xsqlite3_column_text(c.tls, pstmt, int32(i)))
				}
			}
			rows = append(rows, row)
		case sqlite3.SQLITE_DONE:
			return rows, nil
		default:
			return nil, fmt.Errorf("%s", c.errmsg())
		}
	}
}

// loadRoots maps each table's root page, per attached database index, to
// its name, so that the tables a program opens can be named.
func (c *conn) loadRoots() error {
	dbs, err := c.query("PRAGMA database_list", 2)
	if err != nil {
		return err
	}
	c.roots = map[[2]int64]rootTable{}
	for _, d := range dbs {
		seq, name := d[0].(int64), d[1].(string)
		if name == "temp" {
			continue
		}
		rows, err := c.query("SELECT name, rootpage FROM "+quoteIdent(name)+".sqlite_schema WHERE type = 'table'", 2)
		if err != nil {
			return err
		}
		for _, r := range rows {
			c.roots[[2]int64{seq, r[1].(int64)}] = rootTable{db: name, name: r[0].(string)}
		}
	}
	return nil
}

// rootTable is a shadow table as a program's OpenRead names it.
type rootTable struct{ db, name string }
