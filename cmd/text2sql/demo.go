package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/texttosql/text2sql/golden"
)

func init() {
	register(&command{name: "demo", summary: "ask the built-in golden questions of the sample catalog over HTTP and gRPC, with a replayed model", run: runDemo})
}

func runDemo(ctx context.Context, env *environ, args []string) int {
	var sqlLab string
	s := &settings{
		command: "demo",
		summary: "Starts the service on loopback with the embedded sample catalog and policy and a model that replays\n" +
			"recorded answers, asks the hand-written golden questions over HTTP and gRPC (alternately), and prints each\n" +
			"question, every attempt's verdict, the SQL and its SQL Lab link. No network, database or model needed.",
	}
	s.String(&sqlLab, "sqllab-url", "http://localhost:8088", "Superset address for the SQL Lab links")
	if rest, err := s.parse(env, args); err != nil || len(rest) > 0 {
		if err == nil {
			err = fmt.Errorf("unexpected arguments: %s", strings.Join(rest, " "))
		}
		return s.fail(env, err)
	}
	set, cas, err := golden.HardPaths()
	if err != nil {
		fmt.Fprintf(env.stderr, "text2sql demo: %v\n", err)
		return exitFailure
	}
	cat, pol, err := loadCatalog("", "")
	if err != nil {
		fmt.Fprintf(env.stderr, "text2sql demo: %v\n", err)
		return exitFailure
	}
	rep := golden.NewReplayer(cas)
	st, err := golden.StartCatalogStack(cat, pol, rep, golden.StackOptions{SupersetURL: sqlLab})
	if err != nil {
		fmt.Fprintf(env.stderr, "text2sql demo: %v\n", err)
		return exitFailure
	}
	defer st.Close()
	fmt.Fprintf(env.stdout, "text2sql demo: service on http://%s and grpc://%s, sample catalog (shop: PostgreSQL, store: MySQL),\n",
		st.Server.HTTPAddr(), st.Server.GRPCAddr())
	fmt.Fprintf(env.stdout, "policy: users table and customers' email/phone denied; model answers replayed from the recorded golden set %q.\n\n", set.Name)
	failed := 0
	for i := range set.Cases {
		c := &set.Cases[i]
		transport := golden.HTTP
		if i%2 == 1 {
			transport = golden.GRPC
		}
		o := golden.Run(ctx, &golden.Set{Name: set.Name, Cases: []golden.Case{*c}}, st, cat, golden.RunOptions{
			Transports: []string{transport}, Replayer: rep})[0]
		printDemo(env, i+1, o)
		if !o.Correct() {
			failed++
		}
	}
	if failed > 0 {
		fmt.Fprintf(env.stdout, "%d of %d questions did not go as expected\n", failed, len(set.Cases))
		return exitFailure
	}
	fmt.Fprintf(env.stdout, "all %d questions went as expected\n", len(set.Cases))
	return exitOK
}

func printDemo(env *environ, n int, o *golden.Outcome) {
	c := o.Case
	fmt.Fprintf(env.stdout, "%2d. [%s, %s] %s\n", n, c.Database, strings.ToUpper(o.Transport), c.Question)
	if c.Scope != nil {
		fmt.Fprintf(env.stdout, "    asked for a user who may see datasets %v only\n", c.Scope.DatasetIDs)
	}
	for _, a := range o.Attempts {
		switch {
		case a.Error != "":
			fmt.Fprintf(env.stdout, "    attempt %d: %s\n", a.Number, a.Error)
		case len(a.Violations) > 0:
			var vs []string
			for _, v := range a.Violations {
				vs = append(vs, v.Code+" ("+v.Message+")")
			}
			fmt.Fprintf(env.stdout, "    attempt %d refused: %s\n      %s\n", a.Number, strings.Join(vs, "; "), oneLine(a.Sql))
		default:
			fmt.Fprintf(env.stdout, "    attempt %d accepted\n", a.Number)
		}
	}
	switch {
	case o.SQL != "":
		fmt.Fprintf(env.stdout, "    SQL: %s\n    reads %s\n", oneLine(o.SQL), strings.Join(o.Tables, ", "))
		if o.SQLLabURL != "" {
			fmt.Fprintf(env.stdout, "    SQL Lab: %s\n", o.SQLLabURL)
		}
	case o.Refused:
		fmt.Fprintf(env.stdout, "    verdict: no SQL returned (FAILED_PRECONDITION)\n")
	default:
		fmt.Fprintf(env.stdout, "    verdict: %s %s\n", o.Code, o.Err)
	}
	fmt.Fprintln(env.stdout)
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
