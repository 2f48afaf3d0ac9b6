// Package fleet watches other supervisord daemons named by [remote:NAME]
// sections (EXTENSIONS §8), ours or the Python original, through the
// original's XML-RPC API only: getAllProcessInfo polled with back-off for the
// original, our /api/v1/events stream where the node is ours. Never more
// than one request in flight per node; a slow or dead node delays only its
// own entry. The console (pkg/webui) and `supervisorctl fleet` (pkg/ctl)
// are its users.
//
// This file is the package's seam (written first so that the console and
// the ctl could be built in parallel); see watcher.go for the implementation.
package fleet

import "time"

// State is what the fleet knows of a node's reachability.
type State string

// Node states, shown as such in the console and the ctl.
const (
	Connecting  State = "connecting"  // no answer yet
	Up          State = "up"          // the last request was answered
	Unreachable State = "unreachable" // connection refused, timed out, or the stream broke
	AuthFailed  State = "auth failed" // HTTP 401 (or our 403 UNAUTHORIZED for the watching call)
)

// Kind tells our daemon from the original.
type Kind string

// Node kinds.
const (
	KindUnknown      Kind = ""
	KindGosupervisor Kind = "gosupervisor" // answers gosupervisor.getVersion; live via SSE
	KindSupervisor   Kind = "supervisor"   // the Python original; polled
)

// Process is one entry of a node's getAllProcessInfo (the original's
// struct, keys as there).
type Process struct {
	Name        string `json:"name"`
	Group       string `json:"group"`
	Description string `json:"description"`
	Start       int64  `json:"start"`
	Stop        int64  `json:"stop"`
	Now         int64  `json:"now"`
	State       int    `json:"state"`
	Statename   string `json:"statename"`
	Spawnerr    string `json:"spawnerr"`
	Exitstatus  int    `json:"exitstatus"`
	Logfile     string `json:"logfile"`
	StdoutLog   string `json:"stdout_logfile"`
	StderrLog   string `json:"stderr_logfile"`
	PID         int    `json:"pid"`
}

// Node is one daemon's last known view. Processes are those of the last
// successful answer (kept while the node is unreachable, with State saying so).
type Node struct {
	Name       string    `json:"name"`
	URL        string    `json:"url"`
	State      State     `json:"state"`
	Kind       Kind      `json:"kind"`
	Version    string    `json:"version"`    // getSupervisorVersion (or ours)
	Error      string    `json:"error"`      // why the node is not up ("" when up)
	Updated    time.Time `json:"updated"`    // when Processes were last answered
	Processes  []Process `json:"processes"`  // sorted by group, then name
	Supervisor string    `json:"supervisor"` // getState statename, e.g. RUNNING
}
