package mysql

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/texttosql/text2sql/internal/needs"
)

// mariaDBDSN is the local MariaDB server of the test machine.
const mariaDBDSN = "root@tcp(127.0.0.1:3306)/"

// requireMariaDB opens one connection to the local MariaDB; without a
// server the test fails under CI=true and is skipped otherwise.
func requireMariaDB(t *testing.T) *sql.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	db, err := sql.Open("mysql", mariaDBDSN)
	var conn *sql.Conn
	if err == nil {
		conn, err = db.Conn(ctx)
	}
	if err == nil {
		err = conn.PingContext(ctx)
	}
	if err != nil {
		needs.Missing(t, "MariaDB at "+mariaDBDSN, err)
	}
	t.Cleanup(func() { conn.Close(); db.Close() })
	// The server resolves unqualified table names while parsing, so a
	// current database is needed; an empty one keeps the test from
	// touching anybody's data.
	for _, q := range []string{"CREATE DATABASE IF NOT EXISTS " + mariaDBTestDB, "USE " + mariaDBTestDB} {
		if _, err := conn.ExecContext(context.Background(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	return conn
}

// mariaDBTestDB is an empty database that only this test uses.
const mariaDBTestDB = "text2sql_mysql_adapter_test"

// serverParses reports whether the server's own parser accepts sql:
// preparing a statement parses and resolves it without running it, and
// only a syntax error means the text itself was refused.
func serverParses(ctx context.Context, conn *sql.Conn, sql string) (bool, error) {
	st, err := conn.PrepareContext(ctx, sql)
	if err == nil {
		st.Close()
		return true, nil
	}
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		// 1064 ER_PARSE_ERROR, 1149 ER_SYNTAX_ERROR
		return me.Number != 1064 && me.Number != 1149, err
	}
	return false, err
}

// TestPrintedSQLParsesOnMariaDB checks Print against a real server: every
// clean query of the test data that MariaDB's parser accepts must still be
// accepted after printing. (Queries MariaDB lacks syntax for, such as
// LATERAL or TABLE, are skipped: they were never valid there.)
func TestPrintedSQLParsesOnMariaDB(t *testing.T) {
	conn := requireMariaDB(t)
	ctx := context.Background()
	checked, skipped := 0, 0
	for _, c := range append(allTestSQL(t), nestedTestSQL(t)...) {
		p := parserFor(t, c.mode)
		parsed, err := p.Parse(c.sql)
		if err != nil {
			continue
		}
		st := parsed.Describe()
		if st.Query == nil || len(st.Findings) > 0 {
			continue
		}
		mode := c.mode
		if mode == "" {
			mode = mysql8DefaultSQLMode
		}
		if _, err := conn.ExecContext(ctx, "SET SESSION sql_mode = ?", mode); err != nil {
			t.Fatalf("set sql_mode %q: %v", mode, err)
		}
		if ok, _ := serverParses(ctx, conn, c.sql); !ok {
			skipped++
			continue
		}
		out, err := parsed.Print(100)
		if err != nil {
			t.Errorf("%s: Print: %v", c.name, err)
			continue
		}
		if ok, err := serverParses(ctx, conn, out); !ok {
			t.Errorf("%s: MariaDB accepts the original but not the printed text\n in  %s\n out %s\n err %v", c.name, c.sql, out, err)
		}
		checked++
	}
	if checked < 50 {
		t.Errorf("only %d statements checked; the test data has shrunk", checked)
	}
	t.Logf("%d printed statements accepted by MariaDB; %d skipped for syntax MariaDB lacks", checked, skipped)
}
