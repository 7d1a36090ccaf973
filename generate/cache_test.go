package generate

import (
	"context"
	"testing"
	"time"

	"github.com/texttosql/text2sql/internal/needs"
)

func TestCacheKey(t *testing.T) {
	base := CacheKey{Database: "shop", CatalogVersion: "v1", Scope: "s1", Question: "How many orders?", Model: "m", PromptVersion: "p1", MaxRows: 100}
	same := base
	same.Question = "  how   many ORDERS "
	if base.String() != same.String() {
		t.Error("case, spacing and trailing punctuation must not change the key")
	}
	history := []string{"First question?"}
	withHistory := base
	withHistory.History = history
	_ = withHistory.String()
	if history[0] != "First question?" {
		t.Error("String modified the caller's history")
	}
	for name, change := range map[string]func(*CacheKey){
		"database": func(k *CacheKey) { k.Database = "store" },
		"catalog":  func(k *CacheKey) { k.CatalogVersion = "v2" },
		"scope":    func(k *CacheKey) { k.Scope = "s2" },
		"question": func(k *CacheKey) { k.Question = "How many customers?" },
		"history":  func(k *CacheKey) { k.History = []string{"x"} },
		"model":    func(k *CacheKey) { k.Model = "other" },
		"prompt":   func(k *CacheKey) { k.PromptVersion = "p2" },
		"max rows": func(k *CacheKey) { k.MaxRows = 10 },
	} {
		k := base
		change(&k)
		if k.String() == base.String() {
			t.Errorf("changing the %s does not change the key", name)
		}
	}
}

func exerciseCache(t *testing.T, c Cache) {
	ctx := context.Background()
	if _, ok, err := c.Get(ctx, "missing"); ok || err != nil {
		t.Fatalf("Get(missing) = %v, %v", ok, err)
	}
	a := &CachedAnswer{SQL: "SELECT 1", Model: "m", Created: time.Unix(1700000000, 0).UTC()}
	if err := c.Set(ctx, "k", a); err != nil {
		t.Fatal(err)
	}
	got, ok, err := c.Get(ctx, "k")
	if err != nil || !ok || got.SQL != a.SQL || got.Model != a.Model || !got.Created.Equal(a.Created) {
		t.Fatalf("Get(k) = %+v, %v, %v", got, ok, err)
	}
}

func TestMemoryCache(t *testing.T) {
	c := NewMemoryCache(2, time.Hour)
	exerciseCache(t, c)
	ctx := context.Background()
	c.Set(ctx, "a", &CachedAnswer{SQL: "a"})
	c.Set(ctx, "b", &CachedAnswer{SQL: "b"})
	if _, ok, _ := c.Get(ctx, "k"); ok {
		t.Error("the least recently used entry must be evicted past the size")
	}
}

func TestRedisCache(t *testing.T) {
	needs.Redis(t)
	c, err := NewRedisCache("redis://127.0.0.1:6379/0", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.prefix = "text2sql:test:" + t.Name() + ":"
	exerciseCache(t, c)
	ttl, err := c.client.TTL(context.Background(), c.prefix+"k").Result()
	if err != nil || ttl <= 0 || ttl > time.Minute {
		t.Errorf("TTL = %v, %v; want within a minute", ttl, err)
	}
	c.client.Del(context.Background(), c.prefix+"k")
}
