package execdb

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Result is the result set of one query: column names as the server
// reported them, the server's type name of each column, and the rows of
// normalized values (every row as long as Columns).
type Result struct {
	Columns []string
	Types   []string
	Rows    [][]Value
}

// String renders the result as a small table, for test failure messages.
func (r *Result) String() string {
	if r == nil {
		return "<nil result>"
	}
	var b strings.Builder
	b.WriteString(strings.Join(r.Columns, " | "))
	for i, row := range r.Rows {
		if i == 20 {
			fmt.Fprintf(&b, "\n… %d more rows", len(r.Rows)-i)
			break
		}
		b.WriteByte('\n')
		for j, v := range row {
			if j > 0 {
				b.WriteString(" | ")
			}
			b.WriteString(v.String())
		}
	}
	return b.String()
}

// ErrTooManyRows is returned when a result has more rows than the
// executor's MaxRows.
var ErrTooManyRows = errors.New("result has more rows than allowed")

// QueryError is a failed Run: the server's error (SQLSTATE for PostgreSQL,
// error number for MariaDB) or a client-side failure, with Timeout set when
// the statement timeout or the caller's deadline stopped it.
type QueryError struct {
	Engine   string // "postgresql" or "mariadb"
	Database string
	Code     string // SQLSTATE or MariaDB error number; empty for client errors
	Timeout  bool
	Err      error
}

func (e *QueryError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: ", e.Engine, e.Database)
	if e.Timeout {
		b.WriteString("timeout: ")
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *QueryError) Unwrap() error { return e.Err }

// DefaultMaxRows is the row limit of an executor whose MaxRows is zero.
const DefaultMaxRows = 1_000_000

// timeoutGrace is how much longer than the server-side statement timeout the
// client waits before giving up on the connection, so that a slow query is
// normally stopped by the server (leaving the connection usable) rather than
// by the client closing it.
const timeoutGrace = 2 * time.Second
