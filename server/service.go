// Package server is the text2sql service: the TextToSQLService RPCs over a
// schema.Store and the validator, the interceptors every call goes through
// (request id, logs, metrics, recovery, auth, limits, deadline), the HTTP
// gateway with health, readiness, metrics and OpenAPI endpoints, and the
// lifecycle of both listeners with a draining shutdown.
package server

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	texttosqlv1 "github.com/texttosql/text2sql/proto/texttosql/v1"
	"github.com/texttosql/text2sql/schema"
	"github.com/texttosql/text2sql/validate"
)

// Defaults for zero-valued Config fields.
const (
	DefaultMaxSQLBytes      = validate.DefaultMaxSQLBytes
	DefaultMaxQuestionBytes = 16 << 10
	DefaultMaxRequestBytes  = 1 << 20
	DefaultMaxHistoryTurns  = 10
	DefaultMaxHistoryBytes  = 16 << 10
	DefaultRequestTimeout   = 60 * time.Second
	DefaultShutdownGrace    = 25 * time.Second
	DefaultHTTPAddr         = "127.0.0.1:8080"
	DefaultGRPCAddr         = "127.0.0.1:9090"
)

// Config configures the service and its server. Only Store is required.
type Config struct {
	// Store serves the database catalogs.
	Store schema.Store
	// Policy is the operator's allow/deny policy; nil allows every table
	// of the catalog with the default row cap.
	Policy *validate.Policy
	// Validator is shared by every request (and handed to the Generator);
	// nil creates one.
	Validator *validate.Validator
	// Generator answers GenerateSQL; nil answers UNIMPLEMENTED.
	Generator Generator
	// Model says which model answers GenerateSQL and why, for /readyz and
	// the question page.
	Model ModelInfo
	// ScopeResolver scopes requests that carry an end user's Superset
	// token; nil ignores such tokens.
	ScopeResolver ScopeResolver
	// Callers are the service callers and their tokens. Empty means every
	// request is anonymous and untrusted.
	Callers []CallerToken
	// Limits apply per caller.
	Limits Limits

	// MaxSQLBytes caps ValidateSQL's sql.
	MaxSQLBytes int
	// MaxQuestionBytes caps GenerateSQL's question.
	MaxQuestionBytes int
	// MaxRequestBytes caps an HTTP request body and a gRPC message.
	MaxRequestBytes int
	// MaxHistoryTurns and MaxHistoryBytes cap GenerateSQL's history: the
	// number of earlier turns, and their questions and SQL together. Every
	// turn goes into the prompt of every attempt, so they keep the prompt
	// within the model's context however the caller builds the history.
	MaxHistoryTurns int
	MaxHistoryBytes int
	// RequestTimeout is the deadline of a request whose caller set none.
	RequestTimeout time.Duration
	// LogQuestions lets debug logs carry questions and SQL text.
	LogQuestions bool

	// Logger receives structured logs; nil uses slog.Default().
	Logger *slog.Logger
	// Registry receives the service's metrics and is served at /metrics;
	// nil creates one with the Go and process collectors.
	Registry *prometheus.Registry

	// HTTPAddr and GRPCAddr are the listen addresses (host:port; port 0
	// picks a free one).
	HTTPAddr string
	GRPCAddr string
	// ShutdownDelay is how long the server keeps accepting requests after
	// it reports not ready, so load balancers stop sending first.
	ShutdownDelay time.Duration
	// ShutdownGrace is how long in-flight requests may run on after the
	// listeners close; then they are cut off.
	ShutdownGrace time.Duration
}

// ModelInfo describes the model behind GenerateSQL. It never holds a key.
type ModelInfo struct {
	// Name is empty when no model is configured.
	Name     string `json:"name,omitempty"`
	Endpoint string `json:"endpoint,omitempty"`
	// Source is how it was chosen: "flags", "openai-env", "ollama", or
	// empty.
	Source string `json:"source,omitempty"`
	// Reason says why it serves, or how to configure one.
	Reason string `json:"reason"`
}

func (c *Config) withDefaults() error {
	if c.Store == nil {
		return errors.New("server: Config.Store is required")
	}
	if c.Policy == nil {
		c.Policy = validate.DefaultPolicy()
	}
	if c.Validator == nil {
		c.Validator = validate.New()
	}
	if c.MaxSQLBytes <= 0 {
		c.MaxSQLBytes = DefaultMaxSQLBytes
	}
	if c.MaxQuestionBytes <= 0 {
		c.MaxQuestionBytes = DefaultMaxQuestionBytes
	}
	if c.MaxRequestBytes <= 0 {
		c.MaxRequestBytes = DefaultMaxRequestBytes
	}
	if c.MaxHistoryTurns <= 0 {
		c.MaxHistoryTurns = DefaultMaxHistoryTurns
	}
	if c.MaxHistoryBytes <= 0 {
		c.MaxHistoryBytes = DefaultMaxHistoryBytes
	}
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = DefaultRequestTimeout
	}
	if c.ShutdownGrace <= 0 {
		c.ShutdownGrace = DefaultShutdownGrace
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Registry == nil {
		c.Registry = NewRegistry()
	}
	if c.HTTPAddr == "" {
		c.HTTPAddr = DefaultHTTPAddr
	}
	if c.GRPCAddr == "" {
		c.GRPCAddr = DefaultGRPCAddr
	}
	return nil
}

// NewRegistry returns a Prometheus registry with the Go runtime and
// process collectors, the usual base for /metrics.
func NewRegistry() *prometheus.Registry {
	r := prometheus.NewRegistry()
	r.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return r
}

// Service implements TextToSQLService. Its methods expect the interceptors
// of this package to have run (caller, request id, deadline); called
// directly they treat the request as anonymous.
type Service struct {
	texttosqlv1.UnimplementedTextToSQLServiceServer

	cfg     Config
	rules   *rulesCache
	metrics *metrics
	log     *slog.Logger
}

// NewService returns the service alone, without transports, for callers
// that use it in process.
func NewService(cfg Config) (*Service, error) {
	if err := cfg.withDefaults(); err != nil {
		return nil, err
	}
	m, err := newMetrics(cfg.Registry)
	if err != nil {
		return nil, err
	}
	return newService(cfg, m), nil
}

func newService(cfg Config, m *metrics) *Service {
	return &Service{cfg: cfg, rules: newRulesCache(cfg.Policy, cfg.Logger), metrics: m, log: cfg.Logger}
}

// request is what every database-scoped RPC resolves first.
type request struct {
	entry  schema.Entry
	db     *schema.Database // the catalog rules was compiled against
	rules  *validate.Rules  // narrowed to scope
	scope  Scope
	caller Caller
}

// prepare resolves the database, the caller's scope and the scoped rules.
func (s *Service) prepare(ctx context.Context, database string, scope *texttosqlv1.CallerScope) (*request, error) {
	if database == "" {
		return nil, invalidArgument("database is required: a Superset database name or id (ListDatabases lists them)")
	}
	entry, err := s.cfg.Store.Get(ctx, database)
	if err != nil {
		return nil, s.logged(ctx, "catalog lookup failed", sourceStatus(ctx, err), err)
	}
	return s.prepareEntry(ctx, entry, scope)
}

func (s *Service) prepareEntry(ctx context.Context, entry schema.Entry, scope *texttosqlv1.CallerScope) (*request, error) {
	caller := CallerFrom(ctx)
	sc, err := s.resolveScope(ctx, caller, scope, entry.Database.ID)
	if err != nil {
		return nil, err
	}
	rules := s.rules.rules(entry)
	if sc.Restricted {
		rules = rules.Restrict(sc.Visible)
	}
	return &request{entry: entry, db: rules.Database(), rules: rules, scope: sc, caller: caller}, nil
}

// logged logs cause when st hides it (INTERNAL, UNAVAILABLE) and returns st.
func (s *Service) logged(ctx context.Context, msg string, st, cause error) error {
	if c := status.Code(st); c == codes.Internal || c == codes.Unavailable || c == codes.Unknown {
		loggerFrom(ctx, s.log).ErrorContext(ctx, msg, "error", cause.Error())
	}
	return st
}

// ValidateSQL judges one statement. A refused statement is an answer
// (valid=false with violations), not an RPC error.
func (s *Service) ValidateSQL(ctx context.Context, req *texttosqlv1.ValidateSQLRequest) (*texttosqlv1.ValidateSQLResponse, error) {
	switch {
	case req.GetSql() == "":
		return nil, invalidArgument("sql is required")
	case len(req.GetSql()) > s.cfg.MaxSQLBytes:
		return nil, invalidArgument("sql is %d bytes, more than the limit of %d", len(req.GetSql()), s.cfg.MaxSQLBytes)
	case req.GetMaxRows() < 0:
		return nil, invalidArgument("max_rows must not be negative")
	}
	r, err := s.prepare(ctx, req.GetDatabase(), req.GetScope())
	if err != nil {
		return nil, err
	}
	log := loggerFrom(ctx, s.log)
	if s.cfg.LogQuestions {
		log.DebugContext(ctx, "validate", "database", r.db.Name, "scope", r.scope.Source, "sql", req.GetSql())
	}
	res := s.cfg.Validator.Validate(validate.Request{
		SQL: req.GetSql(), Database: r.db, Rules: r.rules, MaxRows: int(req.GetMaxRows()),
	})
	s.countVerdict(res)
	out := &texttosqlv1.ValidateSQLResponse{
		Valid:      res.Valid,
		Violations: Violations(res.Violations),
		Sql:        res.SQL,
		Tables:     nonNil(res.Tables),
		Dialect:    res.Dialect,
	}
	if s.cfg.LogQuestions {
		log.DebugContext(ctx, "validated", "valid", res.Valid, "sql_out", res.SQL, "violations", len(res.Violations))
	}
	return out, nil
}

func (s *Service) countVerdict(res *validate.Result) {
	verdict := "invalid"
	if res.Valid {
		verdict = "valid"
	}
	dialect := res.Dialect
	if dialect == "" {
		dialect = "none"
	}
	s.metrics.validations.WithLabelValues(dialect, verdict).Inc()
	for _, v := range res.Violations {
		s.metrics.violations.WithLabelValues(v.Code).Inc()
	}
}

// Violations converts validator violations to their wire form.
func Violations(vs []validate.Violation) []*texttosqlv1.Violation {
	out := make([]*texttosqlv1.Violation, 0, len(vs))
	for _, v := range vs {
		out = append(out, &texttosqlv1.Violation{
			Code: v.Code, Message: v.Message,
			Position: int32(v.Position), Line: int32(v.Line), Column: int32(v.Column),
		})
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// ListDatabases lists every database with its catalog state; table_count
// counts the tables the caller may see.
func (s *Service) ListDatabases(ctx context.Context, _ *texttosqlv1.ListDatabasesRequest) (*texttosqlv1.ListDatabasesResponse, error) {
	entries, err := s.cfg.Store.Databases(ctx)
	if err != nil {
		return nil, s.logged(ctx, "listing databases failed", sourceStatus(ctx, err), err)
	}
	caller := CallerFrom(ctx)
	sc, err := s.resolveScope(ctx, caller, nil, 0)
	if err != nil {
		return nil, err
	}
	out := &texttosqlv1.ListDatabasesResponse{Databases: make([]*texttosqlv1.Database, 0, len(entries))}
	for _, e := range entries {
		rules := s.rules.rules(e)
		if sc.Restricted {
			rules = rules.Restrict(sc.Visible)
		}
		out.Databases = append(out.Databases, databaseProto(e, rules))
	}
	return out, nil
}

// GetSchema returns the tables and columns the caller may see.
func (s *Service) GetSchema(ctx context.Context, req *texttosqlv1.GetSchemaRequest) (*texttosqlv1.GetSchemaResponse, error) {
	r, err := s.prepare(ctx, req.GetDatabase(), req.GetScope())
	if err != nil {
		return nil, err
	}
	return &texttosqlv1.GetSchemaResponse{
		Database: databaseProto(r.entry, r.rules),
		Tables:   visibleTables(r.db, r.rules),
	}, nil
}

// RefreshSchema refreshes one catalog from its source now.
func (s *Service) RefreshSchema(ctx context.Context, req *texttosqlv1.RefreshSchemaRequest) (*texttosqlv1.RefreshSchemaResponse, error) {
	if req.GetDatabase() == "" {
		return nil, invalidArgument("database is required: a Superset database name or id (ListDatabases lists them)")
	}
	entry, err := s.cfg.Store.Refresh(ctx, req.GetDatabase())
	if err != nil {
		return nil, s.logged(ctx, "schema refresh failed", sourceStatus(ctx, err), err)
	}
	r, err := s.prepareEntry(ctx, entry, nil)
	if err != nil {
		return nil, err
	}
	loggerFrom(ctx, s.log).InfoContext(ctx, "schema refreshed", "database", entry.Database.Name, "version", entry.Status.Version)
	return &texttosqlv1.RefreshSchemaResponse{Database: databaseProto(r.entry, r.rules)}, nil
}

// databaseProto describes a database; table_count counts the tables rules
// allow.
func databaseProto(e schema.Entry, rules *validate.Rules) *texttosqlv1.Database {
	d := rules.Database()
	n := 0
	for _, t := range d.Tables {
		if rules.TableAllowed(t) {
			n++
		}
	}
	st := &texttosqlv1.SchemaStatus{
		Source:    e.Status.Source,
		Version:   e.Status.Version,
		Stale:     e.Status.Stale,
		LastError: e.Status.LastError,
	}
	if !e.Status.SyncedAt.IsZero() {
		st.SyncedAt = timestamppb.New(e.Status.SyncedAt)
	}
	return &texttosqlv1.Database{
		Name:           d.Name,
		Id:             d.ID,
		Backend:        d.Backend,
		Dialect:        d.Dialect(),
		DefaultSchema:  d.DefaultSchema,
		DefaultCatalog: d.DefaultCatalog,
		TableCount:     int32(n),
		Status:         st,
	}
}
