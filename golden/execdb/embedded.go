package execdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"
	_ "modernc.org/sqlite" // the SQLite driver

	"github.com/texttosql/text2sql/benchdata"
	"github.com/texttosql/text2sql/schema"
)

// Embedded engines run in process on files: SQLite and DuckDB.
const (
	EngineSQLite = "sqlite"
	EngineDuckDB = "duckdb"
)

// EmbeddedLoader writes SpiderMan's Spider dev databases (their MySQL
// schema.sql read into tables and columns, and their data/*.csv rows) into
// one SQLite or DuckDB file per database under Out, named <db>.sqlite or
// <db>.duckdb. Column types map to the engine's plain types (integers,
// reals, text); dates stay text, as Spider's SQLite originals keep them.
// A CSV field NULL is SQL NULL, as in the MariaDB loader.
type EmbeddedLoader struct {
	Engine string // EngineSQLite or EngineDuckDB
	Dir    string // the benchmark directory (holding spiderman_mysql/)
	Out    string // where the database files go
	Only   []string
}

// File is the database file of db under dir.
func File(engine, dir, db string) string { return filepath.Join(dir, db+"."+engine) }

// Load writes every database with data and reports what it loaded.
func (l EmbeddedLoader) Load(ctx context.Context) ([]LoadReport, error) {
	sm := SpiderManLoader{Dir: l.Dir, Only: l.Only}
	dbs, err := sm.Databases()
	if err != nil {
		return nil, err
	}
	var out []LoadReport
	for _, name := range dbs {
		r, err := l.loadOne(ctx, sm, name)
		if err != nil {
			return out, fmt.Errorf("%s %s: %w", l.Engine, name, err)
		}
		out = append(out, r)
	}
	return out, nil
}

func (l EmbeddedLoader) loadOne(ctx context.Context, sm SpiderManLoader, name string) (LoadReport, error) {
	start := time.Now()
	r := LoadReport{Database: name, Source: name, Loaded: true, Reason: "written"}
	dir := filepath.Join(sm.root(), name)
	ddl, err := os.ReadFile(filepath.Join(dir, "schema.sql"))
	if err != nil {
		return r, err
	}
	db, err := benchdata.MySQLDatabase(name, name, string(ddl))
	if err != nil {
		return r, err
	}
	path := File(l.Engine, l.Out, name)
	os.Remove(path)
	conn, err := sql.Open(l.Engine, path)
	if err != nil {
		return r, err
	}
	defer conn.Close()
	conn.SetMaxOpenConns(1)
	for _, t := range db.Tables {
		var cols []string
		for _, c := range t.Columns {
			cols = append(cols, quote(c.Name)+" "+l.typeOf(c.Type))
		}
		if _, err := conn.ExecContext(ctx, "CREATE TABLE "+quote(t.Name)+" ("+strings.Join(cols, ", ")+")"); err != nil {
			return r, err
		}
		file := filepath.Join(dir, "data", t.Name+".csv")
		n, err := insertRows(ctx, conn, t, file)
		if errors.Is(err, os.ErrNotExist) {
			r.Empty = append(r.Empty, t.Name)
			continue
		}
		if err != nil {
			return r, err
		}
		r.Tables++
		r.Rows += n
	}
	r.Elapsed = time.Since(start)
	return r, nil
}

// typeOf maps a MySQL column type to the engine's.
func (l EmbeddedLoader) typeOf(mysqlType string) string {
	t := strings.ToLower(mysqlType)
	switch {
	case strings.Contains(t, "int") || strings.HasPrefix(t, "bit") || strings.HasPrefix(t, "bool"):
		if l.Engine == EngineDuckDB {
			return "BIGINT"
		}
		return "INTEGER"
	case strings.HasPrefix(t, "dec") || strings.HasPrefix(t, "num") || strings.HasPrefix(t, "float") ||
		strings.HasPrefix(t, "double") || strings.HasPrefix(t, "real"):
		if l.Engine == EngineDuckDB {
			return "DOUBLE"
		}
		return "REAL"
	}
	if l.Engine == EngineDuckDB {
		return "VARCHAR"
	}
	return "TEXT"
}

func quote(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// insertRows inserts a CSV file's rows (header: column names) in one
// transaction.
func insertRows(ctx context.Context, conn *sql.DB, t *schema.Table, file string) (int64, error) {
	if _, err := os.Stat(file); err != nil {
		return 0, err
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	var ins *sql.Stmt
	var n int64
	err = eachCSVRow(file, func(header []string) error {
		cols := make([]string, len(header))
		for i, h := range header {
			cols[i] = quote(h)
		}
		ins, err = tx.PrepareContext(ctx, "INSERT INTO "+quote(t.Name)+" ("+strings.Join(cols, ", ")+") VALUES ("+
			strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ")+")")
		return err
	}, func(row []any) error {
		if _, err := ins.ExecContext(ctx, row...); err != nil {
			return fmt.Errorf("%s row %d: %w", file, n+1, err)
		}
		n++
		return nil
	})
	if ins != nil {
		defer ins.Close()
	}
	if err != nil {
		return 0, err
	}
	return n, tx.Commit()
}

// Embedded runs statements on the files EmbeddedLoader wrote, each file
// opened read-only (SQLite: mode=ro and query_only; DuckDB:
// access_mode=READ_ONLY, one thread).
type Embedded struct {
	Engine string
	Dir    string
	mu     sync.Mutex
	dbs    map[string]*sql.DB
}

// Close closes every open file.
func (e *Embedded) Close() {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, db := range e.dbs {
		db.Close()
	}
	e.dbs = nil
}

func (e *Embedded) db(database string) (*sql.DB, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if db, ok := e.dbs[database]; ok {
		return db, nil
	}
	path := File(e.Engine, e.Dir, database)
	if _, err := os.Stat(path); err != nil {
		return nil, err
	}
	var db *sql.DB
	var err error
	switch e.Engine {
	case EngineSQLite:
		db, err = sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=query_only(1)")
	case EngineDuckDB:
		var c *duckdb.Connector
		// One thread: rows tied under an ORDER BY ... LIMIT then come out
		// the same on every run, as in SQLite.
		if c, err = duckdb.NewConnector(path+"?access_mode=READ_ONLY&threads=1", nil); err == nil {
			db = sql.OpenDB(c)
		}
	default:
		err = fmt.Errorf("unknown engine %q", e.Engine)
	}
	if err != nil {
		return nil, err
	}
	if e.dbs == nil {
		e.dbs = map[string]*sql.DB{}
	}
	e.dbs[database] = db
	return db, nil
}

// Run executes one statement with a timeout (the engine is interrupted
// when it passes) and returns its normalized result.
func (e *Embedded) Run(ctx context.Context, database, query string, timeout time.Duration) (*Result, error) {
	fail := func(err error) (*Result, error) {
		return nil, &QueryError{Engine: e.Engine, Database: database, Timeout: errors.Is(err, context.DeadlineExceeded), Err: err}
	}
	db, err := e.db(database)
	if err != nil {
		return fail(err)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	rows, err := db.QueryContext(ctx, query)
	if err != nil {
		return fail(err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return fail(err)
	}
	types, _ := rows.ColumnTypes()
	res := &Result{Columns: cols}
	for _, t := range types {
		res.Types = append(res.Types, t.DatabaseTypeName())
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if len(res.Rows) >= DefaultMaxRows {
			return fail(ErrTooManyRows)
		}
		if err := rows.Scan(ptrs...); err != nil {
			return fail(err)
		}
		row := make([]Value, len(cols))
		for i, v := range vals {
			row[i] = embeddedValue(v)
		}
		res.Rows = append(res.Rows, row)
	}
	if err := rows.Err(); err != nil {
		return fail(err)
	}
	return res, nil
}

func embeddedValue(v any) Value {
	switch x := v.(type) {
	case nil:
		return NullValue
	case int64:
		return Int(x)
	case int32:
		return Int(int64(x))
	case int16:
		return Int(int64(x))
	case int8:
		return Int(int64(x))
	case uint64:
		return Uint(x)
	case uint32:
		return Uint(uint64(x))
	case float64:
		return Float(x, 64)
	case float32:
		return Float(float64(x), 32)
	case bool:
		return Bool(x)
	case string:
		return TextValue(x)
	case []byte:
		return TextValue(string(x))
	case time.Time:
		return DateTimeValue(x, false)
	case *big.Int:
		return Value{Kind: Number, S: x.String()}
	case duckdb.Decimal:
		if d, err := Decimal(x.String()); err == nil {
			return d
		}
	}
	return OtherValue(fmt.Sprintf("%T", v), fmt.Sprint(v))
}
