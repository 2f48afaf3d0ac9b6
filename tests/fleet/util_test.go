package fleet_test

import (
	"errors"

	"github.com/gosupervisor/gosupervisor/pkg/fleet"
)

func asFault(err error, f **fleet.Fault) bool { return errors.As(err, f) }
