package superset

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/sync/singleflight"
)

// tokenSource holds the service account's access token. It refreshes the
// token before it expires (at 80% of its lifetime), logs in again when the
// refresh token is refused, and collapses concurrent renewals into one call.
type tokenSource struct {
	c  *Client
	sf singleflight.Group

	mu        sync.Mutex
	access    string
	refresh   string
	refreshAt time.Time // renew proactively after this
}

func newTokenSource(c *Client) *tokenSource { return &tokenSource{c: c} }

// secrets lists what must never appear in an error or a log line.
func (t *tokenSource) secrets() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return []string{t.c.cfg.Password, t.c.cfg.APIKey, t.access, t.refresh}
}

// token returns an access token that is not about to expire.
func (t *tokenSource) token(ctx context.Context) (string, error) {
	if t.c.cfg.APIKey != "" {
		return t.c.cfg.APIKey, nil
	}
	t.mu.Lock()
	access, refreshAt := t.access, t.refreshAt
	t.mu.Unlock()
	if access != "" && time.Now().Before(refreshAt) {
		return access, nil
	}
	if err := t.renewShared(ctx, access, false); err != nil {
		return "", err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.access, nil
}

// renew replaces the token used, which Superset has just refused, by
// logging in again: a refused access token means the refresh token may be
// bad too (secret key rotated, user disabled). If another call already
// replaced it, there is nothing to do.
func (t *tokenSource) renew(ctx context.Context, used string) error {
	if t.c.cfg.APIKey != "" {
		return fmt.Errorf("%w: the API key was refused", ErrAuth)
	}
	return t.renewShared(ctx, used, true)
}

// renewShared runs one refresh-or-login for every concurrent caller whose
// token is stale. The shared call outlives a caller that gives up, so one
// cancelled request does not fail the others waiting on it.
func (t *tokenSource) renewShared(ctx context.Context, stale string, login bool) error {
	ch := t.sf.DoChan("renew", func() (any, error) {
		t.mu.Lock()
		current, refreshAt := t.access, t.refreshAt
		t.mu.Unlock()
		if current != "" && current != stale && time.Now().Before(refreshAt) {
			return nil, nil // renewed by an earlier call
		}
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Duration(t.c.cfg.Retries+2)*t.c.cfg.Timeout)
		defer cancel()
		if login {
			return nil, t.login(rctx)
		}
		return nil, t.refreshOrLogin(rctx)
	})
	select {
	case r := <-ch:
		return r.Err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (t *tokenSource) refreshOrLogin(ctx context.Context) error {
	t.mu.Lock()
	refresh := t.refresh
	t.mu.Unlock()
	if refresh != "" {
		var out struct {
			AccessToken string `json:"access_token"`
		}
		err := t.c.do(ctx, request{op: "refresh", method: http.MethodPost, path: "/api/v1/security/refresh",
			auth: authBearer, bearer: refresh}, &out)
		if err == nil && out.AccessToken != "" {
			t.set(out.AccessToken, refresh)
			t.c.log.LogAttrs(ctx, slog.LevelDebug, "refreshed superset access token")
			return nil
		}
		if err != nil {
			t.c.log.LogAttrs(ctx, slog.LevelInfo, "superset token refresh failed; logging in again", slog.String("error", err.Error()))
		}
	}
	return t.login(ctx)
}

func (t *tokenSource) login(ctx context.Context) error {
	body := struct {
		Username string `json:"username"`
		Password string `json:"password"`
		Provider string `json:"provider"`
		Refresh  bool   `json:"refresh"`
	}{t.c.cfg.Username, t.c.cfg.Password, t.c.cfg.Provider, true}
	var out struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
	}
	err := t.c.do(ctx, request{op: "login", method: http.MethodPost, path: "/api/v1/security/login",
		auth: authNone, body: body}, &out)
	if err != nil {
		var se *StatusError
		if errors.As(err, &se) && (se.Status == http.StatusUnauthorized || se.Status == http.StatusBadRequest) {
			return fmt.Errorf("%w: login as %q (provider %s) failed: %v", ErrAuth, t.c.cfg.Username, t.c.cfg.Provider, err)
		}
		return fmt.Errorf("login: %w", err)
	}
	if out.AccessToken == "" {
		return fmt.Errorf("%w: login answered without an access token", ErrAuth)
	}
	t.set(out.AccessToken, out.RefreshToken)
	t.c.log.LogAttrs(ctx, slog.LevelInfo, "logged in to superset", slog.String("provider", t.c.cfg.Provider))
	return nil
}

// set stores a token and schedules its renewal from its exp claim, read
// without verifying the signature (the client cannot know Superset's key and
// only needs the time); when exp is unreadable, Config.TokenTTL is assumed.
func (t *tokenSource) set(access, refresh string) {
	now := time.Now()
	expires := now.Add(t.c.cfg.TokenTTL)
	var claims jwt.RegisteredClaims
	if _, _, err := jwt.NewParser().ParseUnverified(access, &claims); err == nil && claims.ExpiresAt != nil {
		expires = claims.ExpiresAt.Time
	}
	life := expires.Sub(now)
	if life < 0 {
		life = 0
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.access, t.refresh = access, refresh
	t.refreshAt = now.Add(life * 4 / 5)
}

// csrfState caches the CSRF token and the session cookie it belongs to.
// The cookie is sent only with mutating calls made with the service
// credentials: a session cookie next to an end user's token would make
// Superset treat the call as the service account's.
type csrfState struct {
	sf sync.Mutex
	mu sync.Mutex
	t  *csrfToken
}

type csrfToken struct {
	token   string
	cookies []*http.Cookie
	access  string // the access token it was obtained with
}

func (s *csrfState) reset() {
	s.mu.Lock()
	s.t = nil
	s.mu.Unlock()
}

// csrfToken returns a CSRF token and session cookie valid for access.
func (c *Client) csrfToken(ctx context.Context, access string) (*csrfToken, error) {
	c.csrf.mu.Lock()
	t := c.csrf.t
	c.csrf.mu.Unlock()
	if t != nil && t.access == access {
		return t, nil
	}
	// One fetch at a time; the ones queued behind it reuse its result.
	c.csrf.sf.Lock()
	defer c.csrf.sf.Unlock()
	c.csrf.mu.Lock()
	t = c.csrf.t
	c.csrf.mu.Unlock()
	if t != nil && t.access == access {
		return t, nil
	}
	var out struct {
		Result string `json:"result"`
	}
	var cookies []*http.Cookie
	err := c.do(ctx, request{op: "csrf_token", method: http.MethodGet, path: "/api/v1/security/csrf_token/",
		auth: authBearer, bearer: access, header: func(h http.Header) {
			cookies = (&http.Response{Header: h}).Cookies()
		}}, &out)
	if err != nil {
		return nil, fmt.Errorf("superset: fetching CSRF token: %w", err)
	}
	if out.Result == "" {
		return nil, errors.New("superset: CSRF token endpoint answered without a token")
	}
	jar := make([]*http.Cookie, 0, len(cookies))
	for _, ck := range cookies {
		jar = append(jar, &http.Cookie{Name: ck.Name, Value: ck.Value})
	}
	t = &csrfToken{token: out.Result, cookies: jar, access: access}
	c.csrf.mu.Lock()
	c.csrf.t = t
	c.csrf.mu.Unlock()
	return t, nil
}
