// Package fakellm is an OpenAI-compatible chat-completions server for
// tests and demos. It speaks the real wire format (POST
// /v1/chat/completions, GET /v1/models, the {"error": {...}} body), so the
// production client runs against it unchanged. A Responder decides each
// answer; the built-in ones script canned replies and faults (429 with
// Retry-After, 5xx bursts, slowness, garbage, truncated JSON, dropped
// connections, 401).
package fakellm

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/texttosql/text2sql/llm"
)

// Server is a running fake. It is safe for concurrent use.
type Server struct {
	srv      *http.Server
	ln       net.Listener
	apiKey   string
	models   []string
	closed   chan struct{}
	closeOne sync.Once

	mu        sync.Mutex
	responder Responder
	requests  []*Request

	calls       atomic.Int64
	inFlight    atomic.Int64
	maxInFlight atomic.Int64
}

// Option configures a Server.
type Option func(*Server)

// WithAPIKey makes the server require "Authorization: Bearer key" and
// answer 401 otherwise, as the API does.
func WithAPIKey(key string) Option { return func(s *Server) { s.apiKey = key } }

// WithModels sets the models GET /v1/models lists (default "fake-model").
func WithModels(ids ...string) Option { return func(s *Server) { s.models = ids } }

// New starts a server on 127.0.0.1 with an ephemeral port.
func New(r Responder, opts ...Option) (*Server, error) {
	return Listen("127.0.0.1:0", r, opts...)
}

// Listen starts a server on addr.
func Listen(addr string, r Responder, opts ...Option) (*Server, error) {
	if r == nil {
		return nil, errors.New("fakellm: nil Responder")
	}
	s := &Server{responder: r, models: []string{"fake-model"}, closed: make(chan struct{})}
	for _, o := range opts {
		o(s)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("fakellm: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/v1/chat/completions", s.chatCompletions)
	mux.HandleFunc("/v1/models", s.listModels)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, APIError{
			Message: fmt.Sprintf("Invalid URL (%s %s)", r.Method, r.URL.Path), Type: "invalid_request_error"})
	})
	s.ln = ln
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

// NewTest starts a server for a test and closes it when the test ends.
func NewTest(tb testing.TB, r Responder, opts ...Option) *Server {
	tb.Helper()
	s, err := New(r, opts...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(s.Close)
	return s
}

// URL is the API base URL, ending in /v1, as clients expect it.
func (s *Server) URL() string { return "http://" + s.ln.Addr().String() + "/v1" }

// Addr is the listening address.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Close stops the server and ends delayed replies at once.
func (s *Server) Close() {
	s.closeOne.Do(func() {
		_ = s.srv.Close()
		close(s.closed)
	})
}

// SetResponder replaces the responder for later requests.
func (s *Server) SetResponder(r Responder) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.responder = r
}

// Calls is the number of chat-completions requests received, whatever
// their outcome.
func (s *Server) Calls() int { return int(s.calls.Load()) }

// Requests returns the decoded chat-completions requests received, in
// order of arrival (only those whose body could be decoded).
func (s *Server) Requests() []*Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*Request(nil), s.requests...)
}

// InFlight is the number of chat-completions requests being handled.
func (s *Server) InFlight() int { return int(s.inFlight.Load()) }

// MaxInFlight is the largest InFlight seen.
func (s *Server) MaxInFlight() int { return int(s.maxInFlight.Load()) }

func (s *Server) listModels(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		writeError(w, http.StatusMethodNotAllowed, APIError{Message: "Method not allowed", Type: "invalid_request_error"})
		return
	}
	if !s.authorized(w, r) {
		return
	}
	list := wireModelList{Object: "list", Data: []wireModel{}}
	for _, id := range s.models {
		list.Data = append(list.Data, wireModel{ID: id, Object: "model", Created: 1700000000, OwnedBy: "fakellm"})
	}
	writeJSON(w, http.StatusOK, list)
}

func (s *Server) authorized(w http.ResponseWriter, r *http.Request) bool {
	if s.apiKey == "" || r.Header.Get("Authorization") == "Bearer "+s.apiKey {
		return true
	}
	writeError(w, http.StatusUnauthorized, defaultError(http.StatusUnauthorized))
	return false
}

func (s *Server) chatCompletions(w http.ResponseWriter, r *http.Request) {
	n := s.calls.Add(1)
	cur := s.inFlight.Add(1)
	defer s.inFlight.Add(-1)
	for {
		m := s.maxInFlight.Load()
		if cur <= m || s.maxInFlight.CompareAndSwap(m, cur) {
			break
		}
	}
	w.Header().Set("X-Request-Id", "req_fake_"+strconv.FormatInt(n, 10))

	if r.Method != http.MethodPost {
		writeError(w, http.StatusMethodNotAllowed, APIError{Message: "Method not allowed", Type: "invalid_request_error"})
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 32<<20))
	if err != nil {
		writeError(w, http.StatusBadRequest, APIError{Message: "could not read the request body", Type: "invalid_request_error"})
		return
	}
	req, decodeErr := decodeRequest(body)
	s.mu.Lock()
	if decodeErr == nil {
		req.Header = r.Header.Clone()
		s.requests = append(s.requests, req)
	}
	responder := s.responder
	s.mu.Unlock()
	// As the API does: a bad key is reported before a bad body.
	if !s.authorized(w, r) {
		return
	}
	if decodeErr != nil {
		writeError(w, http.StatusBadRequest, APIError{Message: decodeErr.Error(), Type: "invalid_request_error"})
		return
	}
	if req.Stream {
		writeError(w, http.StatusBadRequest, APIError{Message: "fakellm: stream=true is not supported", Type: "invalid_request_error", Param: "stream"})
		return
	}

	reply := responder.Respond(r.Context(), req)
	if reply.Delay > 0 {
		t := time.NewTimer(reply.Delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return // the client gave up; nobody to answer
		case <-s.closed:
			// Abort rather than return: a returning handler would still
			// send an empty 200.
			panic(http.ErrAbortHandler)
		}
	}
	for k, vs := range reply.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	s.write(w, req, reply, n)
}

func (s *Server) write(w http.ResponseWriter, req *Request, reply Reply, n int64) {
	if reply.Fault == FaultDrop {
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				_ = conn.Close()
				return
			}
		}
		// Without hijacking (HTTP/2), abort the stream instead.
		panic(http.ErrAbortHandler)
	}
	if reply.Status != 0 && reply.Status != http.StatusOK {
		e := defaultError(reply.Status)
		if reply.Error != nil {
			e = *reply.Error
		}
		writeError(w, reply.Status, e)
		return
	}
	if reply.Fault == FaultGarbage {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, "<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>\n")
		return
	}

	model := reply.Model
	if model == "" {
		model = req.Model
	}
	finish := reply.FinishReason
	if finish == "" {
		finish = "stop"
	}
	resp := wireResponse{
		ID:                "chatcmpl-fake" + strconv.FormatInt(n, 10),
		Object:            "chat.completion",
		Created:           time.Now().Unix(),
		Model:             model,
		SystemFingerprint: "fp_fakellm",
		Choices: []wireChoice{{
			Message:      wireOutMessage{Role: "assistant", Content: reply.Content},
			Logprobs:     json.RawMessage("null"),
			FinishReason: finish,
		}},
	}
	if reply.Fault == FaultNoChoices {
		resp.Choices = []wireChoice{}
	}
	if !reply.OmitUsage {
		u := wireUsage{PromptTokens: reply.PromptTokens, CompletionTokens: reply.CompletionTokens}
		if u.PromptTokens == 0 || u.CompletionTokens == 0 {
			msgs := make([]llm.Message, len(req.Messages))
			for i, m := range req.Messages {
				msgs[i] = llm.Message{Role: llm.Role(m.Role), Content: m.Content}
			}
			est := llm.EstimateUsage(msgs, reply.Content)
			if u.PromptTokens == 0 {
				u.PromptTokens = est.PromptTokens
			}
			if u.CompletionTokens == 0 {
				u.CompletionTokens = est.CompletionTokens
			}
		}
		u.TotalTokens = u.PromptTokens + u.CompletionTokens
		resp.Usage = &u
	}
	body, err := json.Marshal(resp)
	if err != nil {
		writeError(w, http.StatusInternalServerError, APIError{Message: err.Error(), Type: "server_error"})
		return
	}
	if reply.Fault == FaultTruncated {
		body = body[:len(body)/2]
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	var b bytes.Buffer
	_ = json.NewEncoder(&b).Encode(v)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes())
}

func writeError(w http.ResponseWriter, status int, e APIError) {
	writeJSON(w, status, wireError{Error: e})
}
