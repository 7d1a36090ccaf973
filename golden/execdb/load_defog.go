package execdb

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefogPrefix is the prefix of the PostgreSQL database holding a Defog
// database: specific enough not to meet another application's database on
// a shared server.
const DefogPrefix = "defog_"

// DefogDatabase is the PostgreSQL database holding Defog database db.
func DefogDatabase(db string) string { return DefogPrefix + db }

// lockKey is the advisory lock (PostgreSQL) and named lock (MariaDB) that
// serializes loads on one server, so two test processes never rebuild the
// same database at once.
const (
	pgLockKey = int64(0x7432736578656364) // "t2sexecd"
	myLockKey = "text2sql-execdb-load"
)

// DefogLoader loads Defog sql-eval's databases into PostgreSQL.
type DefogLoader struct {
	// URL connects to the server as a superuser (any existing database).
	URL string
	// Dir is the benchmark directory (holding defog_sql_eval/).
	Dir string
	// Prefix replaces DefogPrefix in database names (tests use their own).
	Prefix string
	// Only restricts loading to these Defog databases (all when empty).
	Only []string
	// Force reloads even databases whose marker verifies.
	Force bool
}

func (l DefogLoader) prefix() string {
	if l.Prefix == "" {
		return DefogPrefix
	}
	return l.Prefix
}

// Databases lists the Defog databases under Dir (each databases/<db>/<db>.sql).
func (l DefogLoader) Databases() ([]string, error) {
	root := filepath.Join(l.Dir, "defog_sql_eval", "databases")
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		if _, err := os.Stat(filepath.Join(root, e.Name(), e.Name()+".sql")); err == nil {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	if len(l.Only) > 0 {
		keep := map[string]bool{}
		for _, o := range l.Only {
			keep[o] = true
		}
		var f []string
		for _, d := range out {
			if keep[d] {
				f = append(f, d)
			}
		}
		out = f
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no Defog databases under %s", root)
	}
	return out, nil
}

// Load makes every Defog database present and verified, loading those whose
// marker does not verify. Each database is loaded in one transaction that
// ends by writing the marker (COMMENT ON DATABASE), so an interrupted load
// leaves no marker and is redone.
func (l DefogLoader) Load(ctx context.Context) ([]LoadReport, error) {
	dbs, err := l.Databases()
	if err != nil {
		return nil, err
	}
	admin, err := pgx.Connect(ctx, l.URL)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	defer admin.Close(context.Background())
	if _, err := admin.Exec(ctx, "SELECT pg_advisory_lock($1)", pgLockKey); err != nil {
		return nil, fmt.Errorf("postgres: lock: %w", err)
	}
	var reports []LoadReport
	for _, name := range dbs {
		r, err := l.loadOne(ctx, admin, name)
		if err != nil {
			return reports, fmt.Errorf("defog %s: %w", name, err)
		}
		reports = append(reports, r)
	}
	return reports, nil
}

func (l DefogLoader) loadOne(ctx context.Context, admin *pgx.Conn, name string) (LoadReport, error) {
	start := time.Now()
	target := l.prefix() + name
	r := LoadReport{Database: target, Source: name}
	file := filepath.Join(l.Dir, "defog_sql_eval", "databases", name, name+".sql")
	source, err := sourceDigest([]string{file}, []string{name + ".sql"})
	if err != nil {
		return r, err
	}
	var comment *string
	err = admin.QueryRow(ctx,
		"SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = $1", target).Scan(&comment)
	exists := err == nil
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return r, err
	}
	var counts map[string]int64
	reason := "forced"
	if !l.Force {
		c := ""
		if comment != nil {
			c = *comment
		}
		reason, err = checkMarker(c, exists, source, func() (map[string]int64, error) {
			counts, err = l.withDB(ctx, target, pgTableCounts)
			return counts, err
		})
		if err != nil {
			return r, err
		}
	}
	if reason == "" {
		r.Tables, r.Rows, r.Elapsed = len(counts), sumRows(counts), time.Since(start)
		return r, nil
	}
	ident := pgx.Identifier{target}.Sanitize()
	// WITH (FORCE) ends sessions still open on the old copy (idle pools).
	if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+ident+" WITH (FORCE)"); err != nil {
		return r, err
	}
	// template0: nothing installed into template1 on this server leaks in.
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+ident+" TEMPLATE template0 ENCODING 'UTF8'"); err != nil {
		return r, err
	}
	script, err := os.ReadFile(file)
	if err != nil {
		return r, err
	}
	counts, err = l.withDB(ctx, target, func(ctx context.Context, conn *pgx.Conn) (map[string]int64, error) {
		tx, err := conn.Begin(ctx)
		if err != nil {
			return nil, err
		}
		defer func() { _ = tx.Rollback(context.Background()) }()
		// The file as it is, through the simple query protocol (several
		// statements in one string), inside this transaction.
		if _, err := tx.Conn().PgConn().Exec(ctx, string(script)).ReadAll(); err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		counts, err := pgTableCounts(ctx, tx.Conn())
		if err != nil {
			return nil, err
		}
		m := marker{Source: source, Content: contentDigest(counts)}
		if _, err := tx.Exec(ctx, "COMMENT ON DATABASE "+ident+" IS "+pgLiteral(m.String())); err != nil {
			return nil, err
		}
		return counts, tx.Commit(ctx)
	})
	if err != nil {
		return r, err
	}
	r.Loaded, r.Reason = true, reason
	r.Tables, r.Rows, r.Elapsed = len(counts), sumRows(counts), time.Since(start)
	return r, nil
}

func (l DefogLoader) withDB(ctx context.Context, database string, f func(context.Context, *pgx.Conn) (map[string]int64, error)) (map[string]int64, error) {
	cfg, err := pgx.ParseConfig(l.URL)
	if err != nil {
		return nil, err
	}
	cfg.Database = database
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.Background())
	return f(ctx, conn)
}

// pgTableCounts counts the rows of every table outside the system schemas.
func pgTableCounts(ctx context.Context, conn *pgx.Conn) (map[string]int64, error) {
	rows, err := conn.Query(ctx, `
SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp%'`)
	if err != nil {
		return nil, err
	}
	var tables []pgx.Identifier
	for rows.Next() {
		var s, t string
		if err := rows.Scan(&s, &t); err != nil {
			rows.Close()
			return nil, err
		}
		tables = append(tables, pgx.Identifier{s, t})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// One round trip for all the counts.
	counts := make(map[string]int64, len(tables))
	if len(tables) == 0 {
		return counts, nil
	}
	parts := make([]string, len(tables))
	for i, t := range tables {
		parts[i] = fmt.Sprintf("SELECT %d, count(*) FROM %s", i, t.Sanitize())
	}
	rows, err = conn.Query(ctx, strings.Join(parts, " UNION ALL "))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var i int
		var n int64
		if err := rows.Scan(&i, &n); err != nil {
			return nil, err
		}
		counts[tables[i][0]+"."+tables[i][1]] = n
	}
	return counts, rows.Err()
}

// pgLiteral quotes s as a standard-conforming string literal.
func pgLiteral(s string) string {
	out := []byte{'\''}
	for i := 0; i < len(s); i++ {
		if s[i] == '\'' {
			out = append(out, '\'')
		}
		out = append(out, s[i])
	}
	return string(append(out, '\''))
}
