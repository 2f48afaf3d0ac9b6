// Package health is the health checks of EXTENSIONS.md §2: a pure
// per-process Tracker that decides when checks run and what their results
// mean, the http and tcp probes that run off the engine's loop, and the
// helpers that turn an exec check's exit into a Result.
//
// The package forks nothing and starts no goroutine of its own. The engine
// owns the loop, its one timer and the reaper: it asks the Tracker when the
// next check is due (Wake), runs the probe (a goroutine for http/tcp, a
// reaped child for exec), and hands the outcome back with Finished. The
// Tracker never reads the clock; every time is passed in, as in
// pkg/process. See HEALTH.md for the rules and the owner's loop.
package health

import (
	"time"

	"github.com/gosupervisor/gosupervisor/pkg/config"
)

// Status is a process's health. Its numbers are the /metrics gauge
// supervisord_process_health: 0 starting, 1 healthy, 2 unhealthy.
type Status int

const (
	// Starting: no verdict yet in this run (the status of every process
	// that is not RUNNING, and of a RUNNING one until a check decides).
	Starting Status = iota
	// Healthy: the last check succeeded.
	Healthy
	// Unhealthy: retries consecutive counted checks failed.
	Unhealthy
)

// String is the name shown by getProcessHealth, status --json and the API.
func (s Status) String() string {
	switch s {
	case Healthy:
		return "healthy"
	case Unhealthy:
		return "unhealthy"
	}
	return "starting"
}

// Result is the outcome of one check.
type Result struct {
	// OK: the check passed (2xx/3xx, connected, exit 0).
	OK bool
	// Output is what the check said: the HTTP body or the exec check's
	// combined output, at most MaxOutput bytes of valid UTF-8 (the Tracker
	// clips longer text and marks the cut).
	Output string
	// Err is a short reason for a failure ("connection refused",
	// "timeout after 3s", "HTTP 503", "exit status 1"); "" when OK.
	Err string
}

// Transition is the change of status a result caused, if any.
type Transition int

const (
	// NoChange: the status stays (also the answer to a stale result).
	NoChange Transition = iota
	// BecameHealthy: starting or unhealthy → healthy; the owner emits
	// PROCESS_HEALTH_HEALTHY.
	BecameHealthy
	// BecameUnhealthy: starting or healthy → unhealthy; the owner emits
	// PROCESS_HEALTH_UNHEALTHY and, when Act is set, carries out Action.
	BecameUnhealthy
)

func (t Transition) String() string {
	switch t {
	case BecameHealthy:
		return "became healthy"
	case BecameUnhealthy:
		return "became unhealthy"
	}
	return "no change"
}

// Decision tells the owner what a finished (or expired) check means. The
// Tracker has already applied it to itself; the owner only acts on it.
type Decision struct {
	Transition Transition
	// Status is the status after the result.
	Status Status
	// Failures is the count of consecutive counted failures after the
	// result (the events' failures:N); 0 after a success.
	Failures int
	// Action is on_unhealthy; meaningful with BecameUnhealthy.
	Action config.OnUnhealthy
	// Act is set exactly once per transition to unhealthy, when Action is
	// restart or shutdown: the owner restarts the process or shuts down.
	Act bool
}

// Info is a snapshot for getProcessHealth, /api/v1, status --json and the
// console. It is a plain value that the loop may hand to other goroutines.
type Info struct {
	Kind     config.HealthKind
	Status   Status
	Failures int // consecutive counted failures in this run
	// LastCheck is when the last check ended (zero: none finished yet).
	// The last result survives Stopped, so after an on_unhealthy restart
	// the reason stays visible until the next check of the new run.
	LastCheck  time.Time
	LastOK     bool
	LastOutput string
	LastError  string
	// Running: health is being checked (the process is RUNNING).
	Running bool
	// InFlight: a check has started and not finished.
	InFlight bool
	// Next is when the next check starts (zero while none is scheduled).
	Next time.Time
}
