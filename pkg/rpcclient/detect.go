package rpcclient

import (
	"context"
	"errors"
)

// faultUnknownMethod is the original's UNKNOWN_METHOD fault code.
const faultUnknownMethod = 1

// Daemon says which supervisord answers.
type Daemon struct {
	Ours    bool   // gosupervisor: has gosupervisor.* and /api/v1/events
	Version string // gosupervisor.getVersion for ours, else supervisor.getSupervisorVersion
}

// Detect tells our daemon (gosupervisor.getVersion answers) from the
// original (the call is an UNKNOWN_METHOD fault).
func (c *Client) Detect(ctx context.Context) (Daemon, error) {
	var ver string
	err := c.Call(ctx, "gosupervisor.getVersion", &ver)
	if err == nil {
		return Daemon{Ours: true, Version: ver}, nil
	}
	var f *Fault
	if !errors.As(err, &f) || f.Code != faultUnknownMethod {
		return Daemon{}, err
	}
	if err := c.Call(ctx, "supervisor.getSupervisorVersion", &ver); err != nil {
		return Daemon{}, err
	}
	return Daemon{Version: ver}, nil
}
