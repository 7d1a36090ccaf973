package e2e

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"

	"github.com/texttosql/text2sql/generate"
	"github.com/texttosql/text2sql/internal/app"
	texttosqlv1 "github.com/texttosql/text2sql/proto/texttosql/v1"
	"github.com/texttosql/text2sql/schema"
	"github.com/texttosql/text2sql/test/fakellm"
)

const dryRunDB = "text2sql_e2e_dryrun"

// postgresShop creates an empty copy of the shop tables the dry run plans
// against, and returns its URL.
func postgresShop(t *testing.T) string {
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL at 127.0.0.1:5432 is required under CI: %v", err)
		}
		t.Skipf("PostgreSQL is not reachable: %v", err)
	}
	defer admin.Close(ctx)
	admin.Exec(ctx, "DROP DATABASE IF EXISTS "+dryRunDB+" WITH (FORCE)")
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+dryRunDB); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable")
		if err == nil {
			c.Exec(context.Background(), "DROP DATABASE IF EXISTS "+dryRunDB+" WITH (FORCE)")
			c.Close(context.Background())
		}
	})
	url := "postgres://postgres@127.0.0.1:5432/" + dryRunDB + "?sslmode=disable"
	db, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(ctx)
	if _, err := db.Exec(ctx, `CREATE TABLE customers (id int PRIMARY KEY, name text, email text, phone text, country text, created_at timestamptz);
		CREATE TABLE orders (id int PRIMARY KEY, customer_id int, status text, total numeric(12,2), created_at timestamptz, shipped_at timestamptz)`); err != nil {
		t.Fatal(err)
	}
	return url
}

func TestDryRunFeedsPlannerErrorsBack(t *testing.T) {
	url := postgresShop(t)
	// sum(text) passes the parser and the policy; only the planner knows
	// there is no such function.
	s := startStack(t, fakellm.Replies(sqlAnswer("SELECT sum(status) FROM orders"), sqlAnswer("SELECT sum(total) FROM orders")),
		stackOptions{dryRun: []app.DryRun{{Database: "shop", DSN: url, Timeout: 5 * time.Second, MaxCost: 0}}})
	resp, err := s.client.GenerateSQL(grpcCtx(context.Background(), toolsToken),
		&texttosqlv1.GenerateSQLRequest{Database: "shop", Question: "Total of all orders"})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Attempts) != 2 || !strings.Contains(resp.Attempts[0].Error, "sum(text)") || resp.Sql != "SELECT sum(total) FROM orders LIMIT 100" {
		t.Fatalf("answer %+v", resp)
	}
	if fb := lastUser(s.llm.Requests()[1]); !strings.Contains(fb, "planning") {
		t.Errorf("the planner's error was not fed back: %q", fb)
	}
}

func TestDryRunCostCeiling(t *testing.T) {
	url := postgresShop(t)
	// The joins have conditions, so the static rules pass them; only the
	// planner sees that they match nearly every pair.
	s := startStack(t, fakellm.Replies(sqlAnswer("SELECT count(*) FROM orders o1 JOIN orders o2 ON o1.customer_id <> o2.customer_id JOIN orders o3 ON o2.status <> o3.status"),
		sqlAnswer("SELECT count(*) FROM orders")),
		stackOptions{dryRun: []app.DryRun{{Database: "shop", DSN: url, Timeout: 5 * time.Second, MaxCost: 1e6}}})
	resp, err := s.client.GenerateSQL(grpcCtx(context.Background(), toolsToken),
		&texttosqlv1.GenerateSQLRequest{Database: "shop", Question: "How many orders?"})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Attempts) != 2 || !strings.Contains(resp.Attempts[0].Error, "exceeds the ceiling") {
		t.Fatalf("answer %+v", resp)
	}
}

func TestDryRunWarehouseDownIsNotTheModelsFault(t *testing.T) {
	s := startStack(t, fakellm.Replies(sqlAnswer("SELECT count(*) FROM orders")),
		stackOptions{dryRun: []app.DryRun{{Database: "shop", DSN: "postgres://postgres@127.0.0.1:1/none?sslmode=disable&connect_timeout=1", Timeout: time.Second, MaxCost: 0}}})
	resp, err := s.client.GenerateSQL(grpcCtx(context.Background(), toolsToken),
		&texttosqlv1.GenerateSQLRequest{Database: "shop", Question: "How many orders?"})
	if err != nil || len(resp.Attempts) != 1 || resp.Attempts[0].Error != "" {
		t.Fatalf("answer %+v, %v", resp, err)
	}
}

func TestDryRunMariaDB(t *testing.T) {
	admin, err := sql.Open("mysql", "root@tcp(127.0.0.1:3306)/")
	if err == nil {
		err = admin.Ping()
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("MariaDB at 127.0.0.1:3306 is required under CI: %v", err)
		}
		t.Skipf("MariaDB is not reachable: %v", err)
	}
	defer admin.Close()
	for _, q := range []string{"DROP DATABASE IF EXISTS " + dryRunDB, "CREATE DATABASE " + dryRunDB,
		"CREATE TABLE " + dryRunDB + ".orders (id int PRIMARY KEY, customer_id int, status varchar(32), total decimal(12,2), created_at datetime, shipped_at datetime)"} {
		if _, err := admin.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { admin.Exec("DROP DATABASE IF EXISTS " + dryRunDB) })
	// The MySQL parser accepts any argument count; the server does not.
	store := &schema.Database{Name: "store", Backend: "mariadb"}
	r, err := generate.NewDryRunner(context.Background(), store, "root@tcp(127.0.0.1:3306)/"+dryRunDB, 5*time.Second, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var pe *generate.PlanError
	if err := r.Explain(context.Background(), "SELECT DATE_FORMAT(`created_at`) FROM `orders`"); !errors.As(err, &pe) {
		t.Errorf("a wrong argument count: %v, want a PlanError", err)
	}
	if err := r.Explain(context.Background(), "SELECT `status`, COUNT(*) FROM `orders` GROUP BY `status` LIMIT 100"); err != nil {
		t.Errorf("a good statement was refused: %v", err)
	}

	// The cost ceiling: MariaDB 10.x reports no cost, so the rows its plan
	// expects to examine stand for it; MySQL and MariaDB 11 give a cost.
	for _, q := range []string{"INSERT INTO " + dryRunDB + ".orders (id, customer_id) SELECT seq, seq FROM " + dryRunDB + ".seq_1_to_2000",
		"ANALYZE TABLE " + dryRunDB + ".orders"} {
		if _, err := admin.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	capped, err := generate.NewDryRunner(context.Background(), store, "root@tcp(127.0.0.1:3306)/"+dryRunDB, 5*time.Second, 1e6)
	if err != nil {
		t.Fatal(err)
	}
	defer capped.Close()
	err = capped.Explain(context.Background(), "SELECT COUNT(*) FROM `orders` `a`, `orders` `b`, `orders` `c` LIMIT 100")
	if !errors.As(err, &pe) || !strings.Contains(err.Error(), "exceeds the ceiling") {
		t.Errorf("a three-way cartesian product of 2000 rows: %v, want a PlanError over the ceiling", err)
	}
	if err := capped.Explain(context.Background(), "SELECT `status` FROM `orders` WHERE `id` = 7 LIMIT 100"); err != nil {
		t.Errorf("a point query was refused under the ceiling: %v", err)
	}
}
