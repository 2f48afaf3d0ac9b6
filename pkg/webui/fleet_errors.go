package webui

import (
	"errors"
	"strings"

	"github.com/gosupervisor/gosupervisor/pkg/fault"
	"github.com/gosupervisor/gosupervisor/pkg/fleet"
)

// remoteError turns a node's XML-RPC fault ("NOT_RUNNING: web") into the
// original's fault, so that a remote action answers as a local one.
func remoteError(err error) error {
	var f *fleet.Fault
	if errors.As(err, &f) {
		code := fault.Code(f.Code)
		return fault.New(code, strings.TrimPrefix(strings.TrimPrefix(f.String, code.Name()), ": "))
	}
	return err
}

func isNoNode(err error) bool { return errors.Is(err, fleet.ErrNoNode) }
