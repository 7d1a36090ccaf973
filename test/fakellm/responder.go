package fakellm

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Fault is a transport-level misbehaviour of a reply.
type Fault int

// Faults a Reply can ask for.
const (
	// FaultNone answers normally.
	FaultNone Fault = iota
	// FaultGarbage answers 200 with an HTML page instead of JSON, as a
	// misconfigured proxy does.
	FaultGarbage
	// FaultTruncated answers 200 with the first half of the JSON body
	// (and a Content-Length matching that half).
	FaultTruncated
	// FaultNoChoices answers 200 with well-formed JSON and no choices.
	FaultNoChoices
	// FaultDrop closes the connection without answering.
	FaultDrop
)

// Reply is what the server answers to one request.
type Reply struct {
	// Content of the assistant message.
	Content string
	// FinishReason, default "stop".
	FinishReason string
	// Model reported, default the requested model.
	Model string
	// PromptTokens and CompletionTokens reported in usage; zero means an
	// estimate (about four characters per token).
	PromptTokens     int
	CompletionTokens int
	// OmitUsage leaves the usage object out, as some servers do.
	OmitUsage bool

	// Status is the HTTP status; 0 means 200. An error status answers
	// with Error (or the API's usual error for that status).
	Status int
	Error  *APIError
	// Header is added to the answer (e.g. Retry-After).
	Header http.Header

	// Delay before answering. The wait ends early, without an answer,
	// when the client goes away or the server closes.
	Delay time.Duration
	Fault Fault
}

// Responder decides the reply to each chat-completions request. It is
// called concurrently; ctx ends when the client disconnects.
type Responder interface {
	Respond(ctx context.Context, req *Request) Reply
}

// ResponderFunc adapts a function to Responder.
type ResponderFunc func(ctx context.Context, req *Request) Reply

// Respond calls f.
func (f ResponderFunc) Respond(ctx context.Context, req *Request) Reply { return f(ctx, req) }

// Text answers every request with content.
func Text(content string) Responder {
	return ResponderFunc(func(context.Context, *Request) Reply { return Reply{Content: content} })
}

// Queue answers with its replies in order, one per request. Once they
// are used up it answers 500 with a message naming the problem, so a test
// that makes more calls than it scripted fails visibly.
type Queue struct {
	mu      sync.Mutex
	replies []Reply
}

// Replies returns a Queue of replies.
func Replies(replies ...Reply) *Queue { return &Queue{replies: replies} }

// Push appends replies.
func (q *Queue) Push(replies ...Reply) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.replies = append(q.replies, replies...)
}

// Left is the number of replies not yet used.
func (q *Queue) Left() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.replies)
}

// Respond pops the next reply.
func (q *Queue) Respond(context.Context, *Request) Reply {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.replies) == 0 {
		return Reply{Status: http.StatusInternalServerError,
			Error: &APIError{Message: "fakellm: no scripted reply left", Type: "server_error"}}
	}
	r := q.replies[0]
	q.replies = q.replies[1:]
	return r
}

// Failing answers the first n requests with failure, then hands over to
// then.
func Failing(n int, failure Reply, then Responder) Responder {
	var calls atomic.Int64
	return ResponderFunc(func(ctx context.Context, req *Request) Reply {
		if calls.Add(1) <= int64(n) {
			return failure
		}
		return then.Respond(ctx, req)
	})
}

// RateLimited answers the first n requests 429 with the Retry-After
// header set to retryAfter (seconds or an HTTP date; "" sends none).
func RateLimited(n int, retryAfter string, then Responder) Responder {
	f := Reply{Status: http.StatusTooManyRequests}
	if retryAfter != "" {
		f.Header = http.Header{"Retry-After": {retryAfter}}
	}
	return Failing(n, f, then)
}

// ServerErrors answers the first n requests with status (5xx).
func ServerErrors(n, status int, then Responder) Responder {
	return Failing(n, Reply{Status: status}, then)
}

// Dropped closes the connection of the first n requests unanswered.
func Dropped(n int, then Responder) Responder {
	return Failing(n, Reply{Fault: FaultDrop}, then)
}

// Slow delays every reply of r by d.
func Slow(d time.Duration, r Responder) Responder {
	return ResponderFunc(func(ctx context.Context, req *Request) Reply {
		reply := r.Respond(ctx, req)
		reply.Delay += d
		return reply
	})
}

// Garbage answers every request with a 200 HTML page.
func Garbage() Responder { return fault(FaultGarbage) }

// Truncated answers every request with half a JSON body.
func Truncated() Responder { return fault(FaultTruncated) }

// NoChoices answers every request with an empty choices array.
func NoChoices() Responder { return fault(FaultNoChoices) }

// Unauthorized answers every request 401 as the API does for a bad key.
func Unauthorized() Responder {
	return ResponderFunc(func(context.Context, *Request) Reply { return Reply{Status: http.StatusUnauthorized} })
}

func fault(f Fault) Responder {
	return ResponderFunc(func(context.Context, *Request) Reply {
		return Reply{Content: "SELECT 1", Fault: f}
	})
}

// RetryAfterSeconds formats d as a Retry-After delay in whole seconds,
// rounded up.
func RetryAfterSeconds(d time.Duration) string {
	return strconv.FormatInt(int64((d+time.Second-1)/time.Second), 10)
}
