package main

import (
	"fmt"
	"strings"
	"time"

	pg_query "github.com/pganalyze/pg_query_go/v6"
	"github.com/pingcap/tidb/pkg/parser"
	"github.com/pingcap/tidb/pkg/parser/format"

	"github.com/texttosql/text2sql/schema"
	"github.com/texttosql/text2sql/validate"
	"github.com/texttosql/text2sql/validate/mysql"
	"github.com/texttosql/text2sql/validate/postgres"
	"github.com/texttosql/text2sql/validate/stmt"
)

// breakdown times the stages of a validation one by one through the
// dialect adapter (parse, describe, print; the policy judge is not exported
// and is what is left of the Validate mean) and the dialect's bare parser
// and printer, so the report says where the validator's time goes.
func breakdown(dialect string, reqs []validate.Request, passes int, validateMean float64) error {
	adapters := map[mysql.Options]stmt.Parser{}
	pg := postgres.New()
	adapter := func(db *schema.Database) (stmt.Parser, error) {
		if dialect == schema.DialectPostgres {
			return pg, nil
		}
		o := mysql.Options{SQLMode: db.SQLMode, MariaDB: db.Backend == "mariadb"}
		if p, ok := adapters[o]; ok {
			return p, nil
		}
		p, err := mysql.New(o)
		if err != nil {
			return nil, err
		}
		adapters[o] = p
		return p, nil
	}
	type job struct {
		sql string
		p   stmt.Parser
	}
	jobs := make([]job, len(reqs))
	sqls := make([]string, len(reqs))
	for i, r := range reqs {
		p, err := adapter(r.Database)
		if err != nil {
			return err
		}
		jobs[i], sqls[i] = job{r.SQL, p}, r.SQL
	}

	var parse, describe, print time.Duration
	stages := func(timed bool) {
		for _, j := range jobs {
			t0 := time.Now()
			parsed, err := j.p.Parse(j.sql)
			t1 := time.Now()
			if err != nil {
				continue
			}
			parsed.Describe()
			t2 := time.Now()
			if _, err := parsed.Print(validate.DefaultMaxRows); err != nil {
				continue
			}
			t3 := time.Now()
			if timed {
				parse += t1.Sub(t0)
				describe += t2.Sub(t1)
				print += t3.Sub(t2)
			}
		}
	}
	stages(false)
	for p := 0; p < passes; p++ {
		stages(true)
	}

	rawParseName, rawPrintName, rawParse, rawPrint := rawParserPrinter(dialect, sqls, passes)

	per := func(d time.Duration) float64 { return float64(d) / float64(passes*len(jobs)) / 1e3 }
	fmt.Printf("where our time goes (µs/query, each stage timed call by call over %d passes):\n", passes)
	fmt.Printf("  adapter Parse     %7.1f   (the bare %s: %.1f)\n", per(parse), rawParseName, per(rawParse))
	fmt.Printf("  adapter Describe  %7.1f\n", per(describe))
	fmt.Printf("  adapter Print     %7.1f   (the bare %s: %.1f)\n", per(print), rawPrintName, per(rawPrint))
	fmt.Printf("  sum               %7.1f   (Validate mean %.1f; the policy judge is the rest, within the timers' noise)\n",
		per(parse)+per(describe)+per(print), validateMean)
	return nil
}

// rawParserPrinter times the dialect's parser and printer called directly,
// without the adapter: pg_query.Parse and pg_query.Deparse, or the TiDB
// parser (one reused parser, default sql_mode) and Restore.
func rawParserPrinter(dialect string, sqls []string, passes int) (parseName, printName string, parse, print time.Duration) {
	if dialect == schema.DialectPostgres {
		run := func(timed bool) {
			for _, sql := range sqls {
				t0 := time.Now()
				tree, err := pg_query.Parse(sql)
				t1 := time.Now()
				if err != nil {
					continue
				}
				if _, err := pg_query.Deparse(tree); err != nil {
					continue
				}
				if timed {
					parse += t1.Sub(t0)
					print += time.Since(t1)
				}
			}
		}
		run(false)
		for p := 0; p < passes; p++ {
			run(true)
		}
		return "pg_query.Parse", "pg_query.Deparse", parse, print
	}
	tp := parser.New()
	flags := format.DefaultRestoreFlags | format.RestoreStringWithoutDefaultCharset | format.RestoreStringEscapeBackslash
	run := func(timed bool) {
		for _, sql := range sqls {
			t0 := time.Now()
			stmts, _, err := tp.ParseSQL(sql)
			t1 := time.Now()
			if err != nil || len(stmts) != 1 {
				continue
			}
			var b strings.Builder
			if err := stmts[0].Restore(format.NewRestoreCtx(flags, &b)); err != nil {
				continue
			}
			if timed {
				parse += t1.Sub(t0)
				print += time.Since(t1)
			}
		}
	}
	run(false)
	for p := 0; p < passes; p++ {
		run(true)
	}
	return "TiDB ParseSQL", "TiDB Restore", parse, print
}
