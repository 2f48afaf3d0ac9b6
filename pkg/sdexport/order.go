package sdexport

import (
	"cmp"
	"slices"

	"github.com/gosupervisor/gosupervisor/pkg/config"
	"github.com/gosupervisor/gosupervisor/pkg/pyfmt"
)

// order is depends_on= (Requires= and After= on every process a namespec
// names) and priority= (After= on the previous priority level).
func (e *exporter) order(u *unitFile, p *config.Process) error {
	var names []string
	health := false
	for _, spec := range p.DependsOn {
		procs, _ := config.ResolveDependency(e.cfg.Groups, spec)
		for _, q := range procs {
			name, ok := e.units[q]
			if !ok {
				u.note("depends_on %s: %s is not exported", pyfmt.Repr(spec), pyfmt.Repr(namespec(q)))
				continue
			}
			health = health || q.Health != nil
			if !slices.Contains(names, name) {
				names = append(names, name)
			}
		}
	}
	for _, n := range names {
		u.set(secUnit, "Requires", n)
		u.set(secUnit, "After", n)
	}
	if len(names) > 0 {
		u.note("depends_on: Requires= also stops and restarts this unit with its dependencies; supervisord only orders starts")
	}
	if health {
		u.note("depends_on: supervisord waited for the dependency's health check to pass; After= waits for its start only")
	}
	for _, q := range e.after[p] {
		u.set(secUnit, "After", e.units[q])
	}
	return nil
}

// level is where priority places a process: its group's priority first,
// as the original starts groups in that order, then its own.
type level struct{ group, proc int }

func (a level) compare(b level) int {
	return cmp.Or(cmp.Compare(a.group, b.group), cmp.Compare(a.proc, b.proc))
}

// priorityAfter orders each exported process after those of the previous
// priority level. Processes in a depends_on relation (either side) are
// left to depends_on, which the engine follows over priority; with them
// out, priority edges cannot close an ordering cycle.
func priorityAfter(cfg *config.Config, units map[*config.Process]string) map[*config.Process][]*config.Process {
	inDeps := map[*config.Process]bool{}
	for p := range units {
		for _, spec := range p.DependsOn {
			inDeps[p] = true
			procs, _ := config.ResolveDependency(cfg.Groups, spec)
			for _, q := range procs {
				inDeps[q] = true
			}
		}
	}
	var free []*config.Process
	levels := map[*config.Process]level{}
	for _, g := range cfg.Groups {
		for _, p := range g.Processes {
			if _, ok := units[p]; ok && !inDeps[p] {
				free = append(free, p)
				levels[p] = level{g.Priority, p.Priority}
			}
		}
	}
	slices.SortStableFunc(free, func(a, b *config.Process) int { return levels[a].compare(levels[b]) })
	after := map[*config.Process][]*config.Process{}
	var prev, cur []*config.Process
	for i, p := range free {
		if i > 0 && levels[p] != levels[free[i-1]] {
			prev, cur = cur, nil
		}
		cur = append(cur, p)
		after[p] = prev
	}
	return after
}
