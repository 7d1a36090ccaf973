package main

import (
	"context"
	"io"
	"strings"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/texttosql/text2sql/internal/app"
	"github.com/texttosql/text2sql/server/mcp"
)

func init() {
	register(&command{name: "mcp", summary: "serve the MCP tools over stdio, for desktop agents", run: runMCP})
}

// mcpTokenEnv holds the caller token the stdio client acts as; it is read
// from the environment only, so it stays out of process listings.
const mcpTokenEnv = envPrefix + "MCP_TOKEN"

func runMCP(ctx context.Context, env *environ, args []string) int {
	var g generateOptions
	opts, log, code := serviceOptions(ctx, env, args, &g, func(s *settings) {
		s.command = "mcp"
		s.summary = "Serves the MCP tools generate_sql, validate_sql, list_databases and get_schema over stdio (JSON-RPC on\n" +
			"stdin/stdout; logs on stderr), for desktop clients that start the process. It takes the settings of serve;\n" +
			"no port is opened. The same service runs at /mcp on serve's HTTP port (streamable HTTP)."
		s.notes = append(s.notes, "The stdio client acts as one caller: "+mcpTokenEnv+" holds its token (one of the caller tokens),\n"+
			"so its scope, limits, logs and metrics are that caller's. With no --callers every call is anonymous.")
	})
	if log == nil {
		return code
	}
	a, err := app.New(ctx, opts)
	if err != nil {
		log.Error("cannot start", "error", err.Error())
		return exitFailure
	}
	defer a.Close()
	token, _ := env.getenv(mcpTokenEnv)
	srv := mcp.New(a.Server.Local(mcp.Transport), mcp.WithToken(strings.TrimSpace(token)), app.Version())
	log.Info("MCP over stdio", "model", opts.Model.Model, "why", opts.ModelReason)
	if err := srv.Run(ctx, &sdk.IOTransport{Reader: nopCloser{env.stdin}, Writer: nopWriteCloser{env.stdout}}); err != nil && ctx.Err() == nil {
		log.Error("stopped with an error", "error", err.Error())
		return exitFailure
	}
	return exitOK
}

// The stdio transport closes what it is given; the process's own stdin
// and stdout are left to the process.
type nopCloser struct{ io.Reader }

func (nopCloser) Close() error { return nil }

type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }
