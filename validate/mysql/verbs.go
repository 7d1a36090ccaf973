package mysql

import (
	"reflect"
	"strings"
	"unicode"

	"github.com/pingcap/tidb/pkg/parser/ast"
)

// verbs names the statements whose verb does not follow from the node's
// type name. Every other statement type is named by splitting its type
// name (CreateTableStmt → CREATE TABLE), so a statement type added to the
// parser later still gets a sensible verb and is never a query.
var verbs = map[reflect.Type]string{
	reflect.TypeFor[*ast.ShowStmt]():                "SHOW",
	reflect.TypeFor[*ast.SetStmt]():                 "SET",
	reflect.TypeFor[*ast.SetPwdStmt]():              "SET PASSWORD",
	reflect.TypeFor[*ast.SetConfigStmt]():           "SET CONFIG",
	reflect.TypeFor[*ast.DoStmt]():                  "DO",
	reflect.TypeFor[*ast.CallStmt]():                "CALL",
	reflect.TypeFor[*ast.LoadDataStmt]():            "LOAD DATA",
	reflect.TypeFor[*ast.DeallocateStmt]():          "DEALLOCATE PREPARE",
	reflect.TypeFor[*ast.BeginStmt]():               "BEGIN",
	reflect.TypeFor[*ast.UseStmt]():                 "USE",
	reflect.TypeFor[*ast.KillStmt]():                "KILL",
	reflect.TypeFor[*ast.FlushStmt]():               "FLUSH",
	reflect.TypeFor[*ast.AdminStmt]():               "ADMIN",
	reflect.TypeFor[*ast.NonTransactionalDMLStmt](): "BATCH",
	reflect.TypeFor[*ast.ExplainForStmt]():          "EXPLAIN FOR CONNECTION",
	reflect.TypeFor[*ast.TraceStmt]():               "TRACE",
	reflect.TypeFor[*ast.HelpStmt]():                "HELP",
	reflect.TypeFor[*ast.BinlogStmt]():              "BINLOG",
	reflect.TypeFor[*ast.ShutdownStmt]():            "SHUTDOWN",
	reflect.TypeFor[*ast.RestartStmt]():             "RESTART",
}

// verbOf names a statement that is not a query.
func verbOf(n ast.StmtNode) string {
	switch x := n.(type) {
	case *ast.InsertStmt:
		if x.IsReplace {
			return "REPLACE"
		}
		return "INSERT"
	case *ast.ExplainStmt:
		if x.Analyze {
			return "EXPLAIN ANALYZE"
		}
		return "EXPLAIN"
	case *ast.BRIEStmt:
		return strings.ToUpper(x.Kind.String())
	}
	t := reflect.TypeOf(n)
	if v, ok := verbs[t]; ok {
		return v
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return splitTypeName(strings.TrimSuffix(t.Name(), "Stmt"))
}

// splitTypeName turns CamelCase into upper-case words: "CreateTable" →
// "CREATE TABLE".
func splitTypeName(s string) string {
	var b strings.Builder
	rs := []rune(s)
	for i, r := range rs {
		if i > 0 && unicode.IsUpper(r) &&
			(unicode.IsLower(rs[i-1]) || (i+1 < len(rs) && unicode.IsLower(rs[i+1]))) {
			b.WriteByte(' ')
		}
		b.WriteRune(unicode.ToUpper(r))
	}
	if b.Len() == 0 {
		return "UNKNOWN"
	}
	return b.String()
}

func selectVerb(s *ast.SelectStmt) string {
	switch s.Kind {
	case ast.SelectStmtKindTable:
		return "TABLE"
	case ast.SelectStmtKindValues:
		return "VALUES"
	}
	return "SELECT"
}
