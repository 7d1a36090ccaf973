package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/texttosql/text2sql/schema/superset"
	"github.com/texttosql/text2sql/server"
)

// supersetScope resolves an end user's token through Superset.
type supersetScope struct{ s *superset.Scope }

func (a supersetScope) VisibleDatasets(ctx context.Context, token string, databaseID int64) (server.DatasetSet, error) {
	ids, err := a.s.VisibleDatasets(ctx, token, databaseID)
	switch {
	case errors.Is(err, superset.ErrUserUnauthenticated):
		return nil, fmt.Errorf("%v: %w", err, server.ErrScopeUnauthenticated)
	case errors.Is(err, superset.ErrUserForbidden):
		return nil, fmt.Errorf("%w: %v", server.ErrScopeForbidden, err)
	case err != nil:
		return nil, err
	}
	return ids, nil
}
