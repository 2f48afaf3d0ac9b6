package webui

import (
	"context"
	"net/http"
	"slices"

	"github.com/gosupervisor/gosupervisor/pkg/access"
	"github.com/gosupervisor/gosupervisor/pkg/fault"
	"github.com/gosupervisor/gosupervisor/pkg/rpc"
	"github.com/gosupervisor/gosupervisor/pkg/update"
)

// groupDiff previews what an update does to one group.
type groupDiff struct {
	Group string `json:"group"`
	// Processes of the group after the update (added/changed) with their
	// commands, or the ones that go away (removed).
	Processes []diffProc `json:"processes"`
}

type diffProc struct {
	Name    string `json:"name"`
	Command string `json:"command,omitempty"`
	// Change is "add" (new in the group), "remove" (leaves it) or "keep"
	// (present before and after; its settings may differ).
	Change string `json:"change"`
}

type diffJSON struct {
	Added   []groupDiff `json:"added"`
	Changed []groupDiff `json:"changed"`
	Removed []groupDiff `json:"removed"`
}

// reread is supervisorctl reread: reloadConfig, giving the group names.
func (h *handler) reread() (added, changed, removed []string, err error) {
	if err := h.checkRunning(); err != nil {
		return nil, nil, nil, err
	}
	return h.sup.ReloadConfig()
}

// checkRunning is the shutdown check the XML-RPC methods make before
// anything else, for the calls the console makes on the Supervisor itself:
// SHUTDOWN_STATE while supervisord is shutting down or restarting.
func (h *handler) checkRunning() error {
	if code, _ := h.sup.State(); code < rpc.StateRunning {
		return fault.New(fault.ShutdownState, "")
	}
	return nil
}

func (h *handler) configDiff(w http.ResponseWriter, r *http.Request) {
	access.Audit(r.Context(), "supervisor.reloadConfig")
	added, changed, removed, err := h.reread()
	if err != nil {
		writeFailure(w, err)
		return
	}
	pending := map[string][]rpc.ConfigInfo{}
	for _, ci := range h.sup.ConfigInfo() {
		pending[ci.Group] = append(pending[ci.Group], ci)
	}
	active := func(g string) []string {
		procs, _ := h.sup.Group(g)
		var out []string
		for _, p := range procs {
			out = append(out, p.Name)
		}
		return out
	}
	describe := func(g string, gone bool) groupDiff {
		d := groupDiff{Group: g, Processes: []diffProc{}}
		before := active(g)
		if gone {
			for _, n := range before {
				d.Processes = append(d.Processes, diffProc{Name: n, Change: "remove"})
			}
			return d
		}
		var after []string
		for _, ci := range pending[g] {
			change := "add"
			if slices.Contains(before, ci.Name) {
				change = "keep"
			}
			after = append(after, ci.Name)
			d.Processes = append(d.Processes, diffProc{Name: ci.Name, Command: ci.Command, Change: change})
		}
		for _, n := range before {
			if !slices.Contains(after, n) {
				d.Processes = append(d.Processes, diffProc{Name: n, Change: "remove"})
			}
		}
		return d
	}
	out := diffJSON{Added: []groupDiff{}, Changed: []groupDiff{}, Removed: []groupDiff{}}
	for _, g := range added {
		out.Added = append(out.Added, describe(g, false))
	}
	for _, g := range changed {
		out.Changed = append(out.Changed, describe(g, false))
	}
	for _, g := range removed {
		out.Removed = append(out.Removed, describe(g, true))
	}
	writeJSON(w, http.StatusOK, out)
}

// configUpdate is supervisorctl update [group…], planned and carried out
// by pkg/update as supervisorctl's is. The answer lists supervisorctl's
// output lines; the first failing call answers with its fault instead.
func (h *handler) configUpdate(w http.ResponseWriter, r *http.Request) {
	p, err := readParams(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, errBadRequest(err.Error()))
		return
	}
	ctx := r.Context()
	b := &consoleBackend{h: h}
	steps, unknown, err := update.Prepare(ctx, b, p.Groups)
	if err != nil {
		writeFailure(w, err)
		return
	}
	log := []string{}
	// Unknown names are reported and skipped, as supervisorctl does.
	for _, g := range unknown {
		log = append(log, "ERROR: no such group: "+g)
	}
	err = update.Execute(ctx, b, steps, func(res update.Result) {
		if res.Op == update.Add && b.alreadyActive[res.Group] {
			log = append(log, "ERROR: process group already active")
			return
		}
		if line := res.Line(); line != "" {
			log = append(log, line)
		}
	})
	if err != nil {
		writeFailure(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"log": log})
}

// consoleBackend is update.Backend over the console's Supervisor, for one
// update. Stopping a group goes through XML-RPC's stopProcessGroup, which
// waits for the processes as supervisorctl's call does; the other calls use
// the Supervisor's typed methods after the same shutdown check.
type consoleBackend struct {
	h *handler
	// added is what the reread found new.
	added []string
	// alreadyActive holds the new groups that someone else (another
	// update, supervisorctl add) activated between our reread and our
	// addProcessGroup. Unlike supervisorctl, which fails there, the console
	// reports them and goes on.
	alreadyActive map[string]bool
}

func (b *consoleBackend) Reload(ctx context.Context) (added, changed, removed []string, err error) {
	access.Audit(ctx, "supervisor.reloadConfig")
	added, changed, removed, err = b.h.reread()
	b.added = added
	return added, changed, removed, err
}

// ActiveGroups names the groups of the running processes, as
// supervisorctl's getAllProcessInfo does.
func (b *consoleBackend) ActiveGroups(context.Context) ([]string, error) {
	procs := b.h.sup.Processes()
	groups := make([]string, 0, len(procs))
	for _, p := range procs {
		groups = append(groups, p.Group)
	}
	return groups, nil
}

// StopGroup waits for the group to stop and reports whether any of its
// processes answered FAILED.
func (b *consoleBackend) StopGroup(ctx context.Context, name string) (failed bool, err error) {
	res, err := b.h.call(ctx, "supervisor.stopProcessGroup", name, true)
	if err != nil {
		return false, err
	}
	list, _ := res.([]any)
	for _, e := range list {
		if m, ok := e.(map[string]any); ok && m["status"] == int(fault.Failed) {
			return true, nil
		}
	}
	return false, nil
}

func (b *consoleBackend) RemoveGroup(ctx context.Context, name string) error {
	if err := b.h.checkRunning(); err != nil {
		return err
	}
	access.Audit(ctx, "supervisor.removeProcessGroup", name)
	return b.h.sup.RemoveGroup(name)
}

// AddGroup activates a group; a new group that is active already is noted
// in alreadyActive rather than failing the update.
func (b *consoleBackend) AddGroup(ctx context.Context, name string) error {
	if err := b.h.checkRunning(); err != nil {
		return err
	}
	access.Audit(ctx, "supervisor.addProcessGroup", name)
	err := b.h.sup.AddGroup(name)
	if isFault(err, fault.AlreadyAdded) && slices.Contains(b.added, name) {
		if b.alreadyActive == nil {
			b.alreadyActive = map[string]bool{}
		}
		b.alreadyActive[name] = true
		return nil
	}
	return err
}
