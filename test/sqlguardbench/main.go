// Command sqlguardbench compares the speed of the project's validator with
// node-sql-parser's whiteListCheck on the benchmark gold queries. It has two
// steps, which run.sh chains with the Node side in between:
//
//	sqlguardbench export -out DIR
//	    writes DIR/queries-mysql.json and DIR/queries-postgresql.json: every
//	    gold alternative of the MySQL sets (SpiderMan, BIRD mini-dev MySQL)
//	    and PostgreSQL sets (Defog's three files, BIRD mini-dev PostgreSQL),
//	    each with the node-sql-parser table and column whitelists that allow
//	    every table and column of its database.
//	sqlguardbench bench -dir DIR [-passes N] [-profiledir DIR]
//	    times validate.Validate over the same files (GOMAXPROCS=1, one
//	    warm-up pass, N timed passes) and prints a table per dialect beside
//	    the figures bench.mjs left in DIR/node-<dialect>.json.
//
// It is a program rather than a test so that go test ./... never runs it.
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "export":
		err = runExport(os.Args[2:])
	case "bench":
		err = runBench(os.Args[2:])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "sqlguardbench:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: sqlguardbench export -out DIR | bench -dir DIR [-passes N] [-profiledir DIR]")
	os.Exit(2)
}
