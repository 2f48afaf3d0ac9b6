// Package process is the pure state machine of one supervised process, as
// the original's Subprocess class in supervisor/process.py: it decides
// transitions from events (start, stop, signal, exit, time passing) and
// returns its side effects (effect.go) for the owner to carry out. It makes
// no syscalls, starts no goroutines and never reads the clock: every time
// comes in as an argument.
// A Proc is not safe for concurrent use; one owner goroutine drives it.
//
// Timing: the original re-evaluates time-driven transitions once per
// 1-second poll; here Deadline names the exact instant instead. Where the
// original compares strictly (STARTING→RUNNING when now−laststart >
// startsecs, a backoff retry when now > delay) the deadline is the smallest
// step (1 ns) after the boundary, so the comparisons and their outcomes (an
// exit at exactly startsecs is not "too quick" yet the process was not
// RUNNING) stay the original's. BACKOFF→FATAL and autorestarts are due at
// once rather than at the next poll. Owners should pass a fresh time.Now()
// to each call: an exit at exactly the spawn instant reads, as in the
// original, as "laststart time is in the future".
//
// Everything observable (states, counters, log texts, event values) was
// checked against the original's Subprocess with testdata/oracle.py.
package process

import (
	"fmt"
	"syscall"
	"time"

	"github.com/gosupervisor/gosupervisor/pkg/sig"
)

// State is a process state with the original's numeric codes.
type State int

// Process states (supervisor/states.py ProcessStates).
const (
	Stopped  State = 0
	Starting State = 10
	Running  State = 20
	Backoff  State = 30
	Stopping State = 40
	Exited   State = 100
	Fatal    State = 200
	Unknown  State = 1000
)

// String returns the state name the original reports ("RUNNING").
func (s State) String() string {
	switch s {
	case Stopped:
		return "STOPPED"
	case Starting:
		return "STARTING"
	case Running:
		return "RUNNING"
	case Backoff:
		return "BACKOFF"
	case Stopping:
		return "STOPPING"
	case Exited:
		return "EXITED"
	case Fatal:
		return "FATAL"
	case Unknown:
		return "UNKNOWN"
	}
	// The original would print None here; no such state is ever produced.
	return fmt.Sprintf("State(%d)", int(s))
}

// IsRunning reports membership of the original's RUNNING_STATES
// (STARTING, RUNNING, BACKOFF): the states in which start is refused with
// ALREADY_STARTED and stop is accepted.
func (s State) IsRunning() bool { return s == Starting || s == Running || s == Backoff }

// IsStopped reports membership of STOPPED_STATES (STOPPED, EXITED, FATAL,
// UNKNOWN): the states shutdown waits for.
func (s State) IsStopped() bool {
	return s == Stopped || s == Exited || s == Fatal || s == Unknown
}

// IsSignallable reports membership of SIGNALLABLE_STATES (STARTING,
// RUNNING, STOPPING).
func (s State) IsSignallable() bool { return s == Starting || s == Running || s == Stopping }

// Autorestart is the program's autorestart policy.
type Autorestart int

// Autorestart values: false, unexpected, true.
const (
	AutorestartNever Autorestart = iota
	AutorestartUnexpected
	AutorestartAlways
)

// Policy is the part of a program's configuration the machine needs.
// Durations are whole seconds, as in the config file and the log texts.
type Policy struct {
	Autostart    bool
	Startsecs    int
	Startretries int
	Autorestart  Autorestart
	Exitcodes    []int
	Stopsignal   syscall.Signal
	Stopwaitsecs int
	Stopasgroup  bool
	Killasgroup  bool
	// RestartThrottle is the shortest time from one start to the
	// autorestart after it (0: none, the original's transition() itself).
	// The original autorestarts from its 1-second poll, so a process that
	// exits at once is respawned about once a second; reacting at the exact
	// instant instead respawns it hundreds of times a second and it is never
	// seen down. A run that lasted longer is replaced at once.
	RestartThrottle time.Duration

	// Our extensions (backoff=, backoff_max=, startretries=unlimited);
	// their zero values are the original's behaviour.
	ExponentialBackoff bool // delays 1, 2, 4, 8 … s instead of 1, 2, 3 …
	BackoffMax         int  // seconds; caps every delay when > 0
	UnlimitedRetries   bool // BACKOFF never gives up to FATAL
}

// maxBackoffShift bounds the doubling: 2^30 s is decades, and more would
// overflow a Duration.
const maxBackoffShift = 30

// backoffDelay is how long BACKOFF waits before try number tries (from 1).
func (pol *Policy) backoffDelay(tries int) time.Duration {
	d := secs(tries)
	if pol.ExponentialBackoff {
		d = time.Second << min(max(tries-1, 0), maxBackoffShift)
	}
	if pol.BackoffMax > 0 {
		d = min(d, secs(pol.BackoffMax))
	}
	return d
}

// exhausted reports whether tries failed starts use up the retries.
func (pol *Policy) exhausted(tries int) bool {
	return !pol.UnlimitedRetries && tries > pol.Startretries
}

func (pol *Policy) expected(es int) bool {
	for _, c := range pol.Exitcodes {
		if c == es {
			return true
		}
	}
	return false
}

func secs(n int) time.Duration { return time.Duration(n) * time.Second }

// StateEvent describes one state change, with what the PROCESS_STATE_*
// event payloads need, captured at the moment of the change as the
// original does (events.py renders extra values eagerly).
type StateEvent struct {
	From, To State
	// Tries is the backoff counter (payload `tries:` of STARTING/BACKOFF).
	Tries int
	// Expected is the `expected:` of EXITED; true for every other change.
	Expected bool
	// Pid is the process id at the time of the change (payload `pid:` of
	// RUNNING/STOPPING/STOPPED/EXITED). STOPPED after a reap and EXITED
	// carry the child's pid (the original clears it after the event);
	// BACKOFF→STOPPED carries 0.
	Pid int
}

// DecodeWaitStatus returns the exit status and message as the original's
// decode_wait_status: ("exit status N") for a normal exit, -1 and
// "terminated by SIGTERM" (+ " (core dumped)") for a signal, and -1 with
// "unknown termination cause 0x%04x" otherwise.
func DecodeWaitStatus(ws syscall.WaitStatus) (int, string) {
	switch {
	case ws.Exited():
		es := ws.ExitStatus() & 0xffff
		return es, fmt.Sprintf("exit status %d", es)
	case ws.Signaled():
		msg := "terminated by " + sig.Name(ws.Signal())
		if ws.CoreDump() {
			msg += " (core dumped)"
		}
		return -1, msg
	}
	return -1, fmt.Sprintf("unknown termination cause 0x%04x", uint32(ws))
}
