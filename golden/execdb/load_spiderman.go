package execdb

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
)

// SpiderManLoader loads SpiderMan's MySQL edition of the Spider dev
// databases (those shipping rows: databases/<db>/schema.sql and
// databases/<db>/data/<table>.csv) into MariaDB, one database per Spider
// db_id, named as the db_id (the schema files qualify every table with
// it).
//
// Rows are inserted the way SpiderMan's own loader does
// (scripts/core/target_dbs: every CSV field a quoted string literal except
// the bare word NULL, which is SQL NULL), here as bound string parameters,
// in strict SQL mode so that a value the column type cannot take fails the
// load instead of being silently altered. Foreign key checks are off while
// loading: the files are not in dependency order.
//
// A table with no data file is created and left empty and is listed in
// LoadReport.Empty: in the benchmark snapshot that is wta_1's rankings,
// whose rankings.csv was too large to be kept, so questions reading
// wta_1.rankings cannot be evaluated.
type SpiderManLoader struct {
	// DSN connects to the server as a user that may create databases
	// (go-sql-driver/mysql DSN; its database part is ignored).
	DSN string
	// Dir is the benchmark directory (holding spiderman_mysql/).
	Dir string
	// Only restricts loading to these databases (all with data when empty).
	Only []string
	// Force reloads even databases whose marker verifies.
	Force bool
	// Root replaces Dir/spiderman_mysql/databases (tests load their own).
	Root string
}

func (l SpiderManLoader) root() string {
	if l.Root != "" {
		return l.Root
	}
	return filepath.Join(l.Dir, "spiderman_mysql", "databases")
}

// Databases lists the databases under the root that have a data directory.
func (l SpiderManLoader) Databases() ([]string, error) {
	entries, err := os.ReadDir(l.root())
	if err != nil {
		return nil, err
	}
	keep := map[string]bool{}
	for _, o := range l.Only {
		keep[o] = true
	}
	var out []string
	for _, e := range entries {
		if !e.IsDir() || (len(keep) > 0 && !keep[e.Name()]) {
			continue
		}
		if fi, err := os.Stat(filepath.Join(l.root(), e.Name(), "data")); err == nil && fi.IsDir() {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	if len(out) == 0 {
		return nil, fmt.Errorf("no SpiderMan databases with data under %s", l.root())
	}
	return out, nil
}

// Load makes every database present and verified, loading those whose
// marker does not verify. MariaDB DDL is not transactional, so the marker
// (the database's COMMENT) is written after every row is in and checked:
// an interrupted load leaves no marker and is redone.
func (l SpiderManLoader) Load(ctx context.Context) ([]LoadReport, error) {
	dbs, err := l.Databases()
	if err != nil {
		return nil, err
	}
	cfg, err := mysql.ParseDSN(l.DSN)
	if err != nil {
		return nil, fmt.Errorf("mariadb: %w", err)
	}
	cfg.DBName = ""
	cfg.MultiStatements = true   // schema.sql runs as one string
	cfg.InterpolateParams = true // batched INSERTs without server-side prepares
	cfg.ParseTime = false
	connector, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, err
	}
	pool := sql.OpenDB(connector)
	defer pool.Close()
	conn, err := pool.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("mariadb: %w", err)
	}
	defer conn.Close()
	var got sql.NullInt64
	if err := conn.QueryRowContext(ctx, "SELECT GET_LOCK(?, 600)", myLockKey).Scan(&got); err != nil {
		return nil, fmt.Errorf("mariadb: lock: %w", err)
	}
	if got.Int64 != 1 {
		return nil, errors.New("mariadb: another load holds the lock")
	}
	defer conn.ExecContext(context.Background(), "DO RELEASE_LOCK(?)", myLockKey)
	var reports []LoadReport
	for _, name := range dbs {
		r, err := l.loadOne(ctx, conn, name)
		if err != nil {
			return reports, fmt.Errorf("spiderman %s: %w", name, err)
		}
		reports = append(reports, r)
	}
	return reports, nil
}

func (l SpiderManLoader) loadOne(ctx context.Context, conn *sql.Conn, name string) (LoadReport, error) {
	start := time.Now()
	r := LoadReport{Database: name, Source: name}
	dir := filepath.Join(l.root(), name)
	csvs, err := filepath.Glob(filepath.Join(dir, "data", "*.csv"))
	if err != nil {
		return r, err
	}
	sort.Strings(csvs)
	files := append([]string{filepath.Join(dir, "schema.sql")}, csvs...)
	names := make([]string, len(files))
	for i, f := range files {
		names[i], _ = filepath.Rel(dir, f)
	}
	source, err := sourceDigest(files, names)
	if err != nil {
		return r, err
	}
	var comment string
	err = conn.QueryRowContext(ctx,
		"SELECT SCHEMA_COMMENT FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?", name).Scan(&comment)
	exists := err == nil
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return r, err
	}
	var counts map[string]int64
	reason := "forced"
	if !l.Force {
		reason, err = checkMarker(comment, exists, source, func() (map[string]int64, error) {
			counts, err = myTableCounts(ctx, conn, name)
			return counts, err
		})
		if err != nil {
			return r, err
		}
	}
	if reason == "" {
		r.Tables, r.Rows = len(counts), sumRows(counts)
		r.Empty, err = l.emptyTables(name, counts)
		r.Elapsed = time.Since(start)
		return r, err
	}

	ident := myIdent(name)
	stmts := []string{
		"DROP DATABASE IF EXISTS " + ident,
		// utf8mb4 with a UCA collation: case-insensitive comparisons, as
		// under MySQL 8's default utf8mb4_0900_ai_ci that SpiderMan targets.
		"CREATE DATABASE " + ident + " CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci",
		"USE " + ident,
		"SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION'",
		"SET SESSION foreign_key_checks = 0",
	}
	for _, s := range stmts {
		if _, err := conn.ExecContext(ctx, s); err != nil {
			return r, fmt.Errorf("%s: %w", s, err)
		}
	}
	defer conn.ExecContext(context.Background(), "SET SESSION foreign_key_checks = 1")
	schema, err := os.ReadFile(files[0])
	if err != nil {
		return r, err
	}
	if _, err := conn.ExecContext(ctx, string(schema)); err != nil {
		return r, fmt.Errorf("%s: %w", files[0], err)
	}
	want := map[string]int64{}
	for _, f := range csvs {
		table := strings.TrimSuffix(filepath.Base(f), ".csv")
		n, err := insertCSV(ctx, conn, name, table, f)
		if err != nil {
			return r, err
		}
		want[table] = n
	}
	counts, err = myTableCounts(ctx, conn, name)
	if err != nil {
		return r, err
	}
	for t, n := range want {
		if counts[t] != n {
			return r, fmt.Errorf("table %s holds %d rows, its file %d", t, counts[t], n)
		}
	}
	m := marker{Source: source, Content: contentDigest(counts)}
	if _, err := conn.ExecContext(ctx, "ALTER DATABASE "+ident+" COMMENT = ?", m.String()); err != nil {
		return r, err
	}
	r.Loaded, r.Reason = true, reason
	r.Tables, r.Rows = len(counts), sumRows(counts)
	r.Empty, err = l.emptyTables(name, counts)
	r.Elapsed = time.Since(start)
	return r, err
}

// emptyTables lists the tables that have no data file.
func (l SpiderManLoader) emptyTables(name string, counts map[string]int64) ([]string, error) {
	var out []string
	for t := range counts {
		_, err := os.Stat(filepath.Join(l.root(), name, "data", t+".csv"))
		if errors.Is(err, os.ErrNotExist) {
			out = append(out, t)
		} else if err != nil {
			return nil, err
		}
	}
	sort.Strings(out)
	return out, nil
}

// insertBatch is the rows per INSERT statement.
const insertBatch = 500

// insertCSV inserts the rows of a CSV file (header: column names) into
// db.table and returns how many it inserted.
func insertCSV(ctx context.Context, conn *sql.Conn, db, table, file string) (int64, error) {
	var (
		prefix, tuple string
		args          []any
		nrows         int
		total         int64
	)
	flush := func() error {
		if nrows == 0 {
			return nil
		}
		q := prefix + strings.TrimSuffix(strings.Repeat(tuple+", ", nrows), ", ")
		if _, err := conn.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("%s: rows %d-%d: %w", file, total+1, total+int64(nrows), err)
		}
		total += int64(nrows)
		args, nrows = args[:0], 0
		return nil
	}
	err := eachCSVRow(file, func(header []string) error {
		cols := make([]string, len(header))
		for i, h := range header {
			cols[i] = myIdent(h)
		}
		prefix = "INSERT INTO " + myIdent(db) + "." + myIdent(table) + " (" + strings.Join(cols, ", ") + ") VALUES "
		tuple = "(" + strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ") + ")"
		return nil
	}, func(row []any) error {
		args = append(args, row...)
		nrows++
		if nrows == insertBatch {
			return flush()
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	if err := flush(); err != nil {
		return 0, err
	}
	return total, nil
}

// eachCSVRow reads a SpiderMan CSV file: header gets the column names
// (a byte-order mark dropped), row each record with the bare word NULL as
// nil and every other field as a string.
func eachCSVRow(file string, header func([]string) error, row func([]any) error) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	rd := csv.NewReader(bytes.NewReader(data))
	names, err := rd.Read()
	if err != nil {
		return fmt.Errorf("%s: header: %w", file, err)
	}
	if err := header(names); err != nil {
		return err
	}
	for {
		rec, err := rd.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
		vals := make([]any, len(rec))
		for i, f := range rec {
			if f != "NULL" {
				vals[i] = f
			}
		}
		if err := row(vals); err != nil {
			return err
		}
	}
}

// myTableCounts counts the rows of every base table of database db.
func myTableCounts(ctx context.Context, conn *sql.Conn, db string) (map[string]int64, error) {
	rows, err := conn.QueryContext(ctx,
		"SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE'", db)
	if err != nil {
		return nil, err
	}
	var tables []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			rows.Close()
			return nil, err
		}
		tables = append(tables, t)
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
		parts[i] = fmt.Sprintf("SELECT %d, COUNT(*) FROM %s.%s", i, myIdent(db), myIdent(t))
	}
	rows, err = conn.QueryContext(ctx, strings.Join(parts, " UNION ALL "))
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
		counts[tables[i]] = n
	}
	return counts, rows.Err()
}

// myIdent quotes a MySQL identifier.
func myIdent(s string) string {
	return "`" + strings.ReplaceAll(s, "`", "``") + "`"
}
