package supervisor

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gosupervisor/gosupervisor/pkg/fault"
	"github.com/gosupervisor/gosupervisor/pkg/process"
)

// depends_on (EXTENSIONS.md §1). A process is spawned only when every
// dependency is RUNNING (and healthy when it has a check): until then the
// machine is told that it may not start, so it stays STOPPED, EXITED or
// BACKOFF, described as "waiting for db". A start asked for while held back
// is remembered (wantStart) and its dependencies are started first. A stop
// of a dependency together with its dependents (shutdown, stop all) waits
// (stopWanted) until the dependents are stopped. Without depends_on
// anywhere, none of this runs.

// rewire resolves every process's depends_on against the active groups;
// called when the set of groups changes.
func (s *Supervisor) rewire() {
	s.hasDeps = false
	for _, g := range s.order {
		for _, p := range g.procs {
			p.deps, p.dependents = nil, nil
			s.hasDeps = s.hasDeps || len(p.cfg.DependsOn) > 0
		}
	}
	if !s.hasDeps {
		return
	}
	for _, g := range s.order {
		for _, p := range g.procs {
			for _, spec := range p.cfg.DependsOn {
				for _, d := range s.resolveSpec(spec) {
					if d != p && !slices.Contains(p.deps, d) {
						p.deps = append(p.deps, d)
						d.dependents = append(d.dependents, p)
					}
				}
			}
			s.touch(p)
		}
	}
}

// resolveSpec is a depends_on namespec's processes: "db" is program db
// (wherever its group), "grp:*" a whole group, "grp:name" one process.
func (s *Supervisor) resolveSpec(spec string) []*proc {
	gname, pname, ok := strings.Cut(spec, ":")
	if ok {
		g := s.groups[gname]
		if g == nil {
			return nil
		}
		if pname == "*" {
			return g.procs
		}
		if p := s.findProc(spec); p != nil {
			return []*proc{p}
		}
		return nil
	}
	// A bare name is a program, else a group, else a process (as
	// config.ResolveDependency checks it at load).
	var out []*proc
	for _, g := range s.order {
		for _, p := range g.procs {
			if p.cfg.Program == spec {
				out = append(out, p)
			}
		}
	}
	if len(out) > 0 {
		return out
	}
	if g := s.groups[spec]; g != nil {
		return g.procs
	}
	for _, g := range s.order {
		for _, p := range g.procs {
			if p.cfg.Name == spec {
				out = append(out, p)
			}
		}
	}
	return out
}

// up reports whether d counts as started for its dependents.
func up(d *proc) bool {
	return d.m.State() == process.Running && (d.health == nil || d.health.healthy())
}

// depsReady reports whether p may be spawned as far as depends_on goes.
func depsReady(p *proc) bool {
	for _, d := range p.deps {
		if !up(d) {
			return false
		}
	}
	return true
}

// waitingFor names the dependencies p is held back by.
func waitingFor(p *proc) []string {
	var out []string
	for _, d := range p.deps {
		if !up(d) {
			out = append(out, namespec(d))
		}
	}
	return out
}

// heldBack reports whether p would start now but for its dependencies:
// the description then says what it waits for.
func heldBack(p *proc, running bool) bool {
	if !running || len(p.deps) == 0 || depsReady(p) {
		return false
	}
	return p.wantStart || p.m.SpawnPending()
}

// requestStart starts p's stopped dependencies, transitively, and holds
// p's own start until they are up; it returns the effects of starting p
// now when nothing holds it.
func (s *Supervisor) requestStart(p *proc, seen map[*proc]bool) {
	if seen[p] {
		return
	}
	seen[p] = true
	for _, d := range p.deps {
		if st := d.m.State(); st == process.Running || st.IsRunning() || d.wantStart {
			continue
		}
		s.requestStart(d, seen)
		if depsReady(d) {
			effs, _ := d.m.Start(s.clock.Now())
			_ = s.apply(d, effs)
		}
	}
	if !depsReady(p) {
		p.wantStart = true
		s.touch(p)
	}
}

// autostartDependencies: an autostart that depends_on holds back starts
// the stopped dependencies first, as start does (autostart=false ones
// included). Only the first autostart: an autorestart waits for a
// dependency the user stopped rather than starting it behind their back.
func (s *Supervisor) autostartDependencies(batch []*proc) {
	for _, p := range batch {
		if !p.wantStart && p.m.State() == process.Stopped && p.m.SpawnPending() && !depsReady(p) {
			s.requestStart(p, map[*proc]bool{})
		}
	}
}

// fatalDependency is the dependency, direct or through held-back starts,
// that went FATAL and so will never let p start.
func fatalDependency(p *proc, seen map[*proc]bool) *proc {
	if seen[p] {
		return nil
	}
	seen[p] = true
	for _, d := range p.deps {
		if d.m.State() == process.Fatal {
			return d
		}
		if d.wantStart {
			if f := fatalDependency(d, seen); f != nil {
				return f
			}
		}
	}
	return nil
}

func dependencyFatal(d *proc) error {
	return fault.New(fault.SpawnError, fmt.Sprintf("dependency '%s' is FATAL", namespec(d)))
}

// released are the held-back starts and stops a pass can carry out now.
func (s *Supervisor) released(p *proc, now time.Time) []process.Effect {
	switch {
	case p.wantStart && depsReady(p) && p.m.State().IsStopped():
		p.wantStart = false
		effs, _ := p.m.Start(now)
		return effs
	case p.stopWanted && !hasLiveDependents(p):
		p.stopWanted = false
		return s.stopEffects(p, now)
	}
	return nil
}

// hasLiveDependents reports whether a dependent of p still runs.
func hasLiveDependents(p *proc) bool {
	return slices.ContainsFunc(p.dependents, func(d *proc) bool { return !d.m.State().IsStopped() })
}

// stopEffects is the original's stop_all step for one process: RUNNING
// and STARTING are stopped, BACKOFF gives up.
func (s *Supervisor) stopEffects(p *proc, now time.Time) []process.Effect {
	switch p.m.State() {
	case process.Running, process.Starting:
		effs, _ := p.m.Stop(now)
		return effs
	case process.Backoff:
		effs, _ := p.m.GiveUp(now)
		return effs
	}
	return nil
}

// stopAfterDependents stops p, or, when dependents of p still run,
// stops them first (transitively) and holds p's stop until they are gone.
func (s *Supervisor) stopAfterDependents(p *proc, now time.Time) {
	if !hasLiveDependents(p) {
		_ = s.apply(p, s.stopEffects(p, now))
		return
	}
	for _, d := range p.dependents {
		if !d.m.State().IsStopped() {
			s.stopAfterDependents(d, now)
		}
	}
	p.stopWanted = true
	s.touch(p)
}

// dependencyChanged wakes p's dependents: they may start now, or their
// waiting starts fail, or their held stops proceed.
func (s *Supervisor) dependencyChanged(p *proc) {
	for _, d := range p.dependents {
		close(d.watch)
		d.watch = make(chan struct{})
		s.touch(d)
	}
	for _, d := range p.deps {
		if d.stopWanted {
			s.touch(d)
		}
	}
}
