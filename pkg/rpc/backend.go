// Package rpc implements the supervisor.* and system.* XML-RPC namespaces of
// supervisord 4.2.5 as a transport-independent dispatcher: Server.Dispatch
// takes a method name and decoded parameters and returns a value that
// pkg/xmlrpc can encode, a *fault.Error, or (for what Python reports as an
// unexpected exception, i.e. HTTP 500) any other error.
//
// The engine implements Backend; this package owns argument checking, name
// parsing, result shapes and the order of checks, so that the engine only
// has to provide the original's process-level semantics.
package rpc

import (
	"context"
	"strings"
	"syscall"
	"time"
)

// Supervisor states (the original's SupervisorStates), as Backend.State reports them.
const (
	StateFatal      = 2
	StateRunning    = 1
	StateRestarting = 0
	StateShutdown   = -1
)

// Process state codes (the original's ProcessStates), as ProcessInfo.State carries them.
const (
	ProcStopped  = 0
	ProcStarting = 10
	ProcRunning  = 20
	ProcBackoff  = 30
	ProcStopping = 40
	ProcExited   = 100
	ProcFatal    = 200
	ProcUnknown  = 1000
)

// Backend is the engine as the RPC namespaces see it. Methods that take a
// namespec receive a single-process name ("name" or "group:name", never
// "group:*" or "group:" — the Server turns those into group operations) and
// must use it verbatim as the extra text of the faults they return.
//
// Errors: a *fault.Error is reported to the client as an XML-RPC fault; any
// other error is an unexpected failure (HTTP 500, or a FAILED entry inside
// system.multicall). The Server checks the shutdown state (SHUTDOWN_STATE)
// before calling anything except SendRemoteCommEvent, so Backend methods need
// not check it.
type Backend interface {
	// State is supervisord's mood and its name: StateRunning "RUNNING",
	// StateRestarting "RESTARTING", StateShutdown "SHUTDOWN", StateFatal "FATAL".
	// A code below StateRunning means shutting down/restarting.
	State() (code int, name string)
	// Identification is the [supervisord] identifier.
	Identification() string
	// PID is supervisord's process id.
	PID() int

	// MainLogPath is the main log's file name, "" when there is none (logfile
	// not a file). The Server reads it with logfile.ReadFile.
	MainLogPath() string
	// ClearMainLog removes the main log file and reopens it, logging
	// "reopening log file". Faults: NO_FILE (bare) when there is no log file or
	// it does not exist, FAILED (bare) when removing fails.
	ClearMainLog() error

	// Shutdown sets the mood to SHUTDOWN; the loop then stops everything and exits.
	Shutdown()
	// Restart sets the mood to RESTARTING.
	Restart()

	// ReloadConfig re-reads the config file (supervisor's reread) and returns
	// the group names the pending config adds, changes and removes relative to
	// the active one, each in the original's order. Faults: CANT_REREAD with the
	// parse error's text as extra.
	ReloadConfig() (added, changed, removed []string, err error)
	// AddGroup activates a group of the pending config. Faults: BAD_NAME: name
	// (not in the pending config), ALREADY_ADDED: name (already active).
	AddGroup(name string) error
	// RemoveGroup deactivates a group. Faults: BAD_NAME: name (not active),
	// STILL_RUNNING: name (some process not in a stopped state).
	RemoveGroup(name string) error

	// Processes returns a snapshot of every active process in start order:
	// groups by priority, processes by priority within each group (the
	// original's sort; ties in config order).
	Processes() []ProcessInfo
	// Group returns a snapshot of the processes of the active group name, in
	// priority order; ok is false if there is no such active group.
	Group(name string) (procs []ProcessInfo, ok bool)

	// StartProcess performs the immediate part of the original's startProcess
	// (SPEC §5.5 steps 2–5): re-check the command (NO_FILE / NOT_EXECUTABLE
	// with the resolver's text), ALREADY_STARTED: namespec if STARTING, RUNNING
	// or BACKOFF, FAILED: "<namespec> is in an unknown process state" if
	// UNKNOWN, spawn, reap once, SPAWN_ERROR: namespec if spawning failed,
	// then one transition. BAD_NAME: namespec if the process is unknown.
	// It returns a nil Waiter when the process is already RUNNING afterwards;
	// otherwise the Waiter blocks until RUNNING (nil), a spawn error
	// (SPAWN_ERROR: namespec) or a state other than STARTING/RUNNING
	// (ABNORMAL_TERMINATION: namespec), or until ctx is done (ctx.Err()).
	// The Server calls the Waiter only when the caller asked to wait.
	StartProcess(namespec string) (Waiter, error)
	// StopProcess performs the immediate part of stopProcess: NOT_RUNNING:
	// namespec unless STARTING, RUNNING or BACKOFF; FAILED: <message> if
	// stopping fails; BAD_NAME: namespec if unknown. It returns a nil Waiter if
	// the process is already in a stopped state (STOPPED, EXITED, FATAL,
	// UNKNOWN) afterwards; otherwise the Waiter blocks until it is (nil) or
	// ctx is done.
	StopProcess(namespec string) (Waiter, error)
	// StartProcesses and StopProcesses are StartProcess and StopProcess
	// for each namespec, in order, as one step of the engine (group and
	// all operations); waiters and errors by index.
	StartProcesses(namespecs []string) ([]Waiter, []error)
	StopProcesses(namespecs []string) ([]Waiter, []error)
	// SignalProcess sends sig (already validated) to the process: NOT_RUNNING:
	// namespec unless STARTING, RUNNING or STOPPING; FAILED: <message> if
	// kill fails; BAD_NAME: namespec if unknown.
	SignalProcess(namespec string, sig syscall.Signal) error

	// LogPath returns the process's log file name for channel "stdout" or
	// "stderr", "" when the channel has no log file. BAD_NAME: namespec if
	// the process is unknown. The Server reads the file itself.
	LogPath(namespec, channel string) (string, error)
	// ClearProcessLogs truncates (removes and reopens) both logs of the
	// process. Faults: BAD_NAME: namespec, FAILED: namespec on I/O errors.
	ClearProcessLogs(namespec string) error
	// SendStdin writes data to the process's stdin. Faults: BAD_NAME: namespec,
	// NOT_RUNNING: namespec (no pid, or being killed), NO_FILE: namespec
	// (stdin closed / EPIPE). Other write errors are unexpected (plain error).
	SendStdin(namespec string, data []byte) error
	// SendRemoteCommEvent emits REMOTE_COMMUNICATION with payload
	// "type:<typ>\n<data>". It must work while shutting down.
	SendRemoteCommEvent(typ, data string) error

	// ConfigInfo describes every process of the pending (last read) config;
	// the Server sorts it by process name.
	ConfigInfo() []ConfigInfo
}

// Waiter blocks until a started/stopped process reaches its target state
// (see Backend.StartProcess and Backend.StopProcess).
type Waiter func(ctx context.Context) error

// ProcessInfo is a snapshot of one process, the fields of SPEC §5.4.
type ProcessInfo struct {
	Name  string // process name
	Group string // group name
	// Start and Stop are laststart/laststop (zero = never); Now is the time the
	// snapshot (and Description) was taken.
	Start, Stop, Now time.Time
	State            int    // Proc* code
	StateName        string // "RUNNING"
	SpawnErr         string // "" if none
	ExitStatus       int    // 0 if none, -1 if killed by a signal
	StdoutLogfile    string // "" if none
	StderrLogfile    string // "" if none
	PID              int    // 0 if none
	Description      string // the original's _interpretProcessInfo text
}

// Namespec is the name the original uses for the process: "name" when it
// equals the group name, else "group:name".
func (p ProcessInfo) Namespec() string { return MakeNamespec(p.Group, p.Name) }

// ChannelConfig is the per-channel part of ConfigInfo.
type ChannelConfig struct {
	Logfile         string // path; "" = None (reported as 'none')
	LogfileAuto     bool   // AUTO not yet resolved (reported as 'auto')
	LogfileMaxbytes int64
	LogfileBackups  int
	CaptureMaxbytes int64
	EventsEnabled   bool
	Syslog          bool
	LogfileEmpty    bool // *_logfile= given empty: reported as '' (not 'none')
}

// ConfigInfo is one process of the pending config (getAllConfigInfo).
type ConfigInfo struct {
	Name, Group    string
	GroupPrio      int
	ProcessPrio    int
	Inuse          bool // the group is active
	Autostart      bool
	Command        string
	Directory      string // "" = None
	DirectoryEmpty bool   // directory= given empty: reported as '' (not 'none')
	UID            int    // -1 = None
	Exitcodes      []int
	Killasgroup    bool
	RedirectStderr bool
	Startretries   int
	Startsecs      int
	Stopwaitsecs   int
	Stopsignal     syscall.Signal
	Serverurl      string
	Stdout, Stderr ChannelConfig
}

// Result is one entry of a group/all operation's result array.
type Result struct {
	Name, Group string
	Status      int    // fault code, 80 (SUCCESS) on success
	Description string // "OK" or the fault text
}

// SplitNamespec splits like the original's split_namespec: "g:p" → (g, p);
// "g:" and "g:*" → (g, ""); "p" → (p, p). An empty process means the group.
func SplitNamespec(namespec string) (group, process string) {
	g, p, ok := strings.Cut(namespec, ":")
	if !ok {
		return namespec, namespec
	}
	if p == "*" {
		p = ""
	}
	return g, p
}

// MakeNamespec is the original's make_namespec.
func MakeNamespec(group, process string) string {
	if group == process {
		return process
	}
	return group + ":" + process
}
