package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/texttosql/text2sql/generate"
	texttosqlv1 "github.com/texttosql/text2sql/proto/texttosql/v1"
	"github.com/texttosql/text2sql/test/fakellm"
)

const revenueSQL = "SELECT status, sum(total) AS revenue FROM orders GROUP BY status ORDER BY revenue DESC"

func TestGenerateOverHTTPAndGRPC(t *testing.T) {
	s := startStack(t, fakellm.Text("Sure.\n```sql\n"+revenueSQL+";\n```\nIt sums totals per status."), stackOptions{})
	code, body := s.post("/v1/sql:generate", toolsToken, map[string]any{"database": "shop", "question": "Revenue by order status?"})
	if code != 200 {
		t.Fatalf("HTTP %d: %v", code, body)
	}
	want := "SELECT status, sum(total) AS revenue FROM orders GROUP BY status ORDER BY revenue DESC LIMIT 100"
	if body["sql"] != want || body["dialect"] != "postgresql" || body["schema"] != "public" || body["cached"] == true {
		t.Errorf("answer %v", body)
	}
	if tables := body["tables"].([]any); len(tables) != 1 || tables[0] != "public.orders" {
		t.Errorf("tables %v", tables)
	}
	if !strings.HasPrefix(body["sqllabUrl"].(string), "https://bi.example.com/sqllab/?dbid=1&schema=public&sql=SELECT") {
		t.Errorf("sqllabUrl %v", body["sqllabUrl"])
	}
	if body["requestId"] == "" || body["usage"].(map[string]any)["totalTokens"] == nil {
		t.Errorf("request id or usage missing: %v", body)
	}

	resp, err := s.client.GenerateSQL(grpcCtx(context.Background(), toolsToken), &texttosqlv1.GenerateSQLRequest{
		Database: "shop", Question: "Revenue by order status, top 5?", MaxRows: 5})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(resp.Sql, "LIMIT 5") || len(resp.Attempts) != 1 || resp.Attempts[0].Sql == "" {
		t.Errorf("gRPC answer %+v", resp)
	}

	// The prompt holds the schema the caller may see and the question, and
	// never a denied column or a table outside the policy.
	req := s.llm.Requests()[0]
	system := req.Messages[0].Content
	for _, must := range []string{"CREATE TABLE", "orders", "read-only", "100 rows", "Revenue by order status?"} {
		if !strings.Contains(system+lastUser(req), must) {
			t.Errorf("prompt lacks %q", must)
		}
	}
	for _, never := range []string{"email", "phone", "password_hash"} {
		for _, m := range req.Messages {
			if strings.Contains(m.Content, never) {
				t.Errorf("prompt mentions %q, which the caller may not see", never)
			}
		}
	}
}

func TestRepairLoop(t *testing.T) {
	for _, tc := range []struct {
		name, first, code string
	}{
		{"a DELETE is refused, then repaired", "DELETE FROM orders WHERE created_at < now() - interval '1 year'", "NOT_READ_ONLY"},
		{"a forbidden column is refused, then repaired", "SELECT name, email FROM customers", "COLUMN_NOT_ALLOWED"},
		{"a forbidden table is refused, then repaired", "SELECT login FROM users", "TABLE_NOT_ALLOWED"},
		{"prose only, then SQL", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			first := sqlAnswer(tc.first)
			if tc.first == "" {
				first = fakellm.Reply{Content: "I think you should look at the orders table."}
			}
			s := startStack(t, fakellm.Replies(first, sqlAnswer("SELECT name, country FROM customers")), stackOptions{})
			resp, err := s.client.GenerateSQL(grpcCtx(context.Background(), toolsToken),
				&texttosqlv1.GenerateSQLRequest{Database: "shop", Question: "Customer names and countries"})
			if err != nil {
				t.Fatal(err)
			}
			if len(resp.Attempts) != 2 || resp.Sql != "SELECT name, country FROM customers LIMIT 100" {
				t.Fatalf("answer %+v", resp)
			}
			a := resp.Attempts[0]
			if tc.code != "" && (len(a.Violations) == 0 || a.Violations[0].Code != tc.code) {
				t.Errorf("first attempt %+v, want %s", a, tc.code)
			}
			if tc.code == "" && a.Error == "" {
				t.Errorf("first attempt %+v should say it held no SQL", a)
			}
			feedback := lastUser(s.llm.Requests()[1])
			if tc.code != "" && !strings.Contains(feedback, tc.code) {
				t.Errorf("the second prompt does not feed back %s: %q", tc.code, feedback)
			}
			if tc.code == "" && !strings.Contains(feedback, "no SQL") {
				t.Errorf("the second prompt does not say the answer held no SQL: %q", feedback)
			}
		})
	}
}

func TestNeverValidIsFailedPrecondition(t *testing.T) {
	s := startStack(t, fakellm.Text("```sql\nSELECT email FROM customers\n```"), stackOptions{pipeline: generate.Config{MaxAttempts: 3}})
	_, err := s.client.GenerateSQL(grpcCtx(context.Background(), toolsToken),
		&texttosqlv1.GenerateSQLRequest{Database: "shop", Question: "Everyone's e-mail address"})
	st, failure := generationFailure(t, err)
	if failure == nil || len(failure.Attempts) != 3 || len(failure.Violations) == 0 || failure.Violations[0].Code != "COLUMN_NOT_ALLOWED" || failure.RequestId == "" {
		t.Fatalf("details %+v", st.Details())
	}
	if s.llm.Calls() != 3 {
		t.Errorf("%d model calls, want 3", s.llm.Calls())
	}
	code, body := s.post("/v1/sql:generate", toolsToken, map[string]any{"database": "shop", "question": "Everyone's e-mail address"})
	if code != 422 || !strings.Contains(body["message"].(string), "COLUMN_NOT_ALLOWED") {
		t.Errorf("HTTP %d %v, want 422 naming the violation", code, body)
	}
	if body["sql"] != nil {
		t.Error("a refusal must not carry SQL")
	}
}

func TestModelFaults(t *testing.T) {
	ok := sqlAnswer(revenueSQL)
	for _, tc := range []struct {
		name  string
		r     fakellm.Responder
		cfg   stackOptions
		want  codes.Code
		calls int
	}{
		{"5xx burst then success", fakellm.ServerErrors(2, 503, fakellm.Replies(ok)), stackOptions{}, codes.OK, 3},
		{"dropped connection then success", fakellm.Dropped(1, fakellm.Replies(ok)), stackOptions{}, codes.OK, 2},
		{"per-call timeout then success", fakellm.Failing(1, fakellm.Reply{Delay: 2 * time.Second, Content: "late"}, fakellm.Replies(ok)),
			stackOptions{}, codes.OK, 2},
		{"5xx forever", fakellm.ServerErrors(100, 500, nil), stackOptions{}, codes.Unavailable, 4},
		{"garbage", fakellm.Garbage(), stackOptions{}, codes.Unavailable, 1},
		{"truncated body", fakellm.Truncated(), stackOptions{}, codes.Unavailable, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "per-call timeout then success" {
				tc.cfg.llm.Timeout = 300 * time.Millisecond
			}
			s := startStack(t, tc.r, tc.cfg)
			resp, err := s.client.GenerateSQL(grpcCtx(context.Background(), toolsToken),
				&texttosqlv1.GenerateSQLRequest{Database: "shop", Question: "Revenue by order status?"})
			if status.Code(err) != tc.want {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if tc.want == codes.OK && !strings.HasPrefix(resp.Sql, "SELECT status") {
				t.Errorf("answer %+v", resp)
			}
			if s.llm.Calls() != tc.calls {
				t.Errorf("%d model calls, want %d", s.llm.Calls(), tc.calls)
			}
		})
	}
}

func TestRetryAfterHonoured(t *testing.T) {
	s := startStack(t, fakellm.RateLimited(1, "1", fakellm.Replies(sqlAnswer(revenueSQL))), stackOptions{})
	start := time.Now()
	if _, err := s.client.GenerateSQL(grpcCtx(context.Background(), toolsToken),
		&texttosqlv1.GenerateSQLRequest{Database: "shop", Question: "Revenue by order status?"}); err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(start); waited < time.Second {
		t.Errorf("answered after %v; the endpoint asked for a 1 s wait", waited)
	}
}

func TestModelDown(t *testing.T) {
	s := startStack(t, fakellm.Text("unused"), stackOptions{})
	s.llm.Close()
	code, body := s.post("/v1/sql:generate", toolsToken, map[string]any{"database": "shop", "question": "Revenue by order status?"})
	if code != 503 || !strings.Contains(body["message"].(string), "unavailable") {
		t.Errorf("HTTP %d %v, want 503", code, body)
	}
}

func TestClientDeadline(t *testing.T) {
	s := startStack(t, fakellm.Slow(5*time.Second, fakellm.Replies(sqlAnswer(revenueSQL))), stackOptions{})
	ctx, cancel := context.WithTimeout(grpcCtx(context.Background(), toolsToken), 300*time.Millisecond)
	defer cancel()
	_, err := s.client.GenerateSQL(ctx, &texttosqlv1.GenerateSQLRequest{Database: "shop", Question: "Revenue by order status?"})
	if status.Code(err) != codes.DeadlineExceeded {
		t.Fatalf("got %v, want DEADLINE_EXCEEDED", err)
	}
	code, _ := s.post("/v1/sql:generate", toolsToken, map[string]any{"database": "shop", "question": "Revenue by order status?"},
		"Grpc-Timeout", "300m")
	if code != 504 {
		t.Errorf("HTTP %d, want 504", code)
	}
}

func TestScopeReachesThePrompt(t *testing.T) {
	// The trusted caller's end user may see orders (102) only.
	s := startStack(t, fakellm.Replies(sqlAnswer("SELECT name FROM customers"), sqlAnswer("SELECT count(*) FROM orders")), stackOptions{})
	resp, err := s.client.GenerateSQL(grpcCtx(context.Background(), trustedToken), &texttosqlv1.GenerateSQLRequest{
		Database: "shop", Question: "How many customers and orders?", Scope: &texttosqlv1.CallerScope{DatasetIds: []int64{102}, User: "alice"}})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Attempts[0].Violations[0].Code != "TABLE_NOT_ALLOWED" || resp.Sql != "SELECT count(*) FROM orders LIMIT 100" {
		t.Errorf("answer %+v", resp)
	}
	for _, m := range s.llm.Requests()[0].Messages {
		if strings.Contains(m.Content, "customers") && m.Role == "system" {
			t.Error("the prompt shows a table outside the caller's scope")
		}
	}
}

func TestConversationHistory(t *testing.T) {
	s := startStack(t, fakellm.Text("```sql\nSELECT status, count(*) FROM orders WHERE status = 'shipped' GROUP BY status\n```"), stackOptions{})
	_, err := s.client.GenerateSQL(grpcCtx(context.Background(), toolsToken), &texttosqlv1.GenerateSQLRequest{
		Database: "shop", Question: "Only the shipped ones",
		History: []*texttosqlv1.ConversationTurn{{Question: "Orders by status", Sql: "SELECT status, count(*) FROM orders GROUP BY status"}}})
	if err != nil {
		t.Fatal(err)
	}
	msgs := s.llm.Requests()[0].Messages
	if len(msgs) != 4 || msgs[1].Content != "Question: Orders by status" || !strings.Contains(msgs[2].Content, "GROUP BY status") || msgs[3].Content != "Question: Only the shipped ones" {
		t.Errorf("messages %+v", msgs)
	}
}
