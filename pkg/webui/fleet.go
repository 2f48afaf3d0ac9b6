package webui

import (
	"context"
	"errors"
	"net/http"
	"os"

	"github.com/gorilla/mux"

	"github.com/gosupervisor/gosupervisor/pkg/access"
	"github.com/gosupervisor/gosupervisor/pkg/fault"
	"github.com/gosupervisor/gosupervisor/pkg/fleet"
	"github.com/gosupervisor/gosupervisor/pkg/rpc"
	"github.com/gosupervisor/gosupervisor/pkg/version"
)

// The fleet view (EXTENSIONS.md §8): every node's processes in one table,
// the local daemon (read from the engine, as the rest of the console) first
// and the [remote:NAME] nodes after it (from a FleetSource, which never
// blocks: a slow or dead node only makes its own entry stale). Actions go
// to the local engine's dispatcher or through FleetSource.Call, with the
// original's XML-RPC method names, so they work on Python nodes too.

// FleetSource is what the console needs of pkg/fleet's Watcher.
type FleetSource interface {
	// Snapshot is every remote node's last known view, in config order.
	Snapshot() []fleet.Node
	// Changed signals (coalescing) after any node's view changed.
	Changed() (<-chan struct{}, func())
	// Call proxies one XML-RPC call to a node.
	Call(ctx context.Context, node, method string, args ...any) (any, error)
}

// fleetNodeJSON is one node of the fleet view; Local marks this daemon.
type fleetNodeJSON struct {
	fleet.Node
	Local bool `json:"local,omitempty"`
}

type fleetJSON struct {
	Nodes []fleetNodeJSON `json:"nodes"`
}

// localName is the local node's name in the fleet view: the host's,
// unless a remote has that name (remote names have no blanks, so the
// suffix cannot clash).
func localName(opts Options) string {
	name := opts.NodeName
	if name == "" {
		name = "localhost"
		if h, err := os.Hostname(); err == nil && h != "" {
			name = h
		}
	}
	for _, n := range opts.Fleet.Snapshot() {
		if n.Name == name {
			return name + " (local)"
		}
	}
	return name
}

// fleetRoutes registers the fleet's routes on r; without a FleetSource
// there are none, so that a config without [remote:NAME] is served as
// before.
func (h *handler) fleetRoutes(r *mux.Router) {
	if h.opts.Fleet == nil {
		return
	}
	get, post := http.MethodGet, http.MethodPost
	r.HandleFunc("/fleet", h.getFleet).Methods(get)
	r.HandleFunc("/fleet/events", h.fleetEvents).Methods(get)
	r.HandleFunc("/fleet/{node}/processes/{ns}/{action:start|stop|restart}", h.fleetProcessAction).Methods(post)
	r.HandleFunc("/fleet/{node}/groups/{name}/{action:start|stop|restart}", h.fleetGroupAction).Methods(post)
}

// localNode is this daemon as a fleet node.
func (h *handler) localNode() fleetNodeJSON {
	_, state := h.sup.State()
	infos := h.sup.Processes()
	procs := make([]fleet.Process, 0, len(infos))
	for _, p := range infos {
		procs = append(procs, fleetProcess(p))
	}
	fleet.SortProcesses(procs)
	return fleetNodeJSON{Local: true, Node: fleet.Node{
		Name: h.nodeName, State: fleet.Up, Kind: fleet.KindGosupervisor, Version: version.Release(),
		Updated: h.clock(), Processes: procs, Supervisor: state,
	}}
}

// fleetProcess is p as the original's getProcessInfo gives it.
func fleetProcess(p rpc.ProcessInfo) fleet.Process {
	return fleet.Process{
		Name: p.Name, Group: p.Group, Description: p.Description,
		Start: unix(p.Start, p.Start.IsZero()), Stop: unix(p.Stop, p.Stop.IsZero()), Now: p.Now.Unix(),
		State: p.State, Statename: p.StateName, Spawnerr: p.SpawnErr, Exitstatus: p.ExitStatus,
		Logfile: p.StdoutLogfile, StdoutLog: p.StdoutLogfile, StderrLog: p.StderrLogfile, PID: p.PID,
	}
}

// fleetSnapshot is the local node, then every remote one.
func (h *handler) fleetSnapshot() []fleetNodeJSON {
	remotes := h.opts.Fleet.Snapshot()
	out := make([]fleetNodeJSON, 0, 1+len(remotes))
	out = append(out, h.localNode())
	for _, n := range remotes {
		if n.Processes == nil {
			n.Processes = []fleet.Process{}
		}
		out = append(out, fleetNodeJSON{Node: n})
	}
	return out
}

func (h *handler) getFleet(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, fleetJSON{Nodes: h.fleetSnapshot()})
}

// nodeCall calls method on the named node: the local dispatcher for this
// daemon, else the FleetSource. Remote faults come back as *fault.Error,
// so that both answer alike.
func (h *handler) nodeCall(node string) func(ctx context.Context, method string, args ...any) (any, error) {
	if node == h.nodeName {
		return h.call
	}
	return func(ctx context.Context, method string, args ...any) (any, error) {
		// The node logs the call as made by this daemon's credentials;
		// who asked for it is known only here.
		access.From(ctx).AuditNode(node, method, args)
		v, err := h.opts.Fleet.Call(ctx, node, method, args...)
		return v, remoteError(err)
	}
}

// writeNodeFailure answers a failed fleet action: faults as the console's
// own, an unknown node 404, a node that did not answer 502.
func writeNodeFailure(w http.ResponseWriter, node string, err error) {
	var f *fault.Error
	switch {
	case errors.As(err, &f):
		writeFailure(w, err)
	case isNoNode(err):
		writeError(w, http.StatusNotFound, apiErr{Name: "NOT_FOUND", Message: "no such node: " + node})
	default:
		writeError(w, http.StatusBadGateway, apiErr{Name: "NODE_FAILED", Message: node + ": " + err.Error()})
	}
}

func (h *handler) fleetProcessAction(w http.ResponseWriter, r *http.Request) {
	v := mux.Vars(r)
	node, ns, action := v["node"], v["ns"], v["action"]
	p, err := readParams(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, errBadRequest(err.Error()))
		return
	}
	call, ctx := h.nodeCall(node), r.Context()
	var res any
	switch action {
	case "start", "stop":
		res, err = call(ctx, "supervisor."+action+"Process", ns, p.Wait)
	case "restart":
		// supervisorctl restart: stop (not running is fine), then start.
		if _, err = call(ctx, "supervisor.stopProcess", ns, true); err == nil || isFault(err, fault.NotRunning) {
			res, err = call(ctx, "supervisor.startProcess", ns, p.Wait)
		}
	}
	if err != nil {
		writeNodeFailure(w, node, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"node": node, "result": res})
}

func (h *handler) fleetGroupAction(w http.ResponseWriter, r *http.Request) {
	v := mux.Vars(r)
	node, group, action := v["node"], v["name"], v["action"]
	p, err := readParams(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, errBadRequest(err.Error()))
		return
	}
	call, ctx := h.nodeCall(node), r.Context()
	out := map[string]any{"node": node}
	if action == "restart" {
		// The starts must not race the stops: always wait for those.
		if out["stopped"], err = call(ctx, "supervisor.stopProcessGroup", group, true); err == nil {
			out["started"], err = call(ctx, "supervisor.startProcessGroup", group, p.Wait)
		}
	} else {
		out["results"], err = call(ctx, "supervisor."+action+"ProcessGroup", group, p.Wait)
	}
	if err != nil {
		writeNodeFailure(w, node, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}
