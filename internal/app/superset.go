package app

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

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
		return nil, status.Errorf(codes.PermissionDenied, "Superset refuses this user: %v", err)
	case err != nil:
		return nil, err
	}
	return ids, nil
}
