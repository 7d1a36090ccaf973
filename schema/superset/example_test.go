package superset_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/texttosql/text2sql/schema/cache"
	"github.com/texttosql/text2sql/schema/superset"
	"github.com/texttosql/text2sql/test/fakesuperset"
)

// Example wires the pieces the way a server does: one client, a cached
// store over the Superset source kept fresh by Run, and a Scope that narrows
// a catalog to what one end user may see.
func Example() {
	fake, _ := fakesuperset.New(fakesuperset.Options{})
	defer fake.Close()
	fake.AddUser(fakesuperset.User{Username: "svc_text2sql", Password: "service-password", Admin: true})
	ids := fake.Generate(fakesuperset.GenerateOptions{Datasets: 4, Columns: 3})
	fake.AddUser(fakesuperset.User{Username: "alice", Password: "alice-password", Datasets: ids[:2]})
	logger := slog.New(slog.NewJSONHandler(io.Discard, nil))
	reg := prometheus.NewRegistry()

	client, err := superset.New(superset.Config{
		BaseURL: fake.URL(), Username: "svc_text2sql", Password: "service-password",
		Logger: logger, Registerer: reg,
	})
	if err != nil {
		panic(err)
	}
	store, err := cache.New(superset.NewSource(client), cache.Options{TTL: 5 * time.Minute, Logger: logger, Registerer: reg})
	if err != nil {
		panic(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer store.Close()
	defer cancel()
	go func() { _ = store.Run(ctx) }()

	entry, err := store.Get(ctx, "warehouse")
	if err != nil {
		panic(err)
	}
	fmt.Println(entry.Database.Name, entry.Database.Dialect(), len(entry.Database.Tables), "tables from", entry.Status.Source)

	// Per request: the end user's own Superset token decides what they see.
	scope := superset.NewScope(client, superset.ScopeOptions{TTL: time.Minute})
	userToken := aliceToken(fake)
	visible, err := scope.VisibleDatasets(ctx, userToken, entry.Database.ID)
	if errors.Is(err, superset.ErrUserUnauthenticated) {
		panic("map to UNAUTHENTICATED")
	}
	canSee := superset.VisibleTables(visible) // for validate.Rules.Restrict
	n := 0
	for _, t := range entry.Database.Tables {
		if canSee(t) {
			n++
		}
	}
	fmt.Println("alice sees", n, "tables")
	// Output:
	// warehouse postgresql 4 tables from superset
	// alice sees 2 tables
}

// aliceToken logs alice in; a server receives such a token from its caller.
func aliceToken(f *fakesuperset.Server) string {
	resp, err := http.Post(f.URL()+"/api/v1/security/login", "application/json",
		strings.NewReader(`{"username":"alice","password":"alice-password","provider":"db"}`))
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	var out struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return out.AccessToken
}
