package supervisor

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gosupervisor/gosupervisor/pkg/config"
	"github.com/gosupervisor/gosupervisor/pkg/loglevel"
)

// addGroup activates a group config (the original's add_process_group);
// false if a group of that name is already active.
func (s *Supervisor) addGroup(gc *config.Group) bool {
	if _, ok := s.groups[gc.Name]; ok {
		return false
	}
	g := &group{cfg: gc}
	for _, pc := range gc.Processes {
		g.procs = append(g.procs, s.newProc(g, pc))
	}
	if gc.Kind == config.FCGIGroup && gc.Socket != nil {
		s.fcgiCheck(g)
	}
	s.groups[gc.Name] = g
	s.order = append(s.order, g)
	s.sortGroups()
	s.rerank()
	s.rewire()
	for _, p := range g.procs {
		s.touch(p)
	}
	s.emit(Event{Name: EvGroupAdded, Group: gc.Name, Payload: "groupname:" + gc.Name + "\n"})
	return true
}

// removeGroup deactivates a group whose processes are all stopped.
func (s *Supervisor) removeGroup(name string) bool {
	g, ok := s.groups[name]
	if !ok || len(g.unstopped()) > 0 {
		return false
	}
	for _, p := range g.procs {
		p.stdout.close()
		p.stderr.close()
		p.gone = true
		if p.health != nil {
			s.abandonCheck(p)
		}
		s.setDeadline(p, time.Time{})
	}
	delete(s.groups, name)
	for i, og := range s.order {
		if og == g {
			s.order = append(s.order[:i], s.order[i+1:]...)
			break
		}
	}
	s.rerank()
	s.rewire()
	s.emit(Event{Name: EvGroupRemoved, Group: name, Payload: "groupname:" + name + "\n"})
	return true
}

// shutdown tracks stopping everything: one priority level at a time, from
// the highest priority number down, each level signalled at once.
type shutdown struct {
	levels       [][]*group
	levelStopped bool // levels[0] has been told to stop
	nextReport   time.Time
	lastReport   time.Time
}

// beginShutdown enters SHUTDOWN or RESTARTING (once) and plans the stop order.
func (s *Supervisor) beginShutdown(m Mood) {
	if s.stopping != nil {
		return
	}
	s.setMood(m)
	s.emit(Event{Name: EvSupervisorStopping})
	sd := &shutdown{}
	for i := len(s.order) - 1; i >= 0; i-- {
		g := s.order[i]
		if n := len(sd.levels); n > 0 && sd.levels[n-1][0].cfg.Priority == g.cfg.Priority {
			sd.levels[n-1] = append(sd.levels[n-1], g)
			continue
		}
		sd.levels = append(sd.levels, []*group{g})
	}
	s.stopping = sd
}

// advance stops the current level and moves on as soon as its processes are
// gone; it reports true once nothing is left running anywhere. A level is
// stopped once, when it becomes current: nothing starts during a shutdown.
func (sd *shutdown) advance(s *Supervisor) bool {
	now := s.clock.Now()
	for len(sd.levels) > 0 {
		level := sd.levels[0]
		if !sd.levelStopped {
			for _, g := range level {
				s.stopGroup(g, now)
			}
			sd.levelStopped = true
		}
		if slices.ContainsFunc(level, func(g *group) bool { return g.live > 0 }) {
			break
		}
		sd.levels, sd.levelStopped = sd.levels[1:], false
	}
	if s.live == 0 {
		return true
	}
	// The original's shutdown_report: at once, then at most every 3 s.
	if sd.lastReport.IsZero() || now.Sub(sd.lastReport) > 3*time.Second {
		s.shutdownReport()
		sd.lastReport = now
		sd.nextReport = now.Add(3*time.Second + time.Millisecond)
	}
	return false
}

// stopGroup is the original's stop_all for g, except that with
// depends_on a process's dependents are stopped before it.
func (s *Supervisor) stopGroup(g *group, now time.Time) {
	if !s.hasDeps {
		g.stopAll(s, now)
		return
	}
	for i := len(g.procs) - 1; i >= 0; i-- {
		if p := g.procs[i]; !p.m.State().IsStopped() {
			s.stopAfterDependents(p, now)
		}
	}
}

// shutdownReport logs what shutdown is waiting for.
func (s *Supervisor) shutdownReport() {
	var unstopped []*proc
	for _, g := range s.order {
		unstopped = append(unstopped, g.unstopped()...)
	}
	names := make([]string, len(unstopped))
	for i, p := range unstopped {
		names[i] = p.cfg.Name
	}
	s.log.Log(loglevel.Info, fmt.Sprintf("waiting for %s to die", strings.Join(names, ", ")))
	if s.log.Enabled(loglevel.Blather) {
		for _, p := range unstopped {
			s.log.Log(loglevel.Blather, fmt.Sprintf("%s state: %s", p.cfg.Name, p.m.State()))
		}
	}
}

// findProc resolves a single-process namespec ("name" or "group:name").
func (s *Supervisor) findProc(namespec string) *proc {
	gname, pname, ok := strings.Cut(namespec, ":")
	if !ok {
		pname = gname
	}
	g, ok := s.groups[gname]
	if !ok {
		return nil
	}
	for _, p := range g.procs {
		if p.cfg.Name == pname {
			return p
		}
	}
	return nil
}
