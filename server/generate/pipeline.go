// Package generate is the question-to-SQL pipeline: link the question to
// the caller's tables, prompt the model, extract and validate its SQL, feed
// violations back for a bounded number of attempts, and cache answers.
// Nothing leaves it as runnable SQL unless the validator accepted it for the
// asking caller.
package generate

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	lru "github.com/hashicorp/golang-lru/v2"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	texttosqlv1 "github.com/texttosql/text2sql/proto/texttosql/v1"
	"github.com/texttosql/text2sql/schema/link"
	"github.com/texttosql/text2sql/server"
	"github.com/texttosql/text2sql/server/llm"
	"github.com/texttosql/text2sql/validate"
)

// Model is the part of the LLM client the pipeline uses.
type Model interface {
	Complete(ctx context.Context, msgs []llm.Message, opts ...llm.CallOption) (*llm.Completion, error)
	Config() llm.Config
}

// Config tunes the pipeline. Zero fields take the defaults shown.
type Config struct {
	// MaxAttempts bounds the model calls per question (3).
	MaxAttempts int
	// SchemaBudget is the most tokens the linked schema may take (3000).
	SchemaBudget int
	// Examples is how many approved examples go into a prompt (3).
	Examples int
	// SupersetURL is Superset's public address, for SQL Lab links.
	SupersetURL string
}

// Pipeline implements server.Generator.
type Pipeline struct {
	cfg      Config
	model    Model
	linker   *link.Linker
	examples *Examples
	cache    Cache
	dryRun   dryRuns
	metrics  *Metrics
	// verdicts memoizes the validator on cached answers. A verdict depends
	// only on the SQL, the catalog version, the rules' fingerprint and the
	// row cap, all in its key, so a memoized verdict is the verdict the
	// caller's current rules give.
	verdicts *lru.Cache[string, *validate.Result]
}

// Option adds an optional part.
type Option func(*Pipeline)

// WithExamples adds approved examples to prompts.
func WithExamples(x *Examples) Option { return func(p *Pipeline) { p.examples = x } }

// WithCache caches answers.
func WithCache(c Cache) Option { return func(p *Pipeline) { p.cache = c } }

// WithDryRun plans every valid candidate against database's warehouse,
// reached at dsn (a PostgreSQL URL or a MySQL DSN) with a statement timeout
// and, for PostgreSQL, a cost ceiling (0: none). The connection is made on
// first use.
func WithDryRun(database, dsn string, timeout time.Duration, maxCost float64) Option {
	return func(p *Pipeline) {
		p.dryRun.targets[database] = dryRunTarget{dsn: dsn, timeout: timeout, maxCost: maxCost}
	}
}

// WithMetrics records pipeline metrics.
func WithMetrics(m *Metrics) Option { return func(p *Pipeline) { p.metrics = m } }

// New returns a pipeline answering with model and linking with linker.
func New(cfg Config, model Model, linker *link.Linker, opts ...Option) *Pipeline {
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 3
	}
	if cfg.SchemaBudget <= 0 {
		cfg.SchemaBudget = 3000
	}
	if cfg.Examples == 0 {
		cfg.Examples = 3
	}
	p := &Pipeline{cfg: cfg, model: model, linker: linker,
		dryRun: dryRuns{targets: map[string]dryRunTarget{}, runners: map[string]DryRunner{}}}
	for _, o := range opts {
		o(p)
	}
	if p.metrics == nil {
		p.metrics = NewMetrics(nil)
	}
	p.verdicts, _ = lru.New[string, *validate.Result](4096)
	return p
}

// Generate answers one question; see server.Generator.
func (p *Pipeline) Generate(ctx context.Context, in *server.GenerateInput) (*texttosqlv1.GenerateSQLResponse, error) {
	req, db := in.Request, in.Entry.Database
	maxRows := in.Rules.MaxRows()
	if n := int(req.GetMaxRows()); n > 0 && n < maxRows {
		maxRows = n
	}
	history := make([]Turn, 0, len(req.GetHistory()))
	var historyQuestions []string
	for _, h := range req.GetHistory() {
		history = append(history, Turn{Question: h.GetQuestion(), SQL: h.GetSql()})
		historyQuestions = append(historyQuestions, h.GetQuestion())
	}
	resp := &texttosqlv1.GenerateSQLResponse{
		Dialect:   db.Dialect(),
		RequestId: in.RequestID,
		Database:  db.Name,
		Schema:    db.DefaultSchema,
	}
	validateSQL := func(sql string) *validate.Result {
		return in.Validator.Validate(validate.Request{SQL: sql, Database: db, Rules: in.Rules, MaxRows: maxRows})
	}

	key := CacheKey{
		Database: db.Name, CatalogVersion: in.Entry.Status.Version, Scope: in.Rules.Fingerprint(),
		Question: req.GetQuestion(), History: historyQuestions, Model: p.model.Config().Model,
		PromptVersion: PromptVersion, MaxRows: maxRows,
	}.String()
	if p.cache != nil && !req.GetSkipCache() {
		if res, ok := p.fromCache(ctx, in, key, validateSQL); ok {
			resp.Sql, resp.Tables, resp.Cached = res.SQL, res.Tables, true
			resp.SqllabUrl = SQLLabURL(p.cfg.SupersetURL, db.ID, db.DefaultSchema, res.SQL)
			return resp, nil
		}
	}

	linked, err := p.linker.Link(db, link.Query{
		Question:      strings.Join(append(historyQuestions, req.GetQuestion()), "\n"),
		Budget:        p.cfg.SchemaBudget,
		Visible:       in.Rules.TableAllowed,
		ColumnVisible: in.Rules.ColumnAllowed,
		Version:       in.Entry.Status.Version,
	})
	if err != nil {
		return nil, status.Errorf(codes.Internal, "linking the question to the schema failed: %v", err)
	}
	p.metrics.linkedTables.Observe(float64(len(linked.Tables)))
	p.metrics.linkedTokens.Observe(float64(linked.Tokens))
	if len(linked.Tables) == 0 {
		return nil, p.refuse(in, resp, nil, fmt.Sprintf("none of the tables you may read in database %s matches the question", db.Name))
	}

	msgs := messages(promptInput{
		Dialect: db.Dialect(), Database: db.Name, DefaultSchema: db.DefaultSchema, MaxRows: maxRows,
		Schema:   linked.Text,
		Examples: p.examples.Similar(in.Validator, db, in.Rules, req.GetQuestion(), p.cfg.Examples),
		History:  history, Question: req.GetQuestion(),
	})
	usage := &texttosqlv1.Usage{}
	resp.Usage = usage
	for n := 1; n <= p.cfg.MaxAttempts; n++ {
		start := time.Now()
		c, err := p.model.Complete(ctx, msgs)
		if err != nil {
			return nil, p.modelError(ctx, in, err)
		}
		usage.PromptTokens += int32(c.Usage.PromptTokens)
		usage.CompletionTokens += int32(c.Usage.CompletionTokens)
		usage.TotalTokens += int32(c.Usage.TotalTokens)
		attempt := &texttosqlv1.Attempt{Number: int32(n)}
		resp.Attempts = append(resp.Attempts, attempt)
		var feedback string
		sql, err := c.SQL()
		switch {
		case err != nil:
			attempt.Error = err.Error()
			feedback = repairMessage(nil, noSQLReason(err), "")
			p.metrics.attemptOutcome.WithLabelValues("no_sql").Inc()
		default:
			attempt.Sql = sql
			res := validateSQL(sql)
			if !res.Valid {
				attempt.Violations = toProto(res.Violations)
				for _, v := range res.Violations {
					p.metrics.violations.WithLabelValues(v.Code).Inc()
				}
				feedback = repairMessage(res.Violations, "", "")
				p.metrics.attemptOutcome.WithLabelValues("invalid").Inc()
				break
			}
			if d, err := p.dryRun.runner(ctx, db); err != nil {
				in.Logger.Warn("dry run unavailable", "database", db.Name, "err", err)
				p.metrics.attemptOutcome.WithLabelValues("dry_run_unavailable").Inc()
			} else if d != nil {
				if err := d.Explain(ctx, res.SQL); err != nil {
					var pe *PlanError
					if !errors.As(err, &pe) {
						// The warehouse itself is unreachable: say so in the
						// attempt but do not blame the statement.
						in.Logger.Warn("dry run failed", "database", db.Name, "err", err)
						p.metrics.attemptOutcome.WithLabelValues("dry_run_unavailable").Inc()
					} else {
						attempt.Error = "dry run: " + err.Error()
						feedback = repairMessage(nil, "", err.Error())
						p.metrics.attemptOutcome.WithLabelValues("dry_run_failed").Inc()
						break
					}
				}
			}
			p.metrics.attemptOutcome.WithLabelValues("valid").Inc()
			p.metrics.attempts.Observe(float64(n))
			resp.Sql, resp.Tables = res.SQL, res.Tables
			resp.SqllabUrl = SQLLabURL(p.cfg.SupersetURL, db.ID, db.DefaultSchema, res.SQL)
			p.store(ctx, in, key, res.SQL, c.Model)
			in.Logger.Info("generated", "attempts", n, "tables", res.Tables, "latency_ms", time.Since(start).Milliseconds())
			return resp, nil
		}
		msgs = append(msgs,
			llm.Message{Role: llm.RoleAssistant, Content: clip(c.Text, 4000)},
			llm.Message{Role: llm.RoleUser, Content: feedback})
	}
	p.metrics.attempts.Observe(float64(p.cfg.MaxAttempts))
	return nil, p.refuse(in, resp, resp.Attempts[len(resp.Attempts)-1], "")
}

// refuse builds the FAILED_PRECONDITION answer: no attempt produced SQL
// the caller may run.
func (p *Pipeline) refuse(in *server.GenerateInput, resp *texttosqlv1.GenerateSQLResponse, last *texttosqlv1.Attempt, why string) error {
	p.metrics.outcome.WithLabelValues("refused").Inc()
	if why == "" {
		why = fmt.Sprintf("no valid SQL after %d attempts", len(resp.Attempts))
		switch {
		case len(last.GetViolations()) > 0:
			var parts []string
			for _, v := range last.GetViolations() {
				parts = append(parts, v.GetCode()+": "+v.GetMessage())
			}
			why += "; the last answer was refused: " + strings.Join(parts, "; ")
		case last.GetError() != "":
			why += "; the last answer: " + last.GetError()
		}
	}
	st, err := status.New(codes.FailedPrecondition, why).WithDetails(&texttosqlv1.GenerationFailure{
		Attempts: resp.Attempts, Violations: last.GetViolations(), RequestId: in.RequestID,
	})
	if err != nil {
		return status.Error(codes.FailedPrecondition, why)
	}
	return st.Err()
}

// modelError maps a failed model call to the status the caller sees.
func (p *Pipeline) modelError(ctx context.Context, in *server.GenerateInput, err error) error {
	p.metrics.outcome.WithLabelValues("model_error").Inc()
	code := llm.GRPCCode(err)
	if ctx.Err() != nil {
		code = status.FromContextError(ctx.Err()).Code()
	}
	in.Logger.Warn("model call failed", "kind", string(llm.KindOf(err)), "err", err)
	switch code {
	case codes.DeadlineExceeded:
		return status.Error(code, "the request's deadline passed while waiting for the model")
	case codes.Canceled:
		return status.Error(code, "the request was cancelled")
	case codes.Unavailable:
		return status.Errorf(code, "the model endpoint is unavailable (%s); try again later", llm.KindOf(err))
	}
	return status.Error(codes.Internal, "the model endpoint rejected the service's request; see the service log")
}

func (p *Pipeline) fromCache(ctx context.Context, in *server.GenerateInput, key string, validateSQL func(string) *validate.Result) (*validate.Result, bool) {
	a, ok, err := p.cache.Get(ctx, key)
	if err != nil {
		in.Logger.Warn("answer cache unavailable", "err", err)
		p.metrics.cache.WithLabelValues("error").Inc()
		return nil, false
	}
	if !ok {
		p.metrics.cache.WithLabelValues("miss").Inc()
		return nil, false
	}
	// The key already holds the caller's scope; judging again guards
	// against an entry written by another replica or release.
	vkey := verdictKey(a.SQL, key)
	res, ok := p.verdicts.Get(vkey)
	if !ok {
		res = validateSQL(a.SQL)
		p.verdicts.Add(vkey, res)
	}
	if !res.Valid {
		p.metrics.cache.WithLabelValues("invalidated").Inc()
		return nil, false
	}
	p.metrics.cache.WithLabelValues("hit").Inc()
	p.metrics.outcome.WithLabelValues("cached").Inc()
	return res, true
}

func (p *Pipeline) store(ctx context.Context, in *server.GenerateInput, key, sql, model string) {
	p.metrics.outcome.WithLabelValues("generated").Inc()
	if p.cache == nil {
		return
	}
	if err := p.cache.Set(ctx, key, &Answer{SQL: sql, Model: model, Created: time.Now().UTC()}); err != nil {
		in.Logger.Warn("answer cache unavailable", "err", err)
		p.metrics.cache.WithLabelValues("error").Inc()
	}
}

// Close releases dry-run connections.
func (p *Pipeline) Close() { p.dryRun.close() }

// verdictKey identifies a judgement: the SQL under the answer key, which
// holds the database, catalog version, rules fingerprint and row cap.
func verdictKey(sql, answerKey string) string {
	h := sha256.New()
	h.Write([]byte(answerKey))
	h.Write([]byte{0})
	h.Write([]byte(sql))
	return string(h.Sum(nil))
}

func toProto(vs []validate.Violation) []*texttosqlv1.Violation {
	out := make([]*texttosqlv1.Violation, len(vs))
	for i, v := range vs {
		out[i] = &texttosqlv1.Violation{Code: v.Code, Message: v.Message,
			Position: int32(v.Position), Line: int32(v.Line), Column: int32(v.Column)}
	}
	return out
}

func noSQLReason(err error) string {
	var ns *llm.NoSQLError
	if errors.As(err, &ns) {
		return ns.Reason
	}
	return err.Error()
}

// clip shortens s to at most n bytes without splitting a character.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

var _ server.Generator = (*Pipeline)(nil)
