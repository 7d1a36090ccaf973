package validate

import (
	"strings"

	"github.com/texttosql/text2sql/validate/stmt"
)

// templateDelimiter returns the byte offset of the first template opening
// in sql and the opening itself, or -1. The openings are those of Jinja's
// default lexer, which Superset uses unchanged (default delimiters, no
// line statements, no line comments): {{ expression, {% statement and {#
// comment. Their whitespace-control forms ({{-, {%-, {%+, {#-) begin with
// them. An opening is acted on wherever it stands, in a string literal, a
// quoted name or a dollar-quoted body alike, since Jinja renders the text
// before any SQL lexer reads it; a closing delimiter without an opening is
// plain text to Jinja.
func templateDelimiter(sql string) (int, string) {
	for i := strings.IndexByte(sql, '{'); i >= 0 && i+1 < len(sql); {
		switch sql[i+1] {
		case '{', '%', '#':
			return i, sql[i : i+2]
		}
		next := strings.IndexByte(sql[i+1:], '{')
		if next < 0 {
			break
		}
		i += 1 + next
	}
	return -1, ""
}

// templateViolation judges the text that will be returned: when the rules
// say Superset renders templates for this database, text holding an
// opening would run through Jinja and could come out meaning something
// else (a closed literal, an expanded macro), so it is refused.
func templateViolation(rules *Rules, out string) *Violation {
	if !rules.work.templates {
		return nil
	}
	i, open := templateDelimiter(out)
	if i < 0 {
		return nil
	}
	return &Violation{Code: stmt.CodeTemplateSyntax,
		Message: "the statement holds \"" + open + "\", which Superset's Jinja template rendering would act on " +
			"(even inside a string or quoted name), so what runs could differ from what was checked; " +
			"write it so that the two characters are not adjacent in the text: split the literal " +
			"('{' || '{' in PostgreSQL, CONCAT('{', '{') in MySQL), or use ARRAY[...] instead of an array literal; " +
			"if Superset does not render templates for this database, set template_processing: false for it in the policy"}
}
