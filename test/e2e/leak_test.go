package e2e

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"

	texttosqlv1 "github.com/texttosql/text2sql/proto/texttosql/v1"
	"github.com/texttosql/text2sql/test/fakellm"
)

// A denied column must not reach the caller or the model by any road: not
// as a column, nor inside a saved metric's expression, a foreign key, or an
// approved example. The catalog (testdata/leak) holds one of each naming
// customers.personal_email, and a visible twin of each, so that a test
// that finds nothing has looked where the twins are.
func TestDeniedColumnReachesNoOutput(t *testing.T) {
	const (
		denied   = "personal_email"
		question = "How many customers and orders per country and mail domain?"
		answer   = "SELECT c.country, count(*) FROM customers c JOIN orders o ON o.customer_id = c.id GROUP BY c.country"
	)
	// Words that only the hidden metric, key and example carry.
	hidden := []string{denied, "mail_domains", "Mail domains", "billing_contact) REFERENCES", "split_part"}
	s := startStack(t, fakellm.Text("```sql\n"+answer+"\n```"), stackOptions{
		catalog: "leak/catalog.yaml", policy: "leak/policy.yaml", examples: "leak/examples.yaml",
	})
	var outputs []string
	ctx := grpcCtx(context.Background(), toolsToken)

	// GetSchema, over gRPC and HTTP.
	sch, err := s.client.GetSchema(ctx, &texttosqlv1.GetSchemaRequest{Database: "crm"})
	if err != nil {
		t.Fatal(err)
	}
	outputs = append(outputs, protojson.Format(sch))
	outputs = append(outputs, s.get("/v1/databases/crm/schema", toolsToken))
	outputs = append(outputs, s.get("/v1/databases", toolsToken))
	var metrics, keys []string
	for _, tb := range sch.GetTables() {
		for _, m := range tb.GetMetrics() {
			metrics = append(metrics, m.GetName())
		}
		for _, fk := range tb.GetForeignKeys() {
			keys = append(keys, strings.Join(fk.GetColumns(), ",")+"->"+fk.GetRefTable())
		}
	}
	if strings.Join(metrics, " ") != "customer_count" || strings.Join(keys, " ") != "customer_id->customers" {
		t.Errorf("GetSchema shows metrics %v and keys %v, want the visible ones only", metrics, keys)
	}

	// GenerateSQL, over gRPC and HTTP: the answers, and every prompt.
	resp, err := s.client.GenerateSQL(ctx, &texttosqlv1.GenerateSQLRequest{Database: "crm", Question: question})
	if err != nil {
		t.Fatal(err)
	}
	outputs = append(outputs, protojson.Format(resp))
	code, body := s.post("/v1/sql:generate", toolsToken, map[string]any{"database": "crm", "question": question, "skipCache": true})
	if code != 200 {
		t.Fatalf("HTTP %d: %v", code, body)
	}
	b, _ := json.Marshal(body)
	outputs = append(outputs, string(b))

	reqs := s.llm.Requests()
	if len(reqs) == 0 {
		t.Fatal("the model was never asked")
	}
	var prompts []string
	for _, r := range reqs {
		for _, m := range r.Messages {
			prompts = append(prompts, m.Content)
		}
	}
	prompt := strings.Join(prompts, "\n")
	// The visible twins reach the prompt: the metric, the key and the
	// example the caller may see.
	for _, want := range []string{"customer_count", "FOREIGN KEY (customer_id) REFERENCES public.customers (id)", "SELECT c.country, count(*)"} {
		if !strings.Contains(prompt, want) {
			t.Errorf("the prompt lacks the visible %q:\n%s", want, prompt)
		}
	}
	outputs = append(outputs, prompt)
	outputs = append(outputs, s.logs.String())

	for _, out := range outputs {
		for _, h := range hidden {
			if strings.Contains(out, h) {
				t.Errorf("%q reached an output:\n%s", h, out)
			}
		}
	}
}

// get calls the HTTP gateway and returns the body of a 200 answer.
func (s *stack) get(path, token string) string {
	s.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.base+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		s.t.Fatalf("GET %s: HTTP %d: %s", path, resp.StatusCode, data)
	}
	return string(data)
}
