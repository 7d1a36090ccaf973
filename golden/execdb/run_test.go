package execdb

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// runTestDB is the scratch database the Run tests create on each server.
const runTestDB = "execdb_test_run"

func pgAdmin(t *testing.T) *pgx.Conn {
	t.Helper()
	url := RequirePostgres(t)
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// pgRunDB creates runTestDB with a table and a sequence, and an executor.
func pgRunDB(t *testing.T) (*Postgres, *pgx.Conn) {
	admin := pgAdmin(t)
	ctx := context.Background()
	for _, s := range []string{
		"DROP DATABASE IF EXISTS " + runTestDB + " WITH (FORCE)",
		"CREATE DATABASE " + runTestDB,
	} {
		if _, err := admin.Exec(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { _, _ = admin.Exec(context.Background(), "DROP DATABASE IF EXISTS "+runTestDB+" WITH (FORCE)") })
	cfg, _ := pgx.ParseConfig(DefaultPostgresURL)
	cfg.Database = runTestDB
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE TABLE t (a int); INSERT INTO t VALUES (1), (2); CREATE SEQUENCE s"); err != nil {
		t.Fatal(err)
	}
	p, err := NewPostgres(DefaultPostgresURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p, admin
}

func TestPostgresValues(t *testing.T) {
	p, _ := pgRunDB(t)
	res, err := p.Run(context.Background(), runTestDB, `SELECT 1::int2 AS i2, 2::int4, 3::int8, 2.50::numeric, 1.5::float8, 1.5::float4,
 'x'::text, 'ab'::char(3), NULL::int, true, DATE '2024-01-02', TIMESTAMP '2024-01-02 03:04:05',
 TIMESTAMPTZ '2024-01-02 03:04:05+02', INTERVAL '1 day 2 hours', TIME '12:00:01.5', '\x00ff'::bytea,
 '{"b": 1, "a": 2}'::jsonb, 'NaN'::float8, 'NaN'::numeric, '-infinity'::numeric, 1e-3::numeric`, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	want := []Value{
		{Number, "1"}, {Number, "2"}, {Number, "3"}, {Number, "2.50"}, {Number, "1.5"}, {Number, "1.5"},
		{Text, "x"}, {Text, "ab "}, NullValue, {Number, "1"}, {Date, "2024-01-02"}, {DateTime, "2024-01-02 03:04:05"},
		{DateTime, "2024-01-02 01:04:05"}, DurationValue(0, 1, 2*3600*1e6), {TimeOfDay, "12:00:01.5"}, {Bytes, "00ff"},
		{Other, `json:{"a":2,"b":1}`}, NullValue, NullValue, {Number, "-Inf"}, {Number, "0.001"},
	}
	if len(res.Rows) != 1 || len(res.Rows[0]) != len(want) {
		t.Fatalf("result:\n%s", res)
	}
	for i, w := range want {
		if got := res.Rows[0][i]; got != w {
			t.Errorf("column %d (%s %s): got %#v, want %#v", i+1, res.Columns[i], res.Types[i], got, w)
		}
	}
	if res.Columns[0] != "i2" || res.Types[0] != "int2" || res.Types[3] != "numeric" {
		t.Errorf("columns %v types %v", res.Columns, res.Types)
	}
}

func TestPostgresReadOnly(t *testing.T) {
	p, _ := pgRunDB(t)
	ctx := context.Background()
	cases := []struct {
		sql      string
		notQuery bool
		code     string
	}{
		{sql: "INSERT INTO t VALUES (3)", notQuery: true},
		{sql: "SELECT 1; DELETE FROM t", notQuery: true},
		{sql: "CREATE TABLE u (a int)", notQuery: true},
		{sql: "WITH d AS (DELETE FROM t RETURNING a) SELECT a FROM d", notQuery: true},
		{sql: "SELECT a INTO u FROM t", notQuery: true},
		{sql: "COPY (SELECT 1) TO PROGRAM 'true'", notQuery: true},
		// Writes that pass as queries are stopped by the READ ONLY
		// transaction (25006 read_only_sql_transaction).
		{sql: "SELECT nextval('s')", code: "25006"},
	}
	for _, c := range cases {
		_, err := p.Run(ctx, runTestDB, c.sql, time.Second)
		var qe *QueryError
		if !errors.As(err, &qe) {
			t.Errorf("%q: err %v, want a QueryError", c.sql, err)
			continue
		}
		if c.notQuery != errors.Is(err, ErrNotQuery) || (c.code != "" && qe.Code != c.code) {
			t.Errorf("%q: %v (code %q), want not-a-query %v code %q", c.sql, err, qe.Code, c.notQuery, c.code)
		}
	}
	// The transaction is read only, runs under the timeout and the role,
	// and none of it outlives the call.
	p.Role = "pg_read_all_data"
	res, err := p.Run(ctx, runTestDB, "SELECT current_setting('transaction_read_only'), current_setting('statement_timeout'), current_user, count(*) FROM t", 1500*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(res.Rows[0]); got != `["on" "1500ms" "pg_read_all_data" 2]` {
		t.Errorf("inside Run: %s", got)
	}
	if _, err := p.Run(ctx, runTestDB, "SELECT pg_read_file('/etc/hostname')", time.Second); err == nil {
		t.Error("pg_read_file ran under pg_read_all_data")
	}
	p.Role = ""
	res, err = p.Run(ctx, runTestDB, "SELECT current_user, count(*) FROM t", time.Second)
	if err != nil || fmt.Sprint(res.Rows[0]) != `["postgres" 2]` {
		t.Errorf("after Run: %v %v", res, err)
	}
}

// pgActive counts the statements still running whose text holds marker.
func pgActive(t *testing.T, admin *pgx.Conn, marker string) int {
	t.Helper()
	var n int
	err := admin.QueryRow(context.Background(),
		"SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%' || $1 || '%' AND pid <> pg_backend_pid()", marker).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestPostgresTimeout(t *testing.T) {
	p, admin := pgRunDB(t)
	ctx := context.Background()
	for _, viaContext := range []bool{false, true} {
		marker := fmt.Sprintf("execdb_timeout_%d", rand.Int64())
		sql := "SELECT pg_sleep(30) /* " + marker + " */"
		var err error
		if viaContext {
			// The caller's deadline ends first: the server must still be
			// told to stop.
			cctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
			_, err = p.Run(cctx, runTestDB, sql, time.Minute)
			cancel()
		} else {
			_, err = p.Run(ctx, runTestDB, sql, 300*time.Millisecond)
		}
		var qe *QueryError
		if !errors.As(err, &qe) || !qe.Timeout {
			t.Fatalf("context %v: err %v, want a timeout", viaContext, err)
		}
		if !viaContext && qe.Code != "57014" {
			t.Errorf("statement_timeout: code %q, want 57014", qe.Code)
		}
		// The cancel is asynchronous (a cancel request on its own
		// connection): wait for the server to drop the statement.
		deadline := time.Now().Add(10 * time.Second)
		for pgActive(t, admin, marker) > 0 {
			if time.Now().After(deadline) {
				t.Fatalf("context %v: statement still running on the server", viaContext)
			}
			time.Sleep(50 * time.Millisecond)
		}
		// The pool still works.
		if _, err := p.Run(ctx, runTestDB, "SELECT 1", time.Second); err != nil {
			t.Fatalf("after timeout: %v", err)
		}
	}
}

func TestPostgresMaxRows(t *testing.T) {
	p, _ := pgRunDB(t)
	p.MaxRows = 10
	if _, err := p.Run(context.Background(), runTestDB, "SELECT generate_series(1, 10)", time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Run(context.Background(), runTestDB, "SELECT generate_series(1, 11)", time.Second); !errors.Is(err, ErrTooManyRows) {
		t.Fatalf("err %v, want ErrTooManyRows", err)
	}
}

// myRunDB creates runTestDB on MariaDB with a table and a function that
// writes, and an executor.
func myRunDB(t *testing.T) (*MariaDB, *MariaDB) {
	dsn := RequireMariaDB(t)
	admin, err := NewMariaDB(dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(admin.Close)
	ctx := context.Background()
	db, err := admin.db("mysql")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{
		"DROP DATABASE IF EXISTS " + runTestDB,
		"CREATE DATABASE " + runTestDB,
		"CREATE TABLE " + runTestDB + ".t (a INT)",
		"INSERT INTO " + runTestDB + ".t VALUES (1), (2)",
		"CREATE FUNCTION " + runTestDB + ".w() RETURNS INT MODIFIES SQL DATA BEGIN INSERT INTO " + runTestDB + ".t VALUES (9); RETURN 1; END",
	} {
		if _, err := db.ExecContext(ctx, s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	t.Cleanup(func() { _, _ = db.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+runTestDB) })
	m, err := NewMariaDB(dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	return m, admin
}

func TestMariaDBValues(t *testing.T) {
	m, _ := myRunDB(t)
	res, err := m.Run(context.Background(), runTestDB, `SELECT 1 AS one, CAST(2.50 AS DECIMAL(5,2)), 1.5e0, 'x', NULL, TRUE,
 DATE '2024-01-02', TIMESTAMP '2024-01-02 03:04:05', TIME '12:00:01', X'00FF', CAST(X'00FF' AS BINARY), AVG(a), SUM(a) FROM t`, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	want := []Value{
		{Number, "1"}, {Number, "2.50"}, {Number, "1.5"}, {Text, "x"}, NullValue, {Number, "1"},
		{Date, "2024-01-02"}, {DateTime, "2024-01-02 03:04:05"}, {TimeOfDay, "12:00:01"}, {Bytes, "00ff"}, {Bytes, "00ff"},
		{Number, "1.5000"}, {Number, "3"},
	}
	if len(res.Rows) != 1 || len(res.Rows[0]) != len(want) {
		t.Fatalf("result:\n%s", res)
	}
	for i, w := range want {
		if got := res.Rows[0][i]; got != w {
			t.Errorf("column %d (%s %s): got %#v, want %#v", i+1, res.Columns[i], res.Types[i], got, w)
		}
	}
}

func TestMariaDBReadOnly(t *testing.T) {
	m, admin := myRunDB(t)
	ctx := context.Background()
	cases := []struct {
		sql      string
		notQuery bool
		code     string
	}{
		{sql: "INSERT INTO t VALUES (3)", notQuery: true},
		{sql: "SELECT 1; DELETE FROM t", notQuery: true},
		{sql: "CREATE TABLE u (a INT)", notQuery: true},
		{sql: "DROP TABLE t", notQuery: true},
		{sql: "SELECT a FROM t INTO OUTFILE '/tmp/execdb_test_out'", notQuery: true},
		{sql: "SET SESSION max_statement_time = 0", notQuery: true},
		// A write behind a query is stopped by the READ ONLY
		// transaction (1792).
		{sql: "SELECT w()", code: "1792"},
	}
	for _, c := range cases {
		_, err := m.Run(ctx, runTestDB, c.sql, time.Second)
		var qe *QueryError
		if !errors.As(err, &qe) {
			t.Errorf("%q: err %v, want a QueryError", c.sql, err)
			continue
		}
		if c.notQuery != errors.Is(err, ErrNotQuery) || (c.code != "" && qe.Code != c.code) {
			t.Errorf("%q: %v (code %q), want not-a-query %v code %q", c.sql, err, qe.Code, c.notQuery, c.code)
		}
	}
	res, err := admin.Run(ctx, runTestDB, "SELECT COUNT(*) FROM t", time.Second)
	if err != nil || fmt.Sprint(res.Rows[0]) != "[2]" {
		t.Errorf("table changed: %v %v", res, err)
	}
	res, err = m.Run(ctx, runTestDB, "SELECT @@max_statement_time, @@tx_read_only", 2500*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(res.Rows[0]); got != "[2.5 1]" {
		t.Errorf("session inside Run: %s", got)
	}
}

func TestMariaDBTimeout(t *testing.T) {
	m, admin := myRunDB(t)
	ctx := context.Background()
	for _, viaContext := range []bool{false, true} {
		marker := fmt.Sprintf("execdb_timeout_%d", rand.Int64())
		sql := "SELECT SLEEP(30) /* " + marker + " */"
		var err error
		if viaContext {
			cctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
			_, err = m.Run(cctx, runTestDB, sql, time.Minute)
			cancel()
		} else {
			_, err = m.Run(ctx, runTestDB, sql, 300*time.Millisecond)
		}
		var qe *QueryError
		if viaContext {
			if !errors.As(err, &qe) || !qe.Timeout {
				t.Fatalf("context: err %v, want a timeout", err)
			}
		} else if !errors.As(err, &qe) || !qe.Timeout || qe.Code != "1969" {
			t.Fatalf("max_statement_time: err %v, want a timeout (1969)", err)
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			res, err := admin.Run(ctx, "information_schema",
				"SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE '%"+marker+"%' AND INFO NOT LIKE '%PROCESSLIST%'", time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if res.Rows[0][0].S == "0" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("context %v: statement still running on the server", viaContext)
			}
			time.Sleep(50 * time.Millisecond)
		}
		if _, err := m.Run(ctx, runTestDB, "SELECT 1", time.Second); err != nil {
			t.Fatalf("after timeout: %v", err)
		}
	}
}
