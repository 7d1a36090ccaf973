package mysql

import (
	"fmt"
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/format"
	"github.com/pingcap/tidb/pkg/parser/opcode"
	"github.com/pingcap/tidb/pkg/parser/test_driver"

	"github.com/texttosql/text2sql/validate/stmt"
)

// Print prints the statement back as MySQL text: names in backquotes,
// strings in single quotes, keywords upper case, comments and optimizer
// hints dropped. When maxRows > 0 the outermost query's LIMIT is capped.
func (p *parsed) Print(maxRows int) (out string, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = "", fmt.Errorf("cannot print the statement: %v", r)
		}
	}()
	// The printer recurses once per level of the tree.
	for _, f := range p.Describe().Findings {
		if f.Code == stmt.CodeTooComplex {
			return "", fmt.Errorf("cannot print the statement: %s", f.Message)
		}
	}
	if maxRows > 0 {
		switch n := p.root.(type) {
		case *ast.SelectStmt:
			capLimit(&n.Limit, maxRows)
		case *ast.SetOprStmt:
			capLimit(&n.Limit, maxRows)
		}
	}
	if !p.fixed {
		p.root.Accept(&printFixer{src: p.src, ansiQuotes: p.mode.HasANSIQuotesMode(), noBackslashEscapes: p.mode.HasNoBackslashEscapesMode()})
		p.fixed = true
	}

	// The printed text must read the same under the server's sql_mode:
	// without NO_BACKSLASH_ESCAPES a backslash in a string is an escape, so
	// it is doubled; names are always backquoted and strings single-quoted,
	// which ANSI_QUOTES does not change. Character set introducers other
	// than the default are kept (_binary'x' compares differently from 'x').
	flags := format.DefaultRestoreFlags | format.RestoreStringWithoutDefaultCharset
	if !p.mode.HasNoBackslashEscapesMode() {
		flags |= format.RestoreStringEscapeBackslash
	}
	var b strings.Builder
	// The printed text is about as long as the original: quoting adds a
	// little, dropped comments and spaces take some away.
	b.Grow(len(p.src) + len(p.src)/4 + 32)
	if err := p.root.Restore(format.NewRestoreCtx(flags, &b)); err != nil {
		return "", fmt.Errorf("cannot print the statement: %w", err)
	}
	return b.String(), nil
}

// capLimit makes *l at most max rows: added when missing, replaced when
// larger or not a constant. The offset is kept.
func capLimit(l **ast.Limit, max int) {
	if *l == nil {
		*l = &ast.Limit{Count: ast.NewValueExpr(uint64(max), "", "")}
		return
	}
	if !constAtMost((*l).Count, max) {
		(*l).Count = ast.NewValueExpr(uint64(max), "", "")
	}
}

func constAtMost(e ast.ExprNode, max int) bool {
	v, ok := e.(*test_driver.ValueExpr)
	if !ok {
		// Includes parameter markers, which are a different type.
		return false
	}
	switch v.Kind() {
	case test_driver.KindInt64:
		n := v.GetInt64()
		return n >= 0 && n <= int64(max)
	case test_driver.KindUint64:
		return v.GetUint64() <= uint64(max)
	}
	return false
}

// negative reports whether e prints starting with a minus sign.
func negative(e ast.ExprNode) bool {
	switch x := e.(type) {
	case *ast.UnaryOperationExpr:
		return x.Op == opcode.Minus
	case *test_driver.ValueExpr:
		return strings.HasPrefix(x.GetDatumString(), "-")
	}
	return false
}

// printFixer rewrites the few nodes the parser's printer would not print
// back as valid MySQL. Its changes are idempotent, and Describe's
// cross-check makes them as it goes; Print walks the tree only when that
// walk did not cover all of it.
//   - a call through a quoted name, which the printer would write unquoted
//     (`my func`(1) would come out as MY FUNC(1));
//   - CHAR(... USING cs) and INSERT(...), which the parser renames
//     internally to char_func and insert_func;
//   - an explicit ESCAPE '\' under NO_BACKSLASH_ESCAPES, which the printer
//     leaves out although LIKE then has no escape character by default;
//   - optimizer hints, which are dropped: SET_VAR changes variables and
//     MAX_EXECUTION_TIME could lift the server's statement time limit.
type printFixer struct {
	src                string
	ansiQuotes         bool
	noBackslashEscapes bool
}

func (f *printFixer) Enter(n ast.Node) (ast.Node, bool) {
	switch x := n.(type) {
	case *ast.SelectStmt:
		x.TableHints = nil
		if x.SelectStmtOpts != nil {
			x.SelectStmtOpts.TableHints = nil
		}
	case *ast.SetOprSelectList:
		// "(WITH ... SELECT ...) ORDER BY ..." leaves the same WITH on the
		// list and on its block; printed twice it would not parse.
		if x.With != nil {
			for _, sel := range x.Selects {
				if s, ok := sel.(*ast.SelectStmt); ok && s.With == x.With {
					x.With = nil
					break
				}
			}
		}
	}
	return n, false
}

func (f *printFixer) Leave(n ast.Node) (ast.Node, bool) {
	// The printer writes 1 - -1 as 1--1 and - -1 as --1: MySQL reads
	// that as intended, but other SQL lexers on the way (Superset's among
	// them) read -- as a comment. A negative operand of a minus is put in
	// parentheses.
	switch x := n.(type) {
	case *ast.BinaryOperationExpr:
		if x.Op == opcode.Minus && negative(x.R) {
			x.R = &ast.ParenthesesExpr{Expr: x.R}
		}
	case *ast.UnaryOperationExpr:
		if x.Op == opcode.Minus && negative(x.V) {
			x.V = &ast.ParenthesesExpr{Expr: x.V}
		}
	}
	if like, ok := n.(*ast.PatternLikeOrIlikeExpr); ok && f.noBackslashEscapes && like.EscapeExplicit && like.Escape == '\\' {
		return &likeEscape{like}, true
	}
	fc, ok := n.(*ast.FuncCallExpr)
	if !ok || fc.Schema.O != "" {
		return n, true
	}
	if quotedCall(f.src, fc.OriginTextPosition(), fc.FnName.O, f.ansiQuotes) {
		fc.Tp = ast.FuncCallExprTypeGeneric
		return n, true
	}
	switch fc.FnName.L {
	case ast.InsertFunc:
		fc.FnName = ast.NewCIStr("INSERT")
	case ast.CharFunc:
		return &charFunc{fc}, true
	}
	return n, true
}

// charFunc prints CHAR(n, ... [USING charset]); the parser keeps the
// charset (or NULL) as the last argument.
type charFunc struct{ *ast.FuncCallExpr }

func (c *charFunc) Restore(ctx *format.RestoreCtx) error {
	args := c.Args
	var charset string
	if k := len(args); k > 0 {
		if v, ok := args[k-1].(ast.ValueExpr); ok {
			if s, ok := v.GetValue().(string); ok {
				charset = s
			}
			args = args[:k-1]
		}
	}
	ctx.WriteKeyWord("CHAR")
	ctx.WritePlain("(")
	for i, a := range args {
		if i > 0 {
			ctx.WritePlain(", ")
		}
		if err := a.Restore(ctx); err != nil {
			return err
		}
	}
	if charset != "" {
		ctx.WriteKeyWord(" USING ")
		ctx.WriteName(charset)
	}
	ctx.WritePlain(")")
	return nil
}

// Accept keeps the wrapper in place when the tree is walked again.
func (c *charFunc) Accept(v ast.Visitor) (ast.Node, bool) {
	if _, ok := c.FuncCallExpr.Accept(v); !ok {
		return c, false
	}
	return c, true
}

// likeEscape prints LIKE with its explicit ESCAPE '\'.
type likeEscape struct{ *ast.PatternLikeOrIlikeExpr }

func (l *likeEscape) Restore(ctx *format.RestoreCtx) error {
	if err := l.PatternLikeOrIlikeExpr.Restore(ctx); err != nil {
		return err
	}
	ctx.WriteKeyWord(" ESCAPE ")
	ctx.WriteString(`\`)
	return nil
}

// Accept keeps the wrapper in place when the tree is walked again.
func (l *likeEscape) Accept(v ast.Visitor) (ast.Node, bool) {
	if _, ok := l.PatternLikeOrIlikeExpr.Accept(v); !ok {
		return l, false
	}
	return l, true
}
