package golden

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"

	"github.com/texttosql/text2sql/llm"
)

// Cassette is the recorded model exchanges of one golden set, stored next
// to it as cassettes/<set name>.yaml. Each exchange is keyed by a stable
// hash of the request's messages, so replay answers exactly the request
// that was recorded; a changed prompt, schema linking or question is a new
// request that has to be recorded again.
type Cassette struct {
	// Source says what answered when the cassette was recorded: an
	// endpoint and model, "oracle" (each question answered with its first
	// gold query, to exercise the pipeline, not to measure a model) or
	// "script" (the answers written in the golden set).
	Source    string     `yaml:"source"`
	Exchanges []Exchange `yaml:"exchanges"`
}

// Exchange is one request and the answer it got.
type Exchange struct {
	Key     string `yaml:"key"`
	Case    string `yaml:"case"`
	Attempt int    `yaml:"attempt"`
	Answer  string `yaml:"answer"`
	// Prompt and Completion are the token counts reported when recorded.
	Prompt     int `yaml:"prompt_tokens,omitempty"`
	Completion int `yaml:"completion_tokens,omitempty"`
}

// CassettePath is where a set's cassette lives.
func (s *Set) CassettePath() string {
	return filepath.Join(filepath.Dir(s.Path), "cassettes", s.Name+".yaml")
}

// LoadCassette reads a set's cassette; a missing file is an empty cassette.
func (s *Set) LoadCassette() (*Cassette, error) {
	data, err := os.ReadFile(s.CassettePath())
	if os.IsNotExist(err) {
		return &Cassette{}, nil
	}
	if err != nil {
		return nil, err
	}
	var c Cassette
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("%s: %w", s.CassettePath(), err)
	}
	return &c, nil
}

// Save writes the cassette, exchanges in case order then attempt order.
func (c *Cassette) Save(s *Set) error {
	order := map[string]int{}
	for i, cs := range s.Cases {
		order[cs.ID] = i
	}
	sort.SliceStable(c.Exchanges, func(i, j int) bool {
		a, b := c.Exchanges[i], c.Exchanges[j]
		if order[a.Case] != order[b.Case] {
			return order[a.Case] < order[b.Case]
		}
		return a.Attempt < b.Attempt
	})
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "# Model exchanges of the golden set %q, replayed by its tests and by `text2sql eval`.\n", s.Name)
	fmt.Fprintf(&buf, "# Written by `text2sql eval --set %s --record ...`; do not edit by hand.\n", filepath.Base(s.Path))
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(c); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(s.CassettePath()), 0o755); err != nil {
		return err
	}
	return os.WriteFile(s.CassettePath(), buf.Bytes(), 0o644)
}

// RequestKey is the stable hash of a chat request: its messages, roles and
// contents, in order. Model name and sampling settings are left out so a
// cassette replays whichever model name the service is configured with.
func RequestKey(msgs []llm.Message) string {
	type m struct {
		Role    string `json:"role"`
		Content string `json:"content"`
	}
	list := make([]m, len(msgs))
	for i, x := range msgs {
		list[i] = m{string(x.Role), x.Content}
	}
	b, _ := json.Marshal(list)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}

// Miss is a request the cassette has no answer for.
type Miss struct {
	Key      string
	Question string
}

// Replayer is a model client that answers from a cassette and remembers
// the requests it cannot answer. It is the model of `text2sql demo` and of
// golden replays: the pipeline calls it where it would call the endpoint,
// so everything but the HTTP exchange with the endpoint runs as in
// production.
type Replayer struct {
	byKey  map[string]Exchange
	mu     sync.Mutex
	misses []Miss
}

// NewReplayer serves c.
func NewReplayer(c *Cassette) *Replayer {
	r := &Replayer{byKey: make(map[string]Exchange, len(c.Exchanges))}
	for _, e := range c.Exchanges {
		r.byKey[e.Key] = e
	}
	return r
}

// ReplayModel is the model name a replayed answer carries.
const ReplayModel = "golden-replay"

// Config names the replayed model.
func (r *Replayer) Config() llm.Config { return llm.Config{Model: ReplayModel} }

// Complete answers msgs with the recorded answer. An unrecorded request
// fails as an endpoint refusing the request would (a misconfiguration of
// the service, not the caller's fault) and is kept for Misses.
func (r *Replayer) Complete(_ context.Context, msgs []llm.Message, _ ...llm.CallOption) (*llm.Completion, error) {
	key := RequestKey(msgs)
	if e, ok := r.byKey[key]; ok {
		return replayed(msgs, e.Answer, e.Prompt, e.Completion), nil
	}
	r.mu.Lock()
	r.misses = append(r.misses, Miss{Key: key, Question: questionOf(msgs)})
	r.mu.Unlock()
	return nil, &llm.Error{Kind: llm.KindBadRequest, StatusCode: 400, Message: "no recorded exchange for request " + key, Attempts: 1}
}

// replayed is a completion of text; token counts not recorded are
// estimated.
func replayed(msgs []llm.Message, text string, prompt, completion int) *llm.Completion {
	u := llm.EstimateUsage(msgs, text)
	if prompt > 0 {
		u.PromptTokens = prompt
	}
	if completion > 0 {
		u.CompletionTokens = completion
	}
	u.TotalTokens = u.PromptTokens + u.CompletionTokens
	return &llm.Completion{Text: text, FinishReason: "stop", Model: ReplayModel, Usage: u, Attempts: 1}
}

// Misses returns the requests that had no recorded answer, and forgets them.
func (r *Replayer) Misses() []Miss {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := r.misses
	r.misses = nil
	return m
}

// questionMark starts the user message that carries a question; repair
// feedback never starts with it.
const questionMark = "Question: "

// questionOf is the question a request is about: the last user message
// that asks one.
func questionOf(msgs []llm.Message) string {
	q, _ := turn(msgs)
	return q
}

// turn finds the last question of a request and how many answers the
// model already gave to it (attempt - 1).
func turn(msgs []llm.Message) (question string, answered int) {
	at := -1
	for i, m := range msgs {
		if m.Role == llm.RoleUser && strings.HasPrefix(m.Content, questionMark) {
			at = i
		}
	}
	if at < 0 {
		return "", 0
	}
	for _, m := range msgs[at+1:] {
		if m.Role == llm.RoleAssistant {
			answered++
		}
	}
	return strings.TrimPrefix(msgs[at].Content, questionMark), answered
}
