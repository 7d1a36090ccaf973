package llm

import (
	"bytes"
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"unicode"
)

// ErrNoSQL is matched (errors.Is) by every error of ExtractSQL.
var ErrNoSQL = errors.New("no SQL in the answer")

// Reasons a NoSQLError gives.
const (
	ReasonEmpty     = "the answer is empty"
	ReasonNotFound  = "the answer holds no SQL query"
	ReasonJSONEmpty = "the JSON answer has no SQL"
	ReasonThinking  = "the answer ends inside a <think> block"
	ReasonTruncated = "the answer was cut at the token limit before the SQL ended"
)

// NoSQLError says why an answer yielded no SQL. The model's text is
// often a refusal or a question back; Excerpt holds its start so the
// caller can show or log it.
type NoSQLError struct {
	Reason  string
	Excerpt string
}

func (e *NoSQLError) Error() string { return "llm: no SQL in the answer: " + e.Reason }

// Is makes errors.Is(err, ErrNoSQL) hold.
func (e *NoSQLError) Is(target error) bool { return target == ErrNoSQL }

func noSQL(reason, text string) *NoSQLError {
	return &NoSQLError{Reason: reason, Excerpt: clip(text, 200)}
}

// ExtractSQL returns the SQL a model wrote in its answer, or a
// *NoSQLError. It only cuts text out of the answer, never writes any;
// what it returns is untrusted until a validator has parsed it.
//
// Where it looks, in order:
//
//  1. fenced code blocks (``` or ~~~): a sql-tagged fence holding a query
//     (SELECT, WITH or "("), else an untagged one holding a query, else a
//     JSON fence with a "sql" (or "query") field, else a sql-tagged or
//     untagged fence holding any other statement (so a DELETE reaches the
//     validator and is reported as such). Among equals, the last wins: a
//     model that corrects itself puts the correction last. A fence with
//     no closing line runs to the end of the answer.
//  2. a JSON object answer, bare or after prose: {"sql": "..."}.
//  3. plain text: from the first line starting with a query (or after a
//     short label such as "SQL:"), to the end of the statement (a
//     semicolon outside strings and comments, or a line of prose or
//     markdown); else an inline `code span` holding a query.
//
// <think>…</think> reasoning is skipped. Trailing semicolons are
// removed; semicolons between statements are kept so the validator sees
// every statement. Line endings become "\n".
//
// ExtractSQL cannot tell a complete answer from one cut at the token
// limit; use Completion.SQL, which can.
func ExtractSQL(text string) (string, error) {
	sql, _, err := extract(text)
	return sql, err
}

// SQL extracts the SQL from the completion like ExtractSQL, but when the
// model stopped at the token limit and the SQL runs to the very end of
// the text (no closing fence, no statement end), it returns a NoSQLError
// with ReasonTruncated instead of SQL that may be cut.
func (c *Completion) SQL() (string, error) {
	sql, open, err := extract(c.Text)
	if err != nil {
		if c.Truncated() {
			var ne *NoSQLError
			if errors.As(err, &ne) && ne.Reason != ReasonJSONEmpty {
				ne.Reason = ReasonTruncated
			}
		}
		return "", err
	}
	if open && c.Truncated() {
		return "", noSQL(ReasonTruncated, c.Text)
	}
	return sql, nil
}

// extract is ExtractSQL, also reporting whether the SQL ran to the end of
// the answer without an end marker (so could be cut).
func extract(text string) (sql string, open bool, err error) {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	body, ok := stripThinking(text)
	if !ok {
		return "", false, noSQL(ReasonThinking, text)
	}
	if strings.TrimSpace(body) == "" {
		return "", false, noSQL(ReasonEmpty, text)
	}

	fences, outside := scanFences(body)
	if f := pickFence(fences); f != nil {
		if f.json {
			// A decoded JSON object is complete even in an open fence.
			return fromJSONValue(f.jsonSQL, body)
		}
		return finish(f.body), f.open, nil
	}
	for _, f := range fences {
		if f.jsonEmpty {
			return "", false, noSQL(ReasonJSONEmpty, body)
		}
	}

	if v, found := findJSON(outside); found {
		return fromJSONValue(v, body)
	}
	if s, o, found := plainSQL(outside); found {
		return finish(s), o, nil
	}
	if s, found := inlineSQL(outside); found {
		return finish(s), false, nil
	}
	return "", false, noSQL(ReasonNotFound, body)
}

// finish trims whitespace and trailing semicolons.
func finish(s string) string {
	s = strings.TrimSpace(s)
	for strings.HasSuffix(s, ";") {
		s = strings.TrimSpace(strings.TrimSuffix(s, ";"))
	}
	return s
}

var thinkRe = regexp.MustCompile(`(?is)<(think|thinking|reasoning)>.*?</(think|thinking|reasoning)>`)

// stripThinking removes reasoning blocks some models emit before the
// answer. It reports false when a block is left open (the answer never
// came).
func stripThinking(s string) (string, bool) {
	s = thinkRe.ReplaceAllString(s, "\n")
	lower := strings.ToLower(s)
	for _, tag := range []string{"<think>", "<thinking>", "<reasoning>"} {
		if strings.Contains(lower, tag) {
			return "", false
		}
	}
	// A model may also emit only the closing tag when the chat template
	// opened the block: everything before it is reasoning.
	for _, tag := range []string{"</think>", "</thinking>", "</reasoning>"} {
		if i := strings.LastIndex(lower, tag); i >= 0 {
			s, lower = s[i+len(tag):], lower[i+len(tag):]
		}
	}
	return s, true
}

// fence is one fenced code block.
type fence struct {
	tag       string // lower-cased first word of the info string
	body      string
	open      bool // no closing fence: runs to the end of the answer
	class     fenceClass
	query     bool // body starts with a query
	statement bool // body starts with some SQL statement
	json      bool // body is a JSON object with a non-empty sql field
	jsonSQL   string
	jsonEmpty bool // body is a JSON object whose sql field is empty or null
}

type fenceClass int

const (
	classOther fenceClass = iota // another language: never SQL
	classSQL
	classPlain // untagged or "text"
	classJSON
)

func classify(tag string) fenceClass {
	switch tag {
	case "", "text", "txt", "plaintext", "plain", "code":
		return classPlain
	case "json", "jsonc", "json5":
		return classJSON
	case "postgres", "tidb", "duckdb", "bigquery", "snowflake", "presto", "trino",
		"hive", "clickhouse", "redshift", "oracle", "mariadb":
		return classSQL
	}
	if strings.Contains(tag, "sql") {
		return classSQL // sql, mysql, postgresql, pgsql, psql, tsql, plsql, sqlite...
	}
	return classOther
}

var fenceOpenRe = regexp.MustCompile("^[ \t]*(`{3,}|~{3,})[ \t]*(.*)$")

// scanFences finds fenced code blocks and returns them with the text
// outside them (fenced lines blanked, so line structure is kept).
func scanFences(s string) ([]*fence, string) {
	lines := strings.Split(s, "\n")
	var (
		fences  []*fence
		outside []string
	)
	for i := 0; i < len(lines); i++ {
		m := fenceOpenRe.FindStringSubmatch(lines[i])
		if m == nil {
			outside = append(outside, lines[i])
			continue
		}
		marker, info := m[1], strings.TrimSpace(m[2])
		f := &fence{}
		// One-line fence: ```sql SELECT 1```.
		if rest, ok := strings.CutSuffix(info, marker); ok && marker[0] == '`' {
			f.tag, f.body = splitInlineTag(rest)
			fences = append(fences, f.analyse())
			outside = append(outside, "")
			continue
		}
		if marker[0] == '`' && strings.Contains(info, "`") {
			// Not a fence opener in CommonMark (e.g. ```a``` b).
			outside = append(outside, lines[i])
			continue
		}
		f.tag = strings.ToLower(firstWord(info))
		var body []string
		closed := false
		outside = append(outside, "")
		for i++; i < len(lines); i++ {
			line := lines[i]
			t := strings.TrimSpace(line)
			if strings.HasPrefix(t, marker) && strings.Trim(t, marker[:1]) == "" {
				closed = true
				outside = append(outside, "")
				break
			}
			// A closing fence glued to the last line: "SELECT 1;```".
			if before, ok := strings.CutSuffix(strings.TrimRight(line, " \t"), marker); ok && marker[0] == '`' && !strings.HasSuffix(before, "`") {
				body = append(body, before)
				closed = true
				outside = append(outside, "")
				break
			}
			body = append(body, line)
			outside = append(outside, "")
		}
		f.body = strings.Join(body, "\n")
		f.open = !closed
		fences = append(fences, f.analyse())
	}
	return fences, strings.Join(outside, "\n")
}

// splitInlineTag splits "sql SELECT 1" into ("sql", "SELECT 1") when the
// first word is a language tag rather than SQL.
func splitInlineTag(s string) (tag, body string) {
	s = strings.TrimSpace(s)
	w := firstWord(s)
	if w != "" && !startsQuery(s) && classify(strings.ToLower(w)) != classOther {
		return strings.ToLower(w), strings.TrimSpace(s[len(w):])
	}
	return "", s
}

func firstWord(s string) string {
	s = strings.TrimSpace(s)
	end := strings.IndexFunc(s, unicode.IsSpace)
	if end < 0 {
		return s
	}
	return s[:end]
}

func (f *fence) analyse() *fence {
	f.class = classify(f.tag)
	trimmed := strings.TrimSpace(f.body)
	switch f.class {
	case classSQL, classPlain:
		f.query = startsQuery(skipComments(trimmed))
		// An untagged fence may hold output or prose; a statement
		// there must look like code.
		f.statement = f.query || startsStatement(skipComments(trimmed), f.class == classPlain)
	}
	if f.class == classJSON || (f.class == classPlain && strings.HasPrefix(trimmed, "{")) {
		if v, ok := decodeSQLField(trimmed); ok {
			if strings.TrimSpace(v) == "" {
				f.jsonEmpty = true
			} else {
				f.json, f.jsonSQL = true, v
			}
		}
	}
	return f
}

// pickFence ranks fences as ExtractSQL documents.
func pickFence(fences []*fence) *fence {
	tiers := []func(*fence) bool{
		func(f *fence) bool { return f.class == classSQL && f.query },
		func(f *fence) bool { return f.class == classPlain && f.query },
		func(f *fence) bool { return f.json },
		func(f *fence) bool { return f.class == classSQL && f.statement },
		func(f *fence) bool { return f.class == classPlain && f.statement },
	}
	for _, in := range tiers {
		for i := len(fences) - 1; i >= 0; i-- {
			if in(fences[i]) {
				return fences[i]
			}
		}
	}
	return nil
}

// fromJSONValue turns the sql field of a JSON answer into SQL; the field
// may itself hold a fenced block.
func fromJSONValue(v, answer string) (string, bool, error) {
	if strings.TrimSpace(v) == "" {
		return "", false, noSQL(ReasonJSONEmpty, answer)
	}
	if strings.Contains(v, "```") || strings.Contains(v, "~~~") {
		fences, _ := scanFences(strings.ReplaceAll(v, "\r\n", "\n"))
		if f := pickFence(fences); f != nil && !f.json {
			return finish(f.body), false, nil
		}
		if len(fences) > 0 {
			return "", false, noSQL(ReasonJSONEmpty, answer)
		}
	}
	return finish(v), false, nil
}

// findJSON looks for a JSON object with a sql field: the whole text, or
// starting at a line that begins with "{".
func findJSON(s string) (string, bool) {
	t := strings.TrimSpace(s)
	if strings.HasPrefix(t, "{") {
		if v, ok := decodeSQLField(t); ok {
			return v, true
		}
	}
	for i := 0; i < len(s); {
		nl := strings.IndexByte(s[i:], '\n')
		line := s[i:]
		if nl >= 0 {
			line = s[i : i+nl]
		}
		if strings.HasPrefix(strings.TrimSpace(line), "{") {
			if v, ok := decodeSQLField(strings.TrimSpace(s[i:])); ok {
				return v, true
			}
		}
		if nl < 0 {
			break
		}
		i += nl + 1
	}
	return "", false
}

// decodeSQLField decodes the first JSON value of s and returns its "sql"
// (or "query") string field. ok is false when s does not start with such
// an object; a present but null or empty field gives ("", true).
func decodeSQLField(s string) (string, bool) {
	dec := json.NewDecoder(strings.NewReader(s))
	var obj map[string]json.RawMessage
	if err := dec.Decode(&obj); err != nil {
		return "", false
	}
	for _, want := range []string{"sql", "query"} {
		for k, raw := range obj {
			if !strings.EqualFold(k, want) {
				continue
			}
			raw = bytes.TrimSpace(raw)
			if string(raw) == "null" {
				return "", true
			}
			var v string
			if err := json.Unmarshal(raw, &v); err != nil {
				return "", false
			}
			return v, true
		}
	}
	return "", false
}

var (
	// A CTE head: WITH [RECURSIVE] name [(cols)] AS [NOT] [MATERIALIZED] (
	withRe   = regexp.MustCompile(`(?is)^with\s+(recursive\s+)?("[^"]+"|` + "`[^`]+`" + `|\[[^\]]+\]|[\p{L}_][\p{L}\p{N}_$]*)\s*(\([^)]*\)\s*)?as\s*(not\s+)?(materialized\s+)?\(`)
	selectRe = regexp.MustCompile(`(?i)^select\b`)
	parenRe  = regexp.MustCompile(`(?i)^\(\s*(select|with)\b`)
)

// startsQuery reports whether s begins with a query: SELECT, a CTE, or a
// parenthesised query.
func startsQuery(s string) bool {
	return selectRe.MatchString(s) || withRe.MatchString(s) || parenRe.MatchString(s)
}

// statementKeywords begin SQL statements other than queries.
var statementKeywords = []string{
	"INSERT", "UPDATE", "DELETE", "MERGE", "UPSERT", "REPLACE", "CREATE", "DROP",
	"ALTER", "TRUNCATE", "GRANT", "REVOKE", "CALL", "EXEC", "EXECUTE", "COPY",
	"LOAD", "SET", "SHOW", "EXPLAIN", "DESCRIBE", "VALUES", "LOCK", "UNLOCK",
	"BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "VACUUM", "ANALYZE", "REINDEX",
	"PREPARE", "DEALLOCATE", "HANDLER", "KILL", "SHUTDOWN", "OPTIMIZE", "FLUSH",
	"LISTEN", "NOTIFY", "REFRESH", "CHECKPOINT", "DISCARD", "SELECT", "WITH",
}

// startsStatement reports whether s begins with a SQL statement keyword.
// With sqlCase the keyword must be written as code is (all upper or all
// lower case): prose opens sentences with "Select", "Update" or "Show".
func startsStatement(s string, sqlCase bool) bool {
	w := leadingWord(s)
	if sqlCase && !codeCase(w) {
		return false
	}
	if startsQuery(s) {
		return true
	}
	if w == "" || !isStatementKeyword(w) {
		return false
	}
	if len(w) == len(s) {
		return true
	}
	switch s[len(w)] {
	case ' ', '\t', '\n', ';':
		return true
	}
	return false
}

// codeCase reports whether w is written all upper or all lower case.
func codeCase(w string) bool {
	return w == strings.ToUpper(w) || w == strings.ToLower(w)
}

func isStatementKeyword(w string) bool {
	for _, k := range statementKeywords {
		if strings.EqualFold(w, k) {
			return true
		}
	}
	return false
}

// leadingWord returns the run of ASCII letters at the start of s.
func leadingWord(s string) string {
	i := 0
	for i < len(s) && (s[i] >= 'a' && s[i] <= 'z' || s[i] >= 'A' && s[i] <= 'Z') {
		i++
	}
	return s[:i]
}

// skipComments drops leading whitespace and SQL comments.
func skipComments(s string) string {
	for {
		s = strings.TrimLeftFunc(s, unicode.IsSpace)
		switch {
		case strings.HasPrefix(s, "--"):
			nl := strings.IndexByte(s, '\n')
			if nl < 0 {
				return ""
			}
			s = s[nl+1:]
		case strings.HasPrefix(s, "/*"):
			end := strings.Index(s[2:], "*/")
			if end < 0 {
				return ""
			}
			s = s[2+end+2:]
		default:
			return s
		}
	}
}

// labelRe matches a short label before an inline query on one line:
// "SQL: SELECT ...", "**Query:** WITH ...", "Here is the query: SELECT".
var labelRe = regexp.MustCompile("^[^\n`]{0,60}?:[ \t]*(?:\\*\\*[ \t]*)?(SELECT[ \t\n]|WITH[ \t\n]|\\([ \t]*SELECT[ \t\n])")

// plainSQL finds SQL written without fences. It returns the statement,
// whether it ran to the end of the text, and whether one was found.
func plainSQL(s string) (sql string, open, found bool) {
	for i := 0; i < len(s); {
		nl := strings.IndexByte(s[i:], '\n')
		lineEnd := len(s)
		if nl >= 0 {
			lineEnd = i + nl
		}
		line := s[i:lineEnd]
		trimmed := strings.TrimLeft(line, " \t>")
		start := -1
		switch {
		case startsQuery(trimmed) && codeCase(leadingWord(trimmed)):
			start = lineEnd - len(trimmed)
		default:
			if m := labelRe.FindStringSubmatchIndex(line); m != nil {
				start = i + m[2]
			}
		}
		if start >= 0 {
			end, open := sqlEnd(s[start:])
			return s[start : start+end], open, true
		}
		if nl < 0 {
			break
		}
		i = lineEnd + 1
	}
	return "", false, false
}

// inlineCodeRe matches `code` and “code“ spans on one line.
var inlineCodeRe = regexp.MustCompile("(``?)([^`\n]+?)(``?)")

// inlineSQL returns the last inline code span holding a query.
func inlineSQL(s string) (string, bool) {
	var last string
	for _, m := range inlineCodeRe.FindAllStringSubmatch(s, -1) {
		if m[1] != m[3] {
			continue
		}
		if body := strings.TrimSpace(m[2]); startsQuery(body) {
			last = body
		}
	}
	return last, last != ""
}

// sqlEnd returns where the statement starting at s[0] ends, and whether
// it ran to the end of s. A statement ends at a semicolon (outside
// quotes, comments and parentheses) not followed by another statement,
// or before a line of prose or markdown at nesting depth zero.
func sqlEnd(s string) (end int, open bool) {
	depth := 0
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\'' || c == '"' || c == '`':
			j := skipQuoted(s, i)
			if j < 0 {
				return len(s), true
			}
			i = j
			continue
		case c == '-' && strings.HasPrefix(s[i:], "--"):
			nl := strings.IndexByte(s[i:], '\n')
			if nl < 0 {
				return len(s), true
			}
			i += nl // the newline is judged below
			continue
		case c == '/' && strings.HasPrefix(s[i:], "/*"):
			e := strings.Index(s[i+2:], "*/")
			if e < 0 {
				return len(s), true
			}
			i += 2 + e + 2
			continue
		case c == '$':
			if j, ok := skipDollarQuoted(s, i); ok {
				if j < 0 {
					return len(s), true
				}
				i = j
				continue
			}
		case c == '(':
			depth++
		case c == ')':
			if depth > 0 {
				depth--
			}
		case c == ';' && depth == 0:
			rest := skipComments(s[i+1:])
			if rest != "" && startsStatement(rest, true) {
				i = len(s) - len(rest)
				continue
			}
			return i + 1, false
		case c == '\n' && depth == 0:
			if endsBefore(s[i+1:]) {
				return i, false
			}
		}
		i++
	}
	return len(s), true
}

// skipQuoted returns the index after the quoted text starting at s[i], or
// -1 when it is not closed. Doubled quotes escape; so does a backslash,
// except in backtick identifiers.
func skipQuoted(s string, i int) int {
	q := s[i]
	for j := i + 1; j < len(s); j++ {
		switch s[j] {
		case '\\':
			if q != '`' {
				j++
			}
		case q:
			if j+1 < len(s) && s[j+1] == q {
				j++
				continue
			}
			return j + 1
		}
	}
	return -1
}

var dollarTagRe = regexp.MustCompile(`^\$([A-Za-z_][A-Za-z0-9_]*)?\$`)

// skipDollarQuoted handles PostgreSQL $tag$...$tag$ strings. ok is false
// when s[i] does not open one (e.g. a $1 parameter); j is -1 when the
// string is not closed.
func skipDollarQuoted(s string, i int) (j int, ok bool) {
	if i > 0 && (isIdentByte(s[i-1])) {
		return 0, false
	}
	tag := dollarTagRe.FindString(s[i:])
	if tag == "" {
		return 0, false
	}
	e := strings.Index(s[i+len(tag):], tag)
	if e < 0 {
		return -1, true
	}
	return i + len(tag) + e + len(tag), true
}

func isIdentByte(b byte) bool {
	return b == '_' || b >= '0' && b <= '9' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z'
}

var (
	// A sentence: a capitalised word then two lower-case words.
	proseRe = regexp.MustCompile(`^[A-Z][a-z']+,?[ \t]+[a-z][a-z']*,?[ \t]+[a-z]`)
	// A label line such as "Explanation:" or "Note: ...".
	proseLabelRe = regexp.MustCompile(`^[A-Z][A-Za-z ]{0,30}:([ \t]|$)`)
	// Markdown: headings, bullets, numbered items, bold, rules, quotes.
	markdownRe = regexp.MustCompile(`^(#{1,6}[ \t]|[-*+][ \t]|\d+[.)][ \t]|\*\*|__|---|===|>[ \t]|\|)`)
)

// clauseKeywords may start a line that continues a statement after a
// blank line.
var clauseKeywords = []string{
	"FROM", "WHERE", "GROUP", "ORDER", "HAVING", "LIMIT", "OFFSET", "FETCH", "UNION",
	"INTERSECT", "EXCEPT", "MINUS", "JOIN", "INNER", "LEFT", "RIGHT", "FULL", "CROSS",
	"NATURAL", "STRAIGHT_JOIN", "ON", "USING", "AND", "OR", "NOT", "WINDOW", "QUALIFY",
	"SELECT", "WITH", "AS", "CASE", "WHEN", "THEN", "ELSE", "END", "LATERAL",
	"VALUES", "FOR", "INTO", "OVER", "PARTITION", "ROWS", "RANGE",
}

// endsBefore reports whether the text after a newline (at nesting depth
// zero) is no longer part of the statement.
func endsBefore(rest string) bool {
	line, _, _ := strings.Cut(rest, "\n")
	t := strings.TrimSpace(line)
	if t == "" {
		// A blank line: the statement goes on only if the next non-blank
		// line plainly continues it.
		next := strings.TrimSpace(rest)
		if next == "" {
			return true
		}
		if strings.HasPrefix(next, ")") || strings.HasPrefix(next, ",") ||
			strings.HasPrefix(next, "--") || strings.HasPrefix(next, "/*") {
			return false
		}
		w := leadingWord(next)
		// SQL is written in upper or lower case; "From the table…" is prose.
		if w != strings.ToUpper(w) && w != strings.ToLower(w) {
			return true
		}
		for _, k := range clauseKeywords {
			if strings.EqualFold(w, k) {
				return false
			}
		}
		return true
	}
	if strings.HasPrefix(t, "--") || strings.HasPrefix(t, "/*") {
		return false
	}
	if line[0] == ' ' || line[0] == '\t' {
		// Indented lines continue a statement; prose is not indented.
		return false
	}
	return markdownRe.MatchString(t) || proseRe.MatchString(t) || proseLabelRe.MatchString(t) ||
		strings.HasPrefix(t, "```") || strings.HasPrefix(t, "~~~")
}
