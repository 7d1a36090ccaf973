package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/texttosql/text2sql/server"
)

// Service callers are configured in two parts, so the secret part maps onto
// a Kubernetes Secret without the rest:
//
//   - TEXT2SQL_CALLERS (--callers) lists the callers and whether each is
//     trusted: "superset:trusted,tools";
//   - each caller's token comes from TEXT2SQL_CALLER_TOKEN_<NAME> (an
//     envFrom of a Secret with prefix TEXT2SQL_CALLER_TOKEN_ and keys named
//     after the callers), or from the file <NAME> in --caller-tokens-dir (the
//     same Secret mounted as a volume). Tokens are read at start.
//
// A token value may hold several tokens separated by commas or white space,
// any of which is accepted, so a token can be rotated without downtime.

const callerTokenEnvPrefix = envPrefix + "CALLER_TOKEN_"

// minTokenLen refuses tokens short enough to guess.
const minTokenLen = 16

var callerNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)

// callerTokenEnv is the variable holding a caller's token.
func callerTokenEnv(name string) string {
	return callerTokenEnvPrefix + strings.ToUpper(strings.NewReplacer("-", "_", ".", "_").Replace(name))
}

// loadCallers builds the caller list from the settings and the
// environment.
func loadCallers(env *environ, list, tokensDir string) ([]server.CallerToken, error) {
	type entry struct {
		name    string
		trusted bool
	}
	var entries []entry
	byEnv := map[string]string{}
	for _, item := range strings.Split(list, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		name, flags, _ := strings.Cut(item, ":")
		name = strings.TrimSpace(name)
		if !callerNameRE.MatchString(name) {
			return nil, fmt.Errorf("--callers: %q is not a caller name (letters, digits, '_', '.', '-')", name)
		}
		e := entry{name: name}
		for _, f := range strings.Split(flags, ":") {
			switch strings.TrimSpace(f) {
			case "":
			case "trusted":
				e.trusted = true
			default:
				return nil, fmt.Errorf("--callers: caller %s: unknown flag %q (the only flag is \"trusted\")", name, f)
			}
		}
		ev := callerTokenEnv(name)
		if other, dup := byEnv[ev]; dup {
			return nil, fmt.Errorf("--callers: %s and %s are the same caller (both read %s)", other, name, ev)
		}
		byEnv[ev] = name
		entries = append(entries, e)
	}
	// A token variable for a caller nobody listed is most likely a typo in
	// one of the two places; refusing to start says so.
	var stray []string
	for _, kv := range env.environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, callerTokenEnvPrefix) && byEnv[k] == "" {
			stray = append(stray, k)
		}
	}
	if len(stray) > 0 {
		sort.Strings(stray)
		return nil, fmt.Errorf("%s set, but no such caller is listed in --callers (TEXT2SQL_CALLERS)", strings.Join(stray, ", "))
	}

	var out []server.CallerToken
	for _, e := range entries {
		raw, fromEnv := env.getenv(callerTokenEnv(e.name))
		where := callerTokenEnv(e.name)
		if tokensDir != "" {
			path := filepath.Join(tokensDir, e.name)
			data, err := os.ReadFile(path)
			switch {
			case err == nil && fromEnv:
				return nil, fmt.Errorf("caller %s has a token both in %s and in %s; keep one", e.name, where, path)
			case err == nil:
				raw, where = string(data), path
			case !os.IsNotExist(err):
				return nil, fmt.Errorf("caller %s: %v", e.name, err)
			case !fromEnv:
				return nil, fmt.Errorf("caller %s has no token: set %s or create %s", e.name, where, path)
			}
		} else if !fromEnv {
			return nil, fmt.Errorf("caller %s has no token: set %s (or the file %s in --caller-tokens-dir)", e.name, where, e.name)
		}
		tokens := strings.FieldsFunc(raw, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' || r == '\r' })
		if len(tokens) == 0 {
			return nil, fmt.Errorf("caller %s: %s is empty", e.name, where)
		}
		for _, t := range tokens {
			if len(t) < minTokenLen {
				return nil, fmt.Errorf("caller %s: a token in %s is shorter than %d characters; use a random one, e.g. `openssl rand -hex 32`", e.name, where, minTokenLen)
			}
			out = append(out, server.CallerToken{Name: e.name, Token: t, Trusted: e.trusted})
		}
	}
	return out, nil
}
