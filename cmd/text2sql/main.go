// Command text2sql turns questions into validated, read-only SQL for the
// databases of an Apache Superset installation, and checks SQL written
// elsewhere against the same rules.
//
// Each subcommand lives in its own file and registers itself in init, so a
// new one is added without touching the others.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"
)

// Exit statuses shared by every subcommand.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// environ is the process environment a command runs in; tests pass their
// own.
type environ struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	getenv func(string) (string, bool)
	// environ lists every variable as KEY=VALUE, for settings read by
	// prefix (caller tokens).
	environ func() []string
}

// command is one subcommand.
type command struct {
	name    string
	summary string
	// run executes the command with the arguments after its name and
	// returns the exit status.
	run func(ctx context.Context, env *environ, args []string) int
}

var commands = map[string]*command{}

// register adds a subcommand; each command's file calls it from init.
func register(c *command) {
	if _, dup := commands[c.name]; dup {
		panic("text2sql: command registered twice: " + c.name)
	}
	commands[c.name] = c
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// After the first signal, the default handling comes back, so a
	// second one ends the process at once.
	context.AfterFunc(ctx, stop)
	env := &environ{
		stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr,
		getenv: os.LookupEnv, environ: os.Environ,
	}
	code := run(ctx, env, os.Args[1:])
	stop()
	os.Exit(code)
}

// run dispatches to the subcommand named by args[0].
func run(ctx context.Context, env *environ, args []string) int {
	if len(args) == 0 {
		usage(env.stderr)
		return exitUsage
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		if len(args) > 1 {
			if c, ok := commands[args[1]]; ok {
				return c.run(ctx, env, []string{"--help"})
			}
		}
		usage(env.stdout)
		return exitOK
	case "version", "-version", "--version":
		fmt.Fprintln(env.stdout, version())
		return exitOK
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(env.stderr, "text2sql: unknown command %q\n\n", args[0])
		usage(env.stderr)
		return exitUsage
	}
	return c.run(ctx, env, args[1:])
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Usage: text2sql <command> [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, `Run "text2sql <command> --help" for a command's flags and environment variables,`)
	fmt.Fprintln(w, `"text2sql --version" for the build's version and commit.`)
}
