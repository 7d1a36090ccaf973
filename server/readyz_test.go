package server

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/texttosql/text2sql/schema"
)

// mixedStore is a store whose source is reachable while its databases are
// in every state: synced, stale, never synced (failing) and pending.
type mixedStore struct{ schema.Store }

var mixedSynced = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func (mixedStore) Ready(context.Context) error { return nil }

func (mixedStore) Databases(context.Context) ([]schema.Entry, error) {
	entry := func(name string, st schema.Status) schema.Entry {
		return schema.Entry{Database: &schema.Database{Name: name}, Status: st}
	}
	return []schema.Entry{
		entry("fresh", schema.Status{Source: "superset", SyncedAt: mixedSynced}),
		entry("old", schema.Status{Source: "superset", SyncedAt: mixedSynced, Stale: true, LastError: "superset: 503"}),
		entry("broken", schema.Status{Source: "superset", LastError: "warehouse unreachable"}),
		entry("new", schema.Status{Source: "superset"}),
	}, nil
}

// One failing warehouse must not take the service out of the load
// balancer: /readyz stays 200 and lists each database that lacks a fresh
// catalog, and gRPC health stays SERVING.
func TestReadyzListsDatabasesWithoutFailing(t *testing.T) {
	cfg := withTestdata(t, Config{HTTPAddr: "127.0.0.1:0", GRPCAddr: "127.0.0.1:0"})
	cfg.Store = mixedStore{cfg.Store}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv.updateHealth()
	resp := httptest.NewRecorder()
	srv.readyz(resp, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	var body struct {
		Status string
		Stale  []struct {
			Database  string
			SyncedAt  time.Time `json:"synced_at"`
			LastError string    `json:"last_error"`
		}
		Unavailable []struct {
			Database  string
			State     string
			LastError string `json:"last_error"`
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	if resp.Code != http.StatusOK || body.Status != "ready" {
		t.Fatalf("/readyz: %d %+v, want 200 ready", resp.Code, body)
	}
	if len(body.Stale) != 1 || body.Stale[0].Database != "old" || !body.Stale[0].SyncedAt.Equal(mixedSynced) || body.Stale[0].LastError != "superset: 503" {
		t.Errorf("stale = %+v, want old, with when it last synced and why the refresh failed", body.Stale)
	}
	if len(body.Unavailable) != 2 ||
		body.Unavailable[0].Database != "broken" || body.Unavailable[0].State != "failing" || body.Unavailable[0].LastError != "warehouse unreachable" ||
		body.Unavailable[1].Database != "new" || body.Unavailable[1].State != "pending" || body.Unavailable[1].LastError != "" {
		t.Errorf("unavailable = %+v, want broken (failing, with its error) and new (pending)", body.Unavailable)
	}
	hc, err := srv.health.Check(context.Background(), &healthpb.HealthCheckRequest{})
	if err != nil || hc.Status != healthpb.HealthCheckResponse_SERVING {
		t.Errorf("gRPC health: %v, %v; want SERVING", hc, err)
	}
}
