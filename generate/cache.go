package generate

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"time"
	"unicode"

	lru "github.com/hashicorp/golang-lru/v2/expirable"
	"github.com/redis/go-redis/v9"
)

// CachedAnswer is what the cache keeps of a generated statement. It is always
// validated again against the asking caller's current rules before use.
type CachedAnswer struct {
	SQL     string    `json:"sql"`
	Model   string    `json:"model"`
	Created time.Time `json:"created"`
}

// Cache stores answers by key. A cache that fails (Redis down) reports the
// error; the pipeline then treats the call as a miss and goes on.
type Cache interface {
	Get(ctx context.Context, key string) (*CachedAnswer, bool, error)
	Set(ctx context.Context, key string, a *CachedAnswer) error
}

// CacheKey identifies an answer: everything that may change it is in it.
type CacheKey struct {
	Database       string
	CatalogVersion string
	// Scope is the fingerprint of the caller's compiled rules.
	Scope         string
	Question      string
	History       []string
	Model         string
	PromptVersion string
	MaxRows       int
}

// String hashes the key; questions are normalized first so that case,
// spacing and trailing punctuation do not split the cache.
func (k CacheKey) String() string {
	k.Question = NormalizeQuestion(k.Question)
	history := make([]string, len(k.History))
	for i, h := range k.History {
		history[i] = NormalizeQuestion(h)
	}
	k.History = history
	b, _ := json.Marshal(k)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// NormalizeQuestion lower-cases, collapses white space and drops trailing
// punctuation.
func NormalizeQuestion(q string) string {
	q = strings.Join(strings.Fields(strings.ToLower(q)), " ")
	return strings.TrimRightFunc(q, func(r rune) bool { return unicode.IsPunct(r) || unicode.IsSpace(r) })
}

// MemoryCache is an in-process LRU with a TTL.
type MemoryCache struct {
	lru *lru.LRU[string, *CachedAnswer]
}

// NewMemoryCache keeps at most size answers for ttl each.
func NewMemoryCache(size int, ttl time.Duration) *MemoryCache {
	return &MemoryCache{lru: lru.NewLRU[string, *CachedAnswer](size, nil, ttl)}
}

func (c *MemoryCache) Get(_ context.Context, key string) (*CachedAnswer, bool, error) {
	a, ok := c.lru.Get(key)
	return a, ok, nil
}

func (c *MemoryCache) Set(_ context.Context, key string, a *CachedAnswer) error {
	c.lru.Add(key, a)
	return nil
}

// RedisCache shares answers between replicas.
type RedisCache struct {
	client *redis.Client
	ttl    time.Duration
	prefix string
}

// NewRedisCache connects to url (redis://host:port/db).
func NewRedisCache(url string, ttl time.Duration) (*RedisCache, error) {
	opts, err := redis.ParseURL(url)
	if err != nil {
		return nil, err
	}
	return &RedisCache{client: redis.NewClient(opts), ttl: ttl, prefix: "text2sql:answer:v1:"}, nil
}

func (c *RedisCache) Get(ctx context.Context, key string) (*CachedAnswer, bool, error) {
	b, err := c.client.Get(ctx, c.prefix+key).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	var a CachedAnswer
	if err := json.Unmarshal(b, &a); err != nil {
		return nil, false, err
	}
	return &a, true, nil
}

func (c *RedisCache) Set(ctx context.Context, key string, a *CachedAnswer) error {
	b, err := json.Marshal(a)
	if err != nil {
		return err
	}
	return c.client.Set(ctx, c.prefix+key, b, c.ttl).Err()
}

// Ping checks the connection, for readiness.
func (c *RedisCache) Ping(ctx context.Context) error { return c.client.Ping(ctx).Err() }

// Close closes the connection pool.
func (c *RedisCache) Close() error { return c.client.Close() }
