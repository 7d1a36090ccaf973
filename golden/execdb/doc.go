// Package execdb puts the executable benchmark databases into the local
// database servers, runs SQL against them safely, and compares result sets
// the way execution-based text-to-SQL evaluation does.
//
// Loading (idempotent; a second run only verifies):
//
//   - Defog sql-eval: every defog_sql_eval/databases/<db>/<db>.sql is run
//     as-is (PostgreSQL DDL and INSERTs, multi-statement simple protocol)
//     into its own PostgreSQL database named DefogDatabase(db), "defog_<db>".
//     Tables stay where the file puts them (public, and consumer_div for
//     ewallet).
//
//   - SpiderMan: the Spider dev databases that ship rows
//     (spiderman_mysql/databases/<db>/schema.sql plus data/*.csv) into one
//     MariaDB database each, named exactly as the Spider db_id: the schema
//     files qualify every table with the db_id and the gold SQL is
//     unqualified, so any other name would mean rewriting both.
//     wta_1/data/rankings.csv is absent from the benchmark snapshot, so the
//     wta_1 rankings table is created and left empty (LoadReport.Empty);
//     the 8 SpiderMan questions reading it cannot be evaluated and are
//     excluded by the gold tests.
//
//   - SQLite and DuckDB (EmbeddedLoader): the same SpiderMan databases,
//     written into one file per database (<db>.sqlite, <db>.duckdb) in a
//     directory the caller owns, from the tables schema.sql declares and
//     the rows of data/*.csv. Embedded.Run opens each file read-only.
//
// Each loaded server database carries a marker (its database comment), written
// last, holding the sha256 of its source files and a digest of its table
// row counts. A database whose marker is missing or differs (a changed
// source file, an earlier load that stopped half way, rows changed since)
// is dropped and loaded again.
//
// Running: Postgres.Run and MariaDB.Run accept one plain SELECT (checked
// with the dialect's parser), execute it inside a READ ONLY transaction that
// is always rolled back, under a server-side statement timeout (and cancel
// the statement on the server when the caller's context ends first), and
// return a Result of normalized, comparable values. TieAtLimit tells a query whose LIMIT cuts through rows
// tied on its ORDER BY keys (whose rows the server may pick differently on
// each run).
//
// Comparing: Compare reimplements the semantics of Defog sql-eval's
// compare_query_results (exact match and subset match), with rows compared
// as multisets, or in order when the gold query sorts its outermost result
// (HasOuterOrderBy).
package execdb
