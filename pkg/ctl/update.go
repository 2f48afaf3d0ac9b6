package ctl

import (
	"context"
	"errors"
	"strings"

	"github.com/gosupervisor/gosupervisor/pkg/update"
)

// doUpdate is the original's do_update, plus --dry-run. Group calls that
// fault end the command with the generic error line, as the original's
// uncaught exceptions do.
func doUpdate(c *Controller, arg string) error {
	dryRun, only := false, []string{}
	for _, w := range strings.Fields(arg) {
		if w == "--dry-run" {
			dryRun = true
		} else {
			only = append(only, w)
		}
	}
	steps, unknown, err := update.Prepare(c.ctx, rpcBackend{c}, only)
	if err != nil {
		return c.updateFailed(err)
	}
	for _, g := range unknown {
		c.output("ERROR: no such group: " + g)
		c.exitStatus = exitGeneric
	}
	if dryRun {
		for _, line := range update.DryRun(steps) {
			c.output(line)
		}
		return nil
	}
	return update.Execute(c.ctx, rpcBackend{c}, steps, func(r update.Result) {
		if r.Skipped {
			c.exitStatus = exitGeneric
		}
		if line := r.Line(); line != "" {
			c.output(line)
		}
	})
}

// updateFailed answers a failed reread or group listing: any reloadConfig
// fault exits 1, and SHUTDOWN_STATE has its own line.
func (c *Controller) updateFailed(err error) error {
	var re *update.ReloadError
	f, isFault := faultOf(err)
	if !errors.As(err, &re) || !isFault {
		return err
	}
	c.exitStatus = exitGeneric
	if f.Code == faultShutdownState {
		c.output("ERROR: already shutting down")
		return nil
	}
	return err
}

// rpcBackend is update.Backend over the controller's XML-RPC client.
type rpcBackend struct{ c *Controller }

func (b rpcBackend) call(ctx context.Context, method string, result any, args ...any) error {
	cl, err := b.c.rpc()
	if err != nil {
		return err
	}
	return cl.Call(ctx, method, result, args...)
}

// Reload goes through the controller's call, whose context doUpdate passes.
func (b rpcBackend) Reload(context.Context) (added, changed, removed []string, err error) {
	diff, err := b.c.reloadConfig()
	return diff[0], diff[1], diff[2], err
}

func (b rpcBackend) ActiveGroups(ctx context.Context) ([]string, error) {
	var all []ProcessInfo
	if err := b.call(ctx, "supervisor.getAllProcessInfo", &all); err != nil {
		return nil, err
	}
	groups := make([]string, 0, len(all))
	for _, info := range all {
		groups = append(groups, info.Group)
	}
	return groups, nil
}

func (b rpcBackend) StopGroup(ctx context.Context, name string) (failed bool, err error) {
	var results []Result
	if err := b.call(ctx, "supervisor.stopProcessGroup", &results, name); err != nil {
		return false, err
	}
	for _, r := range results {
		if r.Status == faultFailed {
			return true, nil
		}
	}
	return false, nil
}

func (b rpcBackend) RemoveGroup(ctx context.Context, name string) error {
	return b.call(ctx, "supervisor.removeProcessGroup", nil, name)
}

func (b rpcBackend) AddGroup(ctx context.Context, name string) error {
	return b.call(ctx, "supervisor.addProcessGroup", nil, name)
}
