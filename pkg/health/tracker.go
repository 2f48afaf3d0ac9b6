package health

import (
	"fmt"
	"strings"
	"time"

	"github.com/gosupervisor/gosupervisor/pkg/config"
)

// Check identifies one started check. The owner keeps it with the probe it
// runs and passes it back to Finished, so that a result that arrives after
// the check expired, or after the process left RUNNING (or entered it
// again), is recognised as stale and ignored. The zero Check is never
// issued.
type Check struct{ id uint64 }

// IsZero reports whether c is the zero Check (no check).
func (c Check) IsZero() bool { return c.id == 0 }

// Tracker is the health of one process instance: a pure state machine with
// no goroutines and no clock of its own. It is not safe for concurrent use;
// the engine's loop owns it. Its zero value is not usable; see NewTracker.
type Tracker struct {
	kind        config.HealthKind
	interval    time.Duration
	timeout     time.Duration
	retries     int
	startPeriod time.Duration
	action      config.OnUnhealthy

	running   bool
	runningAt time.Time // when the process entered RUNNING
	next      time.Time // when the next check is due (while running and idle)

	lastID   uint64 // the last Check issued; ids never repeat
	inflight Check  // zero: no check in flight
	began    time.Time
	deadline time.Time // began + timeout

	status   Status
	failures int

	lastCheck  time.Time
	lastOK     bool
	lastOutput string
	lastError  string
}

// NewTracker returns a tracker for the check hc, not yet running. It copies
// what it needs, so later changes to hc do not reach it. Settings below
// their floor (interval and timeout 1 s, retries 1, start period 0) are
// raised to it: config validates them, and the floors keep a zero-valued
// HealthCheck from spinning the loop. hc must not be nil.
func NewTracker(hc *config.HealthCheck) *Tracker {
	return &Tracker{
		kind:        hc.Kind,
		interval:    atLeast(hc.Interval, 1),
		timeout:     atLeast(hc.Timeout, 1),
		retries:     max(hc.Retries, 1),
		startPeriod: atLeast(hc.StartPeriod, 0),
		action:      hc.OnUnhealthy,
	}
}

func atLeast(seconds, floor int) time.Duration {
	return time.Duration(max(seconds, floor)) * time.Second
}

// Timeout is the time one check may take: the owner's ctx for a probe, or
// the kill time of an exec check (Deadline gives the instant).
func (t *Tracker) Timeout() time.Duration { return t.timeout }

// Kind is the kind of check (http, tcp, exec).
func (t *Tracker) Kind() config.HealthKind { return t.kind }

// Running is called when the process enters RUNNING. The status goes back
// to starting, failures to 0, and the first check is due one interval
// later (as Docker's first probe). The start period counts from now. A
// check still in flight from before becomes stale.
func (t *Tracker) Running(now time.Time) {
	t.reset()
	t.running = true
	t.runningAt = now
	t.next = now.Add(t.interval)
}

// Stopped is called when the process leaves RUNNING: no more checks, and
// the status is starting for the next run. It returns the check in flight,
// if any, for the owner to cancel (http/tcp) or kill (exec); its result
// will be ignored. The last result stays queryable (Info).
func (t *Tracker) Stopped() (Check, bool) {
	c := t.inflight
	t.reset()
	return c, !c.IsZero()
}

func (t *Tracker) reset() {
	t.running = false
	t.next = time.Time{}
	t.inflight = Check{}
	t.began, t.deadline = time.Time{}, time.Time{}
	t.status = Starting
	t.failures = 0
}

// Due reports whether a check should start at now: the process is
// RUNNING, no check is in flight, and the interval since the last check's
// end (or since RUNNING) has passed.
func (t *Tracker) Due(now time.Time) bool {
	return t.running && t.inflight.IsZero() && !now.Before(t.next)
}

// Next is when the next check is due; zero while not RUNNING or while a
// check is in flight (the next one is scheduled when it ends).
func (t *Tracker) Next() time.Time {
	if !t.running || !t.inflight.IsZero() {
		return time.Time{}
	}
	return t.next
}

// Deadline is when the check in flight times out (zero: none in flight).
// At that time the owner calls Expire.
func (t *Tracker) Deadline() time.Time { return t.deadline }

// Wake is when the owner's loop must call into the tracker next: Deadline
// while a check is in flight, else Next; zero when there is nothing to do.
// It is never in the past after the owner has handled the present (Due
// started, Expire expired), so a loop that sleeps until Wake cannot spin.
func (t *Tracker) Wake() time.Time {
	if !t.inflight.IsZero() {
		return t.deadline
	}
	return t.Next()
}

// Started begins the due check: the owner runs the probe with a ctx bound
// by Timeout (or spawns the exec check, killed at Deadline) and reports
// with Finished. It refuses (false) unless Due(now): at most one check is
// in flight, and none while not RUNNING.
func (t *Tracker) Started(now time.Time) (Check, bool) {
	if !t.Due(now) {
		return Check{}, false
	}
	t.lastID++
	t.inflight = Check{id: t.lastID}
	t.began = now
	t.deadline = now.Add(t.timeout)
	return t.inflight, true
}

// InFlight returns the check in flight, if any.
func (t *Tracker) InFlight() (Check, bool) { return t.inflight, !t.inflight.IsZero() }

// Finished records the result of check c, which ended at now, and tells the
// owner what it means. The next check is due one interval after now. A
// result for any check but the one in flight (stale: expired, or from an
// earlier run) changes nothing and returns the zero Decision.
func (t *Tracker) Finished(now time.Time, c Check, r Result) Decision {
	if c.IsZero() || c != t.inflight {
		return Decision{}
	}
	began := t.began
	t.inflight = Check{}
	t.began, t.deadline = time.Time{}, time.Time{}
	t.next = now.Add(t.interval)
	t.record(now, r)
	if r.OK {
		return t.succeeded()
	}
	return t.failed(began)
}

// Expire ends the check in flight as a failure "timeout after Ns" once its
// Deadline has passed, so a probe or exec child that never reports cannot
// stall the checks. It returns that check for the owner to cancel or kill
// (its late result is stale) and the Decision; false when nothing expired.
func (t *Tracker) Expire(now time.Time) (Check, Decision, bool) {
	c := t.inflight
	if c.IsZero() || now.Before(t.deadline) {
		return Check{}, Decision{}, false
	}
	return c, t.Finished(now, c, Result{Err: TimeoutText(t.timeout)}), true
}

func (t *Tracker) record(now time.Time, r Result) {
	t.lastCheck = now
	t.lastOK = r.OK
	t.lastOutput = clip(r.Output, false)
	t.lastError = r.Err
}

// succeeded: any success makes the process healthy and forgets the
// failures; during the start period it also ends that period (the status
// is no longer starting), as in Docker.
func (t *Tracker) succeeded() Decision {
	t.failures = 0
	tr := NoChange
	if t.status != Healthy {
		t.status = Healthy
		tr = BecameHealthy
	}
	return Decision{Transition: tr, Status: t.status, Action: t.action}
}

// failed counts a failure unless the check began within the start period
// while still starting, and turns the process unhealthy at the retries-th
// consecutive one, once: later failures only count.
func (t *Tracker) failed(began time.Time) Decision {
	d := Decision{Status: t.status, Failures: t.failures, Action: t.action}
	if t.status == Starting && began.Sub(t.runningAt) < t.startPeriod {
		return d
	}
	t.failures++
	d.Failures = t.failures
	if t.failures >= t.retries && t.status != Unhealthy {
		t.status = Unhealthy
		d.Status = Unhealthy
		d.Transition = BecameUnhealthy
		d.Act = t.action != config.UnhealthyIgnore
	}
	return d
}

// Status returns the current status.
func (t *Tracker) Status() Status { return t.status }

// Failures returns the consecutive counted failures of this run.
func (t *Tracker) Failures() int { return t.failures }

// Info returns a snapshot for the RPC and the console.
func (t *Tracker) Info() Info {
	return Info{
		Kind:       t.kind,
		Status:     t.status,
		Failures:   t.failures,
		LastCheck:  t.lastCheck,
		LastOK:     t.lastOK,
		LastOutput: t.lastOutput,
		LastError:  t.lastError,
		Running:    t.running,
		InFlight:   !t.inflight.IsZero(),
		Next:       t.Next(),
	}
}

// maxReason bounds the reason in Describe, which ends up on one line of
// supervisorctl status.
const maxReason = 120

// Describe is the supervisorctl status suffix: "healthy", or "unhealthy
// (3 failures: connection refused)" with the last error (or the first line
// of the last output when there is no error), or "" while starting, so the
// owner appends ", " + Describe() to the description only when it is not
// empty: a process that is not RUNNING keeps the original's description.
func (t *Tracker) Describe() string {
	switch t.status {
	case Healthy:
		return "healthy"
	case Unhealthy:
		return describeUnhealthy(t.failures, t.reason())
	}
	return ""
}

func describeUnhealthy(failures int, reason string) string {
	noun := "failures"
	if failures == 1 {
		noun = "failure"
	}
	if reason == "" {
		return fmt.Sprintf("unhealthy (%d %s)", failures, noun)
	}
	return fmt.Sprintf("unhealthy (%d %s: %s)", failures, noun, reason)
}

func (t *Tracker) reason() string {
	r := t.lastError
	if r == "" {
		r = firstLine(t.lastOutput)
	}
	return cutUTF8(r, maxReason, "…")
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSpace(s)
}
