package webui

import (
	"net/http"
	"strings"

	"github.com/gorilla/mux"

	"github.com/gosupervisor/gosupervisor/pkg/config"
	"github.com/gosupervisor/gosupervisor/pkg/rpc"
)

// The console's process detail view (issue 17): the history of a process
// (state changes and resource samples, kept by the engine) and its
// resolved config.

// transitionJSON is one state change. Time is Unix seconds to the
// millisecond; exitstatus and signal are there only for a change caused
// by an exit.
type transitionJSON struct {
	Time       float64 `json:"time"`
	From       string  `json:"from"`
	To         string  `json:"to"`
	PID        int     `json:"pid,omitempty"`
	Expected   bool    `json:"expected"`
	ExitStatus *int    `json:"exitstatus,omitempty"`
	Signal     string  `json:"signal,omitempty"`
	SpawnErr   string  `json:"spawnerr,omitempty"`
}

// sampleJSON is one resource sample; fds is null when unreadable.
type sampleJSON struct {
	Time int64   `json:"time"`
	CPU  float64 `json:"cpu"`
	RSS  int64   `json:"rss"`
	FDs  *int    `json:"fds"`
}

type historyJSON struct {
	Namespec    string           `json:"namespec"`
	Sampling    bool             `json:"sampling"`
	SampleEvery int              `json:"sample_every"` // seconds
	Now         float64          `json:"now"`
	Transitions []transitionJSON `json:"transitions"`
	Samples     []sampleJSON     `json:"samples"`
}

// historyBackend is the engine's history (supervisor.Supervisor).
type historyBackend interface {
	rpc.HistoryBackend
	RecentRestarts() map[string]int
	WatchHistory() (release func())
	ProcessConfig(namespec string) (*config.Process, error)
}

func (h *handler) historyRoutes(r *mux.Router) {
	r.HandleFunc("/processes/{ns}/history", h.getHistory).Methods(http.MethodGet)
	r.HandleFunc("/processes/{ns}/config", h.getConfig).Methods(http.MethodGet)
}

func (h *handler) getHistory(w http.ResponseWriter, r *http.Request) {
	ns := mux.Vars(r)["ns"]
	hist, err := h.hist.ProcessHistory(ns)
	if err != nil {
		writeFailure(w, err)
		return
	}
	out := historyJSON{
		Namespec: rpc.MakeNamespec(hist.Group, hist.Name), Sampling: hist.Sampling,
		SampleEvery: int(hist.SampleEvery.Seconds()),
		Now:         float64(h.clock().UnixMilli()) / 1000,
		Transitions: make([]transitionJSON, len(hist.Transitions)),
		Samples:     make([]sampleJSON, len(hist.Samples)),
	}
	for i, t := range hist.Transitions {
		tj := transitionJSON{
			Time: float64(t.Time.UnixMilli()) / 1000, From: t.From, To: t.To, PID: t.Pid,
			Expected: t.Expected, Signal: t.Signal, SpawnErr: t.Spawnerr,
		}
		if t.Exited {
			es := t.ExitStatus
			tj.ExitStatus = &es
		}
		out.Transitions[i] = tj
	}
	for i, s := range hist.Samples {
		sj := sampleJSON{Time: s.Time.Unix(), CPU: s.CPU, RSS: s.RSS}
		if s.FDs >= 0 {
			fds := s.FDs
			sj.FDs = &fds
		}
		out.Samples[i] = sj
	}
	writeJSON(w, http.StatusOK, out)
}

// configJSON is a process's resolved config: getAllConfigInfo's entry
// for it (the pending config, as the original gives it) and the values of
// our keys that it sets, by key name, in the active config.
type configJSON struct {
	Namespec   string         `json:"namespec"`
	Config     map[string]any `json:"config"`
	Extensions map[string]any `json:"extensions"`
}

func (h *handler) getConfig(w http.ResponseWriter, r *http.Request) {
	ns := mux.Vars(r)["ns"]
	pc, err := h.hist.ProcessConfig(ns)
	if err != nil {
		writeFailure(w, err)
		return
	}
	all, err := h.call(r.Context(), "supervisor.getAllConfigInfo")
	if err != nil {
		writeFailure(w, err)
		return
	}
	out := configJSON{Namespec: rpc.MakeNamespec(pc.Group, pc.Name), Extensions: extensionKeys(pc)}
	list, _ := all.([]any)
	for _, e := range list {
		if m, ok := e.(map[string]any); ok && m["group"] == pc.Group && m["name"] == pc.Name {
			out.Config = m
		}
	}
	if out.Config == nil {
		// Removed from the file since (pending config): only ours to show.
		out.Config = map[string]any{}
	}
	writeJSON(w, http.StatusOK, out)
}

// extensionKeys are the keys of EXTENSIONS.md that p sets, as written in
// a config file.
func extensionKeys(p *config.Process) map[string]any {
	out := map[string]any{}
	e := &p.Extensions
	if len(e.DependsOn) > 0 {
		out["depends_on"] = strings.Join(e.DependsOn, ", ")
	}
	if hc := e.Health; hc != nil {
		target := hc.Target
		if hc.Kind == config.HealthExec {
			target = "exec:" + strings.Join(hc.Argv, " ")
		} else if hc.Kind == config.HealthTCP {
			target = "tcp://" + hc.Target
		}
		out["healthcheck"] = target
		out["healthcheck_interval"] = hc.Interval
		out["healthcheck_timeout"] = hc.Timeout
		out["healthcheck_retries"] = hc.Retries
		out["healthcheck_start_period"] = hc.StartPeriod
		out["on_unhealthy"] = hc.OnUnhealthy.String()
	}
	if e.Backoff != config.BackoffLinear {
		out["backoff"] = e.Backoff.String()
	}
	if e.BackoffMax != 0 {
		out["backoff_max"] = e.BackoffMax
	}
	if e.StartretriesUnlimited {
		out["startretries"] = "unlimited"
	}
	if e.Critical {
		out["critical"] = true
	}
	if f := e.EnvironmentFile; f.Path != "" {
		v := f.Path
		if f.Optional {
			v = "-" + v
		}
		out["environment_file"] = v
	}
	if e.StdoutForward {
		out["stdout_forward"] = true
	}
	if e.StderrForward {
		out["stderr_forward"] = true
	}
	if e.StdoutLogFormat != config.LogRaw {
		out["stdout_log_format"] = e.StdoutLogFormat.String()
	}
	if e.StderrLogFormat != config.LogRaw {
		out["stderr_log_format"] = e.StderrLogFormat.String()
	}
	return out
}

// agedFlaps marks for the next update the processes whose restarts of the
// last ten minutes changed since they were sent, as old restarts leave
// the window.
func (st *eventStream) agedFlaps() {
	now := st.h.hist.RecentRestarts()
	for ns, n := range st.flaps {
		if now[ns] != n {
			st.dirty[ns] = true
			st.arm()
		}
	}
}
