package generate

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/texttosql/text2sql/schema"
)

// DryRunner asks the warehouse to plan a validated statement without running
// it, so errors the parser cannot see (a wrong type, a missing function
// overload) are fed back to the model.
type DryRunner interface {
	Explain(ctx context.Context, sql string) error
	Close()
}

type dryRunTarget struct {
	dsn     string
	timeout time.Duration
	maxCost float64
}

// dryRuns connects to each configured warehouse on first use, so a
// warehouse that is down at start does not stop the service.
type dryRuns struct {
	mu      sync.Mutex
	targets map[string]dryRunTarget // by database name
	runners map[string]DryRunner
}

// runner returns db's dry runner, nil when none is configured.
func (d *dryRuns) runner(ctx context.Context, db *schema.Database) (DryRunner, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if r, ok := d.runners[db.Name]; ok {
		return r, nil
	}
	t, ok := d.targets[db.Name]
	if !ok {
		return nil, nil
	}
	r, err := NewDryRunner(ctx, db, t.dsn, t.timeout, t.maxCost)
	if err != nil {
		return nil, err
	}
	d.runners[db.Name] = r
	return r, nil
}

func (d *dryRuns) close() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, r := range d.runners {
		r.Close()
	}
}

// PlanError is the warehouse refusing to plan a statement: feedback for
// the model, not a failure of the service.
type PlanError struct{ Err error }

func (e *PlanError) Error() string { return e.Err.Error() }
func (e *PlanError) Unwrap() error { return e.Err }

// NewDryRunner connects to a warehouse for db's dialect. dsn is a
// PostgreSQL URL, a MySQL driver DSN (user:pass@tcp(host:port)/db), a
// SQLite file path or file: URI (opened read-only), or a DuckDB file path
// (opened read-only) or MotherDuck md: DSN. maxCost > 0 refuses plans
// estimated above it: PostgreSQL's total cost, MySQL's query_cost,
// MariaDB's cost (11.0 and later) or, where MariaDB reports no cost
// (10.x), the rows its plan expects to examine. SQLite and DuckDB plans
// carry no cost and are not limited.
func NewDryRunner(ctx context.Context, db *schema.Database, dsn string, timeout time.Duration, maxCost float64) (DryRunner, error) {
	r, err := newDryRunner(ctx, db, dsn, timeout, maxCost)
	if err != nil {
		return nil, fmt.Errorf("dry run for %s: %w", db.Name, err)
	}
	return r, nil
}

func newDryRunner(ctx context.Context, db *schema.Database, dsn string, timeout time.Duration, maxCost float64) (DryRunner, error) {
	switch db.Dialect() {
	case schema.DialectPostgres:
		cfg, err := pgxpool.ParseConfig(dsn)
		if err != nil {
			return nil, err
		}
		cfg.MaxConns = 4
		pool, err := pgxpool.NewWithConfig(ctx, cfg)
		if err != nil {
			return nil, err
		}
		return &pgDryRun{pool: pool, timeout: timeout, maxCost: maxCost}, nil
	case schema.DialectMySQL:
		cfg, err := mysql.ParseDSN(dsn)
		if err != nil {
			return nil, err
		}
		cfg.Timeout, cfg.ReadTimeout = timeout, timeout
		conn, err := mysql.NewConnector(cfg)
		if err != nil {
			return nil, err
		}
		pool := sql.OpenDB(conn)
		pool.SetMaxOpenConns(4)
		return &mysqlDryRun{db: pool, timeout: timeout, maxCost: maxCost}, nil
	case schema.DialectSQLite:
		return newSQLiteDryRun(dsn, timeout)
	case schema.DialectDuckDB:
		return newDuckDryRun(dsn, timeout)
	}
	return nil, fmt.Errorf("backend %q has no dry run", db.Backend)
}

type pgDryRun struct {
	pool    *pgxpool.Pool
	timeout time.Duration
	maxCost float64
}

func (d *pgDryRun) Close() { d.pool.Close() }

// Explain plans sql in a read-only transaction with a statement timeout;
// the transaction is always rolled back.
func (d *pgDryRun) Explain(ctx context.Context, query string) error {
	ctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	tx, err := d.pool.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly})
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, fmt.Sprintf("SET LOCAL statement_timeout = %d", d.timeout.Milliseconds())); err != nil {
		return err
	}
	var plan []byte
	if err := tx.QueryRow(ctx, "EXPLAIN (FORMAT JSON) "+query).Scan(&plan); err != nil {
		if isPgQueryError(err) {
			return &PlanError{err}
		}
		return err
	}
	var doc []struct {
		Plan struct {
			TotalCost float64 `json:"Total Cost"`
		} `json:"Plan"`
	}
	if err := json.Unmarshal(plan, &doc); err != nil || len(doc) == 0 {
		return fmt.Errorf("unreadable plan: %v", err)
	}
	if d.maxCost > 0 && doc[0].Plan.TotalCost > d.maxCost {
		return &PlanError{fmt.Errorf("the estimated cost %.0f exceeds the ceiling %.0f; filter or aggregate more", doc[0].Plan.TotalCost, d.maxCost)}
	}
	return nil
}

// isPgQueryError tells a server error about the statement from a
// connection or timeout failure.
func isPgQueryError(err error) bool {
	var pe interface{ SQLState() string }
	if !errors.As(err, &pe) {
		return false
	}
	// Class 57 is operator intervention (statement timeout, shutdown) and
	// 08 connection trouble: the warehouse's state, not the statement's.
	code := pe.SQLState()
	return len(code) == 5 && code[:2] != "57" && code[:2] != "08" && code[:2] != "53"
}

type mysqlDryRun struct {
	db      *sql.DB
	timeout time.Duration
	maxCost float64
}

func (d *mysqlDryRun) Close() { d.db.Close() }

func (d *mysqlDryRun) Explain(ctx context.Context, query string) error {
	ctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	tx, err := d.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var plan string
	if err := tx.QueryRowContext(ctx, "EXPLAIN FORMAT=JSON "+query).Scan(&plan); err != nil {
		var me *mysql.MySQLError
		if errors.As(err, &me) {
			return &PlanError{err}
		}
		return err
	}
	if d.maxCost <= 0 {
		return nil
	}
	var doc any
	if err := json.Unmarshal([]byte(plan), &doc); err != nil {
		return fmt.Errorf("unreadable plan: %v", err)
	}
	cost, what := mysqlCost(doc)
	if cost > d.maxCost {
		return &PlanError{fmt.Errorf("the estimated %s %.0f exceeds the ceiling %.0f; filter or aggregate more", what, cost, d.maxCost)}
	}
	return nil
}

// mysqlCost reads the estimate of an EXPLAIN FORMAT=JSON plan: MySQL's
// query_block.cost_info.query_cost or MariaDB 11's query_block.cost;
// MariaDB 10.x reports no cost, so there it is the largest product of the
// rows expected from the tables of one nested loop.
func mysqlCost(doc any) (float64, string) {
	block, _ := field(doc, "query_block").(map[string]any)
	if c, ok := number(field(field(block, "cost_info"), "query_cost")); ok {
		return c, "cost"
	}
	if c, ok := number(field(block, "cost")); ok {
		return c, "cost"
	}
	return examined(doc), "rows examined"
}

func field(v any, key string) any {
	m, _ := v.(map[string]any)
	return m[key]
}

// number reads a JSON number or a number written as a string (MySQL
// quotes its costs).
func number(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case string:
		f, err := strconv.ParseFloat(x, 64)
		return f, err == nil
	}
	return 0, false
}

// examined walks a MariaDB plan: a nested loop multiplies the rows of its
// tables, and the largest product anywhere (subqueries included) stands
// for the statement.
func examined(v any) float64 {
	best := 0.0
	switch x := v.(type) {
	case map[string]any:
		if loop, ok := x["nested_loop"].([]any); ok {
			product := 1.0
			for _, step := range loop {
				product *= max(1, tableRows(step))
			}
			best = product
		} else if t, ok := x["table"]; ok {
			best = tableRows(map[string]any{"table": t})
		}
		for _, c := range x {
			best = max(best, examined(c))
		}
	case []any:
		for _, c := range x {
			best = max(best, examined(c))
		}
	}
	return best
}

// tableRows is the rows estimate of one step of a nested loop: a table,
// or a table joined through a join buffer.
func tableRows(step any) float64 {
	for _, wrap := range []string{"", "block-nl-join", "bka-join"} {
		t := step
		if wrap != "" {
			t = field(step, wrap)
		}
		if r, ok := number(field(field(t, "table"), "rows")); ok {
			return r
		}
	}
	return 0
}
