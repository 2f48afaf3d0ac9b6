package webui

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/gorilla/mux"

	"github.com/gosupervisor/gosupervisor/pkg/fault"
	"github.com/gosupervisor/gosupervisor/pkg/rpc"
	"github.com/gosupervisor/gosupervisor/pkg/version"
	"github.com/gosupervisor/gosupervisor/pkg/xmlrpc"
)

// api registers the /api/v1 routes on r.
func (h *handler) api(r *mux.Router) {
	get, post := http.MethodGet, http.MethodPost
	r.HandleFunc("/supervisor", h.getSupervisor).Methods(get)
	r.HandleFunc("/processes", h.listProcesses).Methods(get)
	r.HandleFunc("/processes/{ns}", h.getProcess).Methods(get)
	r.HandleFunc("/processes/{ns}/{action:start|stop|restart|signal|clear}", h.processAction).Methods(post)
	r.HandleFunc("/groups/{name}/{action:start|stop|restart|signal}", h.groupAction).Methods(post)
	r.HandleFunc("/all/{action:start|stop|restart|signal|clear}", h.allAction).Methods(post)
	r.HandleFunc("/config/diff", h.configDiff).Methods(get, post)
	r.HandleFunc("/config/update", h.configUpdate).Methods(post)
	r.HandleFunc("/logs/{ns}/{channel:stdout|stderr}", h.readLog).Methods(get)
	r.HandleFunc("/logs/{ns}/{channel:stdout|stderr}/download", h.downloadLog).Methods(get)
	r.HandleFunc("/logs/{ns}/{channel:stdout|stderr}/stream", h.streamLog).Methods(get)
	r.HandleFunc("/mainlog", h.readLog).Methods(get)
	r.HandleFunc("/mainlog/download", h.downloadLog).Methods(get)
	r.HandleFunc("/mainlog/stream", h.streamLog).Methods(get)
	r.HandleFunc("/mainlog/clear", h.clearMainLog).Methods(post)
	r.HandleFunc("/events", h.events).Methods(get)
	h.historyRoutes(r)
	h.fleetRoutes(r)
}

// supervisorJSON identifies the daemon.
type supervisorJSON struct {
	Identification string `json:"identification"`
	State          string `json:"statename"`
	StateCode      int    `json:"statecode"`
	PID            int    `json:"pid"`
	// Version is our release (0.2.0); SupervisorVersion the supervisor
	// release whose behaviour we reproduce (4.2.5).
	Version           string `json:"version"`
	SupervisorVersion string `json:"supervisor_version"`
	APIVersion        string `json:"api_version"`
	MainLog           bool   `json:"mainlog"` // whether /mainlog has anything to show
	// Role is the caller's (readonly, operator or admin), only for a
	// config with [user:NAME] sections.
	Role string `json:"role,omitempty"`
}

func (h *handler) supervisorInfo() supervisorJSON {
	code, name := h.sup.State()
	return supervisorJSON{
		Identification: h.sup.Identification(), State: name, StateCode: code,
		PID: h.sup.PID(), Version: version.Release(), SupervisorVersion: version.Compat,
		APIVersion: version.APIVersion,
		MainLog:    h.sup.MainLogRing() != nil || h.sup.MainLogPath() != "",
	}
}

func (h *handler) getSupervisor(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, withRole(r, h.supervisorInfo()))
}

// procJSON is one process as the API shows it. Times are Unix seconds (0 =
// never); CPU and RSS are null when the process has no pid or /proc cannot
// be read.
type procJSON struct {
	Namespec      string   `json:"namespec"`
	Name          string   `json:"name"`
	Group         string   `json:"group"`
	State         int      `json:"state"`
	StateName     string   `json:"statename"`
	Description   string   `json:"description"`
	PID           int      `json:"pid"`
	Start         int64    `json:"start"`
	Stop          int64    `json:"stop"`
	Now           int64    `json:"now"`
	Uptime        int64    `json:"uptime"` // seconds since start while the process has a pid
	ExitStatus    int      `json:"exitstatus"`
	SpawnErr      string   `json:"spawnerr"`
	StdoutLogfile string   `json:"stdout_logfile"`
	StderrLogfile string   `json:"stderr_logfile"`
	Spawns        int      `json:"spawns"`
	Restarts      int      `json:"restarts"` // spawns after the first
	CPU           *float64 `json:"cpu"`      // percent of one CPU
	RSS           *int64   `json:"rss"`      // bytes

	// Our extensions (EXTENSIONS.md §1, §2), each left out when unused so
	// that a process without our keys is shown exactly as before: health
	// only for a process with healthcheck=, depends_on only when
	// configured, waiting_for only while depends_on holds a start back.
	Health     *healthJSON `json:"health,omitempty"`
	DependsOn  []string    `json:"depends_on,omitempty"`
	WaitingFor []string    `json:"waiting_for,omitempty"`

	// RecentRestarts are the automatic restarts of the last ten minutes
	// (the console's flapping indicator), left out when none.
	RecentRestarts int `json:"recent_restarts,omitempty"`
}

// healthJSON is a checked process's health, as gosupervisor.getProcessHealth
// and `supervisorctl status --json` show it.
type healthJSON struct {
	Kind      string `json:"kind"`   // http, tcp or exec
	Target    string `json:"target"` // the URL, address or command
	Status    string `json:"status"` // starting, healthy or unhealthy
	Failures  int    `json:"failures"`
	Output    string `json:"output"` // the last check's, at most 1 KB
	LastError string `json:"last_error"`
	LastCheck int64  `json:"last_check"` // Unix seconds, 0: never
}

func unix(t interface{ Unix() int64 }, zero bool) int64 {
	if zero {
		return 0
	}
	return t.Unix()
}

func (h *handler) procJSON(p rpc.ProcessInfo, spawns map[string]int, exts map[string]rpc.ProcessExt) procJSON {
	ns := p.Namespec()
	out := procJSON{
		Namespec: ns, Name: p.Name, Group: p.Group, State: p.State, StateName: p.StateName,
		Description: p.Description, PID: p.PID,
		Start: unix(p.Start, p.Start.IsZero()), Stop: unix(p.Stop, p.Stop.IsZero()), Now: p.Now.Unix(),
		ExitStatus: p.ExitStatus, SpawnErr: p.SpawnErr,
		StdoutLogfile: p.StdoutLogfile, StderrLogfile: p.StderrLogfile,
		Spawns: spawns[ns],
	}
	if out.Spawns > 1 {
		out.Restarts = out.Spawns - 1
	}
	if p.PID != 0 && !p.Start.IsZero() {
		out.Uptime = int64(p.Now.Sub(p.Start).Seconds())
		if out.Uptime < 0 {
			out.Uptime = 0
		}
	}
	if p.PID != 0 {
		if st, ok := h.stats.get(p.PID); ok {
			out.CPU, out.RSS = &st.cpu, &st.rss
		}
	}
	if e, ok := exts[ns]; ok {
		out.extensions(e)
	}
	return out
}

// extensions fills in the health check and dependencies of p.
func (p *procJSON) extensions(e rpc.ProcessExt) {
	if hl := e.Health; hl.Checked {
		p.Health = &healthJSON{
			Kind: hl.Kind, Target: hl.Target, Status: hl.Status, Failures: hl.Failures,
			Output: hl.Output, LastError: hl.LastError, LastCheck: unix(hl.LastCheck, hl.LastCheck.IsZero()),
		}
	}
	if len(e.Waiting.DependsOn) > 0 {
		p.DependsOn = e.Waiting.DependsOn
	}
	if len(e.Waiting.WaitingFor) > 0 {
		p.WaitingFor = e.Waiting.WaitingFor
	}
}

// snapshot is every process, in (group, name) order as the original's
// getAllProcessInfo.
func (h *handler) snapshot() []procJSON {
	procs := h.sup.Processes()
	spawns := h.sup.Spawns()
	exts := h.ext.ProcessExtensions()
	flaps := h.hist.RecentRestarts()
	out := make([]procJSON, 0, len(procs))
	pids := make([]int, 0, len(procs))
	for _, p := range procs {
		pj := h.procJSON(p, spawns, exts)
		pj.RecentRestarts = flaps[pj.Namespec]
		out = append(out, pj)
		if p.PID != 0 {
			pids = append(pids, p.PID)
		}
	}
	h.stats.prune(pids)
	sortProcs(out)
	return out
}

func sortProcs(ps []procJSON) {
	// Insertion sort keeps it dependency-free and stable; lists are small.
	for i := 1; i < len(ps); i++ {
		for j := i; j > 0 && less(ps[j], ps[j-1]); j-- {
			ps[j], ps[j-1] = ps[j-1], ps[j]
		}
	}
}

func less(a, b procJSON) bool {
	if a.Group != b.Group {
		return a.Group < b.Group
	}
	return a.Name < b.Name
}

type listJSON struct {
	Supervisor supervisorJSON `json:"supervisor"`
	Processes  []procJSON     `json:"processes"`
}

func (h *handler) listProcesses(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, listJSON{Supervisor: withRole(r, h.supervisorInfo()), Processes: h.snapshot()})
}

// find returns the process named by namespec ("name" or "group:name").
func (h *handler) find(namespec string) (procJSON, error) {
	g, p := rpc.SplitNamespec(namespec)
	for _, pj := range h.snapshot() {
		if pj.Group == g && pj.Name == p {
			return pj, nil
		}
	}
	return procJSON{}, fault.New(fault.BadName, namespec)
}

func (h *handler) getProcess(w http.ResponseWriter, r *http.Request) {
	p, err := h.find(mux.Vars(r)["ns"])
	if err != nil {
		writeFailure(w, err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}

// params are an action's parameters, from the query string or a JSON or
// form body: wait (default true) and signal.
type params struct {
	Wait   bool
	Signal string
	Groups []string // config/update: only these groups
}

func readParams(r *http.Request) (params, error) {
	p := params{Wait: true}
	body := struct {
		Wait   *bool    `json:"wait"`
		Signal string   `json:"signal"`
		Groups []string `json:"groups"`
	}{}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "application/json":
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&body); err != nil && !errors.Is(err, io.EOF) {
			return p, errors.New("invalid JSON body: " + err.Error())
		}
	case "application/x-www-form-urlencoded", "multipart/form-data":
		if err := r.ParseForm(); err != nil {
			return p, errors.New("invalid form body: " + err.Error())
		}
	}
	if body.Wait != nil {
		p.Wait = *body.Wait
	}
	p.Signal, p.Groups = body.Signal, body.Groups
	if v := r.FormValue("wait"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return p, errors.New("wait must be true or false, not " + strconv.Quote(v))
		}
		p.Wait = b
	}
	if v := r.FormValue("signal"); v != "" {
		p.Signal = v
	}
	if v := r.FormValue("groups"); v != "" {
		p.Groups = strings.Split(v, ",")
	}
	return p, nil
}

// call dispatches one RPC and converts its result to JSON-friendly values.
func (h *handler) call(ctx context.Context, method string, args ...any) (any, error) {
	if args == nil {
		args = []any{}
	}
	v, err := h.rpc.Dispatch(ctx, method, args)
	if err != nil {
		return nil, err
	}
	return jsonValue(v), nil
}

// jsonValue turns pkg/xmlrpc result values into values encoding/json writes
// naturally (ordered structs become objects).
func jsonValue(v any) any {
	switch x := v.(type) {
	case xmlrpc.Struct:
		m := make(map[string]any, len(x))
		for _, mem := range x {
			m[mem.Name] = jsonValue(mem.Value)
		}
		return m
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = jsonValue(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = jsonValue(e)
		}
		return out
	}
	return v
}

// isFault reports whether err is the fault code c.
func isFault(err error, c fault.Code) bool {
	var f *fault.Error
	return errors.As(err, &f) && f.Code == c
}

func (h *handler) processAction(w http.ResponseWriter, r *http.Request) {
	v := mux.Vars(r)
	ns, action := v["ns"], v["action"]
	if strings.HasSuffix(ns, ":*") || strings.HasSuffix(ns, ":") {
		writeError(w, http.StatusBadRequest, errBadRequest("use /api/v1/groups/{name}/"+action+" for a whole group"))
		return
	}
	p, err := readParams(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, errBadRequest(err.Error()))
		return
	}
	ctx := r.Context()
	var res any
	switch action {
	case "start":
		res, err = h.call(ctx, "supervisor.startProcess", ns, p.Wait)
	case "stop":
		res, err = h.call(ctx, "supervisor.stopProcess", ns, p.Wait)
	case "restart":
		// supervisorctl restart: stop (not running is fine), then start.
		if _, err = h.call(ctx, "supervisor.stopProcess", ns, true); err == nil || isFault(err, fault.NotRunning) {
			res, err = h.call(ctx, "supervisor.startProcess", ns, p.Wait)
		}
	case "signal":
		if p.Signal == "" {
			writeError(w, http.StatusBadRequest, errBadRequest("signal requires a signal name or number"))
			return
		}
		res, err = h.call(ctx, "supervisor.signalProcess", ns, p.Signal)
	case "clear":
		res, err = h.call(ctx, "supervisor.clearProcessLogs", ns)
	}
	if err != nil {
		writeFailure(w, err)
		return
	}
	out := map[string]any{"result": res}
	if pj, ferr := h.find(ns); ferr == nil {
		out["process"] = pj
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *handler) groupAction(w http.ResponseWriter, r *http.Request) {
	v := mux.Vars(r)
	h.multi(w, r, v["action"], v["name"])
}

func (h *handler) allAction(w http.ResponseWriter, r *http.Request) {
	h.multi(w, r, mux.Vars(r)["action"], "")
}

// multi runs a group action (group != "") or an all-processes action and
// answers with the per-process results of the original.
func (h *handler) multi(w http.ResponseWriter, r *http.Request, action, group string) {
	p, err := readParams(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, errBadRequest(err.Error()))
		return
	}
	if action == "signal" && p.Signal == "" {
		writeError(w, http.StatusBadRequest, errBadRequest("signal requires a signal name or number"))
		return
	}
	ctx := r.Context()
	do := func(verb string, wait bool) (any, error) {
		switch {
		case verb == "clear":
			return h.call(ctx, "supervisor.clearAllProcessLogs")
		case verb == "signal" && group != "":
			return h.call(ctx, "supervisor.signalProcessGroup", group, p.Signal)
		case verb == "signal":
			return h.call(ctx, "supervisor.signalAllProcesses", p.Signal)
		case group != "":
			return h.call(ctx, "supervisor."+verb+"ProcessGroup", group, wait)
		default:
			return h.call(ctx, "supervisor."+verb+"AllProcesses", wait)
		}
	}
	out := map[string]any{}
	if action == "restart" {
		// The starts must not race the stops: always wait for those.
		stopped, err := do("stop", true)
		if err != nil {
			writeFailure(w, err)
			return
		}
		started, err := do("start", p.Wait)
		if err != nil {
			writeFailure(w, err)
			return
		}
		out["stopped"], out["started"] = stopped, started
	} else {
		res, err := do(action, p.Wait)
		if err != nil {
			writeFailure(w, err)
			return
		}
		out["results"] = res
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *handler) clearMainLog(w http.ResponseWriter, r *http.Request) {
	res, err := h.call(r.Context(), "supervisor.clearLog")
	if err != nil {
		writeFailure(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"result": res})
}
