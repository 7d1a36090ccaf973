package execdb

import (
	"context"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/texttosql/text2sql/benchdata"
	"github.com/texttosql/text2sql/internal/needs"
)

// RequirePostgres returns DefaultPostgresURL once the server answers. When
// it does not, the test fails under CI=true and is skipped otherwise.
func RequirePostgres(tb benchdata.TB) string {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, DefaultPostgresURL)
	if err == nil {
		err = conn.Ping(ctx)
		conn.Close(ctx)
	}
	if err != nil {
		needs.Missing(tb, "PostgreSQL at "+DefaultPostgresURL, err)
	}
	return DefaultPostgresURL
}

// RequireMariaDB returns DefaultMariaDBDSN once the server answers. When it
// does not, the test fails under CI=true and is skipped otherwise.
func RequireMariaDB(tb benchdata.TB) string {
	tb.Helper()
	m, err := NewMariaDB(DefaultMariaDBDSN)
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, err = m.Run(ctx, "mysql", "SELECT 1", 5*time.Second)
		m.Close()
	}
	if err != nil {
		needs.Missing(tb, "MariaDB at "+DefaultMariaDBDSN, err)
	}
	return DefaultMariaDBDSN
}

// Env is both benchmark sets loaded, with an executor for each server.
type Env struct {
	Postgres  *Postgres
	MariaDB   *MariaDB
	Defog     []LoadReport
	SpiderMan []LoadReport
}

var (
	envOnce sync.Once
	env     *Env
	envErr  error
)

// RequireEnv loads (or verifies) both benchmark sets once per process and
// returns executors for them; PostgreSQL queries run as pg_read_all_data.
// Missing services fail the test under CI=true and skip it otherwise;
// missing benchmark data or a failed load always fails it.
func RequireEnv(tb benchdata.TB) *Env {
	tb.Helper()
	dir := benchdata.Require(tb)
	pgURL := RequirePostgres(tb)
	myDSN := RequireMariaDB(tb)
	envOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		e := &Env{}
		if e.Defog, envErr = (DefogLoader{URL: pgURL, Dir: dir}).Load(ctx); envErr != nil {
			return
		}
		if e.SpiderMan, envErr = (SpiderManLoader{DSN: myDSN, Dir: dir}).Load(ctx); envErr != nil {
			return
		}
		if e.Postgres, envErr = NewPostgres(pgURL); envErr != nil {
			return
		}
		e.Postgres.Role = "pg_read_all_data"

		if e.MariaDB, envErr = NewMariaDB(myDSN); envErr != nil {
			return
		}
		env = e
	})
	if envErr != nil {
		tb.Fatalf("loading benchmark databases: %v", envErr)
	}
	return env
}
