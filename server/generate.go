package server

import (
	"context"
	"log/slog"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	texttosqlv1 "github.com/texttosql/text2sql/proto/texttosql/v1"
	"github.com/texttosql/text2sql/schema"
	"github.com/texttosql/text2sql/validate"
)

// Generator answers a question with one validated statement: the
// generation pipeline plugs in here.
//
// Generate returns the response, or a status error: FAILED_PRECONDITION
// with a texttosqlv1.GenerationFailure detail when no attempt produced valid
// SQL, UNAVAILABLE when the model endpoint failed, and so on. An error that
// is not a status error is logged and answered as INTERNAL.
type Generator interface {
	Generate(ctx context.Context, in *GenerateInput) (*texttosqlv1.GenerateSQLResponse, error)
}

// GenerateInput is everything the service resolved for one GenerateSQL
// request. Request limits (database present, question size) are checked
// before Generate is called.
type GenerateInput struct {
	Request *texttosqlv1.GenerateSQLRequest
	// Entry is the database and its catalog state. Entry.Database is the
	// catalog Rules was compiled against.
	Entry schema.Entry
	// Rules is the operator's policy narrowed to the caller's scope;
	// validate every candidate with it.
	Rules *validate.Rules
	// Visible reports whether the caller's scope includes a table, before
	// the operator's policy (Rules.TableAllowed is both together).
	Visible func(*schema.Table) bool
	// Validator is the service's shared validator.
	Validator *validate.Validator
	Caller    Caller
	RequestID string
	// Logger carries the request id and caller.
	Logger *slog.Logger
	// LogQuestions says whether the operator allows questions and SQL in
	// debug logs.
	LogQuestions bool
}

// GenerateSQL answers a question through the configured Generator.
func (s *Service) GenerateSQL(ctx context.Context, req *texttosqlv1.GenerateSQLRequest) (*texttosqlv1.GenerateSQLResponse, error) {
	if s.cfg.Generator == nil {
		return nil, status.Error(codes.Unimplemented,
			"question-to-SQL generation is not available in this build or configuration: no model is configured; ValidateSQL checks SQL written elsewhere")
	}
	switch {
	case strings.TrimSpace(req.GetQuestion()) == "":
		return nil, invalidArgument("question is required")
	case len(req.GetQuestion()) > s.cfg.MaxQuestionBytes:
		return nil, invalidArgument("question is %d bytes, more than the limit of %d", len(req.GetQuestion()), s.cfg.MaxQuestionBytes)
	case req.GetMaxRows() < 0:
		return nil, invalidArgument("max_rows must not be negative")
	}
	if err := s.checkHistory(req.GetHistory()); err != nil {
		return nil, err
	}
	r, err := s.prepare(ctx, req.GetDatabase(), req.GetScope())
	if err != nil {
		return nil, err
	}
	id := RequestIDFrom(ctx)
	log := loggerFrom(ctx, s.log)
	if s.cfg.LogQuestions {
		log.DebugContext(ctx, "generate", "database", r.db.Name, "scope", r.scope.Source, "question", req.GetQuestion())
	}
	resp, err := s.cfg.Generator.Generate(ctx, &GenerateInput{
		Request:      req,
		Entry:        schema.Entry{Database: r.db, Status: r.entry.Status},
		Rules:        r.rules,
		Visible:      r.scope.Visible,
		Validator:    s.cfg.Validator,
		Caller:       r.caller,
		RequestID:    id,
		Logger:       log,
		LogQuestions: s.cfg.LogQuestions,
	})
	if err != nil {
		return nil, s.logged(ctx, "generation failed", toStatus(err), err)
	}
	if resp == nil {
		log.ErrorContext(ctx, "generator returned neither a response nor an error")
		return nil, status.Error(codes.Internal, "internal error")
	}
	if resp.RequestId == "" {
		resp.RequestId = id
	}
	return resp, nil
}

// checkHistory refuses a history the prompt cannot carry. Over-limit
// history is refused, not trimmed: which earlier turns matter is the
// caller's call, and a silently shortened conversation would answer a
// different question than the one asked.
func (s *Service) checkHistory(history []*texttosqlv1.ConversationTurn) error {
	if n := len(history); n > s.cfg.MaxHistoryTurns {
		return invalidArgument("history has %d turns, more than the limit of %d; send only the last %d turns of the conversation",
			n, s.cfg.MaxHistoryTurns, s.cfg.MaxHistoryTurns)
	}
	total := 0
	for i, h := range history {
		if len(h.GetQuestion()) > s.cfg.MaxQuestionBytes || len(h.GetSql()) > s.cfg.MaxSQLBytes {
			return invalidArgument("history[%d] is larger than the question or SQL limits (%d, %d bytes)", i, s.cfg.MaxQuestionBytes, s.cfg.MaxSQLBytes)
		}
		total += len(h.GetQuestion()) + len(h.GetSql())
	}
	if total > s.cfg.MaxHistoryBytes {
		return invalidArgument("history holds %d bytes of questions and SQL, more than the limit of %d; send fewer earlier turns (the most recent ones matter most)",
			total, s.cfg.MaxHistoryBytes)
	}
	return nil
}
