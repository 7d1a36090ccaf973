package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/texttosql/text2sql/test/fakesuperset"
)

// supersetWarehouse is a fake Superset with one PostgreSQL database of ten
// tables t0..t9, a virtual dataset, a service account and alice, who may
// see t1, t4 and t7 only.
func supersetWarehouse(t *testing.T) (*fakesuperset.Server, []int64) {
	t.Helper()
	fake, err := fakesuperset.New(fakesuperset.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fake.Close)
	fake.AddDatabase(fakesuperset.Database{ID: 1, Name: "warehouse", Backend: "postgresql"})
	var ids []int64
	for i := range 10 {
		ids = append(ids, fake.AddDataset(fakesuperset.Dataset{DatabaseID: 1, Schema: "public", TableName: fmt.Sprintf("t%d", i),
			Description: fmt.Sprintf("table number %d", i),
			Columns:     []fakesuperset.Column{{Name: "id", Type: "INTEGER"}, {Name: "amount", Type: "NUMERIC"}}}))
	}
	fake.AddDataset(fakesuperset.Dataset{DatabaseID: 1, Schema: "public", TableName: "v_all", SQL: "SELECT * FROM t0 JOIN t2 USING (id)",
		Columns: []fakesuperset.Column{{Name: "id", Type: "INTEGER"}}})
	fake.AddUser(fakesuperset.User{Username: "svc", Password: "svc-password", Admin: true})
	fake.AddUser(fakesuperset.User{Username: "alice", Password: "alice-password", Datasets: []int64{ids[1], ids[4], ids[7]}})
	return fake, ids
}

// supersetLogin returns a user's access token, as Superset's login issues it.
func supersetLogin(t *testing.T, fake *fakesuperset.Server, user, password string) string {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"username": user, "password": password, "provider": "db", "refresh": true})
	resp, err := http.Post(fake.URL()+"/api/v1/security/login", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.AccessToken == "" {
		t.Fatalf("login as %s: %d %v", user, resp.StatusCode, err)
	}
	return out.AccessToken
}

// waitForCatalogs waits until the service is ready and every database has
// a catalog: readiness alone comes as soon as Superset's database list has
// loaded.
func waitForCatalogs(t *testing.T, h *harness) {
	t.Helper()
	waitFor(t, "the Superset catalogs", func() bool {
		r := h.do("GET", "/readyz", "")
		return r.status == 200 && !strings.Contains(r.body, `"unavailable"`)
	})
}

func supersetVars(fake *fakesuperset.Server) map[string]string {
	return map[string]string{
		"TEXT2SQL_SUPERSET_URL":      fake.URL(),
		"TEXT2SQL_SUPERSET_USERNAME": "svc",
		"TEXT2SQL_SUPERSET_PASSWORD": "svc-password",
	}
}

// A Superset user who may see 3 of 10 datasets gets exactly those 3 tables
// from GetSchema, and validation refuses the other 7 for them.
func TestServeSupersetUserScope(t *testing.T) {
	fake, _ := supersetWarehouse(t)
	h := startServe(t, supersetVars(fake), nil, nil)
	waitForCatalogs(t, h)
	alice := "X-Superset-Authorization: Bearer " + supersetLogin(t, fake, "alice", "alice-password")

	r := h.do("GET", "/v1/databases/warehouse/schema", "", alice)
	var schema struct {
		Tables []struct {
			Name      string `json:"name"`
			DatasetID string `json:"datasetId"`
		} `json:"tables"`
		Database struct {
			Status struct {
				Source string `json:"source"`
				Stale  bool   `json:"stale"`
			} `json:"status"`
		} `json:"database"`
	}
	if err := json.Unmarshal([]byte(r.body), &schema); err != nil || r.status != 200 {
		t.Fatalf("GetSchema: %d %s", r.status, r.body)
	}
	var names []string
	for _, tb := range schema.Tables {
		names = append(names, tb.Name)
	}
	if !slices.Equal(names, []string{"t1", "t4", "t7"}) || schema.Database.Status.Source != "superset" {
		t.Errorf("alice sees %v (source %q), want [t1 t4 t7] from superset", names, schema.Database.Status.Source)
	}
	all := h.do("GET", "/v1/databases/warehouse/schema", "")
	if strings.Count(all.body, `"name":"t`) != 10 || strings.Contains(all.body, "v_all") {
		t.Errorf("without a user token the policy alone applies: 10 tables, and the virtual dataset is no table:\n%s", all.body)
	}

	for _, tc := range []struct {
		table string
		valid bool
	}{{"t1", true}, {"t7", true}, {"t2", false}, {"t9", false}} {
		r := h.do("POST", "/v1/sql:validate", `{"database":"warehouse","sql":"select sum(amount) from `+tc.table+`"}`, alice)
		valid := strings.Contains(r.body, `"valid":true`)
		if valid != tc.valid || (!tc.valid && !strings.Contains(r.body, "TABLE_NOT_ALLOWED")) {
			t.Errorf("alice reading %s: %s", tc.table, r.body)
		}
	}
	if r := h.do("GET", "/v1/databases/warehouse/schema", "", "X-Superset-Authorization: Bearer forged.token.value"); r.status != 401 {
		t.Errorf("a forged user token: %d %s, want 401", r.status, r.body)
	}
}

// Superset down when the service starts: not ready, with the reason; ready
// once Superset answers.
func TestServeSupersetDownAtStart(t *testing.T) {
	fake, _ := supersetWarehouse(t)
	fake.SetDown(503)
	vars := supersetVars(fake)
	vars["TEXT2SQL_SCHEMA_TTL"] = "1s"
	h := startServe(t, vars, nil, nil)
	r := h.do("GET", "/readyz", "")
	if r.status != 503 || !strings.Contains(r.body, "superset") {
		t.Fatalf("readyz with Superset down: %d %s", r.status, r.body)
	}
	fake.SetDown(0)
	waitFor(t, "readiness once Superset is back", func() bool { return h.do("GET", "/readyz", "").status == 200 })
}

// Superset down after a good sync: the last good catalog is served, marked
// stale.
func TestServeSupersetStaleCatalog(t *testing.T) {
	fake, _ := supersetWarehouse(t)
	h := startServe(t, supersetVars(fake), nil, nil)
	waitForCatalogs(t, h)
	fake.SetDown(503)
	if r := h.do("POST", "/v1/databases/warehouse/schema:refresh", "{}"); r.status != 503 {
		t.Errorf("a refresh with Superset down: %d %s, want 503", r.status, r.body)
	}
	r := h.do("GET", "/v1/databases/warehouse/schema", "")
	if r.status != 200 || !strings.Contains(r.body, `"stale":true`) || strings.Count(r.body, `"name":"t`) != 10 {
		t.Errorf("GetSchema after a failed refresh: %d %s", r.status, r.body)
	}
	if r := h.do("POST", "/v1/sql:validate", `{"database":"warehouse","sql":"select id from t3"}`); !strings.Contains(r.body, `"valid":true`) {
		t.Errorf("validation from the stale catalog: %s", r.body)
	}
	if r := h.do("GET", "/readyz", ""); r.status != 200 || !strings.Contains(r.body, `"stale":[{"database":"warehouse"`) {
		t.Errorf("a stale catalog is still served, so the service stays ready and says which is stale: %d %s", r.status, r.body)
	}
	if m := h.do("GET", "/metrics", ""); !strings.Contains(m.body, `text2sql_schema_stale{database="warehouse"} 1`) {
		t.Error("the stale flag is not in the metrics")
	}
}

// The first install of the Superset chart with text2sql as a sidecar: the
// sidecar starts before the init hook has created its Superset account, so
// Superset refuses the login. The process is up at once (/healthz, what the
// sidecar's probes ask), /readyz says why it cannot answer yet, and once
// the account exists the catalogs sync and the service becomes ready
// without a restart.
func TestServeSupersetFirstInstallOrder(t *testing.T) {
	fake, err := fakesuperset.New(fakesuperset.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fake.Close)
	fake.AddDatabase(fakesuperset.Database{ID: 1, Name: "warehouse", Backend: "postgresql"})
	for i := range 3 {
		fake.AddDataset(fakesuperset.Dataset{DatabaseID: 1, Schema: "public", TableName: fmt.Sprintf("t%d", i),
			Columns: []fakesuperset.Column{{Name: "id", Type: "INTEGER"}}})
	}
	vars := supersetVars(fake)
	vars["TEXT2SQL_SCHEMA_TTL"] = "1s" // retries the list every second, not every 30
	h := startServe(t, vars, nil, nil)

	if r := h.do("GET", "/healthz", ""); r.status != 200 {
		t.Fatalf("/healthz before the account exists: %d %s, want 200 (the sidecar's probes must pass)", r.status, r.body)
	}
	waitFor(t, "the refused login in /readyz", func() bool {
		r := h.do("GET", "/readyz", "")
		return r.status == 503 && strings.Contains(r.body, "never loaded") && strings.Contains(r.body, "401")
	})
	if fake.Calls(fakesuperset.EndpointLogin) == 0 {
		t.Fatal("no login was tried")
	}
	hc, err := healthpb.NewHealthClient(h.conn).Check(context.Background(), &healthpb.HealthCheckRequest{})
	if err != nil || hc.Status != healthpb.HealthCheckResponse_NOT_SERVING {
		t.Errorf("gRPC health before the account exists: %v, %v; want NOT_SERVING", hc, err)
	}

	// The init hook creates the service account.
	fake.AddUser(fakesuperset.User{Username: "svc", Password: "svc-password", Admin: true})
	waitFor(t, "readiness once the account exists", func() bool { return h.do("GET", "/readyz", "").status == 200 })
	waitFor(t, "the catalog", func() bool {
		r := h.do("GET", "/v1/databases/warehouse/schema", "")
		return r.status == 200 && strings.Count(r.body, `"name":"t`) == 3
	})
	waitFor(t, "gRPC health SERVING", func() bool {
		hc, err := healthpb.NewHealthClient(h.conn).Check(context.Background(), &healthpb.HealthCheckRequest{})
		return err == nil && hc.Status == healthpb.HealthCheckResponse_SERVING
	})
	if r := h.do("GET", "/readyz", ""); r.status != 200 || strings.Contains(r.body, "unavailable") {
		t.Errorf("/readyz after the sync: %d %s", r.status, r.body)
	}
	if m := h.do("GET", "/metrics", ""); !strings.Contains(m.body, `text2sql_schema_available{database="warehouse"} 1`) {
		t.Error("the metrics do not show the synced catalog")
	}
}
