package superset

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/golang-lru/v2/expirable"
	"golang.org/x/sync/singleflight"

	"github.com/texttosql/text2sql/schema"
)

// Default Scope settings.
const (
	DefaultScopeTTL  = time.Minute
	DefaultScopeSize = 1_000
)

// DatasetIDs is a set of dataset ids, kept sorted: 8 bytes an id, so a
// cache of many users' answers stays small.
type DatasetIDs []int64

// NewDatasetIDs builds a set from ids in any order, with duplicates.
func NewDatasetIDs(ids ...int64) DatasetIDs {
	out := slices.Clone(ids)
	slices.Sort(out)
	return slices.Compact(out)
}

// Contains reports whether id is in the set.
func (s DatasetIDs) Contains(id int64) bool {
	_, ok := slices.BinarySearch(s, id)
	return ok
}

// ScopeOptions tunes a Scope.
type ScopeOptions struct {
	// TTL is how long one user's visible datasets are reused; permission
	// changes in Superset take up to this long to show. Default one minute.
	TTL time.Duration
	// Size bounds how many (user token, database) answers are kept; each
	// costs 8 bytes per visible dataset. Default 1,000.
	Size int
}

// Scope answers "which datasets may this end user see?" by listing datasets
// with the user's own Superset access token: Superset filters the list by
// that user's permissions, so the answer is Superset's, not a guess from
// roles. Answers are cached briefly under a hash of the token, never the
// token itself, and concurrent lookups for one token collapse into one.
type Scope struct {
	c     *Client
	cache *expirable.LRU[string, DatasetIDs]
	sf    singleflight.Group
}

// NewScope builds a Scope that calls Superset through c (its retries,
// timeouts and concurrency bound), but never with c's own credentials.
func NewScope(c *Client, opts ScopeOptions) *Scope {
	if opts.TTL <= 0 {
		opts.TTL = DefaultScopeTTL
	}
	if opts.Size <= 0 {
		opts.Size = DefaultScopeSize
	}
	return &Scope{c: c, cache: expirable.NewLRU[string, DatasetIDs](opts.Size, nil, opts.TTL)}
}

// VisibleDatasets returns the ids of the datasets the token's user may see
// in the database databaseID (0: in every database). The set is shared
// between callers and must not be modified.
//
// A token Superset refuses yields an error satisfying
// errors.Is(err, ErrUserUnauthenticated); a user without the right to list
// datasets, ErrUserForbidden. Other errors mean Superset could not answer.
func (s *Scope) VisibleDatasets(ctx context.Context, userToken string, databaseID int64) (DatasetIDs, error) {
	userToken = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(userToken), "Bearer "))
	if userToken == "" {
		return nil, fmt.Errorf("%w: no token", ErrUserUnauthenticated)
	}
	sum := sha256.Sum256([]byte(userToken))
	key := hex.EncodeToString(sum[:]) + "/" + strconv.FormatInt(databaseID, 10)
	if ids, ok := s.cache.Get(key); ok {
		return ids, nil
	}
	ch := s.sf.DoChan(key, func() (any, error) {
		if ids, ok := s.cache.Get(key); ok {
			return ids, nil
		}
		// The lookup is shared, so it must not die with whichever caller
		// happened to start it.
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Duration(s.c.cfg.Retries+1)*s.c.cfg.Timeout)
		defer cancel()
		ids, err := s.list(lctx, userToken, databaseID)
		if err != nil {
			return nil, err
		}
		s.cache.Add(key, ids)
		return ids, nil
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return nil, r.Err
		}
		return r.Val.(DatasetIDs), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (s *Scope) list(ctx context.Context, userToken string, databaseID int64) (DatasetIDs, error) {
	type idRow struct {
		ID rawID `json:"id"`
	}
	q := listQuery{Columns: []string{"id"}, Keys: []string{"none"}}
	if databaseID != 0 {
		q.Filters = []listFilter{databaseFilter(databaseID)}
	}
	rows, _, err := listAll[idRow](ctx, s.c, request{op: "dataset_visible", path: "/api/v1/dataset/",
		auth: authBearer, bearer: userToken, user: true}, q)
	if err != nil {
		return nil, err
	}
	ids := make([]int64, len(rows))
	for i, r := range rows {
		ids[i] = int64(r.ID)
	}
	return NewDatasetIDs(ids...), nil
}

// VisibleTables turns a set of visible dataset ids into the predicate
// validate.Rules.Restrict takes. A table not backed by a dataset (DatasetID
// 0) or whose dataset is not in the set is invisible: a caller is never
// shown more than Superset would show them. The same function serves a
// trusted caller that forwards dataset ids itself.
func VisibleTables(ids DatasetIDs) func(*schema.Table) bool {
	return func(t *schema.Table) bool {
		return t != nil && t.DatasetID != 0 && ids.Contains(t.DatasetID)
	}
}
