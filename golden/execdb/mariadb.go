package execdb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/texttosql/text2sql/schema"
)

// DefaultMariaDBDSN is the local MariaDB server the tests use
// (go-sql-driver/mysql DSN; the database is replaced per Run).
const DefaultMariaDBDSN = "root@tcp(127.0.0.1:3306)/"

// MariaDB runs read-only queries against the databases of one MariaDB (or
// MySQL-wire) server, keeping a small connection pool per database.
type MariaDB struct {
	// MaxRows caps the rows of a result (DefaultMaxRows when zero).
	MaxRows int

	base *mysql.Config
	mu   sync.Mutex
	dbs  map[string]*sql.DB
}

// NewMariaDB returns an executor for the server of dsn. It does not connect
// until the first Run.
func NewMariaDB(dsn string) (*MariaDB, error) {
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return nil, fmt.Errorf("mariadb: %w", err)
	}
	// One statement per query: without multiStatements the server rejects
	// "SELECT 1; DELETE …" as a syntax error.
	cfg.MultiStatements = false
	cfg.InterpolateParams = false
	cfg.ParseTime = false // dates are read from their text (zero dates survive)
	cfg.Loc = time.UTC
	if cfg.Params == nil {
		cfg.Params = map[string]string{}
	}
	cfg.Params["time_zone"] = "'+00:00'"
	return &MariaDB{base: cfg, dbs: map[string]*sql.DB{}}, nil
}

func (m *MariaDB) db(database string) (*sql.DB, error) {
	if database == "" {
		return nil, errors.New("mariadb: no database named")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if db, ok := m.dbs[database]; ok {
		return db, nil
	}
	cfg := m.base.Clone()
	cfg.DBName = database
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, fmt.Errorf("mariadb %s: %w", database, err)
	}
	db := sql.OpenDB(conn)
	db.SetMaxOpenConns(4)
	db.SetMaxIdleConns(4)
	db.SetConnMaxIdleTime(time.Minute)
	m.dbs[database] = db
	return db, nil
}

// Close closes every pool.
func (m *MariaDB) Close() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for name, db := range m.dbs {
		_ = db.Close()
		delete(m.dbs, name)
	}
}

// Run executes one statement in database inside START TRANSACTION READ
// ONLY, with the session's max_statement_time (MariaDB's server-side
// limit, in seconds) set to timeout, reads the whole result and rolls back.
// Anything but a plain SELECT (as the TiDB parser reads it) is refused
// before it is sent (ErrNotQuery). A timeout of zero means DefaultTimeout.
func (m *MariaDB) Run(ctx context.Context, database, query string, timeout time.Duration) (*Result, error) {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	qerr := func(err error) error { return myQueryError(database, err) }
	if _, err := inspect(schema.DialectMySQL, query); err != nil {
		return nil, qerr(err)
	}
	db, err := m.db(database)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout+timeoutGrace)
	defer cancel()
	// A dedicated connection, so the session variable set here is the one
	// the query runs under.
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, qerr(err)
	}
	defer conn.Close()
	secs := strconv.FormatFloat(timeout.Seconds(), 'f', 3, 64)
	if secs == "0.000" {
		secs = "0.001" // 0 would mean no limit
	}
	// The session default too, not only the transaction, is READ ONLY:
	// MariaDB commits implicitly before DDL, and the statement would then
	// run outside the read-only transaction.
	for _, s := range []string{"SET SESSION max_statement_time = " + secs, "SET SESSION TRANSACTION READ ONLY"} {
		if _, err := conn.ExecContext(ctx, s); err != nil {
			return nil, qerr(err)
		}
	}
	var id int64
	if err := conn.QueryRowContext(ctx, "SELECT CONNECTION_ID()").Scan(&id); err != nil {
		return nil, qerr(err)
	}
	// A session a KILL QUERY was sent to never goes back to the pool: the
	// kill can land after this statement ended, on the next query that
	// reuses the connection.
	killed := false
	defer func() {
		if killed {
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		}
	}()
	tx, err := conn.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, qerr(err)
	}
	defer func() { _ = tx.Rollback() }()
	// When the caller's context ends before the server's own limit, the
	// driver only drops the connection and the statement would run on:
	// kill it from another connection.
	done := make(chan struct{})
	kill := make(chan bool, 1)
	defer func() {
		close(done)
		killed = <-kill
	}()
	go func() {
		select {
		case <-done:
			kill <- false
		case <-ctx.Done():
			kctx, kcancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer kcancel()
			_, _ = db.ExecContext(kctx, "KILL QUERY "+strconv.FormatInt(id, 10))
			kill <- true
		}
	}()
	rows, err := tx.QueryContext(ctx, query)
	if err != nil {
		return nil, qerr(err)
	}
	defer rows.Close()
	cts, err := rows.ColumnTypes()
	if err != nil {
		return nil, qerr(err)
	}
	res := &Result{Columns: make([]string, len(cts)), Types: make([]string, len(cts))}
	for i, ct := range cts {
		res.Columns[i] = ct.Name()
		res.Types[i] = ct.DatabaseTypeName()
	}
	maxRows := m.MaxRows
	if maxRows <= 0 {
		maxRows = DefaultMaxRows
	}
	raw := make([]any, len(cts))
	ptrs := make([]any, len(cts))
	for i := range raw {
		ptrs[i] = &raw[i]
	}
	for rows.Next() {
		if len(res.Rows) >= maxRows {
			return nil, qerr(fmt.Errorf("%w (%d)", ErrTooManyRows, maxRows))
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, qerr(err)
		}
		row := make([]Value, len(raw))
		for i, v := range raw {
			row[i], err = myValue(res.Types[i], v)
			if err != nil {
				return nil, qerr(fmt.Errorf("column %d (%s): %w", i+1, res.Columns[i], err))
			}
		}
		res.Rows = append(res.Rows, row)
	}
	if err := rows.Err(); err != nil {
		return nil, qerr(err)
	}
	return res, nil
}

func myQueryError(database string, err error) error {
	qe := &QueryError{Engine: "mariadb", Database: database, Err: err}
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		qe.Code = strconv.Itoa(int(me.Number))
		// 1969: max_statement_time exceeded (MariaDB); 3024: MySQL's
		// max_execution_time.
		qe.Timeout = me.Number == 1969 || me.Number == 3024
	}
	if errors.Is(err, context.DeadlineExceeded) {
		qe.Timeout = true
	}
	return qe
}

// myValue normalizes one value read over MariaDB's text protocol (the driver
// turns integers and floats into Go numbers; everything else arrives as
// bytes) according to the column's type name.
func myValue(typ string, v any) (Value, error) {
	switch x := v.(type) {
	case nil:
		return NullValue, nil
	case int64:
		return Int(x), nil
	case uint64:
		return Uint(x), nil
	case float32:
		return Float(float64(x), 32), nil
	case float64:
		return Float(x, 64), nil
	case time.Time:
		return DateTimeValue(x, false), nil
	case string:
		return myText(typ, []byte(x))
	case []byte:
		return myText(typ, x)
	}
	return OtherValue(typ, fmt.Sprint(v)), nil
}

func myText(typ string, b []byte) (Value, error) {
	s := string(b)
	base := strings.TrimPrefix(typ, "UNSIGNED ")
	switch base {
	case "DECIMAL", "TINYINT", "SMALLINT", "MEDIUMINT", "INT", "BIGINT", "YEAR", "FLOAT", "DOUBLE":
		return Decimal(s)
	case "BIT":
		var u uint64
		for _, c := range b {
			u = u<<8 | uint64(c)
		}
		return Uint(u), nil
	case "DATE":
		t, err := time.Parse("2006-01-02", s)
		if err != nil {
			return OtherValue("date", s), nil // zero or partial dates
		}
		return DateValue(t), nil
	case "DATETIME", "TIMESTAMP":
		t, err := time.Parse("2006-01-02 15:04:05.999999", s)
		if err != nil {
			return OtherValue("datetime", s), nil
		}
		return DateTimeValue(t, false), nil
	case "TIME":
		return myTime(s), nil
	case "BLOB", "TINYBLOB", "MEDIUMBLOB", "LONGBLOB", "BINARY", "VARBINARY", "GEOMETRY":
		return BytesValue(b), nil
	}
	return TextValue(s), nil
}

// myTime reads a TIME value: a time of day when it is one, else (negative
// or beyond 24 hours, MySQL TIME being a duration) a duration.
func myTime(s string) Value {
	neg := strings.HasPrefix(s, "-")
	hms, frac, _ := strings.Cut(strings.TrimPrefix(s, "-"), ".")
	parts := strings.Split(hms, ":")
	if len(parts) != 3 {
		return OtherValue("time", s)
	}
	var n [3]int64
	for i, p := range parts {
		v, err := strconv.ParseInt(p, 10, 64)
		if err != nil {
			return OtherValue("time", s)
		}
		n[i] = v
	}
	us := ((n[0]*60+n[1])*60 + n[2]) * 1e6
	if frac != "" {
		f, err := strconv.ParseInt((frac + "000000")[:6], 10, 64)
		if err != nil {
			return OtherValue("time", s)
		}
		us += f
	}
	if neg {
		return DurationValue(0, 0, -us)
	}
	if n[0] >= 24 {
		return DurationValue(0, 0, us)
	}
	return TimeOfDayValue(us)
}
