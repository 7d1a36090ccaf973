package golden

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/texttosql/text2sql/llm"
	"github.com/texttosql/text2sql/test/fakellm"
)

// Source answers a request while a cassette is being recorded.
type Source interface {
	// Name is written in the cassette.
	Name() string
	Answer(ctx context.Context, c *Case, req *fakellm.Request, attempt int) (fakellm.Reply, error)
}

// Oracle answers from the set itself: a case's scripted answer for the
// attempt when it has one, else its first gold query, else (a case that
// must be refused) a refusal. It exercises the pipeline end to end; it
// measures no model.
type Oracle struct{}

func (Oracle) Name() string { return "oracle: scripted answers, else the first gold query" }

func (Oracle) Answer(_ context.Context, c *Case, _ *fakellm.Request, attempt int) (fakellm.Reply, error) {
	switch {
	case attempt <= len(c.Script):
		return fakellm.Reply{Content: c.Script[attempt-1]}, nil
	case len(c.Script) > 0:
		return fakellm.Reply{Content: c.Script[len(c.Script)-1]}, nil
	case len(c.Gold) > 0:
		return fakellm.Reply{Content: "```sql\n" + strings.TrimSpace(c.Gold[0]) + "\n```"}, nil
	}
	return fakellm.Reply{Content: "CANNOT ANSWER: the question does not ask for data this schema may show."}, nil
}

// Endpoint answers with a real model.
type Endpoint struct{ Client *llm.Client }

func (e Endpoint) Name() string {
	cfg := e.Client.Config()
	return fmt.Sprintf("endpoint %s, model %s", cfg.BaseURL, cfg.Model)
}

func (e Endpoint) Answer(ctx context.Context, _ *Case, req *fakellm.Request, _ int) (fakellm.Reply, error) {
	msgs := make([]llm.Message, len(req.Messages))
	for i, m := range req.Messages {
		msgs[i] = llm.Message{Role: llm.Role(m.Role), Content: m.Content}
	}
	c, err := e.Client.Complete(ctx, msgs)
	if err != nil {
		return fakellm.Reply{}, err
	}
	return fakellm.Reply{Content: c.Text, FinishReason: c.FinishReason,
		PromptTokens: c.Usage.PromptTokens, CompletionTokens: c.Usage.CompletionTokens}, nil
}

// Recorder plays the model endpoint while recording: each request goes to
// the source and the exchange is kept for the cassette. Cases are recorded
// one at a time (SetCase).
type Recorder struct {
	src       Source
	mu        sync.Mutex
	current   *Case
	exchanges []Exchange
	failed    error
}

// NewRecorder records what src answers.
func NewRecorder(src Source) *Recorder { return &Recorder{src: src} }

// SetCase names the case whose requests come next.
func (r *Recorder) SetCase(c *Case) {
	r.mu.Lock()
	r.current = c
	r.mu.Unlock()
}

// Respond implements fakellm.Responder.
func (r *Recorder) Respond(ctx context.Context, req *fakellm.Request) fakellm.Reply {
	r.mu.Lock()
	c := r.current
	r.mu.Unlock()
	_, answered := turn(req.Messages)
	if c == nil {
		return fakellm.Reply{Status: 500, Error: &fakellm.APIError{Message: "recording: no case is being asked"}}
	}
	reply, err := r.src.Answer(ctx, c, req, answered+1)
	if err != nil {
		r.mu.Lock()
		if r.failed == nil {
			r.failed = fmt.Errorf("case %s: %w", c.ID, err)
		}
		r.mu.Unlock()
		return fakellm.Reply{Status: 503, Error: &fakellm.APIError{Message: "recording: the source failed: " + err.Error()}}
	}
	r.mu.Lock()
	r.exchanges = append(r.exchanges, Exchange{Key: RequestKey(req.Messages), Case: c.ID, Attempt: answered + 1,
		Answer: reply.Content, Prompt: reply.PromptTokens, Completion: reply.CompletionTokens})
	r.mu.Unlock()
	return reply
}

// Cassette returns what was recorded, or the first failure of the source.
func (r *Recorder) Cassette() (*Cassette, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.failed != nil {
		return nil, r.failed
	}
	return &Cassette{Source: r.src.Name(), Exchanges: append([]Exchange(nil), r.exchanges...)}, nil
}
