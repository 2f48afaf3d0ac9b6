package webui

import (
	"context"
	"net/http"
	"slices"

	"github.com/gosupervisor/gosupervisor/pkg/fault"
	"github.com/gosupervisor/gosupervisor/pkg/rpc"
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
func (h *handler) reread(ctx context.Context) (added, changed, removed []string, err error) {
	v, err := h.rpc.Dispatch(ctx, "supervisor.reloadConfig", []any{})
	if err != nil {
		return nil, nil, nil, err
	}
	outer, _ := v.([]any)
	if len(outer) != 1 {
		return nil, nil, nil, fault.New(fault.Failed, "unexpected reloadConfig result")
	}
	lists, _ := outer[0].([]any)
	if len(lists) != 3 {
		return nil, nil, nil, fault.New(fault.Failed, "unexpected reloadConfig result")
	}
	names := func(v any) []string {
		out := []string{}
		switch x := v.(type) {
		case []any:
			for _, e := range x {
				if s, ok := e.(string); ok {
					out = append(out, s)
				}
			}
		case []string:
			out = append(out, x...)
		}
		return out
	}
	return names(lists[0]), names(lists[1]), names(lists[2]), nil
}

func (h *handler) configDiff(w http.ResponseWriter, r *http.Request) {
	added, changed, removed, err := h.reread(r.Context())
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

// configUpdate is supervisorctl update [group…]: reread, then stop and
// remove the removed groups, stop, remove and re-add the changed ones, add
// the added ones. The answer lists supervisorctl's output lines.
func (h *handler) configUpdate(w http.ResponseWriter, r *http.Request) {
	p, err := readParams(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, errBadRequest(err.Error()))
		return
	}
	ctx := r.Context()
	added, changed, removed, err := h.reread(ctx)
	if err != nil {
		writeFailure(w, err)
		return
	}
	if slices.Contains(p.Groups, "all") {
		p.Groups = nil
	}
	wanted := func(g string) bool { return len(p.Groups) == 0 || slices.Contains(p.Groups, g) }
	log := []string{}
	say := func(g, msg string) { log = append(log, g+": "+msg) }
	// Unknown names are reported and skipped, as supervisorctl does.
	if len(p.Groups) > 0 {
		known := slices.Clone(added)
		for _, pi := range h.sup.Processes() {
			known = append(known, pi.Group)
		}
		for _, g := range p.Groups {
			if !slices.Contains(known, g) {
				log = append(log, "ERROR: no such group: "+g)
			}
		}
	}
	// stop stops the group and reports whether any stop FAILED.
	stop := func(g string) (bool, error) {
		res, err := h.call(ctx, "supervisor.stopProcessGroup", g, true)
		if err != nil {
			return false, err
		}
		say(g, "stopped")
		list, _ := res.([]any)
		for _, e := range list {
			if m, ok := e.(map[string]any); ok && m["status"] == int(fault.Failed) {
				return true, nil
			}
		}
		return false, nil
	}
	for _, g := range removed {
		if !wanted(g) {
			continue
		}
		failed, err := stop(g)
		if err != nil {
			writeFailure(w, err)
			return
		}
		if failed {
			say(g, "has problems; not removing")
			continue
		}
		if _, err := h.call(ctx, "supervisor.removeProcessGroup", g); err != nil {
			writeFailure(w, err)
			return
		}
		say(g, "removed process group")
	}
	for _, g := range changed {
		if !wanted(g) {
			continue
		}
		// supervisorctl does not look at the stop results here.
		if _, err := stop(g); err != nil {
			writeFailure(w, err)
			return
		}
		if _, err := h.call(ctx, "supervisor.removeProcessGroup", g); err != nil {
			writeFailure(w, err)
			return
		}
		if _, err := h.call(ctx, "supervisor.addProcessGroup", g); err != nil {
			writeFailure(w, err)
			return
		}
		say(g, "updated process group")
	}
	for _, g := range added {
		if !wanted(g) {
			continue
		}
		if _, err := h.call(ctx, "supervisor.addProcessGroup", g); err != nil {
			if isFault(err, fault.AlreadyAdded) {
				log = append(log, "ERROR: process group already active")
				continue
			}
			writeFailure(w, err)
			return
		}
		say(g, "added process group")
	}
	writeJSON(w, http.StatusOK, map[string]any{"log": log})
}
