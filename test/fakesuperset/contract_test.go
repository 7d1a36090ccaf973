package fakesuperset_test

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/texttosql/text2sql/schema/superset"
	"github.com/texttosql/text2sql/test/fakesuperset"
)

// specPath finds Superset's OpenAPI spec: $SUPERSET_OPENAPI, or shared/
// beside the repository.
func specPath(t *testing.T) string {
	if p := os.Getenv("SUPERSET_OPENAPI"); p != "" {
		return p
	}
	p, _ := filepath.Abs(filepath.Join("..", "..", "..", "shared", "superset", "openapi.json"))
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("Superset OpenAPI spec not found at %s (set SUPERSET_OPENAPI): %v", p, err)
		}
		t.Skipf("Superset OpenAPI spec not found at %s (set SUPERSET_OPENAPI); skipping the contract test", p)
	}
	return p
}

// loadSpec loads the spec and corrects, narrowly, the places where it does
// not describe what Superset actually sends. Each correction says why; none
// loosens a field the fake emits beyond what Superset emits.
func loadSpec(t *testing.T, serverURL string) *openapi3.T {
	t.Helper()
	// Superset writes naive UTC datetimes ("2026-04-10T09:12:01.123456",
	// marshmallow over a naive datetime), which RFC 3339 date-time rejects
	// for the missing offset: accept an optional offset, nothing else.
	openapi3.DefineStringFormatValidator("date-time", openapi3.NewRegexpFormatValidator(
		`^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?(Z|[+-]([01][0-9]|2[0-3]):?[0-5][0-9])?$`))
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile(specPath(t))
	if err != nil {
		t.Fatalf("loading spec: %v", err)
	}
	schemas := doc.Components.Schemas
	get := func(path, method string) *openapi3.Operation {
		item := doc.Paths.Value(path)
		if item == nil {
			t.Fatalf("spec has no path %s", path)
		}
		op := item.GetOperation(method)
		if op == nil {
			t.Fatalf("spec has no %s %s", method, path)
		}
		return op
	}
	okSchema := func(op *openapi3.Operation, status int) *openapi3.Schema {
		r := op.Responses.Status(status)
		if r == nil || r.Value == nil || r.Value.Content.Get("application/json") == nil {
			t.Fatalf("spec: no JSON %d response to patch", status)
		}
		return r.Value.Content.Get("application/json").Schema.Value
	}
	intSchema := openapi3.NewIntegerSchema()

	// 1. FAB's list envelope: "ids" are the rows' primary keys (integers),
	//    documented as strings.
	for _, p := range []string{"/api/v1/dataset/", "/api/v1/database/"} {
		s := okSchema(get(p, http.MethodGet), 200)
		s.Properties["ids"].Value.Items = openapi3.NewSchemaRef("", intSchema)
	}
	// 2. The dataset detail's top-level "id" is the integer pk.
	detail := get("/api/v1/dataset/{id_or_uuid}", http.MethodGet)
	okSchema(detail, 200).Properties["id"] = openapi3.NewSchemaRef("", intSchema)
	// 3. Nested(many=True) fields are rendered as a single object; Superset
	//    sends arrays of them.
	toArray := func(schemaName, field string) {
		s := schemas[schemaName].Value
		ref := s.Properties[field]
		s.Properties[field] = openapi3.NewSchemaRef("", openapi3.NewArraySchema().WithItems(ref.Value))
	}
	toArray("DatasetRestApi.get", "columns")
	toArray("DatasetRestApi.get", "metrics")
	toArray("DatasetRestApi.get", "owners")
	toArray("DatasetRestApi.get_list", "owners")
	// 4. A list or a detail answers only the columns asked for in
	//    q.columns, so the schemas' "required" cannot hold for subsets.
	for _, name := range []string{"DatasetRestApi.get_list", "DatasetRestApi.get_list.Database",
		"DatasetRestApi.get_list.User", "DatasetRestApi.get_list.User1", "DatabaseRestApi.get_list",
		"DatabaseRestApi.get_list.User", "DatabaseRestApi.get_list.User1", "DatasetRestApi.get",
		"DatasetRestApi.get.Database", "DatasetRestApi.get.TableColumn", "DatasetRestApi.get.SqlMetric"} {
		schemas[name].Value.Required = nil
	}
	// 5. table_metadata/ is documented with the /extra/ endpoint's schema;
	//    both metadata endpoints return get_table_metadata's shape.
	tm := get("/api/v1/database/{pk}/table_metadata/", http.MethodGet)
	tm.Responses.Status(200).Value.Content.Get("application/json").Schema = openapi3.NewSchemaRef("#/components/schemas/TableMetadataResponseSchema", schemas["TableMetadataResponseSchema"].Value)
	// 6. A column's "keys" holds whole key objects, not strings.
	schemas["TableMetadataColumnsResponse"].Value.Properties["keys"].Value.Items = openapi3.NewSchemaRef("", openapi3.NewObjectSchema())
	// 7. A table without a primary key passes SQLAlchemy's empty constraint
	//    through: {"constrained_columns": [], "name": null}.
	schemas["TableMetadataPrimaryKeyResponse"].Value.Properties["name"].Value.Nullable = true
	// 8. FAB's 400 "message" is a string or marshmallow's field→errors
	//    object (ValidationError.messages).
	doc.Components.Responses["400"].Value.Content.Get("application/json").Schema.Value.Properties["message"] = openapi3.NewSchemaRef("", &openapi3.Schema{})
	// 9. The dataset detail answers 404 for a missing or hidden dataset
	//    (DatasetDAO's base filter), which the spec leaves out.
	detail.Responses.Set("404", doc.Components.Responses["404"])
	// 10. 429/502/503/504 come from rate limiters and proxies in front of
	//     Superset, so no Superset spec lists them; the fake emits them with
	//     the generic {"message"} error body.
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			for _, code := range []string{"429", "502", "503", "504"} {
				op.Responses.Set(code, doc.Components.Responses["500"])
			}
		}
	}
	// 11. flask-jwt-extended answers a malformed token, or a token of the
	//     wrong type, with 422 {"msg"} on every JWT-protected endpoint; the
	//     spec lists 422 on most of them but not all.
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			if op.Responses.Status(401) != nil && op.Responses.Status(422) == nil {
				op.Responses.Set("422", doc.Components.Responses["422"])
			}
		}
	}
	// 12. /api/v1/dataset/{pk} (PUT, DELETE) and /api/v1/dataset/{id_or_uuid}
	//     (GET) are one template with two parameter names; the router would
	//     match the first and report GET as not allowed. The fake serves
	//     neither PUT nor DELETE, so the {pk} item goes.
	doc.Paths.Delete("/api/v1/dataset/{pk}")
	// 13. Fields documented with no type (marshmallow Function and Method
	//     fields: cache_timeout, changed_on_delta_humanized, …) carry any
	//     JSON value, null included; OpenAPI 3.0 needs nullable for null.
	seen := map[*openapi3.Schema]bool{}
	var untyped func(*openapi3.Schema)
	untyped = func(s *openapi3.Schema) {
		if s == nil || seen[s] {
			return
		}
		seen[s] = true
		if s.Type == nil || len(*s.Type) == 0 {
			s.Nullable = true
		}
		for _, p := range s.Properties {
			untyped(p.Value)
		}
		if s.Items != nil {
			untyped(s.Items.Value)
		}
	}
	for _, sr := range schemas {
		untyped(sr.Value)
	}
	doc.Servers = openapi3.Servers{{URL: serverURL}}
	return doc
}

type observed struct {
	method, url string
	header      http.Header
	reqBody     []byte
	status      int
	respHeader  http.Header
	body        []byte
}

// TestContract validates every response the fake serves while a real
// client syncs from it, plus every error shape it can emit, against
// Superset's OpenAPI spec.
func TestContract(t *testing.T) {
	var (
		mu   sync.Mutex
		seen []observed
	)
	fake, err := fakesuperset.New(fakesuperset.Options{Observe: func(r *http.Request, status int, h http.Header, body []byte) {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, observed{method: r.Method, url: r.URL.String(), header: r.Header.Clone(),
			status: status, respHeader: h.Clone(), body: append([]byte(nil), body...)})
	}, RetryAfter: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer fake.Close()
	doc := loadSpec(t, fake.URL())
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatalf("router: %v", err)
	}

	fake.AddUser(fakesuperset.User{Username: "svc", Password: "svc-pass", Admin: true})
	ids := fake.Generate(fakesuperset.GenerateOptions{Databases: 2, Datasets: 30, Columns: 6, VirtualEvery: 7})
	fake.UpdateDataset(ids[0], func(d *fakesuperset.Dataset) {
		d.PrimaryKey = nil // a table without a primary key
		d.Columns = append(d.Columns, fakesuperset.Column{ID: 99, Name: "total", Type: "NUMERIC", Expression: "a+b"})
		d.Columns[1].Comment = "warehouse comment"
		d.TableComment = "a table comment"
	})
	// One table in two catalogs, and one in the default catalog with none named.
	lake := fake.AddDatabase(fakesuperset.Database{Name: "lake", Backend: "trino", AllowMultiCatalog: true, DefaultCatalog: "hive"})
	for _, c := range []string{"hive", "iceberg", ""} {
		fake.AddDataset(fakesuperset.Dataset{DatabaseID: lake.ID, Catalog: c, Schema: "sales", TableName: "orders_" + cmp.Or(c, "default"),
			Columns: []fakesuperset.Column{{ID: 1, Name: "id", Type: "BIGINT"}}})
	}
	ctx := context.Background()

	// A real sync: logins, lists, details, table metadata.
	cfg := superset.Config{BaseURL: fake.URL(), Username: "svc", Password: "svc-pass", Retries: 1}
	if _, err := superset.Pull(ctx, cfg); err != nil {
		t.Fatalf("pull: %v", err)
	}
	c, err := superset.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.SQLLabPermalink(ctx, superset.Permalink{DatabaseID: 1, SQL: "SELECT 1", Schema: "sales"}); err != nil {
		t.Fatalf("permalink: %v", err)
	}

	// Raw calls for the remaining shapes.
	tok := login(t, fake.URL(), "svc", "svc-pass")
	raw := func(method, path string, body string, header map[string]string) {
		t.Helper()
		req, _ := http.NewRequest(method, fake.URL()+path, strings.NewReader(body))
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	bearer := map[string]string{"Authorization": "Bearer " + tok.Access}
	q := func(s string) string { return "?q=" + url.QueryEscape(s) }
	raw("POST", "/api/v1/security/login", `{"username":"svc","password":"wrong","provider":"db"}`, nil)
	raw("POST", "/api/v1/security/login", `{"password":"x"}`, nil)
	raw("POST", "/api/v1/security/refresh", "", map[string]string{"Authorization": "Bearer " + tok.Refresh})
	raw("POST", "/api/v1/security/refresh", "", bearer) // an access token where a refresh one is due: 422
	raw("GET", "/api/v1/database/", "", bearer)
	raw("GET", "/api/v1/database/"+q("(page:0,page_size:-1)"), "", bearer)
	raw("GET", "/api/v1/database/"+q("(order_column:nope)"), "", bearer)
	raw("GET", "/api/v1/dataset/", "", bearer)
	raw("GET", fmt.Sprintf("/api/v1/database/%d/table_metadata/?name=orders_iceberg&schema=sales&catalog=iceberg", lake.ID), "", bearer)
	raw("GET", "/api/v1/dataset/"+q("(columns:!(id,owners.id,database.id),page:1,page_size:5,keys:!(list_columns))"), "", bearer)
	raw("GET", "/api/v1/dataset/"+q("(filters:!((col:changed_on,opr:gt,value:'2020-01-01')))"), "", bearer)
	raw("GET", "/api/v1/dataset/"+q("(order_column:id)"), "", bearer)
	raw("GET", "/api/v1/dataset/"+q("(page:"), "", bearer)
	raw("GET", "/api/v1/dataset/", "", map[string]string{"Authorization": "Bearer not-a-jwt"})
	raw("GET", "/api/v1/dataset/", "", nil)
	raw("GET", fmt.Sprintf("/api/v1/dataset/%d", ids[1]), "", bearer)
	raw("GET", "/api/v1/dataset/999999", "", bearer)
	raw("GET", "/api/v1/database/1/table_metadata/?name=nope&schema=sales", "", bearer)
	raw("GET", "/api/v1/database/1/table_metadata/", "", bearer)
	raw("GET", "/api/v1/database/1/table/nope/sales/", "", bearer)
	raw("POST", "/api/v1/sqllab/permalink", `{"dbId":1,"sql":"SELECT 1"}`, bearer)
	raw("GET", "/api/v1/no/such/route", "", bearer)
	fake.ExpireAccessTokens()
	raw("GET", "/api/v1/security/csrf_token/", "", bearer)
	for _, status := range []int{500, 502, 503, 504, 429} {
		fake.FailNext(1, status)
		raw("GET", "/api/v1/dataset/", "", bearer)
	}

	mu.Lock()
	defer mu.Unlock()
	statuses := map[int]int{}
	for _, o := range seen {
		statuses[o.status]++
		req, _ := http.NewRequest(o.method, fake.URL()+o.url, bytes.NewReader(o.reqBody))
		req.Header = o.header
		route, params, err := router.FindRoute(req)
		if err != nil {
			// Only the unknown route has no operation; it must carry
			// Superset's SIP-40 error shape.
			var body struct {
				Errors []struct {
					Message string `json:"message"`
				} `json:"errors"`
			}
			if o.status != 404 || json.Unmarshal(o.body, &body) != nil || len(body.Errors) == 0 {
				t.Errorf("%s %s: no route in spec (%v) and not a Superset 404: %d %.300s", o.method, o.url, err, o.status, o.body)
			}
			continue
		}
		in := &openapi3filter.ResponseValidationInput{
			RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
				Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}},
			Status:  o.status,
			Header:  o.respHeader,
			Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
		}
		in.SetBodyBytes(o.body)
		if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
			t.Errorf("%s %s → %d does not match the spec: %.1500v\nbody: %.300s", o.method, o.url, o.status, err, o.body)
		}
	}
	// The run must have covered success and every error status the fake emits.
	for _, want := range []int{200, 201, 400, 401, 404, 422, 429, 500, 502, 503, 504} {
		if statuses[want] == 0 {
			t.Errorf("no %d response was exercised (saw %v)", want, statuses)
		}
	}
}

type tokens struct{ Access, Refresh string }

func login(t *testing.T, base, user, pass string) tokens {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"username": user, "password": pass, "provider": "db", "refresh": true})
	resp, err := http.Post(base+"/api/v1/security/login", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Access  string `json:"access_token"`
		Refresh string `json:"refresh_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != 200 {
		t.Fatalf("login: %d %v", resp.StatusCode, err)
	}
	return tokens{out.Access, out.Refresh}
}
