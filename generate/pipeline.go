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
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/texttosql/text2sql/llm"
	"github.com/texttosql/text2sql/schema/link"
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

// Pipeline answers questions; the server serves it as GenerateSQL.
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

// Generate answers one question with SQL the caller's rules accept. It
// returns a *Refusal when no attempt produced such SQL; an error from the
// model client (an *llm.Error), or the request's context error, when the
// model could not be asked.
func (p *Pipeline) Generate(ctx context.Context, req *Request) (*Answer, error) {
	db := req.Catalog.Database
	log := req.Logger
	if log == nil {
		log = discard
	}
	maxRows := req.Rules.MaxRows()
	if n := req.MaxRows; n > 0 && n < maxRows {
		maxRows = n
	}
	historyQuestions := make([]string, 0, len(req.History))
	for _, h := range req.History {
		historyQuestions = append(historyQuestions, h.Question)
	}
	ans := &Answer{Dialect: db.Dialect(), Database: db.Name, Schema: db.DefaultSchema}
	validateSQL := func(sql string) *validate.Result {
		return req.Validator.Validate(validate.Request{SQL: sql, Database: db, Rules: req.Rules, MaxRows: maxRows})
	}

	key := CacheKey{
		Database: db.Name, CatalogVersion: req.Catalog.Status.Version, Scope: req.Rules.Fingerprint(),
		Question: req.Question, History: historyQuestions, Model: p.model.Config().Model,
		PromptVersion: PromptVersion, MaxRows: maxRows,
	}.String()
	if p.cache != nil && !req.SkipCache {
		if res, ok := p.fromCache(ctx, log, key, validateSQL); ok {
			ans.SQL, ans.Tables, ans.Cached = res.SQL, res.Tables, true
			ans.SQLLabURL = SQLLabURL(p.cfg.SupersetURL, db.ID, db.DefaultSchema, res.SQL)
			return ans, nil
		}
	}

	linked, err := p.linker.Link(db, link.Query{
		Question:   strings.Join(append(historyQuestions, req.Question), "\n"),
		Budget:     p.cfg.SchemaBudget,
		Visibility: req.Rules,
		Version:    req.Catalog.Status.Version,
	})
	if err != nil {
		return nil, fmt.Errorf("linking the question to the schema: %w", err)
	}
	p.metrics.linkedTables.Observe(float64(len(linked.Tables)))
	p.metrics.linkedTokens.Observe(float64(linked.Tokens))
	if len(linked.Tables) == 0 {
		return nil, p.refuse(nil, fmt.Sprintf("none of the tables you may read in database %s matches the question", db.Name))
	}

	msgs := messages(promptInput{
		Dialect: db.Dialect(), Database: db.Name, DefaultSchema: db.DefaultSchema, MaxRows: maxRows,
		Schema:   linked.Text,
		Examples: p.examples.Similar(req.Validator, db, req.Rules, req.Question, p.cfg.Examples),
		History:  req.History, Question: req.Question,
	})
	for n := 1; n <= p.cfg.MaxAttempts; n++ {
		start := time.Now()
		c, err := p.model.Complete(ctx, msgs)
		if err != nil {
			p.metrics.outcome.WithLabelValues("model_error").Inc()
			log.Warn("model call failed", "kind", string(llm.KindOf(err)), "err", err)
			if ctx.Err() != nil {
				// The caller's deadline or cancellation, not the model,
				// ended the call.
				return nil, fmt.Errorf("waiting for the model: %w", ctx.Err())
			}
			return nil, err
		}
		ans.Usage.PromptTokens += c.Usage.PromptTokens
		ans.Usage.CompletionTokens += c.Usage.CompletionTokens
		ans.Usage.TotalTokens += c.Usage.TotalTokens
		ans.Attempts = append(ans.Attempts, Attempt{Number: n})
		attempt := &ans.Attempts[len(ans.Attempts)-1]
		var feedback string
		sql, err := c.SQL()
		switch {
		case err != nil:
			attempt.Error = err.Error()
			feedback = repairMessage(nil, noSQLReason(err), "")
			p.metrics.attemptOutcome.WithLabelValues("no_sql").Inc()
		default:
			attempt.SQL = sql
			res := validateSQL(sql)
			if !res.Valid {
				attempt.Violations = res.Violations
				for _, v := range res.Violations {
					p.metrics.violations.WithLabelValues(v.Code).Inc()
				}
				feedback = repairMessage(res.Violations, "", "")
				p.metrics.attemptOutcome.WithLabelValues("invalid").Inc()
				break
			}
			if d, err := p.dryRun.runner(ctx, db); err != nil {
				log.Warn("dry run unavailable", "database", db.Name, "err", err)
				p.metrics.attemptOutcome.WithLabelValues("dry_run_unavailable").Inc()
			} else if d != nil {
				if err := d.Explain(ctx, res.SQL); err != nil {
					var pe *PlanError
					if !errors.As(err, &pe) {
						// The warehouse itself is unreachable: say so in the
						// attempt but do not blame the statement.
						log.Warn("dry run failed", "database", db.Name, "err", err)
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
			ans.SQL, ans.Tables = res.SQL, res.Tables
			ans.SQLLabURL = SQLLabURL(p.cfg.SupersetURL, db.ID, db.DefaultSchema, res.SQL)
			p.store(ctx, log, key, res.SQL, c.Model)
			log.Info("generated", "attempts", n, "tables", res.Tables, "latency_ms", time.Since(start).Milliseconds())
			return ans, nil
		}
		msgs = append(msgs,
			llm.Message{Role: llm.RoleAssistant, Content: clip(c.Text, 4000)},
			llm.Message{Role: llm.RoleUser, Content: feedback})
	}
	p.metrics.attempts.Observe(float64(p.cfg.MaxAttempts))
	return nil, p.refuse(ans.Attempts, "")
}

// refuse counts and returns a refusal: no attempt produced SQL the caller
// may run.
func (p *Pipeline) refuse(attempts []Attempt, why string) *Refusal {
	p.metrics.outcome.WithLabelValues("refused").Inc()
	return newRefusal(attempts, why)
}

func (p *Pipeline) fromCache(ctx context.Context, log *slog.Logger, key string, validateSQL func(string) *validate.Result) (*validate.Result, bool) {
	a, ok, err := p.cache.Get(ctx, key)
	if err != nil {
		log.Warn("answer cache unavailable", "err", err)
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

func (p *Pipeline) store(ctx context.Context, log *slog.Logger, key, sql, model string) {
	p.metrics.outcome.WithLabelValues("generated").Inc()
	if p.cache == nil {
		return
	}
	if err := p.cache.Set(ctx, key, &CachedAnswer{SQL: sql, Model: model, Created: time.Now().UTC()}); err != nil {
		log.Warn("answer cache unavailable", "err", err)
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

// discard is the logger of a request that brings none.
var discard = slog.New(slog.DiscardHandler)
