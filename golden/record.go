package golden

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/texttosql/text2sql/llm"
)

// Source answers a request while a cassette is being recorded.
type Source interface {
	// Name is written in the cassette.
	Name() string
	Answer(ctx context.Context, c *Case, msgs []llm.Message, attempt int) (*llm.Completion, error)
}

// Oracle answers from the set itself: a case's scripted answer for the
// attempt when it has one, else its first gold query, else (a case that
// must be refused) a refusal. It exercises the pipeline end to end; it
// measures no model.
type Oracle struct{}

func (Oracle) Name() string { return "oracle: scripted answers, else the first gold query" }

func (Oracle) Answer(_ context.Context, c *Case, _ []llm.Message, attempt int) (*llm.Completion, error) {
	text := "CANNOT ANSWER: the question does not ask for data this schema may show."
	switch {
	case attempt <= len(c.Script):
		text = c.Script[attempt-1]
	case len(c.Script) > 0:
		text = c.Script[len(c.Script)-1]
	case len(c.Gold) > 0:
		text = "```sql\n" + strings.TrimSpace(c.Gold[0]) + "\n```"
	}
	// No token counts: the cassette records none, and replays estimate.
	return &llm.Completion{Text: text, FinishReason: "stop", Model: ReplayModel, Attempts: 1}, nil
}

// Endpoint answers with a real model.
type Endpoint struct{ Client *llm.Client }

func (e Endpoint) Name() string {
	cfg := e.Client.Config()
	return fmt.Sprintf("endpoint %s, model %s", cfg.BaseURL, cfg.Model)
}

func (e Endpoint) Answer(ctx context.Context, _ *Case, msgs []llm.Message, _ int) (*llm.Completion, error) {
	return e.Client.Complete(ctx, msgs)
}

// Recorder is the model client while recording: each request goes to the
// source and the exchange is kept for the cassette. Cases are recorded one
// at a time (SetCase).
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

// Config names the model as replays will.
func (r *Recorder) Config() llm.Config { return llm.Config{Model: ReplayModel} }

// Complete asks the source and records the exchange. A failure of the
// source fails the call as an endpoint failure would, and the recording.
func (r *Recorder) Complete(ctx context.Context, msgs []llm.Message, _ ...llm.CallOption) (*llm.Completion, error) {
	r.mu.Lock()
	c := r.current
	r.mu.Unlock()
	_, answered := turn(msgs)
	if c == nil {
		return nil, &llm.Error{Kind: llm.KindServerError, StatusCode: 500, Message: "recording: no case is being asked", Attempts: 1}
	}
	comp, err := r.src.Answer(ctx, c, msgs, answered+1)
	if err != nil {
		r.mu.Lock()
		if r.failed == nil {
			r.failed = fmt.Errorf("case %s: %w", c.ID, err)
		}
		r.mu.Unlock()
		return nil, &llm.Error{Kind: llm.KindServerError, StatusCode: 503, Message: "recording: the source failed", Err: err, Attempts: 1}
	}
	r.mu.Lock()
	r.exchanges = append(r.exchanges, Exchange{Key: RequestKey(msgs), Case: c.ID, Attempt: answered + 1,
		Answer: comp.Text, Prompt: comp.Usage.PromptTokens, Completion: comp.Usage.CompletionTokens})
	r.mu.Unlock()
	out := *comp
	out.Usage = replayed(msgs, comp.Text, comp.Usage.PromptTokens, comp.Usage.CompletionTokens).Usage
	return &out, nil
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
