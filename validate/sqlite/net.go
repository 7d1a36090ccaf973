package sqlite

import (
	"fmt"
	"strings"

	sqlite3 "modernc.org/sqlite/lib"

	"github.com/texttosql/text2sql/validate/stmt"
)

// The coverage net: SQLite's authorizer names every action a statement
// would take. Only the actions of a read-only query are known; any other
// is denied while preparing (so the statement does not compile) and
// becomes a finding here.

// knownAction says whether a read-only query may ask for action.
func knownAction(action int32) bool {
	switch action {
	case sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION, sqlite3.SQLITE_RECURSIVE:
		return true
	}
	return false
}

// systemTable says whether a table is one of SQLite's own: the schema
// table under any of its names, sequence and statistics tables.
func systemTable(name string) bool {
	return strings.HasPrefix(strings.ToLower(name), "sqlite_")
}

var actionNames = map[int32]string{
	sqlite3.SQLITE_CREATE_INDEX: "CREATE INDEX", sqlite3.SQLITE_CREATE_TABLE: "CREATE TABLE",
	sqlite3.SQLITE_CREATE_TEMP_INDEX: "CREATE TEMP INDEX", sqlite3.SQLITE_CREATE_TEMP_TABLE: "CREATE TEMP TABLE",
	sqlite3.SQLITE_CREATE_TEMP_TRIGGER: "CREATE TEMP TRIGGER", sqlite3.SQLITE_CREATE_TEMP_VIEW: "CREATE TEMP VIEW",
	sqlite3.SQLITE_CREATE_TRIGGER: "CREATE TRIGGER", sqlite3.SQLITE_CREATE_VIEW: "CREATE VIEW",
	sqlite3.SQLITE_DELETE: "DELETE", sqlite3.SQLITE_DROP_INDEX: "DROP INDEX", sqlite3.SQLITE_DROP_TABLE: "DROP TABLE",
	sqlite3.SQLITE_DROP_TEMP_INDEX: "DROP TEMP INDEX", sqlite3.SQLITE_DROP_TEMP_TABLE: "DROP TEMP TABLE",
	sqlite3.SQLITE_DROP_TEMP_TRIGGER: "DROP TEMP TRIGGER", sqlite3.SQLITE_DROP_TEMP_VIEW: "DROP TEMP VIEW",
	sqlite3.SQLITE_DROP_TRIGGER: "DROP TRIGGER", sqlite3.SQLITE_DROP_VIEW: "DROP VIEW",
	sqlite3.SQLITE_INSERT: "INSERT", sqlite3.SQLITE_PRAGMA: "PRAGMA", sqlite3.SQLITE_TRANSACTION: "a transaction statement",
	sqlite3.SQLITE_UPDATE: "UPDATE", sqlite3.SQLITE_ATTACH: "ATTACH", sqlite3.SQLITE_DETACH: "DETACH",
	sqlite3.SQLITE_ALTER_TABLE: "ALTER TABLE", sqlite3.SQLITE_REINDEX: "REINDEX", sqlite3.SQLITE_ANALYZE: "ANALYZE",
	sqlite3.SQLITE_CREATE_VTABLE: "CREATE VIRTUAL TABLE", sqlite3.SQLITE_DROP_VTABLE: "DROP VIRTUAL TABLE",
	sqlite3.SQLITE_SAVEPOINT: "SAVEPOINT",
}

// net turns the actions a query may not take into findings; refused
// reports whether there was any.
func net(trace []event, pos func(string) int) (findings []stmt.Finding) {
	seen := map[string]bool{}
	add := func(code string, p int, format string, args ...any) {
		msg := fmt.Sprintf(format, args...)
		if !seen[msg] {
			seen[msg] = true
			findings = append(findings, stmt.Finding{Code: code, Message: msg, Pos: p})
		}
	}
	for _, e := range trace {
		switch {
		case e.action == sqlite3.SQLITE_READ && systemTable(e.arg1):
			add(stmt.CodeSystemCatalog, pos(e.arg1), "%s is one of SQLite's own tables; only the database's tables may be read", e.arg1)
		case knownAction(e.action):
		case e.action == sqlite3.SQLITE_PRAGMA:
			add(stmt.CodeNotReadOnly, pos(e.arg1), "PRAGMA %s (also as a pragma_ table) is not a query; only read-only queries are accepted", strings.ToLower(e.arg1))
		case actionNames[e.action] != "":
			add(stmt.CodeNotReadOnly, pos(e.arg1), "the statement would run %s; only read-only queries are accepted", actionNames[e.action])
		default:
			add(stmt.CodeUnsupportedSyntax, -1, "the statement asks SQLite for action %d, which the validator does not know", e.action)
		}
	}
	return findings
}
