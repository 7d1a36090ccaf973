package generate

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"
	sqlite "modernc.org/sqlite"
)

// sqliteDSN opens a SQLite file read-only, whatever the DSN asks: a path
// (/data/shop.db) or a file: URI (file:/data/shop.db?cache=shared).
func sqliteDSN(dsn string) (string, error) {
	if !strings.HasPrefix(dsn, "file:") {
		dsn = "file:" + dsn
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return "", err
	}
	q := u.Query()
	q.Set("mode", "ro")
	q.Add("_pragma", "query_only(1)")
	u.RawQuery = q.Encode()
	return u.String(), nil
}

type sqliteDryRun struct {
	db      *sql.DB
	timeout time.Duration
}

func newSQLiteDryRun(dsn string, timeout time.Duration) (DryRunner, error) {
	ro, err := sqliteDSN(dsn)
	if err != nil {
		return nil, err
	}
	db, err := sql.Open("sqlite", ro)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(4)
	return &sqliteDryRun{db: db, timeout: timeout}, nil
}

func (d *sqliteDryRun) Close() { d.db.Close() }

// Explain asks SQLite for the statement's query plan (EXPLAIN QUERY
// PLAN), which compiles it against the real schema without running it.
func (d *sqliteDryRun) Explain(ctx context.Context, query string) error {
	ctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	rows, err := d.db.QueryContext(ctx, "EXPLAIN QUERY PLAN "+query)
	if err != nil {
		var se *sqlite.Error
		if errors.As(err, &se) && ctx.Err() == nil && !strings.Contains(se.Error(), "unable to open") {
			return &PlanError{err}
		}
		return err
	}
	for rows.Next() {
	}
	return rows.Close()
}

// duckDSN opens a DuckDB file read-only; MotherDuck (md:) DSNs are passed
// as given, with their own token and access.
func duckDSN(dsn string) string {
	if strings.HasPrefix(dsn, "md:") || strings.Contains(dsn, "access_mode=") {
		return dsn
	}
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	return dsn + sep + "access_mode=READ_ONLY"
}

type duckDryRun struct {
	db      *sql.DB
	timeout time.Duration
}

func newDuckDryRun(dsn string, timeout time.Duration) (DryRunner, error) {
	conn, err := duckdb.NewConnector(duckDSN(dsn), nil)
	if err != nil {
		return nil, err
	}
	db := sql.OpenDB(conn)
	db.SetMaxOpenConns(4)
	return &duckDryRun{db: db, timeout: timeout}, nil
}

func (d *duckDryRun) Close() { d.db.Close() }

// Explain binds and plans the statement with EXPLAIN; DuckDB's parser,
// binder and catalog errors are the statement's fault.
func (d *duckDryRun) Explain(ctx context.Context, query string) error {
	ctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	rows, err := d.db.QueryContext(ctx, "EXPLAIN "+query)
	if err != nil {
		var de *duckdb.Error
		if errors.As(err, &de) {
			switch de.Type {
			case duckdb.ErrorTypeBinder, duckdb.ErrorTypeCatalog, duckdb.ErrorTypeParser,
				duckdb.ErrorTypeConversion, duckdb.ErrorTypeInvalidInput, duckdb.ErrorTypeOutOfRange,
				duckdb.ErrorTypeNotImplemented:
				return &PlanError{err}
			}
		}
		return fmt.Errorf("dry run: %w", err)
	}
	for rows.Next() {
	}
	return rows.Close()
}
