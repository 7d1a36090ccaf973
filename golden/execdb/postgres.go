package execdb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/texttosql/text2sql/schema"
)

// DefaultPostgresURL is the local PostgreSQL server the tests use.
const DefaultPostgresURL = "postgres://postgres@127.0.0.1:5432/postgres"

// DefaultTimeout is the statement timeout of a Run given none, as in Defog
// sql-eval's query_postgres_db.
const DefaultTimeout = 10 * time.Second

// Postgres runs read-only queries against the databases of one PostgreSQL
// server, keeping a small connection pool per database.
type Postgres struct {
	// MaxRows caps the rows of a result (DefaultMaxRows when zero).
	MaxRows int
	// Role, when set, is the role each query runs as (SET LOCAL ROLE), so
	// that a query reaching a superuser connection still cannot call
	// superuser-only functions. pg_read_all_data (PostgreSQL 14+) reads
	// every table and nothing more. For SQL from an untrusted source,
	// connect as a role without superuser instead: a superuser session can
	// switch its role back.
	Role string

	base  *pgxpool.Config
	mu    sync.Mutex
	pools map[string]*pgxpool.Pool
}

// NewPostgres returns an executor for the server of connString (a
// PostgreSQL URL or keyword/value string; its database is replaced by the
// one each Run names). It does not connect until the first Run.
func NewPostgres(connString string) (*Postgres, error) {
	cfg, err := pgxpool.ParseConfig(connString)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	cfg.MaxConns = 4
	cfg.MaxConnIdleTime = time.Minute
	// One unnamed prepared statement per query: the extended protocol
	// refuses a string holding several statements, and benchmark queries
	// are not worth caching per connection.
	cfg.ConnConfig.DefaultQueryExecMode = pgx.QueryExecModeExec
	if cfg.ConnConfig.RuntimeParams == nil {
		cfg.ConnConfig.RuntimeParams = map[string]string{}
	}
	cfg.ConnConfig.RuntimeParams["application_name"] = "text2sql-execdb"
	cfg.ConnConfig.RuntimeParams["TimeZone"] = "UTC"
	// When the caller's context ends first, ask the server to cancel the
	// statement (instead of only dropping the socket, which leaves it
	// running), and close the connection if the server does not answer.
	cfg.ConnConfig.BuildContextWatcherHandler = func(c *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.CancelRequestContextWatcherHandler{Conn: c, DeadlineDelay: timeoutGrace}
	}
	return &Postgres{base: cfg, pools: map[string]*pgxpool.Pool{}}, nil
}

func (p *Postgres) pool(database string) (*pgxpool.Pool, error) {
	if database == "" {
		return nil, errors.New("postgres: no database named")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if pl, ok := p.pools[database]; ok {
		return pl, nil
	}
	cfg := p.base.Copy()
	cfg.ConnConfig.Database = database
	pl, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres %s: %w", database, err)
	}
	p.pools[database] = pl
	return pl, nil
}

// Close closes every pool.
func (p *Postgres) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for name, pl := range p.pools {
		pl.Close()
		delete(p.pools, name)
	}
}

// Run executes one statement in database inside BEGIN READ ONLY with SET
// LOCAL statement_timeout, reads the whole result and rolls back. A string
// holding more than one statement is refused by the server (extended
// protocol), and anything but a plain SELECT is refused before it is sent
// (ErrNotQuery). A timeout of zero means DefaultTimeout.
func (p *Postgres) Run(ctx context.Context, database, sql string, timeout time.Duration) (*Result, error) {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	qerr := func(err error) error { return pgQueryError(database, err) }
	if _, err := inspect(schema.DialectPostgres, sql); err != nil {
		return nil, qerr(err)
	}
	pl, err := p.pool(database)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout+timeoutGrace)
	defer cancel()
	tx, err := pl.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly})
	if isSessionEnded(err) {
		// An idle pooled connection whose session the server ended (the
		// database was reloaded, DROP DATABASE ... WITH (FORCE)) fails on
		// first use, before the statement is sent: take a fresh one.
		tx, err = pl.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly})
	}
	if err != nil {
		return nil, qerr(err)
	}
	defer func() {
		// Rolled back even when the caller's context is done, so the
		// connection goes back to the pool clean (or is dropped if broken).
		rctx, rcancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer rcancel()
		_ = tx.Rollback(rctx)
	}()
	ms := timeout.Milliseconds()
	if ms < 1 {
		ms = 1
	}
	if _, err := tx.Exec(ctx, fmt.Sprintf("SET LOCAL statement_timeout = %d", ms)); err != nil {
		return nil, qerr(err)
	}
	if p.Role != "" {
		if _, err := tx.Exec(ctx, "SET LOCAL ROLE "+pgx.Identifier{p.Role}.Sanitize()); err != nil {
			return nil, qerr(err)
		}
	}
	rows, err := tx.Query(ctx, sql)
	if err != nil {
		return nil, qerr(err)
	}
	defer rows.Close()
	fds := rows.FieldDescriptions()
	tm := tx.Conn().TypeMap()
	res := &Result{Columns: make([]string, len(fds)), Types: make([]string, len(fds))}
	for i, fd := range fds {
		res.Columns[i] = fd.Name
		res.Types[i] = pgTypeName(tm, fd.DataTypeOID)
	}
	maxRows := p.MaxRows
	if maxRows <= 0 {
		maxRows = DefaultMaxRows
	}
	for rows.Next() {
		if len(res.Rows) >= maxRows {
			return nil, qerr(fmt.Errorf("%w (%d)", ErrTooManyRows, maxRows))
		}
		vals, err := rows.Values()
		if err != nil {
			return nil, qerr(err)
		}
		row := make([]Value, len(vals))
		for i, v := range vals {
			row[i], err = pgValue(fds[i].DataTypeOID, res.Types[i], v)
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

// isSessionEnded reports the server's "terminating connection due to
// administrator command" (57P01).
func isSessionEnded(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "57P01"
}

func pgQueryError(database string, err error) error {
	qe := &QueryError{Engine: "postgresql", Database: database, Err: err}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		qe.Code = pe.Code
		qe.Timeout = pe.Code == "57014" // query_canceled: statement_timeout
	}
	if errors.Is(err, context.DeadlineExceeded) {
		qe.Timeout = true
	}
	return qe
}

func pgTypeName(tm *pgtype.Map, oid uint32) string {
	if t, ok := tm.TypeForOID(oid); ok {
		return t.Name
	}
	return fmt.Sprintf("oid%d", oid)
}

// pgValue normalizes one value decoded by pgx (rows.Values) according to its
// column type.
func pgValue(oid uint32, typ string, v any) (Value, error) {
	if v == nil {
		return NullValue, nil
	}
	switch oid {
	case pgtype.JSONOID, pgtype.JSONBOID:
		b, err := json.Marshal(v) // map keys sorted: one spelling per document
		if err != nil {
			return Value{}, err
		}
		return OtherValue("json", string(b)), nil
	case pgtype.DateOID:
		if t, ok := v.(time.Time); ok {
			return DateValue(t), nil
		}
	case pgtype.TimestampOID:
		if t, ok := v.(time.Time); ok {
			return DateTimeValue(t, false), nil
		}
	case pgtype.TimestamptzOID:
		if t, ok := v.(time.Time); ok {
			return DateTimeValue(t, true), nil
		}
	}
	switch x := v.(type) {
	case bool:
		return Bool(x), nil
	case int16:
		return Int(int64(x)), nil
	case int32:
		return Int(int64(x)), nil
	case int64:
		return Int(x), nil
	case uint32:
		return Uint(uint64(x)), nil
	case float32:
		return Float(float64(x), 32), nil
	case float64:
		return Float(x, 64), nil
	case string:
		return TextValue(x), nil
	case []byte:
		return BytesValue(x), nil
	case pgtype.Numeric:
		return numericValue(x)
	case pgtype.Time:
		return TimeOfDayValue(x.Microseconds), nil
	case pgtype.Interval:
		return DurationValue(int64(x.Months), int64(x.Days), x.Microseconds), nil
	case pgtype.Date:
		return OtherValue(typ, infinityText(x.InfinityModifier)), nil
	case pgtype.Timestamp:
		return OtherValue(typ, infinityText(x.InfinityModifier)), nil
	case pgtype.Timestamptz:
		return OtherValue(typ, infinityText(x.InfinityModifier)), nil
	case [16]byte:
		return OtherValue(typ, fmt.Sprintf("%x-%x-%x-%x-%x", x[0:4], x[4:6], x[6:8], x[8:10], x[10:16])), nil
	case netip.Prefix:
		return OtherValue(typ, x.String()), nil
	case time.Time:
		return DateTimeValue(x, true), nil
	}
	return OtherValue(typ, fmt.Sprint(v)), nil
}

func infinityText(m pgtype.InfinityModifier) string {
	switch m {
	case pgtype.Infinity:
		return "infinity"
	case pgtype.NegativeInfinity:
		return "-infinity"
	}
	return "finite"
}

// numericValue writes a NUMERIC as plain decimal text (digits, point).
func numericValue(n pgtype.Numeric) (Value, error) {
	switch {
	case !n.Valid, n.NaN:
		return NullValue, nil
	case n.InfinityModifier == pgtype.Infinity:
		return Value{Kind: Number, S: "+Inf"}, nil
	case n.InfinityModifier == pgtype.NegativeInfinity:
		return Value{Kind: Number, S: "-Inf"}, nil
	case n.Int == nil:
		return Value{}, errors.New("numeric without digits")
	}
	return Value{Kind: Number, S: decimalText(n.Int, n.Exp)}, nil
}

// decimalText writes i × 10^exp without exponent.
func decimalText(i *big.Int, exp int32) string {
	neg := i.Sign() < 0
	digits := new(big.Int).Abs(i).String()
	switch {
	case exp > 0:
		digits += strings.Repeat("0", int(exp))
	case exp < 0:
		frac := int(-exp)
		if len(digits) <= frac {
			digits = strings.Repeat("0", frac-len(digits)+1) + digits
		}
		digits = digits[:len(digits)-frac] + "." + digits[len(digits)-frac:]
	}
	if neg {
		return "-" + digits
	}
	return digits
}
