package generate

import (
	"fmt"
	"log/slog"
	"strings"

	"github.com/texttosql/text2sql/schema"
	"github.com/texttosql/text2sql/validate"
)

// Request is one question, with what the service resolved for the asking
// caller. Request limits (question present, sizes) are checked before it is
// built.
type Request struct {
	Question string
	// History holds the earlier turns of a conversation, oldest first.
	History []Turn
	// MaxRows lowers the rules' row cap when positive.
	MaxRows int
	// SkipCache asks for a fresh answer.
	SkipCache bool
	// Catalog is the database and its catalog state; Catalog.Database is
	// the catalog Rules was compiled against.
	Catalog schema.Entry
	// Rules is the operator's policy narrowed to the caller's scope: every
	// candidate is validated with it, and nothing the rules hide is shown
	// to the model.
	Rules *validate.Rules
	// Validator is the service's shared validator.
	Validator *validate.Validator
	// Logger carries the request id and caller; nil discards.
	Logger *slog.Logger
}

// Answer is a validated statement and how it was reached.
type Answer struct {
	// SQL is the statement as the validator printed it, row cap applied.
	SQL      string
	Tables   []string
	Dialect  string
	Database string
	// Schema is the database's default schema, the one SQL Lab should use.
	Schema    string
	Cached    bool
	SQLLabURL string
	// Attempts are the model's answers, the last one accepted; empty for a
	// cached answer.
	Attempts []Attempt
	Usage    Usage
}

// Attempt is one model answer and its verdict.
type Attempt struct {
	Number int
	// SQL is what the model wrote, before validation.
	SQL        string
	Violations []validate.Violation
	// Error says why the answer held no usable SQL, or why the dry run
	// refused it.
	Error string
}

// Usage counts the model's tokens over every attempt.
type Usage struct {
	PromptTokens, CompletionTokens, TotalTokens int
}

// Refusal is the answer when no attempt produced SQL the caller may run.
// It is the caller's outcome, not a fault of the service.
type Refusal struct {
	// Reason says why, for a person.
	Reason   string
	Attempts []Attempt
	// Violations are the last attempt's.
	Violations []validate.Violation
}

func (r *Refusal) Error() string { return r.Reason }

// newRefusal describes the last attempt when why is empty.
func newRefusal(attempts []Attempt, why string) *Refusal {
	r := &Refusal{Reason: why, Attempts: attempts}
	if len(attempts) == 0 {
		return r
	}
	last := attempts[len(attempts)-1]
	r.Violations = last.Violations
	if why != "" {
		return r
	}
	r.Reason = fmt.Sprintf("no valid SQL after %d attempts", len(attempts))
	switch {
	case len(last.Violations) > 0:
		parts := make([]string, len(last.Violations))
		for i, v := range last.Violations {
			parts[i] = v.Code + ": " + v.Message
		}
		r.Reason += "; the last answer was refused: " + strings.Join(parts, "; ")
	case last.Error != "":
		r.Reason += "; the last answer: " + last.Error
	}
	return r
}
