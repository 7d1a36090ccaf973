package e2e

import (
	"context"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/texttosql/text2sql/generate"
	texttosqlv1 "github.com/texttosql/text2sql/proto/texttosql/v1"
	"github.com/texttosql/text2sql/test/fakellm"
	"github.com/texttosql/text2sql/validate/hostile"
)

// TestHostileModelAnswers has the model answer with statements that used
// to crash the process: they go through the same validator as ValidateSQL,
// are refused as TOO_COMPLEX on every attempt, and the service still
// answers afterwards.
func TestHostileModelAnswers(t *testing.T) {
	chain := "SELECT 1" + strings.Repeat("+1", 24000)
	concat := "SELECT 'a'" + strings.Repeat("||'a'", 25000)
	s := startStack(t, fakellm.Replies(sqlAnswer(chain), sqlAnswer(concat), sqlAnswer(chain), sqlAnswer(revenueSQL)),
		stackOptions{pipeline: generate.Config{MaxAttempts: 3}})
	_, err := s.client.GenerateSQL(grpcCtx(context.Background(), toolsToken),
		&texttosqlv1.GenerateSQLRequest{Database: "shop", Question: "One plus one, many times"})
	st, failure := generationFailure(t, err)
	if failure == nil || len(failure.Attempts) != 3 {
		t.Fatalf("details %+v", st.Details())
	}
	for i, a := range failure.Attempts {
		if len(a.Violations) == 0 || a.Violations[0].Code != "TOO_COMPLEX" {
			t.Errorf("attempt %d: %+v, want TOO_COMPLEX", i+1, a.Violations)
		}
	}
	resp, err := s.client.GenerateSQL(grpcCtx(context.Background(), toolsToken),
		&texttosqlv1.GenerateSQLRequest{Database: "shop", Question: "Revenue by order status?"})
	if err != nil || !strings.HasPrefix(resp.Sql, "SELECT status") {
		t.Fatalf("after the hostile answers: %v %v", resp, err)
	}
}

// TestHostileShapesFromTheModel has the model answer with every hostile
// shape: each ends in an answer or a structured refusal.
func TestHostileShapesFromTheModel(t *testing.T) {
	var replies []fakellm.Reply
	for _, sh := range hostile.Shapes() {
		replies = append(replies, sqlAnswer(sh.SQL(16<<10)))
	}
	s := startStack(t, fakellm.Replies(replies...), stackOptions{pipeline: generate.Config{MaxAttempts: 1}})
	for _, sh := range hostile.Shapes() {
		_, err := s.client.GenerateSQL(grpcCtx(context.Background(), toolsToken),
			&texttosqlv1.GenerateSQLRequest{Database: "shop", Question: "Shape " + sh.Name, SkipCache: true})
		if c := status.Code(err); c != codes.OK && c != codes.FailedPrecondition {
			t.Errorf("%s: %v, want an answer or FAILED_PRECONDITION", sh.Name, err)
		}
	}
}

// TestHistoryLimits refuses a history over its turn or byte limit with
// INVALID_ARGUMENT before any model call.
func TestHistoryLimits(t *testing.T) {
	s := startStack(t, fakellm.Text("```sql\n"+revenueSQL+"\n```"), stackOptions{})
	turns := func(n, size int) []*texttosqlv1.ConversationTurn {
		out := make([]*texttosqlv1.ConversationTurn, n)
		for i := range out {
			out[i] = &texttosqlv1.ConversationTurn{Question: "Revenue " + strings.Repeat("x", size), Sql: revenueSQL}
		}
		return out
	}
	for _, tc := range []struct {
		name    string
		history []*texttosqlv1.ConversationTurn
		want    string
	}{
		{"200 turns of 4.5 KB", turns(200, 4500), "send only the last 10 turns"},
		{"11 short turns", turns(11, 10), "send only the last 10 turns"},
		{"10 turns of 2 KB", turns(10, 2000), "more than the limit of 16384"},
	} {
		_, err := s.client.GenerateSQL(grpcCtx(context.Background(), toolsToken),
			&texttosqlv1.GenerateSQLRequest{Database: "shop", Question: "And by month?", History: tc.history})
		if status.Code(err) != codes.InvalidArgument || !strings.Contains(status.Convert(err).Message(), tc.want) {
			t.Errorf("%s: %v, want INVALID_ARGUMENT saying %q", tc.name, err, tc.want)
		}
	}
	if n := s.llm.Calls(); n != 0 {
		t.Errorf("%d model calls for refused requests", n)
	}
	if _, err := s.client.GenerateSQL(grpcCtx(context.Background(), toolsToken),
		&texttosqlv1.GenerateSQLRequest{Database: "shop", Question: "And by month?", History: turns(10, 1000)}); err != nil {
		t.Errorf("a history within the limits: %v", err)
	}
}
