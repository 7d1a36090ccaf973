package golden

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/texttosql/text2sql/golden/execdb"
	texttosqlv1 "github.com/texttosql/text2sql/proto/texttosql/v1"
	"github.com/texttosql/text2sql/schema"
)

// Transports a case can be asked over.
const (
	HTTP = "http"
	GRPC = "grpc"
)

// Executors run SQL on the warehouses holding a set's databases, each
// statement in a read-only transaction with a timeout.
type Executors struct {
	Postgres *execdb.Postgres
	MariaDB  *execdb.MariaDB
	Timeout  time.Duration
}

func (e *Executors) runner(db *schema.Database) execdb.Runner {
	switch db.Dialect() {
	case schema.DialectPostgres:
		if e.Postgres != nil {
			return e.Postgres
		}
	case schema.DialectMySQL:
		if e.MariaDB != nil {
			return e.MariaDB
		}
	}
	return nil
}

// RunOptions say how to run a set.
type RunOptions struct {
	// Transports to ask every case over; default both.
	Transports []string
	// Exec, when set, runs generated and gold SQL and compares results.
	Exec *Executors
	// Recorder, when set, is told which case is asked (recording runs).
	Recorder *Recorder
	// Replayer, when set, is asked for misses after each case.
	Replayer *Replayer
	// Progress receives a progress line per case; nil is quiet.
	Progress *Progress
}

// Outcome is what happened to one case over one transport.
type Outcome struct {
	Case      *Case
	Transport string
	// SQL is the runnable statement returned; empty when none was.
	SQL    string
	Tables []string
	// SQLLabURL opens SQL in SQL Lab.
	SQLLabURL string
	// Refused is a FAILED_PRECONDITION answer: no valid SQL.
	Refused bool
	// Code is the RPC's status code.
	Code codes.Code
	// Err is the message of any other failure (model endpoint, transport).
	Err      string
	Attempts []*texttosqlv1.Attempt
	// Violations of the last attempt.
	Violations []*texttosqlv1.Violation
	Latency    time.Duration
	Tokens     int
	// Problems are the expectations the answer broke.
	Problems []string
	// Executed is set when the answer's and the gold's results were compared.
	Executed bool
	Exact    bool
	Subset   bool
	// ExecErr says why execution or comparison failed.
	ExecErr string
	// Missing are unrecorded requests this case made (replay).
	Missing []Miss
}

// Correct: the case's expectations hold and, where results were compared,
// they match the way Defog's sql-eval counts a match (exact, or the answer
// has extra columns).
func (o *Outcome) Correct() bool {
	if len(o.Problems) > 0 {
		return false
	}
	if o.Case.Expect.MustRefuse {
		return o.Refused
	}
	return o.SQL != "" && (!o.Executed || o.Exact || o.Subset)
}

// Run asks every case of set over each transport, in order.
func Run(ctx context.Context, set *Set, st *Stack, cat *schema.Catalog, o RunOptions) []*Outcome {
	transports := o.Transports
	if len(transports) == 0 {
		transports = []string{HTTP, GRPC}
	}
	golds := newGoldCache(o.Exec)
	var out []*Outcome
	for i := range set.Cases {
		c := &set.Cases[i]
		if o.Recorder != nil {
			o.Recorder.SetCase(c)
		}
		for _, tr := range transports {
			oc := ask(ctx, st, c, tr)
			if o.Replayer != nil {
				oc.Missing = o.Replayer.Misses()
				if len(oc.Missing) > 0 {
					oc.Problems = append(oc.Problems, fmt.Sprintf("%d model request(s) not recorded in %s", len(oc.Missing), set.CassettePath()))
				}
			}
			expect(oc)
			if o.Exec != nil && oc.SQL != "" && len(c.Gold) > 0 {
				execute(ctx, o.Exec, golds, cat.Database(c.Database), oc)
			}
			out = append(out, oc)
			o.Progress.Done(set.Name, oc)
		}
	}
	return out
}

// ask sends one case over one transport.
func ask(ctx context.Context, st *Stack, c *Case, transport string) *Outcome {
	req := &texttosqlv1.GenerateSQLRequest{Database: c.Database, Question: c.Question}
	for _, h := range c.History {
		req.History = append(req.History, &texttosqlv1.ConversationTurn{Question: h.Question, Sql: h.SQL})
	}
	if c.Scope != nil {
		req.Scope = &texttosqlv1.CallerScope{DatasetIds: c.Scope.DatasetIDs, User: "golden"}
	}
	o := &Outcome{Case: c, Transport: transport}
	start := time.Now()
	var resp *texttosqlv1.GenerateSQLResponse
	var err error
	if transport == GRPC {
		resp, err = st.Client.GenerateSQL(metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+st.Token), req)
	} else {
		resp, err = postGenerate(ctx, st, req)
	}
	o.Latency = time.Since(start)
	if err != nil {
		s := status.Convert(err)
		o.Code = s.Code()
		if s.Code() != codes.FailedPrecondition {
			o.Err = s.Message()
			return o
		}
		o.Refused = true
		for _, d := range s.Details() {
			if f, ok := d.(*texttosqlv1.GenerationFailure); ok {
				o.Attempts, o.Violations = f.Attempts, f.Violations
			}
		}
		return o
	}
	o.SQL, o.Tables, o.Attempts, o.SQLLabURL = resp.Sql, resp.Tables, resp.Attempts, resp.SqllabUrl
	o.Tokens = int(resp.GetUsage().GetTotalTokens())
	return o
}

// postGenerate calls GenerateSQL through the HTTP gateway and turns an
// error answer back into a status, details included.
func postGenerate(ctx context.Context, st *Stack, req *texttosqlv1.GenerateSQLRequest) (*texttosqlv1.GenerateSQLResponse, error) {
	body, err := protojson.Marshal(req)
	if err != nil {
		return nil, err
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, st.BaseURL+"/v1/sql:generate", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	hr.Header.Set("Content-Type", "application/json")
	hr.Header.Set("Authorization", "Bearer "+st.Token)
	res, err := http.DefaultClient.Do(hr)
	if err != nil {
		return nil, status.Error(codes.Unavailable, err.Error())
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, status.Error(codes.Unavailable, err.Error())
	}
	if res.StatusCode != http.StatusOK {
		var sp statusJSON
		if err := json.Unmarshal(data, &sp); err != nil {
			return nil, status.Errorf(codes.Unknown, "HTTP %d: %s", res.StatusCode, data)
		}
		return nil, sp.err(data)
	}
	var out texttosqlv1.GenerateSQLResponse
	if err := protojson.Unmarshal(data, &out); err != nil {
		return nil, status.Errorf(codes.Internal, "undecodable answer: %v", err)
	}
	return &out, nil
}

// statusJSON is the gateway's error body, a google.rpc.Status.
type statusJSON struct {
	Code    codes.Code        `json:"code"`
	Message string            `json:"message"`
	Details []json.RawMessage `json:"details"`
}

func (s statusJSON) err([]byte) error {
	st := status.New(s.Code, s.Message)
	for _, d := range s.Details {
		var f texttosqlv1.GenerationFailure
		if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(d, &f); err == nil && (len(f.Attempts) > 0 || f.RequestId != "") {
			if withDetails, err := st.WithDetails(&f); err == nil {
				st = withDetails
			}
		}
	}
	return st.Err()
}

// expect checks the case's expectations against the outcome.
func expect(o *Outcome) {
	c := o.Case
	switch {
	case o.Err != "":
		o.Problems = append(o.Problems, fmt.Sprintf("%s: %s", o.Code, o.Err))
	case c.Expect.MustRefuse && !o.Refused:
		o.Problems = append(o.Problems, "answered with SQL a question that must be refused: "+o.SQL)
	case c.Expect.MustRefuse:
		got := map[string]bool{}
		for _, v := range o.Violations {
			got[v.Code] = true
		}
		for _, want := range c.Expect.Codes {
			if !got[want] {
				o.Problems = append(o.Problems, fmt.Sprintf("the refusal lacks %s (last attempt: %v)", want, o.Violations))
			}
		}
	case o.Refused:
		o.Problems = append(o.Problems, fmt.Sprintf("refused: %v", o.Violations))
	default:
		for _, t := range c.Expect.Tables {
			if !slices.Contains(o.Tables, t) {
				o.Problems = append(o.Problems, fmt.Sprintf("does not read %s (reads %v)", t, o.Tables))
			}
		}
	}
}

// goldCache keeps each case's gold results: both transports compare with
// the same ones.
type goldCache struct {
	exec *Executors
	byID map[string][]execdb.Gold
	errs map[string]string
}

func newGoldCache(e *Executors) *goldCache {
	return &goldCache{exec: e, byID: map[string][]execdb.Gold{}, errs: map[string]string{}}
}

func (g *goldCache) get(ctx context.Context, r execdb.Runner, db *schema.Database, c *Case) ([]execdb.Gold, string) {
	if golds, ok := g.byID[c.ID]; ok || g.errs[c.ID] != "" {
		return golds, g.errs[c.ID]
	}
	var golds []execdb.Gold
	for _, q := range c.Gold {
		res, err := r.Run(ctx, db.Name, q, g.exec.Timeout)
		if err != nil {
			g.errs[c.ID] = fmt.Sprintf("gold query fails: %v", err)
			return nil, g.errs[c.ID]
		}
		ordered, err := execdb.HasOuterOrderBy(db.Dialect(), q)
		if err != nil {
			g.errs[c.ID] = fmt.Sprintf("gold query: %v", err)
			return nil, g.errs[c.ID]
		}
		golds = append(golds, execdb.Gold{Result: res, Options: execdb.CompareOptions{Ordered: ordered}})
	}
	g.byID[c.ID] = golds
	return golds, ""
}

// execute runs the answer and compares its result with the gold ones.
func execute(ctx context.Context, e *Executors, golds *goldCache, db *schema.Database, o *Outcome) {
	r := e.runner(db)
	if r == nil {
		return
	}
	o.Executed = true
	gold, problem := golds.get(ctx, r, db, o.Case)
	if problem != "" {
		o.ExecErr = problem
		o.Problems = append(o.Problems, problem)
		return
	}
	res, err := r.Run(ctx, db.Name, o.SQL, e.Timeout)
	if err != nil {
		o.ExecErr = fmt.Sprintf("the answer fails: %v", err)
		return
	}
	v, _ := execdb.CompareAny(gold, res)
	o.Exact, o.Subset = v.Exact, v.Subset
	if !v.Exact && !v.Subset {
		o.ExecErr = v.Reason
	}
}
