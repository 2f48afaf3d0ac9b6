package config

import "github.com/gosupervisor/gosupervisor/pkg/shlex"

// Keys of our own (../shared/EXTENSIONS.md §1–§3) on [program:x] and
// [group:x]. A config that uses none of them leaves every field here at
// its zero value, and behaves as under the original.

// Extensions are a process's settings beyond the original's keys.
type Extensions struct {
	// DependsOn are the namespecs of depends_on as written ("db",
	// "cache:*", "grp:name"), the group's [group:x] depends_on first.
	// Load checks that each names something and that there is no cycle;
	// the engine resolves them against the active groups.
	DependsOn []string
	// Health is the health check; nil when healthcheck is not set.
	Health *HealthCheck
	// Backoff is how BACKOFF delays grow: the original's linear 1, 2, 3 s,
	// or exponential 1, 2, 4, 8 s.
	Backoff Backoff
	// BackoffMax caps one delay, in seconds; 0 means no cap.
	BackoffMax int
	// StartretriesUnlimited: startretries=unlimited, BACKOFF never gives up.
	StartretriesUnlimited bool
	// Critical: when the process goes FATAL (or unhealthy with
	// on_unhealthy=shutdown) supervisord stops everything and exits 1.
	Critical bool
	// EnvironmentFile is the program's environment_file (§4), read at
	// every spawn between [supervisord]'s environment and the program's.
	EnvironmentFile EnvFile
	// DaemonEnvironmentFile is [supervisord] environment_file, copied into
	// each process so that its spawns read it and update compares it.
	DaemonEnvironmentFile EnvFile
	// DaemonEnvironment and ProgramEnvironment are the [supervisord] and
	// the program's environment= that Environment merges, kept apart
	// because the environment files go between them (SpawnEnvironment).
	// Set only when one of the two files is; nil otherwise.
	DaemonEnvironment, ProgramEnvironment []shlex.KV
	OutputExtensions
}

// Backoff is the backoff= policy.
type Backoff int

const (
	BackoffLinear Backoff = iota
	BackoffExponential
)

func (b Backoff) String() string {
	if b == BackoffExponential {
		return "exponential"
	}
	return "linear"
}

// HealthCheck is healthcheck= and its healthcheck_* settings.
type HealthCheck struct {
	Kind   HealthKind
	Target string   // http(s) URL or tcp host:port, expanded
	Argv   []string // exec: the command, split like command= (no shell)
	// Interval, Timeout and StartPeriod are seconds; Retries is the number
	// of consecutive failures that make the process unhealthy.
	Interval, Timeout, Retries, StartPeriod int
	OnUnhealthy                             OnUnhealthy
}

// HealthKind is the kind of check.
type HealthKind int

const (
	HealthHTTP HealthKind = iota + 1
	HealthTCP
	HealthExec
)

func (k HealthKind) String() string {
	switch k {
	case HealthHTTP:
		return "http"
	case HealthTCP:
		return "tcp"
	case HealthExec:
		return "exec"
	}
	return "none"
}

// OnUnhealthy is what an unhealthy process leads to.
type OnUnhealthy int

const (
	UnhealthyRestart OnUnhealthy = iota
	UnhealthyIgnore
	UnhealthyShutdown
)

func (o OnUnhealthy) String() string {
	switch o {
	case UnhealthyIgnore:
		return "ignore"
	case UnhealthyShutdown:
		return "shutdown"
	}
	return "restart"
}

// Keys of EXTENSIONS.md §4–§5 (environment files, container logs). Their
// types are here; logkeys.go parses them.

// EnvFile is an environment_file= value (§4).
type EnvFile struct {
	Path string // absolute, expanded; "" = none
	// Optional: the value had systemd's leading "-", so a missing file is
	// no error.
	Optional bool
	// Digest identifies the variables read at load ("" = none); it is
	// compared by reread, so that update restarts a program whose file's
	// names or values changed (not its comments or quoting).
	Digest string
}

// OutputExtensions are a process's per-stream log keys (§5).
type OutputExtensions struct {
	// StdoutForward/StderrForward copy each whole line of the stream to
	// supervisord's own stdout/stderr, prefixed "name | ".
	StdoutForward, StderrForward bool
	// StdoutLogFormat/StderrLogFormat shape the bytes written to the log
	// file and forwarded: raw (the original), timestamped or json.
	StdoutLogFormat, StderrLogFormat LogFormat
}

// LogFormat is a *_log_format= value.
type LogFormat int

const (
	LogRaw LogFormat = iota
	LogTimestamped
	LogJSON
)

func (f LogFormat) String() string {
	switch f {
	case LogTimestamped:
		return "timestamped"
	case LogJSON:
		return "json"
	}
	return "raw"
}

// MainLogFormat is [supervisord] logformat=: the original's text lines or
// zap's JSON encoder.
type MainLogFormat int

const (
	MainLogText MainLogFormat = iota
	MainLogJSON
)

func (f MainLogFormat) String() string {
	if f == MainLogJSON {
		return "json"
	}
	return "text"
}
