package superset

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/texttosql/text2sql/schema"
)

// Pull reads the whole catalog from Superset once (every selected database,
// every physical dataset) for `text2sql schema pull`; the caller writes it
// with Catalog.Marshal. It fails if any database fails, or if a database
// named in cfg.Databases does not exist, rather than writing a partial file.
func Pull(ctx context.Context, cfg Config) (*schema.Catalog, error) {
	c, err := New(cfg)
	if err != nil {
		return nil, err
	}
	src := NewSource(c)
	dbs, err := src.Databases(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing databases: %w", err)
	}
	for _, want := range c.cfg.Databases {
		want = strings.TrimSpace(want)
		ok := false
		for _, db := range dbs {
			ok = ok || db.Name == want || strconv.FormatInt(db.ID, 10) == want
		}
		if !ok {
			return nil, fmt.Errorf("superset has no database %q visible to this account", want)
		}
	}
	cat := &schema.Catalog{Databases: make([]*schema.Database, 0, len(dbs))}
	for _, db := range dbs {
		d, err := src.Fetch(ctx, db, true)
		if err != nil {
			return nil, err
		}
		cat.Databases = append(cat.Databases, d)
	}
	return cat, nil
}
