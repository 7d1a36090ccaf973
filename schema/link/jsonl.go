package link

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/texttosql/text2sql/schema"
)

// JSONLRequest is one input line of RunJSONL.
type JSONLRequest struct {
	// ID is echoed back unchanged; any JSON value.
	ID json.RawMessage `json:"id"`
	// Database names the database (name or Superset id); empty means the
	// default database.
	Database string `json:"database"`
	Question string `json:"question"`
}

// JSONLResult is one output line of RunJSONL for a question that linked.
// The shape is a contract: {"id": ..., "tables": ["schema.table", ...],
// "tokens": N}, tables best first, tokens the size of the schema context the
// prompt would carry.
type JSONLResult struct {
	ID     json.RawMessage `json:"id"`
	Tables []string        `json:"tables"`
	Tokens int             `json:"tokens"`
}

// JSONLError is the output line for an input line that could not be
// linked: {"id": ..., "error": "..."}. id is null when the line had none
// (or was not JSON).
type JSONLError struct {
	ID    json.RawMessage `json:"id"`
	Error string          `json:"error"`
}

// maxLine bounds one input line; longer lines are answered with an error
// line rather than read into memory whole.
const maxLine = 1 << 20

// RunJSONL links a stream of questions with the default Linker. See
// Linker.RunJSONL.
func RunJSONL(r io.Reader, w io.Writer, catalog *schema.Catalog, visibility func(*schema.Database) Visibility, defaultDatabase string, budget int) error {
	l, err := Default()
	if err != nil {
		return err
	}
	return l.RunJSONL(r, w, catalog, visibility, defaultDatabase, budget)
}

// RunJSONL reads one JSON object per line, {"id": ..., "database": ...,
// "question": ...}, and writes one line per input line, in order:
// {"id": ..., "tables": [...], "tokens": N} when it linked, or
// {"id": ..., "error": "..."} when the line is not valid JSON, has no
// question, names an unknown database, or asks for no database when there
// is no default. Blank lines are skipped. A bad line never stops the run:
// only a failure to read r or write w is returned. budget ≤ 0 means the
// Linker's default. visibility gives what may be seen of a database; nil
// shows everything.
func (l *Linker) RunJSONL(r io.Reader, w io.Writer, catalog *schema.Catalog, visibility func(*schema.Database) Visibility, defaultDatabase string, budget int) error {
	br := bufio.NewReaderSize(r, 64<<10)
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	versions := map[*schema.Database]string{}
	for {
		line, tooLong, err := readLine(br)
		if len(line) > 0 || tooLong {
			out := l.jsonlLine(line, tooLong, catalog, visibility, defaultDatabase, budget, versions)
			if werr := enc.Encode(out); werr != nil {
				return werr
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
	}
	return bw.Flush()
}

// readLine returns the next line without its line break, trimmed of
// surrounding white space; tooLong is set (and the rest of the line
// skipped) when it exceeds maxLine.
func readLine(br *bufio.Reader) (line []byte, tooLong bool, err error) {
	var buf []byte
	for {
		part, isPrefix, err := br.ReadLine()
		if !tooLong {
			buf = append(buf, part...)
			if len(buf) > maxLine {
				tooLong, buf = true, nil
			}
		}
		if err != nil || !isPrefix {
			return bytes.TrimSpace(buf), tooLong, err
		}
	}
}

func (l *Linker) jsonlLine(line []byte, tooLong bool, catalog *schema.Catalog, visibility func(*schema.Database) Visibility, defaultDatabase string, budget int, versions map[*schema.Database]string) any {
	fail := func(id json.RawMessage, format string, args ...any) JSONLError {
		if len(id) == 0 {
			id = json.RawMessage("null")
		}
		return JSONLError{ID: id, Error: fmt.Sprintf(format, args...)}
	}
	if tooLong {
		return fail(nil, "line longer than %d bytes", maxLine)
	}
	var req JSONLRequest
	dec := json.NewDecoder(bytes.NewReader(line))
	if err := dec.Decode(&req); err != nil {
		return fail(nil, "invalid JSON: %v", err)
	}
	if dec.More() {
		return fail(req.ID, "invalid JSON: more than one value on the line")
	}
	id := req.ID
	if len(id) == 0 {
		id = json.RawMessage("null")
	} else {
		var buf bytes.Buffer
		if err := json.Compact(&buf, id); err == nil {
			id = buf.Bytes()
		}
	}
	if req.Question == "" {
		return fail(id, "question is required")
	}
	name := req.Database
	if name == "" {
		name = defaultDatabase
	}
	if name == "" {
		return fail(id, "database is required (no default database)")
	}
	if catalog == nil {
		return fail(id, "unknown database %q", name)
	}
	db := catalog.Database(name)
	if db == nil {
		return fail(id, "unknown database %q", name)
	}
	v, ok := versions[db]
	if !ok {
		v = db.Version()
		versions[db] = v
	}
	q := Query{Question: req.Question, Budget: budget, Version: v}
	if visibility != nil {
		q.Visibility = visibility(db)
	}
	res, err := l.Link(db, q)
	if err != nil {
		if errors.Is(err, ErrNoDatabase) {
			return fail(id, "unknown database %q", name)
		}
		return fail(id, "%v", err)
	}
	return JSONLResult{ID: id, Tables: res.Names(), Tokens: res.Tokens}
}
