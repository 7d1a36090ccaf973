package superset_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/texttosql/text2sql/schema"
	"github.com/texttosql/text2sql/schema/superset"
	"github.com/texttosql/text2sql/test/fakesuperset"
)

// A user who may see 3 of 10 datasets gets exactly those 3 ids, from a
// listing made with their own token; a virtual one among them never makes a
// table visible.
func TestUserVisibility(t *testing.T) {
	f := newFake(t, fakesuperset.Options{})
	ids := f.Generate(fakesuperset.GenerateOptions{Datasets: 10, Columns: 3, VirtualEvery: 5})
	// ids[4] is virtual (every 5th).
	mine := []int64{ids[1], ids[4], ids[7]}
	f.AddUser(fakesuperset.User{Username: "alice", Password: "alice-pw-123", Datasets: mine})
	f.AddUser(fakesuperset.User{Username: "bob", Password: "bob-pw-123"})
	c := newClient(t, svcConfig(f))
	ctx := context.Background()

	cat, err := superset.Pull(ctx, svcConfig(f))
	if err != nil {
		t.Fatal(err)
	}
	db := cat.Databases[0]

	scope := superset.NewScope(c, superset.ScopeOptions{TTL: time.Minute})
	f.ResetCalls()
	alice := loginAs(t, f, "alice", "alice-pw-123")
	got, err := scope.VisibleDatasets(ctx, alice, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, mine) {
		t.Fatalf("visible = %v, want %v", got, mine)
	}
	visible := superset.VisibleTables(got)
	var tables []int64
	for _, tb := range db.Tables {
		if visible(tb) {
			tables = append(tables, tb.DatasetID)
		}
	}
	if want := []int64{ids[1], ids[7]}; !slices.Equal(tables, want) {
		t.Fatalf("visible tables = %v, want %v (the virtual dataset is no table)", tables, want)
	}
	if visible(&schema.Table{Name: "from_a_file"}) {
		t.Fatal("a table without a dataset id is visible")
	}

	// Filtered by database, and bob sees nothing.
	if got, err := scope.VisibleDatasets(ctx, alice, db.ID); err != nil || len(got) != 3 {
		t.Fatalf("by database: %v %v", got, err)
	}
	if got, err := scope.VisibleDatasets(ctx, loginAs(t, f, "bob", "bob-pw-123"), 0); err != nil || len(got) != 0 {
		t.Fatalf("bob: %v %v", got, err)
	}
	// The user's token was used, never the service account's: the service
	// account made no call here.
	if f.Calls(fakesuperset.EndpointLogin) != 2 { // the two loginAs above
		t.Fatalf("logins = %d", f.Calls(fakesuperset.EndpointLogin))
	}
}

func TestUserVisibilityCachedAndCollapsed(t *testing.T) {
	f := newFake(t, fakesuperset.Options{Latency: 20 * time.Millisecond})
	ids := f.Generate(fakesuperset.GenerateOptions{Datasets: 250, Columns: 2})
	f.AddUser(fakesuperset.User{Username: "alice", Password: "alice-pw-123", Datasets: ids[:150]})
	scope := superset.NewScope(newClient(t, svcConfig(f)), superset.ScopeOptions{TTL: time.Minute})
	alice := loginAs(t, f, "alice", "alice-pw-123")
	f.ResetCalls()
	ctx := context.Background()
	var wg sync.WaitGroup
	for i := 0; i < 30; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, err := scope.VisibleDatasets(ctx, alice, 0)
			if err != nil || len(got) != 150 {
				t.Errorf("visible = %d, %v", len(got), err)
			}
		}()
	}
	wg.Wait()
	// 150 rows at 100 a page: two pages, once.
	if got := f.Calls(fakesuperset.EndpointDatasetList); got != 2 {
		t.Fatalf("list calls = %d, want 2", got)
	}
	if _, err := scope.VisibleDatasets(ctx, "Bearer "+alice, 0); err != nil {
		t.Fatal(err)
	}
	if got := f.Calls(fakesuperset.EndpointDatasetList); got != 2 {
		t.Fatalf("cached lookup called Superset (%d list calls)", got)
	}
}

func TestUserVisibilityShortTTL(t *testing.T) {
	f := newFake(t, fakesuperset.Options{})
	ids := f.Generate(fakesuperset.GenerateOptions{Datasets: 5, Columns: 2})
	uid := f.AddUser(fakesuperset.User{Username: "alice", Password: "alice-pw-123", Datasets: ids[:1]})
	scope := superset.NewScope(newClient(t, svcConfig(f)), superset.ScopeOptions{TTL: 50 * time.Millisecond})
	alice := loginAs(t, f, "alice", "alice-pw-123")
	ctx := context.Background()
	if got, _ := scope.VisibleDatasets(ctx, alice, 0); len(got) != 1 {
		t.Fatalf("visible = %v", got)
	}
	f.SetUserDatasets(uid, ids[:3]) // granted more in Superset
	waitFor(t, func() bool {
		got, err := scope.VisibleDatasets(ctx, alice, 0)
		return err == nil && len(got) == 3
	}, "the new grant to show after the TTL")
}

func TestUserTokenRejected(t *testing.T) {
	f := newFake(t, fakesuperset.Options{})
	f.Generate(fakesuperset.GenerateOptions{Datasets: 3, Columns: 2})
	f.AddUser(fakesuperset.User{Username: "alice", Password: "alice-pw-123", Datasets: []int64{1}})
	scope := superset.NewScope(newClient(t, svcConfig(f)), superset.ScopeOptions{})
	ctx := context.Background()
	alice := loginAs(t, f, "alice", "alice-pw-123")
	f.ExpireAccessTokens()
	tests := []struct{ name, token string }{
		{"expired", alice},
		{"malformed", "not-a-jwt"},
		{"forged", alice[:len(alice)-4] + "AAAA"},
		{"empty", ""},
		{"api key unknown", "sst_unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := f.Calls(fakesuperset.EndpointLogin)
			_, err := scope.VisibleDatasets(ctx, tt.token, 0)
			if !errors.Is(err, superset.ErrUserUnauthenticated) {
				t.Fatalf("err = %v, want ErrUserUnauthenticated", err)
			}
			if f.Calls(fakesuperset.EndpointLogin) != before {
				t.Fatal("a refused user token made the service account log in")
			}
		})
	}
}

func TestDatasetIDs(t *testing.T) {
	s := superset.NewDatasetIDs(9, 3, 3, 7)
	if !slices.Equal(s, superset.DatasetIDs{3, 7, 9}) {
		t.Fatalf("set = %v", s)
	}
	for id, want := range map[int64]bool{3: true, 7: true, 9: true, 0: false, 4: false, 10: false} {
		if s.Contains(id) != want {
			t.Fatalf("Contains(%d) = %v", id, !want)
		}
	}
	if superset.VisibleTables(nil)(&schema.Table{Name: "x", DatasetID: 3}) {
		t.Fatal("an empty set shows a table")
	}
}
