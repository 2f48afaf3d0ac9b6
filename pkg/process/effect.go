package process

import (
	"syscall"
	"time"

	"github.com/gosupervisor/gosupervisor/pkg/loglevel"
)

// Effect is one thing the machine asks its owner to do. Every method that
// changes the machine returns its effects in the order the original
// performs them; the owner executes them in that order. Spawn and Kill
// need an answer: when one is present it is the last effect of its batch,
// and the owner reports the outcome (Spawned, Killed) before it calls any
// other method, which continues the interrupted step.
type Effect interface{ effect() }

// Log is one main-log line with the original's exact text.
type Log struct {
	Level loglevel.Level // the machine uses Critical, Warn, Info and Debug
	Msg   string
}

// StateChanged reports one state change; the machine is already in (or
// past) the new state when the owner sees it.
type StateChanged struct{ StateEvent }

// Spawn asks for the child to be started; answer with Spawned. The
// machine is STARTING meanwhile, without a pid, as the original is while
// it forks.
type Spawn struct{}

// Kill asks for Signal to be sent to Pid, or to its process group when
// Group is set; answer with Killed.
type Kill struct {
	Pid    int
	Signal syscall.Signal
	Group  bool
}

// Timer says when Transition must run next (At zero: no timed work); it
// ends every batch that does not wait for an answer. An At not after the
// owner's clock means at once.
type Timer struct{ At time.Time }

func (Log) effect()          {}
func (StateChanged) effect() {}
func (Spawn) effect()        {}
func (Kill) effect()         {}
func (Timer) effect()        {}

// pending is the step waiting for the answer to a Spawn or Kill.
type pending int

const (
	noPending pending = iota
	spawnPending
	// spawnThenGiveUp: a Transition retrying from BACKOFF, which decides
	// FATAL in the same pass when this last try fails synchronously.
	spawnThenGiveUp
	killPending   // a stop or SIGKILL escalation
	signalPending // Signal: no state change unless it fails oddly
)

// out collects the effects of the current step.
func (p *Proc) emit(e Effect) { p.out = append(p.out, e) }

func (p *Proc) log(level loglevel.Level, msg string) { p.emit(Log{Level: level, Msg: msg}) }

// flush ends a step: its effects, then the deadline unless the step waits
// for an answer. The slice is the caller's; the machine keeps no reference.
func (p *Proc) flush() []Effect {
	if p.wait == noPending {
		p.emit(Timer{At: p.Deadline()})
	}
	out := p.out
	p.out = nil
	return out
}
