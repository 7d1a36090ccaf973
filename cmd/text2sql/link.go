package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/texttosql/text2sql/schema"
	"github.com/texttosql/text2sql/schema/link"
	"github.com/texttosql/text2sql/validate"
)

func init() {
	register(&command{name: "link", summary: "rank a catalog's tables for questions and report the schema context a prompt would carry", run: runLink})
}

func runLink(ctx context.Context, env *environ, args []string) int {
	var schemaPath, policyPath, database string
	var budget int
	var jsonl bool
	s := &settings{
		command: "link",
		summary: "Links questions to the tables of a catalog, as GenerateSQL does before prompting.\n" +
			"With --jsonl it reads lines {\"id\": ..., \"database\": ..., \"question\": ...} from stdin and writes one line\n" +
			"{\"id\": ..., \"tables\": [\"schema.table\", ...], \"tokens\": N} per input line, in input order, where tokens is the\n" +
			"size of the schema context the prompt would carry; a line that cannot be linked gets {\"id\": ..., \"error\": ...}.",
	}
	s.String(&schemaPath, "schema", "", "schema file (YAML or JSON); empty uses the embedded sample catalog")
	s.String(&policyPath, "policy", "", "policy file; tables and columns it denies are never linked (empty: the sample policy with the sample catalog, else every table)")
	s.String(&database, "database", "", "database of lines that name none; may be left out when the schema has one database")
	s.Int(&budget, "budget", 3000, "most tokens of schema context per question")
	s.Bool(&jsonl, "jsonl", false, "read JSON lines from stdin and write one JSON line per input line")
	if rest, err := s.parse(env, args); err != nil || len(rest) > 0 || !jsonl || budget <= 0 {
		switch {
		case err != nil:
		case len(rest) > 0:
			err = fmt.Errorf("unexpected arguments: %s", strings.Join(rest, " "))
		case !jsonl:
			err = errors.New("--jsonl is required: questions are read as JSON lines from stdin")
		default:
			err = errors.New("--budget must be positive")
		}
		return s.fail(env, err)
	}
	catalog, policy, err := loadCatalog(schemaPath, policyPath)
	if err != nil {
		return s.fail(env, err)
	}
	if database == "" && len(catalog.Databases) == 1 {
		database = catalog.Databases[0].Name
	}
	if err := link.RunJSONL(env.stdin, env.stdout, catalog, policyVisibility(policy), database, budget); err != nil {
		fmt.Fprintf(env.stderr, "text2sql link: %v\n", err)
		return exitFailure
	}
	return exitOK
}

// policyVisibility is what the policy lets a caller see of a database:
// the same rules the service links and validates with.
// Each database's rules are compiled once.
func policyVisibility(p *validate.Policy) func(*schema.Database) link.Visibility {
	compiled := map[*schema.Database]*validate.Rules{}
	return func(db *schema.Database) link.Visibility {
		if r, ok := compiled[db]; ok {
			return r
		}
		r, _ := p.Compile(db)
		compiled[db] = r
		return r
	}
}
