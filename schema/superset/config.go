// Package superset reads table schemas from Apache Superset's REST API: a
// client (service-account or API-key auth, retries, bounded concurrency,
// CSRF), a catalog source that turns datasets into schema.Database values
// (full and incremental), Pull for writing a schema file, and Scope, which
// lists the datasets one end user may see.
package superset

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Defaults applied by Config.withDefaults.
const (
	DefaultTimeout        = 30 * time.Second
	DefaultMaxConcurrency = 48
	// DefaultMaxRate is the service's default for MaxRate: under Superset
	// 6's per-client-address limit (RATELIMIT_APPLICATION, 50 per second),
	// leaving room for retries and for other clients behind the address.
	DefaultMaxRate       = 20
	DefaultRetries       = 4
	DefaultPageSize      = 100
	DefaultTokenTTL      = 15 * time.Minute
	DefaultMaxRetryAfter = 30 * time.Second
	// MaxPageSize is FAB_API_MAX_PAGE_SIZE's default: Superset clamps larger
	// page sizes silently, so asking for more would make paging skip rows.
	MaxPageSize = 100
)

// Config says how to reach Superset and how hard to lean on it.
type Config struct {
	// BaseURL is Superset's root, e.g. https://superset.example.com (no
	// /api/v1 suffix, no user:password@).
	BaseURL string
	// Username and Password are a service account's credentials, used with
	// POST /api/v1/security/login. Ignored when APIKey is set.
	Username string
	Password string
	// Provider is the login provider: "db" (default) or "ldap".
	Provider string
	// APIKey is a Superset API key (sst_…), sent as a bearer token; it
	// replaces username/password login (Superset ≥ 6.1 with
	// FAB_API_KEY_ENABLED).
	APIKey string
	// Timeout bounds one HTTP attempt (connect, headers and body).
	Timeout time.Duration
	// MaxConcurrency bounds the calls in flight to Superset at once, across
	// every database being synced.
	MaxConcurrency int
	// MaxRate bounds the calls sent to Superset per second (logins, catalog
	// syncs and user scopes together; bursts up to one second's worth).
	// Superset rate-limits each client address, so every client sharing
	// one address shares that budget. Zero or negative means no limit.
	MaxRate float64
	// Retries is how many times a call is retried after a 5xx, a 429 or a
	// connection error (so at most Retries+1 attempts). Zero means
	// DefaultRetries; negative means none.
	Retries int
	// PageSize is the list page size; values above 100 are lowered to 100.
	PageSize int
	// TokenTTL is the access-token lifetime assumed when a token's exp claim
	// cannot be read (flask-jwt-extended's default is 15 minutes).
	TokenTTL time.Duration
	// MaxRetryAfter caps how long a Retry-After header may make a call wait.
	MaxRetryAfter time.Duration
	// Databases limits syncing to these databases (Superset database names
	// or ids); empty means every database the account can see.
	Databases []string
	// SkipTableMetadata turns off the per-table metadata calls that supply
	// primary and foreign keys (they make Superset query the warehouse).
	SkipTableMetadata bool
	// UserAgent is sent on every call.
	UserAgent string

	// HTTPClient, when set, is used as is (its Timeout, transport and
	// redirect policy included). By default the client builds one whose
	// connection pool fits MaxConcurrency and which does not follow redirects.
	HTTPClient *http.Client
	// Logger receives the client's logs; nil means slog.Default().
	Logger *slog.Logger
	// Registerer, when set, receives the client's request metrics.
	Registerer prometheus.Registerer
}

// withDefaults returns a copy with zero fields filled in, or an error for a
// configuration that cannot work.
func (c Config) withDefaults() (Config, error) {
	if c.BaseURL == "" {
		return c, errors.New("superset: base URL is required")
	}
	u, err := url.Parse(c.BaseURL)
	if err != nil {
		return c, fmt.Errorf("superset: base URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return c, fmt.Errorf("superset: base URL %q: scheme must be http or https", redactURL(u))
	}
	if u.Host == "" {
		return c, fmt.Errorf("superset: base URL %q has no host", redactURL(u))
	}
	if u.User != nil {
		// Credentials in the URL would end up in every error message.
		return c, errors.New("superset: base URL must not carry user:password@; set the username and password fields")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return c, fmt.Errorf("superset: base URL %q must not have a query or fragment", redactURL(u))
	}
	c.BaseURL = strings.TrimRight(u.String(), "/")
	c.BaseURL = strings.TrimSuffix(c.BaseURL, "/api/v1")
	if c.APIKey == "" {
		if c.Username == "" || c.Password == "" {
			return c, errors.New("superset: set an API key, or a username and password")
		}
		switch c.Provider {
		case "":
			c.Provider = "db"
		case "db", "ldap":
		default:
			return c, fmt.Errorf("superset: provider %q: want db or ldap", c.Provider)
		}
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.MaxConcurrency <= 0 {
		c.MaxConcurrency = DefaultMaxConcurrency
	}
	if c.Retries == 0 {
		c.Retries = DefaultRetries
	}
	if c.Retries < 0 {
		c.Retries = 0
	}
	if c.PageSize <= 0 || c.PageSize > MaxPageSize {
		c.PageSize = MaxPageSize
	}
	if c.TokenTTL <= 0 {
		c.TokenTTL = DefaultTokenTTL
	}
	if c.MaxRetryAfter <= 0 {
		c.MaxRetryAfter = DefaultMaxRetryAfter
	}
	if c.UserAgent == "" {
		c.UserAgent = "text2sql-schema-sync"
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c, nil
}

// wantsDatabase reports whether the database is selected by c.Databases.
func (c Config) wantsDatabase(id int64, name string) bool {
	if len(c.Databases) == 0 {
		return true
	}
	for _, d := range c.Databases {
		d = strings.TrimSpace(d)
		if d == name || d == strconv.FormatInt(id, 10) {
			return true
		}
	}
	return false
}

func redactURL(u *url.URL) string {
	v := *u
	v.User = nil
	return v.String()
}

// String describes the configuration without its secrets, so logging a
// Config (fmt's %v and %+v, or slog) cannot leak the password or API key.
func (c Config) String() string {
	auth := "api key"
	if c.APIKey == "" {
		auth = fmt.Sprintf("user %q via %s", c.Username, cmp.Or(c.Provider, "db"))
	}
	rate := "unlimited"
	if c.MaxRate > 0 {
		rate = strconv.FormatFloat(c.MaxRate, 'g', -1, 64) + "/s"
	}
	return fmt.Sprintf("superset %s (%s, timeout %v, concurrency %d, rate %s, retries %d, page size %d)",
		c.BaseURL, auth, c.Timeout, c.MaxConcurrency, rate, c.Retries, c.PageSize)
}

// LogValue is String for slog.
func (c Config) LogValue() slog.Value { return slog.StringValue(c.String()) }

// GoString keeps %#v from printing the secrets too.
func (c Config) GoString() string { return c.String() }
