// Package goldvalidate holds the acceptance test that runs every gold query
// of the PostgreSQL and MySQL benchmark sets through the validator, with
// every table of its database allowed: a correct query written by people
// for that database must pass, and the tables the validator reports must be
// the ones the query reads.
package goldvalidate
