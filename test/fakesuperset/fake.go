// Package fakesuperset is an in-process Superset REST API for tests and
// benchmarks: the endpoints the text2sql Superset client uses, with
// Superset's real response shapes (FAB list envelopes, rison `q`, JWT login
// and refresh, CSRF with a session cookie, table metadata), per-user dataset
// visibility, and faults on demand: token expiry, 5xx bursts, latency,
// Retry-After, a server that is down or refuses connections, and a catalog
// that changes over time. A contract test checks every response it serves
// against Superset's OpenAPI spec.
package fakesuperset

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Endpoint names, for Calls and FailNext.
const (
	EndpointLogin             = "login"
	EndpointRefresh           = "refresh"
	EndpointCSRF              = "csrf_token"
	EndpointDatabaseList      = "database_list"
	EndpointDatasetList       = "dataset_list"
	EndpointDatasetGet        = "dataset_get"
	EndpointTableMetadata     = "table_metadata"
	EndpointTableMetadataOld  = "table_metadata_legacy"
	EndpointSQLLabPermalink   = "sqllab_permalink"
	EndpointNotFound          = "not_found"
	defaultMaxPageSize        = 100
	defaultAccessTokenTTL     = 15 * time.Minute
	defaultRefreshTokenTTL    = 30 * 24 * time.Hour
	flaskNotFoundMessage      = "404 Not Found: The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again."
	defaultListPageSize       = 20
	serviceUnavailableMessage = "Service Unavailable"
)

// TableMetadataMode says which table-metadata endpoints the fake answers,
// to stand for Superset versions before and after 4.1.
type TableMetadataMode int

const (
	// TableMetadataBoth answers table_metadata/ and the older table/… route.
	TableMetadataBoth TableMetadataMode = iota
	// TableMetadataLegacyOnly answers only table/{table}/{schema}/ (< 4.1).
	TableMetadataLegacyOnly
	// TableMetadataNone answers neither.
	TableMetadataNone
)

// Options configures a Server.
type Options struct {
	// Latency is added to every call (respecting the caller hanging up).
	Latency time.Duration
	// AccessTokenTTL is the lifetime of issued access tokens (default 15m).
	AccessTokenTTL time.Duration
	// MaxPageSize is FAB_API_MAX_PAGE_SIZE (default 100).
	MaxPageSize int
	// RetryAfter, when set, is sent as Retry-After with injected 429 and 503
	// answers.
	RetryAfter time.Duration
	// Observe, when set, sees every response the fake sends (the contract
	// test validates them). It slows the fake down a little.
	Observe func(r *http.Request, status int, header http.Header, body []byte)
	// Addr to listen on (default 127.0.0.1:0).
	Addr string
}

// Server is a running fake Superset. Its methods are safe for concurrent use.
type Server struct {
	opts   Options
	secret []byte

	mu          sync.RWMutex
	databases   map[int64]*Database
	datasets    map[int64]*Dataset
	idx         atomic.Pointer[datasetIndex] // nil after a change
	imu         sync.Mutex                   // builds idx
	users       map[int64]*User
	apiKeys     map[string]int64
	sessions    map[string]string // session cookie → CSRF token
	permalinks  map[string]json.RawMessage
	nextDB      int64
	nextDataset int64
	nextUser    int64
	metaMode    TableMetadataMode

	jti         atomic.Int64
	expiredUpTo atomic.Int64 // access tokens with jti ≤ this are expired
	latency     atomic.Int64
	down        atomic.Int32
	faults      faultState

	calls    sync.Map // endpoint → *atomic.Int64
	total    atomic.Int64
	inFlight atomic.Int64
	peak     atomic.Int64

	lmu      sync.Mutex
	addr     string
	srv      *http.Server
	listener net.Listener
}

type faultState struct {
	mu        sync.Mutex
	remaining int
	status    int
	endpoints map[string]bool
}

// New starts a fake Superset with no users, databases or datasets.
func New(opts Options) (*Server, error) {
	if opts.AccessTokenTTL <= 0 {
		opts.AccessTokenTTL = defaultAccessTokenTTL
	}
	if opts.MaxPageSize <= 0 {
		opts.MaxPageSize = defaultMaxPageSize
	}
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return nil, err
	}
	s := &Server{
		opts:       opts,
		secret:     secret,
		databases:  map[int64]*Database{},
		datasets:   map[int64]*Dataset{},
		users:      map[int64]*User{},
		apiKeys:    map[string]int64{},
		sessions:   map[string]string{},
		permalinks: map[string]json.RawMessage{},
	}
	s.latency.Store(int64(opts.Latency))
	if err := s.listen(opts.Addr); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Server) listen(addr string) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	s.lmu.Lock()
	s.addr, s.srv, s.listener = l.Addr().String(), srv, l
	s.lmu.Unlock()
	go func() { _ = srv.Serve(l) }()
	return nil
}

// URL is the fake's base URL (http://127.0.0.1:port).
func (s *Server) URL() string {
	s.lmu.Lock()
	defer s.lmu.Unlock()
	return "http://" + s.addr
}

// Close stops the server.
func (s *Server) Close() { s.Stop() }

// Stop closes the listener and every connection: calls are refused until
// Start.
func (s *Server) Stop() {
	s.lmu.Lock()
	srv, l := s.srv, s.listener
	s.srv, s.listener = nil, nil
	s.lmu.Unlock()
	if srv != nil {
		// Close the listener too: Serve may not have taken it over yet.
		_ = l.Close()
		_ = srv.Close()
	}
}

// Start listens again on the same address after Stop.
func (s *Server) Start() error {
	s.lmu.Lock()
	running, addr := s.srv != nil, s.addr
	s.lmu.Unlock()
	if running {
		return nil
	}
	var err error
	for i := 0; i < 50; i++ { // the port may linger briefly after Stop
		if err = s.listen(addr); err == nil {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return err
}

// AddDatabase adds a database and returns it with its id.
func (s *Server) AddDatabase(db Database) Database {
	s.mu.Lock()
	defer s.mu.Unlock()
	return *s.addDatabase(db)
}

func (s *Server) addDatabase(db Database) *Database {
	if db.ID == 0 {
		db.ID = s.nextDB + 1
	}
	s.nextDB = max(s.nextDB, db.ID)
	if db.Backend == "" {
		db.Backend = "postgresql"
	}
	d := db
	s.databases[d.ID] = &d
	s.idx.Store(nil) // table keys depend on the default catalog
	return &d
}

// AddDataset adds a dataset (id assigned when 0; changed_on set to now
// when zero) and returns its id.
func (s *Server) AddDataset(d Dataset) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d.ID == 0 {
		d.ID = s.nextDataset + 1
	}
	if d.ChangedOn.IsZero() {
		d.ChangedOn = now()
	}
	s.putDataset(&d)
	return d.ID
}

func (s *Server) putDataset(d *Dataset) {
	s.nextDataset = max(s.nextDataset, d.ID)
	s.datasets[d.ID] = d
	s.idx.Store(nil)
}

// UpdateDataset changes a dataset through fn and bumps its changed_on, as
// an edit in Superset does. Generated columns are materialized first so fn
// can edit them. It reports whether the dataset exists.
func (s *Server) UpdateDataset(id int64, fn func(*Dataset)) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.datasets[id]
	if old == nil {
		return false
	}
	d := *old
	d.Columns = slices.Clone(d.AllColumns())
	d.Metrics = slices.Clone(d.Metrics)
	fn(&d)
	d.ID = id
	d.ChangedOn = now()
	if !d.ChangedOn.After(old.ChangedOn) {
		d.ChangedOn = old.ChangedOn.Add(time.Microsecond)
	}
	s.datasets[id] = &d
	s.idx.Store(nil)
	return true
}

// DeleteDataset removes a dataset; it reports whether it existed.
func (s *Server) DeleteDataset(id int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.datasets[id] == nil {
		return false
	}
	delete(s.datasets, id)
	s.idx.Store(nil)
	return true
}

// Dataset returns a copy of a dataset.
func (s *Server) Dataset(id int64) (Dataset, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	d := s.datasets[id]
	if d == nil {
		return Dataset{}, false
	}
	return *d, true
}

// Generate adds a deterministic synthetic catalog and returns the new
// dataset ids.
func (s *Server) Generate(g GenerateOptions) []int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.generate(g)
}

// AddUser adds a user and returns its id.
func (s *Server) AddUser(u User) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u.ID == 0 {
		u.ID = s.nextUser + 1
	}
	s.nextUser = max(s.nextUser, u.ID)
	if u.FirstName == "" {
		u.FirstName = u.Username
	}
	if u.LastName == "" {
		u.LastName = "User"
	}
	u.Datasets = slices.Clone(u.Datasets)
	s.users[u.ID] = &u
	return u.ID
}

// SetUserDatasets replaces the datasets a (non-admin) user may see.
func (s *Server) SetUserDatasets(userID int64, ids []int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u := s.users[userID]; u != nil {
		c := *u
		c.Datasets = slices.Clone(ids)
		s.users[userID] = &c
	}
}

// AddAPIKey makes key (sst_…) authenticate as the user.
func (s *Server) AddAPIKey(key string, userID int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.apiKeys[key] = userID
}

// ResetSessions forgets every CSRF session, as a Superset restarted with a
// new SECRET_KEY would: earlier CSRF tokens and session cookies stop working.
func (s *Server) ResetSessions() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sessions = map[string]string{}
}

// SetLatency changes the per-call latency.
func (s *Server) SetLatency(d time.Duration) { s.latency.Store(int64(d)) }

// SetDown makes every call answer status (e.g. 503) until SetDown(0).
func (s *Server) SetDown(status int) { s.down.Store(int32(status)) }

// FailNext makes the next n calls to the given endpoints (all when none
// given) answer status, as a burst of errors from Superset or its proxy.
func (s *Server) FailNext(n, status int, endpoints ...string) {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.remaining, s.faults.status = n, status
	s.faults.endpoints = map[string]bool{}
	for _, e := range endpoints {
		s.faults.endpoints[e] = true
	}
}

// ExpireAccessTokens makes every access token issued so far expired, as if
// their 15 minutes had passed; refresh tokens stay valid.
func (s *Server) ExpireAccessTokens() { s.expiredUpTo.Store(s.jti.Load()) }

// SetTableMetadataMode chooses which table-metadata endpoints exist.
func (s *Server) SetTableMetadataMode(m TableMetadataMode) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.metaMode = m
}

// Calls returns how many calls an endpoint received.
func (s *Server) Calls(endpoint string) int64 {
	if v, ok := s.calls.Load(endpoint); ok {
		return v.(*atomic.Int64).Load()
	}
	return 0
}

// TotalCalls returns how many calls the fake received.
func (s *Server) TotalCalls() int64 { return s.total.Load() }

// PeakInFlight is the most calls the fake has served at once.
func (s *Server) PeakInFlight() int64 { return s.peak.Load() }

// ResetCalls zeroes the call counters.
func (s *Server) ResetCalls() {
	s.calls.Range(func(k, _ any) bool { s.calls.Delete(k); return true })
	s.total.Store(0)
	s.peak.Store(0)
}

// Permalinks returns the stored SQL Lab permalink bodies by key.
func (s *Server) Permalinks() map[string]json.RawMessage {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make(map[string]json.RawMessage, len(s.permalinks))
	for k, v := range s.permalinks {
		out[k] = v
	}
	return out
}

func (s *Server) count(endpoint string) {
	v, _ := s.calls.LoadOrStore(endpoint, new(atomic.Int64))
	v.(*atomic.Int64).Add(1)
}

// takeFault consumes one injected failure for the endpoint, if any.
func (s *Server) takeFault(endpoint string) int {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	if s.faults.remaining <= 0 {
		return 0
	}
	if len(s.faults.endpoints) > 0 && !s.faults.endpoints[endpoint] {
		return 0
	}
	s.faults.remaining--
	return s.faults.status
}

// route wraps a handler with counting, latency, faults and observation.
func (s *Server) route(endpoint string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.total.Add(1)
		s.count(endpoint)
		n := s.inFlight.Add(1)
		for {
			p := s.peak.Load()
			if n <= p || s.peak.CompareAndSwap(p, n) {
				break
			}
		}
		// A call stops counting as in flight when its answer starts: the
		// client may have it all before this handler returns.
		dw := &doneWriter{ResponseWriter: w, done: func() { s.inFlight.Add(-1) }}
		defer dw.finish()
		w = dw
		var rec *recorder
		if s.opts.Observe != nil {
			rec = &recorder{ResponseWriter: w, status: http.StatusOK}
			w = rec
			defer func() { s.opts.Observe(r, rec.status, rec.Header(), rec.body.Bytes()) }()
		}
		if d := time.Duration(s.latency.Load()); d > 0 {
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return
			}
		}
		if st := int(s.down.Load()); st != 0 {
			s.unavailable(w, st)
			return
		}
		if st := s.takeFault(endpoint); st != 0 {
			s.unavailable(w, st)
			return
		}
		h(w, r)
	}
}

// unavailable answers an injected failure the way the proxy in front of a
// struggling Superset (or Superset itself, for 500) would, in JSON.
func (s *Server) unavailable(w http.ResponseWriter, status int) {
	if (status == http.StatusServiceUnavailable || status == http.StatusTooManyRequests) && s.opts.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int((s.opts.RetryAfter+time.Second-1)/time.Second)))
	}
	msg := http.StatusText(status)
	if msg == "" {
		msg = serviceUnavailableMessage
	}
	writeJSON(w, status, map[string]any{"message": msg})
}

type doneWriter struct {
	http.ResponseWriter
	done     func()
	finished bool
}

func (d *doneWriter) finish() {
	if !d.finished {
		d.finished = true
		d.done()
	}
}

func (d *doneWriter) WriteHeader(code int) {
	d.finish()
	d.ResponseWriter.WriteHeader(code)
}

func (d *doneWriter) Write(b []byte) (int, error) {
	d.finish()
	return d.ResponseWriter.Write(b)
}

type recorder struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (r *recorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	r.body.Write(b)
	return r.ResponseWriter.Write(b)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"message":"encoding failed"}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// message answers FAB's {"message": …} error shape.
func message(w http.ResponseWriter, status int, msg any) {
	writeJSON(w, status, map[string]any{"message": msg})
}

// supersetErrors answers Superset's SIP-40 shape, as its HTTPException
// handler does (CSRF failures, unknown routes).
func supersetErrors(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]any{"errors": []map[string]any{{
		"message":    msg,
		"error_type": "GENERIC_BACKEND_ERROR",
		"level":      "error",
		"extra": map[string]any{"issue_codes": []map[string]any{{
			"code": 1011, "message": "Issue 1011 - Superset encountered an unexpected error.",
		}}},
	}}})
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// now is wall time at microsecond precision, as Superset stores it.
func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

var errNoUser = errors.New("no such user")

func (s *Server) userByName(name string) (*User, error) {
	for _, u := range s.users {
		if u.Username == name {
			return u, nil
		}
	}
	return nil, errNoUser
}

// visible reports whether u may see dataset d.
func visible(u *User, d *Dataset) bool {
	return u.Admin || slices.Contains(u.Datasets, d.ID)
}
