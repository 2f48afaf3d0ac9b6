package rpc

import "time"

// Health is gosupervisor.getProcessHealth's answer for one process
// (EXTENSIONS.md §2).
type Health struct {
	Name, Group string
	// Checked is false for a process without healthcheck=; the other
	// fields are then empty.
	Checked bool
	Kind    string // "http", "tcp" or "exec"
	Target  string // the URL, address or command as configured
	// Status is "starting", "healthy" or "unhealthy".
	Status    string
	Failures  int       // consecutive failed checks
	Output    string    // the last check's output, at most 1 KB
	LastError string    // why the last check failed ("" if it passed)
	LastCheck time.Time // when the last check ended; zero: never
}

// Waiting is what a process waits for before it may start (depends_on).
type Waiting struct {
	Name, Group string
	// DependsOn are the process's depends_on namespecs as configured.
	DependsOn []string
	// WaitingFor are the namespecs of dependencies not yet RUNNING (and
	// healthy when checked); empty when the process is not held back.
	WaitingFor []string
}

// ProcessExt is one process's health and dependencies together, for
// readers of every process at once.
type ProcessExt struct {
	Health  Health
	Waiting Waiting
}

// NotReady is one autostart process that keeps /readyz at 503.
type NotReady struct {
	Name, Group string
	State       string // the original's state name
	Health      string // "" unless checked
}

// ExtBackend is what our extensions ask of the engine beyond Backend:
// the gosupervisor.* methods, /readyz, status --json and the console.
type ExtBackend interface {
	// ProcessHealth is BAD_NAME: namespec for an unknown process.
	ProcessHealth(namespec string) (Health, error)
	// ProcessWaiting is BAD_NAME: namespec for an unknown process.
	ProcessWaiting(namespec string) (Waiting, error)
	// Readiness lists the autostart processes that are not RUNNING, or
	// RUNNING but not healthy; empty means ready.
	Readiness() []NotReady
}
