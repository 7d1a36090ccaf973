package llm

import (
	"errors"
	"fmt"
	"io"
	"net/http"
)

// attemptInfo records what the HTTP layer saw during one attempt. The
// OpenAI client does not surface response headers on errors, so the
// transport stores them here, found through the request's context.
type attemptInfo struct {
	sent   bool // the request reached the HTTP client
	status int  // 0 when no response arrived
	header http.Header
}

type attemptKey struct{}

// errResponseTooLarge ends reading a body past Config.MaxResponseBytes.
var errResponseTooLarge = errors.New("response body exceeds the size limit")

// captureDoer is the HTTP client given to go-openai: it records the
// status and headers of each response and caps the body size.
type captureDoer struct {
	client  *http.Client
	maxBody int64
}

func (d *captureDoer) Do(req *http.Request) (*http.Response, error) {
	info, _ := req.Context().Value(attemptKey{}).(*attemptInfo)
	if info != nil {
		info.sent = true
	}
	resp, err := d.client.Do(req)
	if err != nil {
		return nil, err
	}
	if info != nil {
		info.status = resp.StatusCode
		info.header = resp.Header
	}
	resp.Body = &limitedBody{rc: resp.Body, left: d.maxBody}
	return resp, nil
}

// limitedBody fails with errResponseTooLarge instead of silently
// truncating, so an oversized answer is never mistaken for a short one.
type limitedBody struct {
	rc   io.ReadCloser
	left int64
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// Probe one byte to tell "exactly at the limit" from "over it".
		var one [1]byte
		n, err := b.rc.Read(one[:])
		if n > 0 {
			return 0, fmt.Errorf("llm: %w", errResponseTooLarge)
		}
		return 0, err
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *limitedBody) Close() error { return b.rc.Close() }

// newHTTPClient builds the default HTTP client: the default transport
// (proxy from environment, HTTP/2) with enough idle connections for the
// concurrency limit, and no client-wide timeout (each attempt has its own
// context deadline).
func newHTTPClient(maxConcurrency int) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = maxConcurrency
	return &http.Client{Transport: t}
}
