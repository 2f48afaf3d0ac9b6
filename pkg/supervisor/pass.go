package supervisor

import (
	"container/heap"
	"slices"
	"time"

	"github.com/gosupervisor/gosupervisor/pkg/config"
	"github.com/gosupervisor/gosupervisor/pkg/process"
)

// The original runs transition() on every process after every event. The
// loop visits only the processes with something to do: those an event or
// an operation touched (dirty) and those whose deadline has come (a heap),
// still in priority order. A message costs what it changed, not the size
// of the configuration.

// maxRounds bounds the passes one wake-up makes; work still due after them
// is left to the timer, which then fires at once.
const maxRounds = 4

// step is one process's Transition effects within a pass.
type step struct {
	p    *proc
	effs []process.Effect
}

// pass is the original's transition() over the processes that need it.
func (s *Supervisor) pass() {
	now := s.clock.Now()
	s.expireDrains(now)
	for range maxRounds {
		s.popDue(now)
		if len(s.dirty) == 0 {
			break
		}
		batch := s.takeDirty()
		running := s.mood == MoodRunning
		if running && s.hasDeps {
			s.autostartDependencies(batch)
		}
		steps := make([]step, 0, len(batch))
		for _, p := range batch {
			if effs := s.released(p, now); effs != nil {
				steps = append(steps, step{p, effs})
				continue
			}
			steps = append(steps, step{p, p.m.Transition(now, running && depsReady(p))})
		}
		s.forkAhead(steps)
		for _, st := range steps {
			_ = s.exec(st.p, st.effs)
		}
		for _, p := range batch {
			if p.health != nil && !p.gone {
				s.healthStep(p, now)
			}
		}
		now = s.clock.Now()
	}
	s.tick(now)
	s.dispatchListeners()
}

// apply executes the effects of an operation on p (start, stop, an exit…)
// and schedules p for the pass that follows it, as the original runs
// transition() after every event.
func (s *Supervisor) apply(p *proc, effs []process.Effect) error {
	err := s.exec(p, effs)
	s.touch(p)
	return err
}

// touch schedules p for the next pass.
func (s *Supervisor) touch(p *proc) {
	if !p.dirty && !p.gone {
		p.dirty = true
		s.dirty = append(s.dirty, p)
	}
}

// touchAll schedules every process, when something all of them read
// changes (the mood, the set of groups at start-up).
func (s *Supervisor) touchAll() {
	for _, g := range s.order {
		for _, p := range g.procs {
			s.touch(p)
		}
	}
}

// takeDirty empties the dirty set in priority order.
func (s *Supervisor) takeDirty() []*proc {
	batch := s.dirty
	s.dirty = nil
	batch = slices.DeleteFunc(batch, func(p *proc) bool { return p.gone })
	for _, p := range batch {
		p.dirty = false
	}
	slices.SortFunc(batch, func(a, b *proc) int { return a.rank - b.rank })
	return batch
}

// rerank numbers every process in the order passes visit them: groups by
// (priority, name), processes in their group's order.
func (s *Supervisor) rerank() {
	n := 0
	for _, g := range s.order {
		for _, p := range g.procs {
			p.rank = n
			n++
		}
	}
}

// setDeadline records when p's machine wants Transition next.
func (s *Supervisor) setDeadline(p *proc, at time.Time) {
	p.machineDue = at
	s.reschedule(p)
}

// reschedule puts p in the heap at its earliest deadline: its machine's,
// or its health check's.
func (s *Supervisor) reschedule(p *proc) {
	at := p.machineDue
	if p.health != nil {
		if w := p.health.t.Wake(); !w.IsZero() && (at.IsZero() || w.Before(at)) {
			at = w
		}
	}
	switch {
	case p.gone || at.IsZero():
		if p.heapAt >= 0 {
			heap.Remove(&s.deadlines, p.heapAt)
		}
	case p.heapAt >= 0:
		if !p.due.Equal(at) {
			p.due = at
			heap.Fix(&s.deadlines, p.heapAt)
		}
	default:
		p.due = at
		heap.Push(&s.deadlines, p)
	}
}

// popDue moves the processes whose deadline is not after now to the dirty set.
func (s *Supervisor) popDue(now time.Time) {
	for len(s.deadlines) > 0 && !s.deadlines[0].due.After(now) {
		s.touch(heap.Pop(&s.deadlines).(*proc))
	}
}

// nextDeadline is the earliest process deadline (zero: none).
func (s *Supervisor) nextDeadline() time.Time {
	if len(s.dirty) > 0 {
		return s.clock.Now()
	}
	if len(s.deadlines) == 0 {
		return time.Time{}
	}
	return s.deadlines[0].due
}

// deadlines is a min-heap of processes by their machine's next deadline.
type deadlines []*proc

func (h deadlines) Len() int           { return len(h) }
func (h deadlines) Less(i, j int) bool { return h[i].due.Before(h[j].due) }
func (h deadlines) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].heapAt, h[j].heapAt = i, j
}

func (h *deadlines) Push(x any) {
	p := x.(*proc)
	p.heapAt = len(*h)
	*h = append(*h, p)
}

func (h *deadlines) Pop() any {
	old := *h
	p := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	p.heapAt = -1
	return p
}

// exec carries out a process's effects in order. A Spawn or Kill is
// answered at once and the machine's continuation executed in its place.
// It returns the error the answer to a Kill produced (an odd kill failure).
func (s *Supervisor) exec(p *proc, effs []process.Effect) error {
	var err error
	for len(effs) > 0 {
		e := effs[0]
		effs = effs[1:]
		switch e := e.(type) {
		case process.Log:
			s.log.Log(e.Level, e.Msg)
		case process.StateChanged:
			s.stateChanged(p, e.StateEvent)
		case process.Spawn:
			effs = append(effs, p.m.Spawned(p.spawn())...)
		case process.Kill:
			var kerr error = errReaped
			if !p.reapedAlready() {
				kerr = s.opts.Reaper.Kill(e.Pid, e.Signal, e.Group)
			}
			more, kerr := p.m.Killed(kerr)
			effs = append(effs, more...)
			if kerr != nil {
				err = kerr
			}
		case process.Timer:
			s.setDeadline(p, e.At)
		}
	}
	if c := s.fatalCrit; c != nil {
		// After the machine's own lines ("gave up: …"), as they read.
		s.fatalCrit = nil
		s.critical(c, "entered FATAL state")
	}
	return err
}

// stateChanged wakes p's waiters, counts what shutdown waits for and
// emits the PROCESS_STATE_* event.
func (s *Supervisor) stateChanged(p *proc, ev process.StateEvent) {
	close(p.watch)
	p.watch = make(chan struct{})
	s.recordTransition(p, ev)
	if wasLive, live := !ev.From.IsStopped(), !ev.To.IsStopped(); wasLive != live {
		d := 1
		if !live {
			d = -1
		}
		p.g.live += d
		s.live += d
	}
	s.emitState(p, ev)
	if ev.To == process.Starting {
		p.wantStart = false // whoever started it, the held start is done
	}
	if p.health != nil {
		s.healthStateChanged(p, ev)
	}
	if s.hasDeps {
		s.dependencyChanged(p)
	}
	if ev.To == process.Fatal && p.cfg.Critical {
		s.fatalCrit = p
	}
}

// endsInSpawn reports whether a Transition's effects ask for a spawn.
func endsInSpawn(effs []process.Effect) bool {
	if len(effs) == 0 {
		return false
	}
	_, ok := effs[len(effs)-1].(process.Spawn)
	return ok
}

// spawnsAhead lists the processes of a pass that will spawn and may be
// forked ahead of it (fcgi sockets are reference-counted on the loop).
func spawnsAhead(steps []step) []*proc {
	var out []*proc
	for _, st := range steps {
		if endsInSpawn(st.effs) && st.p.g.cfg.Kind != config.FCGIGroup {
			out = append(out, st.p)
		}
	}
	return out
}
