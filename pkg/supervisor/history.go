package supervisor

import (
	"syscall"
	"time"

	"github.com/gosupervisor/gosupervisor/pkg/config"
	"github.com/gosupervisor/gosupervisor/pkg/process"
	"github.com/gosupervisor/gosupervisor/pkg/rpc"
	"github.com/gosupervisor/gosupervisor/pkg/sig"
)

// History (issue 17, EXTENSIONS.md §6): every process keeps its last
// transitionsKept state changes, recorded on the loop as the machine
// reports them, and (sampler.go) resource samples while someone watches.
// Recording a change costs one fixed-size slot; a process that never
// changes state keeps only the empty record.

// transitionsKept bounds each process's ring of state changes.
const transitionsKept = 100

// flapWindow is how far back RecentRestarts counts restarts.
const flapWindow = 10 * time.Minute

// transition is one state change as recorded: 40 bytes on 64-bit
// platforms, plus the spawn error's text, which is the machine's string
// (shared, not copied).
type transition struct {
	at       int64 // UnixNano
	spawnerr string
	pid      int32
	from, to int16 // process.State
	exit     int16 // exit status of the reaped child, -1 if signalled
	sig      uint8 // the signal that ended it, 0 if none
	flags    uint8 // trExited, trExpected
}

const (
	trExited   = 1 << iota // the change follows a reaped exit: exit/sig apply
	trExpected             // the payload's expected: (EXITED)
)

// history is one process's record (loop only).
type history struct {
	ring []transition // grows up to transitionsKept, then wraps at next
	next int
	// exit is the wait status of the child reaped last, until the state
	// change it causes is recorded.
	exit    syscall.WaitStatus
	hasExit bool
}

// noteExit remembers a reaped child's status for the change it causes
// (the machine reports the exit status but not the signal, and none at
// all for an exit within startsecs).
func (s *Supervisor) noteExit(p *proc, status syscall.WaitStatus) {
	if p.hist == nil {
		p.hist = &history{}
	}
	p.hist.exit, p.hist.hasExit = status, true
}

// recordTransition appends ev to p's ring.
func (s *Supervisor) recordTransition(p *proc, ev process.StateEvent) {
	h := p.hist
	if h == nil {
		h = &history{}
		p.hist = h
	}
	t := transition{
		at:   s.clock.Now().UnixNano(),
		pid:  int32(ev.Pid),
		from: int16(ev.From), to: int16(ev.To),
	}
	if ev.Expected {
		t.flags |= trExpected
	}
	if ev.To == process.Starting {
		h.hasExit = false // a status no change used (an ignored exit) is stale now
	}
	switch ev.To {
	case process.Exited, process.Backoff, process.Stopped:
		if h.hasExit {
			h.hasExit = false
			t.flags |= trExited
			switch ws := h.exit; {
			case ws.Exited():
				t.exit = int16(ws.ExitStatus())
			case ws.Signaled():
				t.exit, t.sig = -1, uint8(ws.Signal())
			default:
				t.exit = -1
			}
		}
	}
	if ev.To == process.Backoff || ev.To == process.Fatal || (ev.To == process.Exited && !ev.Expected) {
		t.spawnerr = p.m.Spawnerr()
		if prev, ok := h.last(); ok && prev.spawnerr == t.spawnerr {
			t.spawnerr = prev.spawnerr // one copy of a repeated text
		}
	}
	h.add(t)
}

// add puts t in the ring: grown up to transitionsKept, then in place of
// the oldest.
func (h *history) add(t transition) {
	if len(h.ring) < transitionsKept {
		if len(h.ring) == cap(h.ring) {
			grown := make([]transition, len(h.ring), min(max(2*cap(h.ring), 8), transitionsKept))
			copy(grown, h.ring)
			h.ring = grown
		}
		h.ring = append(h.ring, t)
		return
	}
	h.ring[h.next] = t
	h.next = (h.next + 1) % transitionsKept
}

// last is the newest transition.
func (h *history) last() (transition, bool) {
	if len(h.ring) == 0 {
		return transition{}, false
	}
	i := len(h.ring) - 1
	if len(h.ring) == transitionsKept {
		i = (h.next + transitionsKept - 1) % transitionsKept
	}
	return h.ring[i], true
}

// each calls fn on the transitions, newest first, until it returns false.
func (h *history) each(fn func(t *transition) bool) {
	n := len(h.ring)
	start := n - 1
	if n == transitionsKept {
		start = (h.next + n - 1) % n
	}
	for k := 0; k < n; k++ {
		if !fn(&h.ring[(start-k+n)%n]) {
			return
		}
	}
}

// restartsSince counts automatic restarts (BACKOFF or EXITED to STARTING)
// after since; it stops at the first older change, so a quiet process
// costs one comparison.
func (h *history) restartsSince(since int64) int {
	n := 0
	h.each(func(t *transition) bool {
		if t.at < since {
			return false
		}
		if t.to == int16(process.Starting) && (t.from == int16(process.Backoff) || t.from == int16(process.Exited)) {
			n++
		}
		return true
	})
	return n
}

// transitions are p's changes, oldest first, as the API gives them.
func (h *history) transitions() []rpc.Transition {
	if h == nil {
		return []rpc.Transition{}
	}
	out := make([]rpc.Transition, len(h.ring))
	i := len(out)
	h.each(func(t *transition) bool {
		i--
		out[i] = t.public()
		return true
	})
	return out
}

func (t *transition) public() rpc.Transition {
	out := rpc.Transition{
		Time: time.Unix(0, t.at), From: process.State(t.from).String(), To: process.State(t.to).String(),
		Pid: int(t.pid), Expected: t.flags&trExpected != 0, Spawnerr: t.spawnerr,
	}
	if t.flags&trExited != 0 {
		out.Exited = true
		out.ExitStatus = int(t.exit)
		if t.sig != 0 {
			out.Signal = sig.Name(syscall.Signal(t.sig))
		}
	}
	return out
}

// RecentRestarts is every process's automatic restarts in the last ten
// minutes, by namespec, for those that had any: the console's flapping
// indicator. One call on the loop for all processes.
func (s *Supervisor) RecentRestarts() map[string]int {
	out := map[string]int{}
	s.call(func() {
		since := s.clock.Now().Add(-flapWindow).UnixNano()
		for _, g := range s.order {
			for _, p := range g.procs {
				if p.hist == nil {
					continue
				}
				if n := p.hist.restartsSince(since); n > 0 {
					out[namespec(p)] = n
				}
			}
		}
	})
	return out
}

// The engine serves gosupervisor.getProcessHistory.
var _ rpc.HistoryBackend = (*Supervisor)(nil)

// ProcessHistory is a process's transitions and its resource samples of
// the last hour (gosupervisor.getProcessHistory, /api/v1/.../history).
// Asking for it counts as watching: sampling starts, or goes on, for
// watchLinger.
func (s *Supervisor) ProcessHistory(namespec string) (rpc.History, error) {
	var out rpc.History
	var key *proc
	err := s.onProc(namespec, func(p *proc) error {
		out.Name, out.Group = p.cfg.Name, p.cfg.Group
		out.Transitions = p.hist.transitions()
		key = p
		return nil
	})
	if err != nil {
		return rpc.History{}, err
	}
	s.sampler.touch()
	out.Samples = s.sampler.samples(key)
	out.Sampling = s.sampler.active()
	out.SampleEvery = sampleEvery
	return out, nil
}

// ProcessConfig is the active config of a process (the console's detail
// view shows our keys from it). Configs are never changed once loaded.
func (s *Supervisor) ProcessConfig(namespec string) (*config.Process, error) {
	var pc *config.Process
	err := s.onProc(namespec, func(p *proc) error { pc = p.cfg; return nil })
	return pc, err
}
