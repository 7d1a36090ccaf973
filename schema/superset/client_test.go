package superset_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/texttosql/text2sql/schema/superset"
	"github.com/texttosql/text2sql/test/fakesuperset"
)

func TestConfigValidation(t *testing.T) {
	tests := []struct {
		name string
		cfg  superset.Config
		want string // substring of the error; "" means valid
	}{
		{"no base url", superset.Config{Username: "u", Password: "p"}, "base URL is required"},
		{"bad scheme", superset.Config{BaseURL: "ftp://x", Username: "u", Password: "p"}, "scheme must be http or https"},
		{"credentials in url", superset.Config{BaseURL: "https://u:p@x", Username: "u", Password: "p"}, "must not carry user:password@"},
		{"no credentials", superset.Config{BaseURL: "https://x"}, "set an API key, or a username and password"},
		{"bad provider", superset.Config{BaseURL: "https://x", Username: "u", Password: "p", Provider: "oauth"}, `provider "oauth"`},
		{"query in url", superset.Config{BaseURL: "https://x/?a=b", Username: "u", Password: "p"}, "must not have a query"},
		{"ldap", superset.Config{BaseURL: "https://x", Username: "u", Password: "p", Provider: "ldap"}, ""},
		{"api key", superset.Config{BaseURL: "https://x/api/v1/", APIKey: "sst_abc"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := superset.New(tt.cfg)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if got := c.Config(); got.PageSize != 100 || got.MaxConcurrency <= 0 || strings.HasSuffix(got.BaseURL, "/api/v1") {
					t.Fatalf("defaults not applied: %+v", got)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want it to contain %q", err, tt.want)
			}
			if tt.cfg.Password != "" && strings.Contains(err.Error(), tt.cfg.Password+"@") {
				t.Fatalf("error leaks the password: %v", err)
			}
		})
	}
}

func TestPageSizeClamped(t *testing.T) {
	f := newFake(t, fakesuperset.Options{})
	cfg := svcConfig(f)
	cfg.PageSize = 500
	if got := newClient(t, cfg).Config().PageSize; got != 100 {
		t.Fatalf("page size = %d, want it clamped to 100", got)
	}
}

// A server whose FAB_API_MAX_PAGE_SIZE is below the client's page size
// clamps silently; the client must still read every row.
func TestServerClampsPageSizeLower(t *testing.T) {
	f := newFake(t, fakesuperset.Options{MaxPageSize: 30})
	f.Generate(fakesuperset.GenerateOptions{Datasets: 95, Columns: 3})
	cat, err := superset.Pull(context.Background(), svcConfig(f))
	if err != nil {
		t.Fatal(err)
	}
	if got := len(cat.Databases[0].Tables); got != 95 {
		t.Fatalf("tables = %d, want 95", got)
	}

	// Incrementally too: more changes than one clamped page holds.
	src := superset.NewSource(newClient(t, svcConfig(f)))
	ctx := context.Background()
	dbs, err := src.Databases(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.Fetch(ctx, dbs[0], true); err != nil {
		t.Fatal(err)
	}
	for id := int64(1); id <= 40; id++ {
		f.UpdateDataset(id, func(d *fakesuperset.Dataset) { d.Description = "changed" })
	}
	db, err := src.Fetch(ctx, dbs[0], false)
	if err != nil {
		t.Fatal(err)
	}
	changed := 0
	for _, tb := range db.Tables {
		if tb.Description == "changed" {
			changed++
		}
	}
	if changed != 40 {
		t.Fatalf("incremental refresh saw %d of 40 changes", changed)
	}
}

// Every access token expires while a sync is under way: the client logs in
// again once (not once per failed call) and the sync completes.
func TestExpiredTokenMidSync(t *testing.T) {
	f := newFake(t, fakesuperset.Options{Latency: 2 * time.Millisecond})
	f.Generate(fakesuperset.GenerateOptions{Datasets: 300, Columns: 4})
	cfg := svcConfig(f)
	cfg.MaxConcurrency = 16
	c := newClient(t, cfg)
	src := superset.NewSource(c)
	ctx := context.Background()
	dbs, err := src.Databases(ctx)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	expired := make(chan struct{})
	go func() {
		defer close(expired)
		for f.Calls(fakesuperset.EndpointDatasetGet) < 100 {
			select {
			case <-done:
				return
			case <-time.After(time.Millisecond):
			}
		}
		f.ExpireAccessTokens()
	}()
	db, err := src.Fetch(ctx, dbs[0], true)
	close(done)
	<-expired
	if err != nil {
		t.Fatalf("sync failed: %v", err)
	}
	if len(db.Tables) != 300 {
		t.Fatalf("tables = %d, want 300", len(db.Tables))
	}
	if f.Calls(fakesuperset.EndpointDatasetGet) < 100 {
		t.Fatalf("tokens were not expired mid-sync")
	}
	if got := f.Calls(fakesuperset.EndpointLogin); got != 2 {
		t.Fatalf("logins = %d, want 2 (the first, and one shared re-login)", got)
	}
}

// The refresh token is used before the access token expires.
func TestProactiveRefresh(t *testing.T) {
	f := newFake(t, fakesuperset.Options{AccessTokenTTL: 2 * time.Second})
	f.Generate(fakesuperset.GenerateOptions{Datasets: 1, Columns: 2})
	c := newClient(t, svcConfig(f))
	ctx := context.Background()
	if _, err := c.Databases(ctx); err != nil {
		t.Fatal(err)
	}
	// 80% of a 2 s lifetime (exp has one-second resolution, so allow 2 s).
	time.Sleep(2100 * time.Millisecond)
	if _, err := c.Databases(ctx); err != nil {
		t.Fatal(err)
	}
	if f.Calls(fakesuperset.EndpointRefresh) != 1 || f.Calls(fakesuperset.EndpointLogin) != 1 {
		t.Fatalf("refresh=%d login=%d, want one login then one refresh",
			f.Calls(fakesuperset.EndpointRefresh), f.Calls(fakesuperset.EndpointLogin))
	}
}

func TestRetriesServerErrors(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		failures  int
		retries   int
		wantErr   bool
		wantCalls int64
	}{
		{"502 burst within retries", http.StatusBadGateway, 3, 4, false, 4},
		{"503 burst within retries", http.StatusServiceUnavailable, 2, 4, false, 3},
		{"500 beyond retries", http.StatusInternalServerError, 10, 2, true, 3},
		{"429 retried", http.StatusTooManyRequests, 1, 1, false, 2},
		{"404 not retried", http.StatusNotFound, 5, 4, true, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, fakesuperset.Options{})
			cfg := svcConfig(f)
			cfg.Retries = tt.retries
			c := newClient(t, cfg)
			ctx := context.Background()
			if _, err := c.Databases(ctx); err != nil { // log in first
				t.Fatal(err)
			}
			f.ResetCalls()
			f.FailNext(tt.failures, tt.status, fakesuperset.EndpointDatabaseList)
			_, err := c.Databases(ctx)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error: %v", err, tt.wantErr)
			}
			if tt.wantErr {
				var se *superset.StatusError
				if !errors.As(err, &se) || se.Status != tt.status {
					t.Fatalf("err = %v, want a StatusError %d", err, tt.status)
				}
			}
			if got := f.Calls(fakesuperset.EndpointDatabaseList); got != tt.wantCalls {
				t.Fatalf("calls = %d, want %d", got, tt.wantCalls)
			}
		})
	}
}

// A 503 with Retry-After waits what the server asked, not the backoff.
func TestRetryAfterHonoured(t *testing.T) {
	f := newFake(t, fakesuperset.Options{RetryAfter: time.Second})
	logger, logs := debugLogger()
	cfg := svcConfig(f)
	cfg.Logger = logger
	c := newClient(t, cfg)
	f.FailNext(1, http.StatusServiceUnavailable, fakesuperset.EndpointDatabaseList)
	if _, err := c.Databases(context.Background()); err != nil {
		t.Fatal(err)
	}
	var waited bool
	for _, line := range strings.Split(logs.String(), "\n") {
		var rec struct {
			Msg  string `json:"msg"`
			Wait int64  `json:"wait"`
		}
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "superset call failed, retrying" {
			waited = time.Duration(rec.Wait) == time.Second
		}
	}
	if !waited {
		t.Fatalf("no retry waiting the 1s Retry-After was logged:\n%s", logs)
	}
}

func TestConnectionRefusedIsRetriedThenReported(t *testing.T) {
	f := newFake(t, fakesuperset.Options{})
	cfg := svcConfig(f)
	cfg.Retries = 1
	c := newClient(t, cfg)
	f.Stop()
	_, err := c.Databases(context.Background())
	if err == nil || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("err = %v, want connection refused", err)
	}
}

// Mutating calls carry the CSRF token and session cookie; the token is
// fetched once and reused, and fetched again once when Superset rejects it.
func TestCSRF(t *testing.T) {
	f := newFake(t, fakesuperset.Options{})
	c := newClient(t, svcConfig(f))
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		u, err := c.SQLLabPermalink(ctx, superset.Permalink{DatabaseID: 1, SQL: "SELECT 1", Schema: "public", Name: "q"})
		if err != nil {
			t.Fatalf("permalink: %v", err)
		}
		if !strings.Contains(u, "/sqllab/p/") {
			t.Fatalf("url = %q", u)
		}
	}
	if got := f.Calls(fakesuperset.EndpointCSRF); got != 1 {
		t.Fatalf("csrf token fetched %d times, want 1", got)
	}
	f.ResetSessions()
	if _, err := c.SQLLabPermalink(ctx, superset.Permalink{DatabaseID: 1, SQL: "SELECT 2"}); err != nil {
		t.Fatalf("permalink after session reset: %v", err)
	}
	if got := f.Calls(fakesuperset.EndpointCSRF); got != 2 {
		t.Fatalf("csrf token fetched %d times, want 2", got)
	}
	if got := f.Calls(fakesuperset.EndpointSQLLabPermalink); got != 5 {
		t.Fatalf("permalink calls = %d, want 5 (4 accepted, 1 CSRF rejection)", got)
	}
	var body map[string]any
	for _, raw := range f.Permalinks() {
		if err := json.Unmarshal(raw, &body); err != nil || body["sql"] == nil || body["dbId"] == nil {
			t.Fatalf("stored permalink body %s", raw)
		}
	}
}

func TestAPIKey(t *testing.T) {
	f := newFake(t, fakesuperset.Options{})
	uid := f.AddUser(fakesuperset.User{Username: "keyholder", Password: "unused-password", Admin: true})
	f.AddAPIKey("sst_0123456789abcdef", uid)
	f.Generate(fakesuperset.GenerateOptions{Datasets: 5, Columns: 3})
	ctx := context.Background()

	cat, err := superset.Pull(ctx, superset.Config{BaseURL: f.URL(), APIKey: "sst_0123456789abcdef", Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	if len(cat.Databases[0].Tables) != 5 {
		t.Fatalf("tables = %d", len(cat.Databases[0].Tables))
	}
	c := newClient(t, superset.Config{BaseURL: f.URL(), APIKey: "sst_0123456789abcdef", Logger: quietLogger()})
	if _, err := c.SQLLabPermalink(ctx, superset.Permalink{DatabaseID: 1, SQL: "SELECT 1"}); err != nil {
		t.Fatalf("permalink with API key: %v", err)
	}
	if f.Calls(fakesuperset.EndpointLogin) != 0 {
		t.Fatal("an API-key client logged in")
	}

	f.ResetCalls()
	bad := newClient(t, superset.Config{BaseURL: f.URL(), APIKey: "sst_wrong", Logger: quietLogger()})
	_, err = bad.Databases(ctx)
	if !errors.Is(err, superset.ErrAuth) {
		t.Fatalf("err = %v, want ErrAuth", err)
	}
	if strings.Contains(err.Error(), "sst_wrong") {
		t.Fatalf("error leaks the API key: %v", err)
	}
	if got := f.TotalCalls(); got != 1 {
		t.Fatalf("calls with a refused key = %d, want 1 (no retry loop)", got)
	}
}

func TestBadPasswordIsAuthError(t *testing.T) {
	f := newFake(t, fakesuperset.Options{})
	cfg := svcConfig(f)
	cfg.Password = "wrong-Passw0rd-value"
	_, err := newClient(t, cfg).Databases(context.Background())
	if !errors.Is(err, superset.ErrAuth) {
		t.Fatalf("err = %v, want ErrAuth", err)
	}
	if f.Calls(fakesuperset.EndpointLogin) != 1 {
		t.Fatalf("login calls = %d, want 1", f.Calls(fakesuperset.EndpointLogin))
	}
}

// The concurrency bound holds across a parallel sync.
func TestConcurrencyBound(t *testing.T) {
	f := newFake(t, fakesuperset.Options{Latency: 3 * time.Millisecond})
	f.Generate(fakesuperset.GenerateOptions{Datasets: 200, Columns: 3})
	cfg := svcConfig(f)
	cfg.MaxConcurrency = 5
	if _, err := superset.Pull(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	// Login runs outside the bound (it is what the bounded calls wait on).
	if got := f.PeakInFlight(); got > 5 || got < 2 {
		t.Fatalf("peak concurrent calls = %d, want 2..5", got)
	}
}

// No token, password or API key appears in any log line or error string,
// through logins, expiry, refused credentials, user tokens and retries.
func TestNoSecretsInLogsOrErrors(t *testing.T) {
	var (
		mu     sync.Mutex
		issued []string
	)
	f := newFake(t, fakesuperset.Options{AccessTokenTTL: time.Hour, Observe: func(r *http.Request, status int, _ http.Header, body []byte) {
		var tok struct {
			Access  string `json:"access_token"`
			Refresh string `json:"refresh_token"`
		}
		if json.Unmarshal(body, &tok) == nil {
			mu.Lock()
			issued = append(issued, tok.Access, tok.Refresh)
			mu.Unlock()
		}
	}})
	uid := f.AddUser(fakesuperset.User{Username: "alice", Password: "alice-Passw0rd", Datasets: []int64{1}})
	f.AddAPIKey("sst_secretkey_value_1234", uid)
	f.Generate(fakesuperset.GenerateOptions{Datasets: 20, Columns: 3})
	logger, logs := debugLogger()
	ctx := context.Background()
	var errs []error

	cfg := svcConfig(f)
	cfg.Logger = logger
	c := newClient(t, cfg)
	src := superset.NewSource(c)
	dbs, err := src.Databases(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.Fetch(ctx, dbs[0], true); err != nil {
		t.Fatal(err)
	}
	f.ExpireAccessTokens()
	f.FailNext(2, http.StatusBadGateway)
	if _, err := src.Fetch(ctx, dbs[0], false); err != nil {
		t.Fatal(err)
	}
	_, err = c.SQLLabPermalink(ctx, superset.Permalink{DatabaseID: 1, SQL: "SELECT 1"})
	errs = append(errs, err)

	// The user's own token, valid then expired, and a garbage one.
	aliceTok := loginAs(t, f, "alice", "alice-Passw0rd")
	scope := superset.NewScope(c, superset.ScopeOptions{})
	_, err = scope.VisibleDatasets(ctx, aliceTok, 0)
	errs = append(errs, err)
	f.ExpireAccessTokens()
	_, err = scope.VisibleDatasets(ctx, aliceTok+"x", 0)
	errs = append(errs, err)
	_, err = scope.VisibleDatasets(ctx, "Bearer not.a.jwt", 0)
	errs = append(errs, err)

	badPass := svcConfig(f)
	badPass.Password, badPass.Logger = "Wr0ng-but-secret", logger
	_, err = newClient(t, badPass).Databases(ctx)
	errs = append(errs, err)
	badKey := superset.Config{BaseURL: f.URL(), APIKey: "sst_not_a_real_key_999", Logger: logger}
	_, err = newClient(t, badKey).Databases(ctx)
	errs = append(errs, err)

	mu.Lock()
	secrets := append([]string{svcPass, "alice-Passw0rd", "sst_secretkey_value_1234", aliceTok, aliceTok + "x",
		"Wr0ng-but-secret", "sst_not_a_real_key_999"}, issued...)
	mu.Unlock()
	var text strings.Builder
	text.WriteString(logs.String())
	for _, e := range errs {
		if e != nil {
			text.WriteString("\n" + e.Error())
		}
	}
	if !strings.Contains(text.String(), "superset call") || len(issued) < 4 {
		t.Fatalf("the scenario did not run as planned (issued %d tokens)", len(issued))
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(text.String(), s) {
			t.Fatalf("secret %.12q… appears in logs or errors", s)
		}
	}
}

// loginAs logs a user in directly and returns their access token.
func loginAs(t *testing.T, f *fakesuperset.Server, user, pass string) string {
	t.Helper()
	body := strings.NewReader(`{"username":"` + user + `","password":"` + pass + `","provider":"db"}`)
	resp, err := http.Post(f.URL()+"/api/v1/security/login", "application/json", body)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Access string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.Access == "" {
		t.Fatalf("login %s: %d %v", user, resp.StatusCode, err)
	}
	return out.Access
}

func TestConfigPrintsNoSecrets(t *testing.T) {
	cfg := superset.Config{BaseURL: "https://x", Username: "svc", Password: "Pa55-secret", APIKey: ""}
	key := superset.Config{BaseURL: "https://x", APIKey: "sst_very_secret"}
	logger, logs := debugLogger()
	logger.Info("config", "superset", cfg, "keyed", key)
	for _, s := range []string{fmt.Sprintf("%v %+v %#v %s", cfg, cfg, cfg, cfg), fmt.Sprintf("%v %+v %#v", key, key, key), logs.String()} {
		if strings.Contains(s, "Pa55-secret") || strings.Contains(s, "sst_very_secret") {
			t.Fatalf("secret printed: %s", s)
		}
	}
}

// The rate budget is taken before a call is sent: with half a call per
// second, the login spends the budget and the database list, which could
// only go out after the caller's deadline, is refused without reaching
// Superset.
func TestRateBudget(t *testing.T) {
	f := newFake(t, fakesuperset.Options{})
	f.Generate(fakesuperset.GenerateOptions{Datasets: 1, Columns: 1})
	cfg := svcConfig(f)
	cfg.MaxRate = 0.5
	c := newClient(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	_, err := c.Databases(ctx)
	if err == nil || !strings.Contains(err.Error(), "rate budget of 0.5 calls/s") {
		t.Fatalf("Databases = %v, want the rate budget to refuse the second call", err)
	}
	if got := f.Calls(fakesuperset.EndpointLogin); got != 1 {
		t.Errorf("login calls = %d, want 1", got)
	}
	if got := f.Calls(fakesuperset.EndpointDatabaseList); got != 0 {
		t.Errorf("database list calls = %d, want 0: the budget was spent", got)
	}
	if !strings.Contains(c.Config().String(), "rate 0.5/s") {
		t.Errorf("config = %s, want the rate in it", c.Config())
	}

	// Without a budget the same calls go through.
	cfg.MaxRate = 0
	if _, err := newClient(t, cfg).Databases(ctx); err != nil {
		t.Fatal(err)
	}
}
