// Package mcp serves the service to agents over the Model Context Protocol:
// the tools generate_sql, validate_sql, list_databases and get_schema call
// the same service methods as gRPC and HTTP, through the same middleware
// (caller tokens, scopes, limits, deadlines, logs, metrics).
package mcp

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	texttosqlv1 "github.com/texttosql/text2sql/proto/texttosql/v1"
	"github.com/texttosql/text2sql/server"
)

// Transport is the label of MCP calls in logs and metrics.
const Transport = "mcp"

// Credentials finds the caller of one tool call: its incoming metadata
// (authorization, x-superset-authorization, x-request-id).
type Credentials func(req *sdk.CallToolRequest) metadata.MD

// FromHTTPHeaders reads the caller's headers of the streamable HTTP
// request, as the HTTP API does.
func FromHTTPHeaders(req *sdk.CallToolRequest) metadata.MD {
	md := metadata.MD{}
	if req.Extra == nil || req.Extra.Header == nil {
		return md
	}
	h := req.Extra.Header
	for key, mdKey := range map[string]string{
		"Authorization":            server.MDAuthorization,
		"X-Superset-Authorization": server.MDSupersetAuthorization,
		"X-Request-Id":             server.MDRequestID,
	} {
		if v := h.Values(key); len(v) > 0 {
			md[mdKey] = v
		}
	}
	return md
}

// WithToken authenticates every call as the caller holding token (for
// stdio, where the client starts the process and there are no headers).
func WithToken(token string) Credentials {
	return func(*sdk.CallToolRequest) metadata.MD {
		if token == "" {
			return metadata.MD{}
		}
		return metadata.Pairs(server.MDAuthorization, "Bearer "+token)
	}
}

// New returns an MCP server whose tools call svc (see server.Local) as the
// caller creds names.
func New(svc texttosqlv1.TextToSQLServiceServer, creds Credentials, version string) *sdk.Server {
	s := sdk.NewServer(&sdk.Implementation{Name: "text2sql", Title: "text2sql", Version: version}, &sdk.ServerOptions{
		Instructions: "Turns questions in plain language into one validated, read-only SQL query for a Superset database, " +
			"and checks SQL against the same rules. Call list_databases first; get_schema shows the tables you may use. " +
			"SQL is never executed here.",
	})
	t := tools{svc: svc, creds: creds}
	readOnly := &sdk.ToolAnnotations{ReadOnlyHint: true}
	sdk.AddTool(s, &sdk.Tool{Name: "generate_sql", Annotations: readOnly,
		Description: "Answer a question with one validated, read-only SQL query for a database. Earlier turns go in history for follow-ups. " +
			"When no safe SQL exists the result is an error saying why, with every attempt and its violations."}, t.generate)
	sdk.AddTool(s, &sdk.Tool{Name: "validate_sql", Annotations: readOnly,
		Description: "Check SQL against the database's rules (read-only, allowed tables and columns, functions, row cap). " +
			"Returns valid, the violations with line and column, and the statement as it would run."}, t.validate)
	sdk.AddTool(s, &sdk.Tool{Name: "list_databases", Annotations: readOnly,
		Description: "List the databases this caller may query, with their dialects and table counts."}, t.listDatabases)
	sdk.AddTool(s, &sdk.Tool{Name: "get_schema", Annotations: readOnly,
		Description: "The tables and columns of one database that this caller may see."}, t.getSchema)
	return s
}

// Handler serves MCP's streamable HTTP transport, reading caller tokens
// from each request's headers.
func Handler(svc texttosqlv1.TextToSQLServiceServer, version string) http.Handler {
	s := New(svc, FromHTTPHeaders, version)
	// Stateless: every request stands alone, as the HTTP API's do, so any
	// replica can serve it and nothing lingers per client.
	return sdk.NewStreamableHTTPHandler(func(*http.Request) *sdk.Server { return s }, &sdk.StreamableHTTPOptions{Stateless: true, JSONResponse: true})
}

type tools struct {
	svc   texttosqlv1.TextToSQLServiceServer
	creds Credentials
}

// Scope is a trusted caller's end-user scope; other callers' scopes are
// ignored by the service.
type Scope struct {
	DatasetIDs []int64 `json:"dataset_ids,omitempty" jsonschema:"Superset dataset ids the end user may see (honoured for trusted callers only)"`
	User       string  `json:"user,omitempty" jsonschema:"the end user's name, for audit logs"`
}

func (s *Scope) proto() *texttosqlv1.CallerScope {
	if s == nil {
		return nil
	}
	return &texttosqlv1.CallerScope{DatasetIds: s.DatasetIDs, User: s.User}
}

// Turn is an earlier question and the SQL answered.
type Turn struct {
	Question string `json:"question"`
	SQL      string `json:"sql,omitempty"`
}

// GenerateInput is generate_sql's arguments.
type GenerateInput struct {
	Database string `json:"database" jsonschema:"database name or Superset id, from list_databases"`
	Question string `json:"question" jsonschema:"the question in plain language"`
	History  []Turn `json:"history,omitempty" jsonschema:"earlier turns of the conversation, oldest first"`
	MaxRows  int32  `json:"max_rows,omitempty" jsonschema:"row cap; only lowers the operator's cap"`
	Scope    *Scope `json:"scope,omitempty"`
}

// ValidateInput is validate_sql's arguments.
type ValidateInput struct {
	Database string `json:"database" jsonschema:"database name or Superset id, from list_databases"`
	SQL      string `json:"sql" jsonschema:"the SQL to check"`
	MaxRows  int32  `json:"max_rows,omitempty" jsonschema:"row cap; only lowers the operator's cap"`
	Scope    *Scope `json:"scope,omitempty"`
}

// SchemaInput is get_schema's arguments.
type SchemaInput struct {
	Database string `json:"database" jsonschema:"database name or Superset id, from list_databases"`
	Scope    *Scope `json:"scope,omitempty"`
}

// Empty is list_databases' arguments.
type Empty struct{}

func (t tools) ctx(ctx context.Context, req *sdk.CallToolRequest) context.Context {
	return metadata.NewIncomingContext(ctx, t.creds(req))
}

func (t tools) generate(ctx context.Context, req *sdk.CallToolRequest, in GenerateInput) (*sdk.CallToolResult, any, error) {
	r := &texttosqlv1.GenerateSQLRequest{Database: in.Database, Question: in.Question, MaxRows: in.MaxRows, Scope: in.Scope.proto()}
	for _, h := range in.History {
		r.History = append(r.History, &texttosqlv1.ConversationTurn{Question: h.Question, Sql: h.SQL})
	}
	resp, err := t.svc.GenerateSQL(t.ctx(ctx, req), r)
	return result(resp, err)
}

func (t tools) validate(ctx context.Context, req *sdk.CallToolRequest, in ValidateInput) (*sdk.CallToolResult, any, error) {
	resp, err := t.svc.ValidateSQL(t.ctx(ctx, req), &texttosqlv1.ValidateSQLRequest{
		Database: in.Database, Sql: in.SQL, MaxRows: in.MaxRows, Scope: in.Scope.proto()})
	return result(resp, err)
}

func (t tools) listDatabases(ctx context.Context, req *sdk.CallToolRequest, _ Empty) (*sdk.CallToolResult, any, error) {
	resp, err := t.svc.ListDatabases(t.ctx(ctx, req), &texttosqlv1.ListDatabasesRequest{})
	return result(resp, err)
}

func (t tools) getSchema(ctx context.Context, req *sdk.CallToolRequest, in SchemaInput) (*sdk.CallToolResult, any, error) {
	resp, err := t.svc.GetSchema(t.ctx(ctx, req), &texttosqlv1.GetSchemaRequest{Database: in.Database, Scope: in.Scope.proto()})
	return result(resp, err)
}

var marshal = protojson.MarshalOptions{UseProtoNames: true}

// result is the answer as JSON text and structured content, or, for a
// refusal, a tool error the agent reads: the status code, its message and
// details (a GenerationFailure's attempts and violations).
func result(resp proto.Message, err error) (*sdk.CallToolResult, any, error) {
	if err != nil {
		st := status.Convert(err)
		out := map[string]any{"code": st.Code().String(), "message": st.Message()}
		for _, d := range st.Details() {
			if m, ok := d.(proto.Message); ok {
				if v, err := toJSON(m); err == nil {
					out["details"] = append(asSlice(out["details"]), v)
				}
			}
		}
		text, _ := json.Marshal(out)
		return &sdk.CallToolResult{IsError: true, Content: []sdk.Content{&sdk.TextContent{Text: string(text)}}}, nil, nil
	}
	v, err := toJSON(resp)
	if err != nil {
		return nil, nil, fmt.Errorf("encoding the answer: %w", err)
	}
	text, _ := json.Marshal(v)
	return &sdk.CallToolResult{Content: []sdk.Content{&sdk.TextContent{Text: string(text)}}, StructuredContent: v}, nil, nil
}

func toJSON(m proto.Message) (map[string]any, error) {
	b, err := marshal.Marshal(m)
	if err != nil {
		return nil, err
	}
	var v map[string]any
	return v, json.Unmarshal(b, &v)
}

func asSlice(v any) []any {
	s, _ := v.([]any)
	return s
}
