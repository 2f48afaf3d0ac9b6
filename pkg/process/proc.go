package process

import (
	"errors"
	"fmt"
	"strings"
	"syscall"
	"time"

	"github.com/gosupervisor/gosupervisor/pkg/loglevel"
	"github.com/gosupervisor/gosupervisor/pkg/sig"
)

// ErrNotRunning is matched (errors.Is) by the errors Stop and Signal return
// when there is no child to signal; their text is the original's message.
var ErrNotRunning = errors.New("process not running")

type notRunningError struct{ msg string }

func (e *notRunningError) Error() string        { return e.msg }
func (e *notRunningError) Is(target error) bool { return target == ErrNotRunning }

// Proc is one process instance. Its zero value is not usable; see New.
type Proc struct {
	name, group string
	pol         Policy

	state     State
	pid       int
	laststart time.Time // zero: never started
	laststop  time.Time // zero: never stopped
	// delay is the original's multi-purpose deadline: spawn time+startsecs,
	// backoff retry time, or stop time+stopwaitsecs.
	delay          time.Time
	laststopreport time.Time
	lastSigkill    time.Time // when Transition last escalated to SIGKILL
	killing        bool
	backoff        int
	exitstatus     int // 0 stands for the original's None too
	spawnerr       string
	spawns         int

	// seen is the latest time given to any method; Deadline returns it for
	// work that is due at once.
	seen time.Time
	// mayStart is the supervisorRunning of the last Transition: pending
	// autostarts/autorestarts are only reported by Deadline while it holds,
	// so a shutting-down owner is not woken in a loop.
	mayStart bool

	out  []Effect // effects of the step in progress
	wait pending  // the step waiting for a Spawned or Killed answer
}

// New returns a STOPPED, never-started process.
func New(name, group string, pol Policy) *Proc {
	return &Proc{name: name, group: group, pol: pol, state: Stopped, mayStart: true}
}

// Name returns the process name.
func (p *Proc) Name() string { return p.name }

// Group returns the group name.
func (p *Proc) Group() string { return p.group }

// Policy returns the policy the process was made with.
func (p *Proc) Policy() Policy { return p.pol }

// State returns the current state.
func (p *Proc) State() State { return p.state }

// Pid returns the child's pid, 0 when there is none.
func (p *Proc) Pid() int { return p.pid }

// Spawnerr returns the last spawn error text ("" if none).
func (p *Proc) Spawnerr() string { return p.spawnerr }

// ExitStatus returns the last exit status (0 if none, -1 if killed by a signal).
func (p *Proc) ExitStatus() int { return p.exitstatus }

// Killing reports whether a stop signal was sent and the child not yet
// reaped (the original refuses stdin writes then).
func (p *Proc) Killing() bool { return p.killing }

// Backoff returns the backoff counter (the events' `tries`).
func (p *Proc) Backoff() int { return p.backoff }

// Spawns returns how many children were successfully spawned (restart count).
func (p *Proc) Spawns() int { return p.spawns }

// LastStart and LastStop return the times of the last spawn attempt and the
// last reap (zero if never).
func (p *Proc) LastStart() time.Time { return p.laststart }

// LastStop: see LastStart.
func (p *Proc) LastStop() time.Time { return p.laststop }

func (p *Proc) see(now time.Time) { p.seen = now }

func (p *Proc) changeState(now time.Time, to State, expected bool) {
	from := p.state
	if to == from {
		return
	}
	p.state = to
	if to == Backoff {
		p.backoff++
		p.delay = now.Add(p.pol.backoffDelay(p.backoff))
	}
	p.emit(StateChanged{StateEvent{From: from, To: to, Tries: p.backoff, Expected: expected, Pid: p.pid}})
}

func (p *Proc) assertIn(states ...State) error {
	for _, s := range states {
		if p.state == s {
			return nil
		}
	}
	names := make([]string, len(states))
	for i, s := range states {
		names[i] = s.String()
	}
	return fmt.Errorf("Assertion failed for %s: %s not in %s", p.name, p.state, strings.Join(names, " "))
}

// Start is the administrative start (startProcess, autostart, autorestart,
// backoff retry): the original's spawn(). With a child already present it
// only logs `process 'NAME' already running`. A spawn error (answered to
// Spawned) moves the process to BACKOFF and is reported by Spawnerr, not as
// an error; an error is returned only when the state forbids starting (the
// original asserts).
func (p *Proc) Start(now time.Time) ([]Effect, error) {
	p.see(now)
	err := p.spawn(now, spawnPending)
	return p.flush(), err
}

func (p *Proc) spawn(now time.Time, then pending) error {
	if p.pid != 0 {
		p.log(loglevel.Warn, fmt.Sprintf("process '%s' already running", p.name))
		return nil
	}
	if err := p.assertIn(Exited, Fatal, Backoff, Stopped); err != nil {
		return err
	}
	p.killing = false
	p.spawnerr = ""
	p.exitstatus = 0
	p.laststart = now
	p.changeState(now, Starting, true)
	p.emit(Spawn{})
	p.wait = then
	return nil
}

// Spawned is the answer to a Spawn effect: the child's pid, or the error
// whose text becomes spawnerr (e.g. "can't find command '/nonexistent/cmd'").
func (p *Proc) Spawned(pid int, err error) []Effect {
	then := p.wait
	if then != spawnPending && then != spawnThenGiveUp {
		return p.flush() // no spawn was asked for
	}
	p.wait = noPending
	now := p.laststart // the original's spawn() reads the clock once
	if err == nil && pid <= 0 {
		err = fmt.Errorf("spawning '%s' returned pid %d", p.name, pid)
	}
	if err != nil {
		p.spawnerr = err.Error()
		p.log(loglevel.Info, "spawnerr: "+p.spawnerr)
		p.changeState(now, Backoff, true)
		if then == spawnThenGiveUp {
			p.giveUpIfExhausted(now)
		}
		return p.flush()
	}
	p.pid = pid
	p.spawns++
	p.log(loglevel.Info, fmt.Sprintf("spawned: '%s' with pid %d", p.name, pid))
	p.delay = now.Add(secs(p.pol.Startsecs))
	return p.flush()
}

// Stop is the administrative stop: the stop signal to the child (or its
// group with stopasgroup), STOPPING, SIGKILL after stopwaitsecs. In BACKOFF
// it goes straight to STOPPED. Without a child it returns an error matching
// ErrNotRunning with the original's text.
func (p *Proc) Stop(now time.Time) ([]Effect, error) {
	p.see(now)
	p.laststopreport = time.Time{}
	err := p.kill(now, p.pol.Stopsignal)
	return p.flush(), err
}

// GiveUp is BACKOFF → FATAL without retrying, as a whole-group stop does to
// a backing-off process (the original's give_up; no log line).
func (p *Proc) GiveUp(now time.Time) ([]Effect, error) {
	p.see(now)
	if err := p.assertIn(Backoff); err != nil {
		return p.flush(), err
	}
	p.giveUp(now)
	return p.flush(), nil
}

func (p *Proc) giveUp(now time.Time) {
	p.delay = time.Time{}
	p.backoff = 0
	p.changeState(now, Fatal, true)
}

func (p *Proc) giveUpIfExhausted(now time.Time) {
	if p.state == Backoff && p.pol.exhausted(p.backoff) {
		p.giveUp(now)
		p.log(loglevel.Info, fmt.Sprintf("gave up: %s entered FATAL state, too many start retries too quickly", p.name))
	}
}

// StopReport logs `waiting for NAME to stop` while STOPPING, at most once
// every 2 seconds (called while an RPC stop waits).
func (p *Proc) StopReport(now time.Time) []Effect {
	p.see(now)
	if p.state != Stopping {
		return p.flush()
	}
	p.adjustForRollback(now)
	if now.After(p.laststopreport.Add(2 * time.Second)) {
		p.log(loglevel.Info, fmt.Sprintf("waiting for %s to stop", p.name))
		p.laststopreport = now
	}
	return p.flush()
}

func (p *Proc) kill(now time.Time, s syscall.Signal) error {
	if p.state == Backoff {
		p.log(loglevel.Debug, fmt.Sprintf("Attempted to kill %s, which is in BACKOFF state.", p.name))
		p.changeState(now, Stopped, true)
		return nil
	}
	if p.pid == 0 {
		msg := fmt.Sprintf("attempted to kill %s with sig %s but it wasn't running", p.name, sig.Name(s))
		p.log(loglevel.Debug, msg)
		return &notRunningError{msg}
	}
	// The original asserts this after changing killing/delay; we check
	// first so a refused kill has no side effects.
	if err := p.assertIn(Running, Starting, Stopping); err != nil {
		return err
	}
	// A repeated kill while STOPPING is the SIGKILL escalation.
	group := p.pol.Stopasgroup
	if p.state == Stopping {
		group = p.pol.Killasgroup
	}
	asGroup := ""
	if group {
		asGroup = "process group "
	}
	p.log(loglevel.Debug, fmt.Sprintf("killing %s (pid %d) %swith signal %s", p.name, p.pid, asGroup, sig.Name(s)))
	p.killing = true
	p.delay = now.Add(secs(p.pol.Stopwaitsecs))
	p.changeState(now, Stopping, true)
	p.emit(Kill{Pid: p.pid, Signal: s, Group: group})
	p.wait = killPending
	return nil
}

// Killed is the answer to a Kill effect: nil, or the kill(2) error (one
// wrapping syscall.ESRCH means the child is already gone). It returns the
// error the interrupted Stop or Signal reports for an odd failure.
func (p *Proc) Killed(err error) ([]Effect, error) {
	then := p.wait
	if then != killPending && then != signalPending {
		return p.flush(), nil // no kill was asked for
	}
	p.wait = noPending
	if err == nil {
		return p.flush(), nil
	}
	if errors.Is(err, syscall.ESRCH) {
		// The reap will change the state.
		just := "just"
		if then == signalPending {
			just = "just now"
		}
		p.log(loglevel.Debug, fmt.Sprintf("unable to signal %s (pid %d), it probably %s exited on its own: %s",
			p.name, p.pid, just, pyOSError(err)))
		return p.flush(), nil
	}
	// The original appends a Python traceback; we append the error text.
	var msg string
	if then == signalPending {
		msg = fmt.Sprintf("unknown problem sending sig %s (%d):%s", p.name, p.pid, err)
	} else {
		msg = fmt.Sprintf("unknown problem killing %s (%d):%s", p.name, p.pid, err)
	}
	p.log(loglevel.Critical, msg)
	p.changeState(p.seen, Unknown, true)
	if then == killPending {
		p.killing = false
		p.delay = time.Time{}
	}
	return p.flush(), errors.New(msg)
}

// Signal sends sig to the child without intending to stop it; the state is
// unchanged unless the kill fails with something other than ESRCH
// (→ UNKNOWN).
func (p *Proc) Signal(s syscall.Signal) ([]Effect, error) {
	if p.pid == 0 {
		msg := fmt.Sprintf("attempted to send %s sig %s but it wasn't running", p.name, sig.Name(s))
		p.log(loglevel.Debug, msg)
		return p.flush(), &notRunningError{msg}
	}
	p.log(loglevel.Debug, fmt.Sprintf("sending %s (pid %d) sig %s", p.name, p.pid, sig.Name(s)))
	if err := p.assertIn(Running, Starting, Stopping); err != nil {
		return p.flush(), err
	}
	p.emit(Kill{Pid: p.pid, Signal: s})
	p.wait = signalPending
	return p.flush(), nil
}

// pyOSError renders an errno like Python's str(OSError): "[Errno 3] No such process".
func pyOSError(err error) string {
	var en syscall.Errno
	if !errors.As(err, &en) {
		return err.Error()
	}
	text := en.Error()
	if text != "" {
		text = strings.ToUpper(text[:1]) + text[1:]
	}
	return fmt.Sprintf("[Errno %d] %s", int(en), text)
}

// Exited records the reaped exit of the child (the original's finish()).
// It is ignored when there is no child.
func (p *Proc) Exited(status syscall.WaitStatus, now time.Time) []Effect {
	p.see(now)
	if p.pid == 0 {
		return p.flush()
	}
	es, how := DecodeWaitStatus(status)
	p.adjustForRollback(now)
	p.laststop = now

	// Like the original, an exit at exactly laststart counts as "in the
	// future": that is what the rollback adjustment above leaves behind.
	// With real clocks it needs a clock set back; with a fake clock, tests
	// must let time pass between a spawn and its exit.
	tooQuickly := false
	if now.After(p.laststart) {
		tooQuickly = now.Sub(p.laststart) < secs(p.pol.Startsecs)
	} else {
		p.log(loglevel.Warn, fmt.Sprintf("process '%s' (%d) laststart time is in the future, don't know how "+
			"long process was running so assuming it did not exit too quickly", p.name, p.pid))
	}
	switch {
	case p.killing:
		p.stopped(now, es, how)
	case tooQuickly && p.state == Starting:
		p.exitstatus = 0
		p.spawnerr = "Exited too quickly (process log may have details)"
		p.changeState(now, Backoff, true)
		p.log(loglevel.Warn, fmt.Sprintf("exited: %s (%s; not expected)", p.name, how))
	default:
		p.exited(now, es, how)
	}
	p.pid = 0
	p.lastSigkill = time.Time{}
	return p.flush()
}

// stopped is the result of a stop: STOPPING → STOPPED.
func (p *Proc) stopped(now time.Time, es int, how string) {
	p.killing = false
	p.delay = time.Time{}
	p.exitstatus = es
	p.changeState(now, Stopped, true)
	level := loglevel.Warn
	if p.pol.expected(es) {
		level = loglevel.Info
	}
	p.log(level, fmt.Sprintf("stopped: %s (%s)", p.name, how))
}

// exited is RUNNING → EXITED. A STARTING process that was not too quick
// (startsecs=0, or the exit seen before the RUNNING check) passes through
// RUNNING first, as in the original. From UNKNOWN the original would crash
// on an assertion; we go to EXITED directly.
func (p *Proc) exited(now time.Time, es int, how string) {
	p.delay = time.Time{}
	p.backoff = 0
	p.exitstatus = es
	if p.state == Starting {
		p.changeState(now, Running, true)
	}
	if p.pol.expected(es) {
		p.changeState(now, Exited, true)
		p.log(loglevel.Info, fmt.Sprintf("exited: %s (%s; expected)", p.name, how))
		return
	}
	p.spawnerr = fmt.Sprintf("Bad exit code %d", es)
	p.changeState(now, Exited, false)
	p.log(loglevel.Warn, fmt.Sprintf("exited: %s (%s; not expected)", p.name, how))
}

// Transition is the original's transition(), run after every event and
// whenever Deadline passes: autostart, autorestart and backoff retries
// (only while supervisorRunning), STARTING → RUNNING after startsecs,
// BACKOFF → FATAL when retries are exhausted, SIGKILL after stopwaitsecs.
// Calling it early or twice is harmless: every step re-checks state and time.
func (p *Proc) Transition(now time.Time, supervisorRunning bool) []Effect {
	p.see(now)
	p.mayStart = supervisorRunning
	p.adjustForRollback(now)
	state := p.state // like the original, later steps test the state on entry

	if p.SpawnDue(now, supervisorRunning) {
		then := spawnPending
		if state == Backoff {
			then = spawnThenGiveUp // the Backoff step below, once answered
		}
		_ = p.spawn(now, then) // cannot fail the state assertion from these states
		return p.flush()
	}

	switch state {
	case Starting:
		// Strictly more than startsecs, as the original's `>`.
		if now.Sub(p.laststart) > secs(p.pol.Startsecs) {
			p.delay = time.Time{}
			p.backoff = 0
			p.changeState(now, Running, true)
			p.log(loglevel.Info, fmt.Sprintf("success: %s entered RUNNING state, process has stayed up for "+
				"> than %d seconds (startsecs)", p.name, p.pol.Startsecs))
		}
	case Backoff:
		p.giveUpIfExhausted(now)
	case Stopping:
		if !p.killDue().After(now) {
			p.log(loglevel.Warn, fmt.Sprintf("killing '%s' (%d) with SIGKILL", p.name, p.pid))
			p.lastSigkill = now
			_ = p.kill(now, syscall.SIGKILL)
		}
	}
	return p.flush()
}

// SpawnDue reports whether Transition(now, supervisorRunning) would spawn:
// an autostart, an autorestart or a backoff retry. The owner may fork such
// children ahead of the pass (several at once); the pass then spawns
// exactly these.
func (p *Proc) SpawnDue(now time.Time, supervisorRunning bool) bool {
	if !supervisorRunning || p.pid != 0 {
		return false
	}
	switch p.state {
	case Exited:
		return p.restartWanted() && !now.Before(p.restartDue())
	case Stopped:
		return p.laststart.IsZero() && p.pol.Autostart
	case Backoff:
		return !p.pol.exhausted(p.backoff) && now.After(p.delay)
	}
	return false
}

// SpawnPending reports whether an autostart, autorestart or backoff retry
// is pending, however far off: what the owner may hold back (depends_on).
func (p *Proc) SpawnPending() bool {
	if p.pid != 0 {
		return false
	}
	switch p.state {
	case Exited:
		return p.restartWanted()
	case Stopped:
		return p.laststart.IsZero() && p.pol.Autostart
	case Backoff:
		return !p.pol.exhausted(p.backoff)
	}
	return false
}

// killDue is when the next SIGKILL is due while STOPPING: delay, but with
// stopwaitsecs=0 SIGKILL repeats at most once a second, the pace of the
// original's 1-second poll, instead of in a busy loop.
func (p *Proc) killDue() time.Time {
	if !p.lastSigkill.IsZero() && p.delay.Before(p.lastSigkill.Add(time.Second)) {
		return p.lastSigkill.Add(time.Second)
	}
	return p.delay
}

// restartDue is the earliest autorestart of an EXITED process: one
// Policy.RestartThrottle after its previous start.
func (p *Proc) restartDue() time.Time {
	if p.laststart.IsZero() || p.pol.RestartThrottle <= 0 {
		return time.Time{}
	}
	return p.laststart.Add(p.pol.RestartThrottle)
}

func (p *Proc) restartWanted() bool {
	switch p.pol.Autorestart {
	case AutorestartAlways:
		return true
	case AutorestartUnexpected:
		return !p.pol.expected(p.exitstatus)
	}
	return false
}

// Deadline returns when Transition must run next: zero means no timed work
// is pending; a time not after the owner's clock means at once. The
// original reacts at its next 1-second poll; we react at the exact instant
// (the smallest step after it where the original compares strictly).
func (p *Proc) Deadline() time.Time {
	due := p.seen
	if due.IsZero() {
		due = time.Unix(0, 0)
	}
	switch p.state {
	case Starting:
		return p.laststart.Add(secs(p.pol.Startsecs) + 1)
	case Backoff:
		if p.pol.exhausted(p.backoff) {
			return due // FATAL is decided regardless of the supervisor's mood
		}
		if p.mayStart {
			return p.delay.Add(1)
		}
	case Stopping:
		return p.killDue()
	case Exited:
		if p.mayStart && p.restartWanted() {
			if r := p.restartDue(); r.After(due) {
				return r
			}
			return due
		}
	case Stopped:
		if p.mayStart && p.laststart.IsZero() && p.pol.Autostart {
			return due
		}
	}
	return time.Time{}
}

// adjustForRollback is the original's
// _check_and_adjust_for_system_clock_rollback: if the wall clock went back
// past recorded times, pull them back so that no wait becomes huge. With
// times carrying Go's monotonic reading this never triggers.
func (p *Proc) adjustForRollback(now time.Time) {
	switch p.state {
	case Starting:
		if now.Before(p.laststart) {
			p.laststart = now
		}
		if !p.delay.IsZero() && now.Before(p.delay.Add(-secs(p.pol.Startsecs))) {
			p.delay = now.Add(secs(p.pol.Startsecs))
		}
	case Running:
		if now.After(p.laststart) && now.Before(p.laststart.Add(secs(p.pol.Startsecs))) {
			p.laststart = now.Add(-secs(p.pol.Startsecs))
		}
	case Stopping:
		if now.Before(p.laststopreport) {
			p.laststopreport = now
		}
		if !p.delay.IsZero() && now.Before(p.delay.Add(-secs(p.pol.Stopwaitsecs))) {
			p.delay = now.Add(secs(p.pol.Stopwaitsecs))
		}
	case Backoff:
		if d := p.pol.backoffDelay(p.backoff); !p.delay.IsZero() && now.Before(p.delay.Add(-d)) {
			p.delay = now.Add(d)
		}
	}
}
