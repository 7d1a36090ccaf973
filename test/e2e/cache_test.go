package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/texttosql/text2sql/generate"
	"github.com/texttosql/text2sql/internal/needs"
	texttosqlv1 "github.com/texttosql/text2sql/proto/texttosql/v1"
	"github.com/texttosql/text2sql/test/fakellm"
)

func ask(t *testing.T, s *stack, token, question string, scope *texttosqlv1.CallerScope) *texttosqlv1.GenerateSQLResponse {
	t.Helper()
	resp, err := s.client.GenerateSQL(grpcCtx(context.Background(), token),
		&texttosqlv1.GenerateSQLRequest{Database: "shop", Question: question, Scope: scope})
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func TestAnswerCache(t *testing.T) {
	s := startStack(t, fakellm.Text("```sql\nSELECT count(*) FROM orders\n```"),
		stackOptions{cache: generate.NewMemoryCache(100, time.Hour)})
	first := ask(t, s, toolsToken, "How many orders?", nil)
	again := ask(t, s, toolsToken, "  how many ORDERS ", nil)
	if first.Cached || !again.Cached || again.Sql != first.Sql || s.llm.Calls() != 1 {
		t.Fatalf("first cached=%v, again cached=%v sql=%q, %d model calls", first.Cached, again.Cached, again.Sql, s.llm.Calls())
	}
	// Another scope is another key: a caller who may see only products
	// must not get an answer made for someone who sees orders.
	ask(t, s, trustedToken, "How many orders?", &texttosqlv1.CallerScope{DatasetIds: []int64{102}})
	if s.llm.Calls() != 2 {
		t.Errorf("a caller with another scope was answered from the cache")
	}
	skip, err := s.client.GenerateSQL(grpcCtx(context.Background(), toolsToken),
		&texttosqlv1.GenerateSQLRequest{Database: "shop", Question: "How many orders?", SkipCache: true})
	if err != nil || skip.Cached || s.llm.Calls() != 3 {
		t.Errorf("skip_cache: cached=%v err=%v calls=%d", skip.GetCached(), err, s.llm.Calls())
	}
}

// failingCache is an answer store that is down.
type failingCache struct{}

func (failingCache) Get(context.Context, string) (*generate.CachedAnswer, bool, error) {
	return nil, false, fmt.Errorf("connection refused")
}
func (failingCache) Set(context.Context, string, *generate.CachedAnswer) error {
	return fmt.Errorf("connection refused")
}

func TestCacheDownIsAMiss(t *testing.T) {
	s := startStack(t, fakellm.Text("```sql\nSELECT count(*) FROM orders\n```"), stackOptions{cache: failingCache{}})
	if resp := ask(t, s, toolsToken, "How many orders?", nil); resp.Cached || resp.Sql == "" {
		t.Fatalf("answer %+v", resp)
	}
}

// staleCache returns, for every key, an answer the caller may not run: a
// hit must be judged again before it is used.
type staleCache struct{ gets int }

func (c *staleCache) Get(context.Context, string) (*generate.CachedAnswer, bool, error) {
	c.gets++
	return &generate.CachedAnswer{SQL: "SELECT email FROM customers"}, true, nil
}
func (c *staleCache) Set(context.Context, string, *generate.CachedAnswer) error { return nil }

func TestCacheHitIsValidatedAgain(t *testing.T) {
	c := &staleCache{}
	s := startStack(t, fakellm.Text("```sql\nSELECT name FROM customers\n```"), stackOptions{cache: c})
	resp := ask(t, s, toolsToken, "Customer names", nil)
	if c.gets != 1 || resp.Cached || resp.Sql != "SELECT name FROM customers LIMIT 100" || s.llm.Calls() != 1 {
		t.Fatalf("an invalid cached answer was used: %+v", resp)
	}
}

func TestRedisCacheSharedByReplicas(t *testing.T) {
	needs.Redis(t)
	question := fmt.Sprintf("How many orders were placed (run %d)?", time.Now().UnixNano())
	newCache := func() generate.Cache {
		c, err := generate.NewRedisCache("redis://127.0.0.1:6379/0", time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	a := startStack(t, fakellm.Text("```sql\nSELECT count(*) FROM orders\n```"), stackOptions{cache: newCache()})
	b := startStack(t, fakellm.Text("```sql\nSELECT 1\n```"), stackOptions{cache: newCache()})
	ask(t, a, toolsToken, question, nil)
	resp := ask(t, b, toolsToken, question, nil)
	if !resp.Cached || resp.Sql != "SELECT count(*) FROM orders LIMIT 100" || b.llm.Calls() != 0 {
		t.Fatalf("the second replica did not reuse the first one's answer: %+v (calls %d)", resp, b.llm.Calls())
	}
}
