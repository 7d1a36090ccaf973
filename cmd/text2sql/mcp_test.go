package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/texttosql/text2sql/test/fakellm"
	"github.com/texttosql/text2sql/test/serveproc"
)

const (
	mcpToolsToken    = "mcp-tools-token-0123456789"
	mcpSupersetToken = "mcp-superset-token-0123456789"
)

// bearer adds a caller token to every request of the MCP client.
type bearer struct {
	token string
	next  http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	if b.token != "" {
		r.Header.Set("Authorization", "Bearer "+b.token)
	}
	return b.next.RoundTrip(r)
}

func mcpConnect(t *testing.T, tr sdk.Transport) *sdk.ClientSession {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := sdk.NewClient(&sdk.Implementation{Name: "text2sql-test", Version: "1"}, nil)
	cs, err := c.Connect(ctx, tr, nil)
	if err != nil {
		t.Fatalf("MCP connect: %v", err)
	}
	t.Cleanup(func() { _ = cs.Close() })
	return cs
}

// call runs one tool and returns its JSON answer and whether it is an
// error.
func call(t *testing.T, cs *sdk.ClientSession, tool string, args map[string]any) (map[string]any, bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := cs.CallTool(ctx, &sdk.CallToolParams{Name: tool, Arguments: args})
	if err != nil {
		t.Fatalf("%s: %v", tool, err)
	}
	if len(res.Content) != 1 {
		t.Fatalf("%s: %d content parts", tool, len(res.Content))
	}
	text, ok := res.Content[0].(*sdk.TextContent)
	if !ok {
		t.Fatalf("%s: content %T", tool, res.Content[0])
	}
	var out map[string]any
	if err := json.Unmarshal([]byte(text.Text), &out); err != nil {
		t.Fatalf("%s: %q: %v", tool, text.Text, err)
	}
	return out, res.IsError
}

func tableNames(schema map[string]any) []string {
	var names []string
	for _, tb := range schema["tables"].([]any) {
		names = append(names, tb.(map[string]any)["name"].(string))
	}
	slices.Sort(names)
	return names
}

var mcpCallers = map[string]string{
	"TEXT2SQL_CALLERS":               "tools,superset:trusted",
	"TEXT2SQL_CALLER_TOKEN_TOOLS":    mcpToolsToken,
	"TEXT2SQL_CALLER_TOKEN_SUPERSET": mcpSupersetToken,
	"TEXT2SQL_LLM_MODEL":             "fake-model",
	"TEXT2SQL_LLM_API_KEY":           "sk-mcp",
	"TEXT2SQL_LLM_RETRIES":           "0",
	"TEXT2SQL_SQLLAB_URL":            "https://superset.test",
	"TEXT2SQL_RATE_LIMIT":            "0",
}

// MCP over streamable HTTP at /mcp: the SDK's client, the tools of the
// service, caller tokens, a trusted caller's scope, and the same logs and
// metrics as the other transports.
func TestMCPOverHTTP(t *testing.T) {
	model := fakellm.NewTest(t, fakellm.Text(shippedSQL))
	vars := map[string]string{"TEXT2SQL_LLM_BASE_URL": model.URL()}
	for k, v := range mcpCallers {
		vars[k] = v
	}
	h := startServe(t, vars, nil, nil)
	connect := func(token string) *sdk.ClientSession {
		return mcpConnect(t, &sdk.StreamableClientTransport{Endpoint: h.base + "/mcp",
			HTTPClient: &http.Client{Transport: bearer{token, http.DefaultTransport}}, MaxRetries: -1})
	}

	t.Run("tools", func(t *testing.T) {
		res, err := connect(mcpToolsToken).ListTools(context.Background(), nil)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, tool := range res.Tools {
			names = append(names, tool.Name)
		}
		slices.Sort(names)
		if want := []string{"generate_sql", "get_schema", "list_databases", "validate_sql"}; !slices.Equal(names, want) {
			t.Errorf("tools %v, want %v", names, want)
		}
	})
	t.Run("unauthenticated call refused", func(t *testing.T) {
		for _, token := range []string{"", "not-a-caller-token-0123456789"} {
			out, isErr := call(t, connect(token), "list_databases", nil)
			if !isErr || out["code"] != "Unauthenticated" {
				t.Errorf("token %q: %v (error %v), want Unauthenticated", token, out, isErr)
			}
		}
	})
	t.Run("list and validate", func(t *testing.T) {
		cs := connect(mcpToolsToken)
		out, isErr := call(t, cs, "list_databases", nil)
		if isErr || !strings.Contains(mustJSON(out), `"name":"shop"`) {
			t.Errorf("list_databases: %v", out)
		}
		out, isErr = call(t, cs, "validate_sql", map[string]any{"database": "shop", "sql": "SELECT id\nFROM orders;\nDELETE FROM orders"})
		if isErr || out["valid"] == true {
			t.Fatalf("validate_sql: %v", out)
		}
		v := out["violations"].([]any)[0].(map[string]any)
		if v["code"] != "MULTIPLE_STATEMENTS" || v["line"] != float64(3) || v["column"] != float64(1) {
			t.Errorf("violation %v, want MULTIPLE_STATEMENTS at line 3, column 1", v)
		}
	})
	t.Run("a scoped caller sees only its tables", func(t *testing.T) {
		cs := connect(mcpSupersetToken)
		out, isErr := call(t, cs, "get_schema", map[string]any{"database": "shop", "scope": map[string]any{"dataset_ids": []int{102}, "user": "alice"}})
		if isErr || !slices.Equal(tableNames(out), []string{"orders"}) {
			t.Errorf("trusted caller scoped to dataset 102: %v", out)
		}
		out, isErr = call(t, cs, "validate_sql", map[string]any{"database": "shop", "sql": "SELECT name FROM customers",
			"scope": map[string]any{"dataset_ids": []int{102}}})
		if isErr || out["valid"] == true || !strings.Contains(mustJSON(out), "TABLE_NOT_ALLOWED") && !strings.Contains(mustJSON(out), "UNKNOWN_TABLE") {
			t.Errorf("a table outside the scope: %v", out)
		}
		// The same scope from an untrusted caller is ignored, not obeyed.
		out, _ = call(t, connect(mcpToolsToken), "get_schema", map[string]any{"database": "shop", "scope": map[string]any{"dataset_ids": []int{102}}})
		if got := tableNames(out); len(got) < 2 {
			t.Errorf("an untrusted caller's scope narrowed its schema to %v", got)
		}
	})
	t.Run("generate", func(t *testing.T) {
		out, isErr := call(t, connect(mcpToolsToken), "generate_sql", map[string]any{"database": "shop", "question": "How many orders were shipped?"})
		if isErr || !strings.Contains(out["sql"].(string), "shipped") || !strings.HasPrefix(out["sqllab_url"].(string), "https://superset.test/sqllab/") {
			t.Errorf("generate_sql: %v", out)
		}
	})
	t.Run("logs and metrics", func(t *testing.T) {
		if !strings.Contains(h.logs.String(), `"transport":"mcp","caller":"tools"`) {
			t.Errorf("no rpc log line for the MCP caller:\n%s", h.logs)
		}
		m := h.do("GET", "/metrics", "")
		if !strings.Contains(m.body, `text2sql_requests_total{code="Unauthenticated",method="/texttosql.v1.TextToSQLService/ListDatabases",transport="mcp"}`) {
			t.Errorf("no MCP request metrics")
		}
	})
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// `text2sql mcp` over stdio, started by the SDK's client as a desktop
// client starts it: the caller is the one whose token TEXT2SQL_MCP_TOKEN
// holds.
func TestMCPOverStdio(t *testing.T) {
	bin, err := serveproc.Build(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	model := fakellm.NewTest(t, fakellm.Text(shippedSQL))
	start := func(token string) *sdk.ClientSession {
		cmd := exec.Command(bin, "mcp")
		for _, kv := range os.Environ() {
			if !strings.HasPrefix(kv, "TEXT2SQL_") && !strings.HasPrefix(kv, "OPENAI_") {
				cmd.Env = append(cmd.Env, kv)
			}
		}
		for k, v := range mcpCallers {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		cmd.Env = append(cmd.Env, "TEXT2SQL_LLM_BASE_URL="+model.URL(), "TEXT2SQL_OLLAMA_ADDR=", "TEXT2SQL_MCP_TOKEN="+token)
		return mcpConnect(t, &sdk.CommandTransport{Command: cmd})
	}
	t.Run("no token", func(t *testing.T) {
		out, isErr := call(t, start(""), "validate_sql", map[string]any{"database": "shop", "sql": "SELECT 1"})
		if !isErr || out["code"] != "Unauthenticated" {
			t.Errorf("%v, want Unauthenticated", out)
		}
	})
	t.Run("caller", func(t *testing.T) {
		cs := start(mcpToolsToken)
		res, err := cs.ListTools(context.Background(), nil)
		if err != nil || len(res.Tools) != 4 {
			t.Fatalf("tools/list: %v %v", res, err)
		}
		out, isErr := call(t, cs, "validate_sql", map[string]any{"database": "shop", "sql": "SELECT id FROM orders"})
		if isErr || out["valid"] != true || !strings.Contains(out["sql"].(string), "LIMIT") {
			t.Errorf("validate_sql: %v", out)
		}
		out, isErr = call(t, cs, "generate_sql", map[string]any{"database": "shop", "question": "How many orders were shipped?"})
		if isErr || !strings.Contains(out["sql"].(string), "shipped") {
			t.Errorf("generate_sql: %v", out)
		}
	})
	t.Run("scoped", func(t *testing.T) {
		out, isErr := call(t, start(mcpSupersetToken), "get_schema", map[string]any{"database": "shop", "scope": map[string]any{"dataset_ids": []int{101}}})
		if isErr || !slices.Equal(tableNames(out), []string{"customers"}) {
			t.Errorf("trusted caller scoped to dataset 101: %v", out)
		}
	})
}
