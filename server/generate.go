package server

import (
	"context"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/texttosql/text2sql/generate"
	texttosqlv1 "github.com/texttosql/text2sql/proto/texttosql/v1"
	"github.com/texttosql/text2sql/schema"
)

// Generator answers a question with one validated statement; the
// generation pipeline (generate.Pipeline) plugs in here.
//
// Generate returns an answer, or an error: a *generate.Refusal when no
// attempt produced valid SQL, the model client's error, the request's
// context error. ErrorStatus turns each into the status the caller sees.
type Generator interface {
	Generate(ctx context.Context, req *generate.Request) (*generate.Answer, error)
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
	history := make([]generate.Turn, 0, len(req.GetHistory()))
	for _, h := range req.GetHistory() {
		history = append(history, generate.Turn{Question: h.GetQuestion(), SQL: h.GetSql()})
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
	ans, err := s.cfg.Generator.Generate(ctx, &generate.Request{
		Question:  req.GetQuestion(),
		History:   history,
		MaxRows:   int(req.GetMaxRows()),
		SkipCache: req.GetSkipCache(),
		Catalog:   schema.Entry{Database: r.db, Status: r.entry.Status},
		Rules:     r.rules,
		Validator: s.cfg.Validator,
		Logger:    log,
	})
	if err != nil {
		return nil, s.logged(ctx, "generation failed", ErrorStatus(ctx, err), err)
	}
	if ans == nil {
		log.ErrorContext(ctx, "generator returned neither an answer nor an error")
		return nil, status.Error(codes.Internal, "internal error")
	}
	return answerProto(ans, id), nil
}

// answerProto is the wire form of an answer.
func answerProto(a *generate.Answer, requestID string) *texttosqlv1.GenerateSQLResponse {
	out := &texttosqlv1.GenerateSQLResponse{
		Sql:       a.SQL,
		Dialect:   a.Dialect,
		Tables:    a.Tables,
		RequestId: requestID,
		Database:  a.Database,
		Schema:    a.Schema,
		Cached:    a.Cached,
		SqllabUrl: a.SQLLabURL,
		Attempts:  attemptsProto(a.Attempts),
	}
	if !a.Cached {
		out.Usage = &texttosqlv1.Usage{
			PromptTokens:     int32(a.Usage.PromptTokens),
			CompletionTokens: int32(a.Usage.CompletionTokens),
			TotalTokens:      int32(a.Usage.TotalTokens),
		}
	}
	return out
}

func attemptsProto(as []generate.Attempt) []*texttosqlv1.Attempt {
	if len(as) == 0 {
		return nil
	}
	out := make([]*texttosqlv1.Attempt, len(as))
	for i, a := range as {
		out[i] = &texttosqlv1.Attempt{Number: int32(a.Number), Sql: a.SQL, Error: a.Error}
		if len(a.Violations) > 0 {
			out[i].Violations = Violations(a.Violations)
		}
	}
	return out
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
