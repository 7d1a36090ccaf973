//go:build !linux

package server

import (
	"errors"
	"net"
)

// Elsewhere the listener is simply closed: a client whose connection the
// kernel accepted in the last instant may see it reset.
func dropNewConnections(net.Listener) error { return errors.ErrUnsupported }

func acceptQueue(net.Listener) (int, error) { return 0, errors.ErrUnsupported }
