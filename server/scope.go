package server

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	texttosqlv1 "github.com/texttosql/text2sql/proto/texttosql/v1"
	"github.com/texttosql/text2sql/schema"
)

// Metadata keys (and, through the gateway, HTTP headers) the service reads.
const (
	// MDAuthorization carries the service caller's "Bearer <token>".
	MDAuthorization = "authorization"
	// MDSupersetAuthorization carries an end user's Superset access token,
	// "Bearer <token>", which scopes the catalog to that user.
	MDSupersetAuthorization = "x-superset-authorization"
	// MDRequestID carries the request id, both ways.
	MDRequestID = "x-request-id"
)

// AnonymousCaller names requests when no caller tokens are configured.
const AnonymousCaller = "anonymous"

// CallerToken is one configured service caller.
type CallerToken struct {
	// Name identifies the caller in logs, metrics and limits.
	Name string
	// Token is the bearer token the caller presents.
	Token string
	// Trusted callers may pass CallerScope.dataset_ids for their end user.
	Trusted bool
}

// Caller is who sent a request.
type Caller struct {
	Name          string
	Trusted       bool
	Authenticated bool
}

// ScopeResolver turns an end user's Superset access token into the dataset
// ids that user may see.
type ScopeResolver interface {
	// VisibleDatasets returns the Superset dataset ids of database
	// databaseID (0: of every database) visible to the token's user. An
	// error wrapping ErrScopeUnauthenticated means Superset refused the
	// token (HTTP 401); a status error passes through as is; any other
	// error answers UNAVAILABLE.
	VisibleDatasets(ctx context.Context, token string, databaseID int64) (DatasetSet, error)
}

// DatasetSet is a set of Superset dataset ids.
type DatasetSet interface {
	Contains(id int64) bool
}

// DatasetIDs is a DatasetSet held in a map.
type DatasetIDs map[int64]bool

// Contains reports whether id is in the set.
func (d DatasetIDs) Contains(id int64) bool { return d[id] }

// ErrScopeUnauthenticated is wrapped by ScopeResolver errors when Superset
// refuses the end user's token.
var ErrScopeUnauthenticated = errors.New("the Superset access token in x-superset-authorization was refused")

// ErrScopeForbidden is wrapped by ScopeResolver errors when Superset knows
// the end user but refuses them the datasets.
var ErrScopeForbidden = errors.New("Superset refuses this user")

// authenticator checks bearer tokens. Tokens are compared as SHA-256
// digests in constant time, against every configured token, so neither the
// length nor the position of a match shows in the timing.
type authenticator struct {
	callers []authCaller
}

type authCaller struct {
	caller Caller
	digest [sha256.Size]byte
}

func newAuthenticator(tokens []CallerToken) (*authenticator, error) {
	a := &authenticator{}
	seen := map[[sha256.Size]byte]string{}
	for _, t := range tokens {
		if t.Name == "" {
			return nil, errors.New("a caller token has no caller name")
		}
		if t.Token == "" {
			return nil, fmt.Errorf("caller %s has an empty token", t.Name)
		}
		d := sha256.Sum256([]byte(t.Token))
		if other, dup := seen[d]; dup && other != t.Name {
			return nil, fmt.Errorf("callers %s and %s share a token", other, t.Name)
		}
		seen[d] = t.Name
		a.callers = append(a.callers, authCaller{
			caller: Caller{Name: t.Name, Trusted: t.Trusted, Authenticated: true},
			digest: d,
		})
	}
	return a, nil
}

// enabled reports whether requests must present a token.
func (a *authenticator) enabled() bool { return len(a.callers) > 0 }

// authenticate returns the caller whose token the request carries. With no
// callers configured every request is anonymous and untrusted.
func (a *authenticator) authenticate(md metadata.MD) (Caller, error) {
	if !a.enabled() {
		return Caller{Name: AnonymousCaller}, nil
	}
	vals := md.Get(MDAuthorization)
	if len(vals) == 0 {
		return Caller{}, status.Error(codes.Unauthenticated, `missing caller token: send "Authorization: Bearer <token>"`)
	}
	if len(vals) > 1 {
		return Caller{}, status.Error(codes.Unauthenticated, "more than one Authorization value; send exactly one")
	}
	token, ok := bearer(vals[0])
	if !ok {
		return Caller{}, status.Error(codes.Unauthenticated, `malformed Authorization: want "Bearer <token>"`)
	}
	d := sha256.Sum256([]byte(token))
	found := -1
	for i := range a.callers {
		if subtle.ConstantTimeCompare(d[:], a.callers[i].digest[:]) == 1 {
			found = i
		}
	}
	if found < 0 {
		return Caller{}, status.Error(codes.Unauthenticated, "the caller token is not valid")
	}
	return a.callers[found].caller, nil
}

// bearer extracts the token from "Bearer <token>" (scheme case-insensitive).
func bearer(v string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(v), " ")
	if !ok || !strings.EqualFold(scheme, "bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// Scope is what one request may see, before the operator's policy.
type Scope struct {
	// Restricted is false when the request sees everything the operator's
	// policy allows; then Datasets is nil.
	Restricted bool
	// Datasets are the Superset dataset ids visible when Restricted.
	Datasets DatasetSet
	// Source says where the scope came from, for logs: "superset-token",
	// "trusted-caller" or "policy".
	Source string
}

// Visible reports whether t is in the scope. A table with no dataset id is
// visible only to unrestricted requests: a scope is a list of datasets, and
// a table that is no dataset is in none.
func (s Scope) Visible(t *schema.Table) bool {
	if !s.Restricted {
		return true
	}
	return t.DatasetID != 0 && s.Datasets != nil && s.Datasets.Contains(t.DatasetID)
}

// resolveScope decides the scope of one request:
//
//  1. an end user's Superset token (x-superset-authorization), when a
//     ScopeResolver is configured: the datasets Superset shows that user;
//  2. else, for a trusted caller that sent a scope: exactly its
//     dataset_ids (an empty list means no tables, so a trusted caller
//     cannot widen access by forgetting the ids);
//  3. else no narrowing: the operator's policy alone. An untrusted
//     caller's scope is ignored, since it is only the caller's claim.
//
// A user token the service cannot resolve (no Superset connection) is
// refused rather than ignored: ignoring it would answer with more than the
// caller asked to be limited to.
func (s *Service) resolveScope(ctx context.Context, caller Caller, req *texttosqlv1.CallerScope, databaseID int64) (Scope, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	vals := md.Get(MDSupersetAuthorization)
	if len(vals) > 0 && s.cfg.ScopeResolver == nil && !(caller.Trusted && req != nil) {
		return Scope{}, status.Error(codes.FailedPrecondition,
			"x-superset-authorization was sent, but this service has no Superset connection to resolve it; configure the Superset source, or send scope.dataset_ids as a trusted caller")
	}
	if len(vals) > 0 && s.cfg.ScopeResolver != nil {
		if len(vals) > 1 {
			return Scope{}, status.Error(codes.Unauthenticated, "more than one x-superset-authorization value; send exactly one")
		}
		token, ok := bearer(vals[0])
		if !ok {
			return Scope{}, status.Error(codes.Unauthenticated, `malformed x-superset-authorization: want "Bearer <Superset access token>"`)
		}
		ids, err := s.cfg.ScopeResolver.VisibleDatasets(ctx, token, databaseID)
		if err != nil {
			return Scope{}, ErrorStatus(ctx, &unavailable{what: "cannot resolve the datasets visible to the Superset user", err: err})
		}
		return Scope{Restricted: true, Datasets: ids, Source: "superset-token"}, nil
	}
	if caller.Trusted && req != nil {
		ids := make(DatasetIDs, len(req.GetDatasetIds()))
		for _, id := range req.GetDatasetIds() {
			ids[id] = true
		}
		return Scope{Restricted: true, Datasets: ids, Source: "trusted-caller"}, nil
	}
	return Scope{Source: "policy"}, nil
}

type callerKey struct{}

// withCaller stores the authenticated caller in ctx.
func withCaller(ctx context.Context, c Caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

// CallerFrom returns the caller the interceptors authenticated; anonymous
// when there is none.
func CallerFrom(ctx context.Context) Caller {
	if c, ok := ctx.Value(callerKey{}).(Caller); ok {
		return c
	}
	return Caller{Name: AnonymousCaller}
}
