package server

import (
	"log/slog"
	"sync"

	"github.com/texttosql/text2sql/schema"
	"github.com/texttosql/text2sql/validate"
)

// rulesCache holds the policy compiled per database. An entry is keyed by
// the database name and catalog version (a content hash), so a refreshed
// catalog with new content is compiled again, and one with the same content
// keeps its compiled rules.
type rulesCache struct {
	policy *validate.Policy
	log    *slog.Logger

	mu      sync.RWMutex
	entries map[string]*compiled // by database name
}

type compiled struct {
	version string
	rules   *validate.Rules
}

func newRulesCache(p *validate.Policy, log *slog.Logger) *rulesCache {
	return &rulesCache{policy: p, log: log, entries: map[string]*compiled{}}
}

// rules returns the compiled rules for the entry's database. The rules hold
// the catalog they were compiled against (Rules.Database); callers use that
// one, not e.Database, because a refreshed catalog with the same version is
// a different set of table pointers with the same content.
func (c *rulesCache) rules(e schema.Entry) *validate.Rules {
	name, version := e.Database.Name, e.Status.Version
	if version == "" {
		version = e.Database.Version()
	}
	c.mu.RLock()
	got := c.entries[name]
	c.mu.RUnlock()
	if got != nil && got.version == version {
		return got.rules
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if got = c.entries[name]; got != nil && got.version == version {
		return got.rules
	}
	r, warnings := c.policy.Compile(e.Database)
	// Logged once per catalog version: a policy entry matching nothing is
	// usually a typo the operator wants to hear about, but not per request.
	for _, w := range warnings {
		c.log.Warn("policy entry matches nothing", "database", name, "version", version, "warning", w)
	}
	c.entries[name] = &compiled{version: version, rules: r}
	return r
}
