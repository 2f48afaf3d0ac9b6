package webui

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/gosupervisor/gosupervisor/pkg/fleet"
	"github.com/gosupervisor/gosupervisor/pkg/supervisor"
)

// fleetEvents streams the fleet view as Server-Sent Events:
//
//	sync    {nodes}  every node, first
//	update  {nodes}  the nodes whose view changed since last sent
//
// Changes of the remote nodes (FleetSource.Changed) and of the local
// engine (its state-change events) are gathered for Coalesce, then each
// node is compared with what the stream last sent: a node polled every
// second whose processes did not change sends nothing.
func (h *handler) fleetEvents(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := h.streamContext(r)
	defer cancel()
	changed, stop := h.opts.Fleet.Changed()
	defer stop()
	fs := &fleetStream{h: h, sent: map[string]string{}}
	fs.local, fs.unsubscribe = h.sup.Subscribe(subscriberBuffer)
	defer func() { fs.unsubscribe() }()
	var err error
	if fs.s, err = startSSE(w); err != nil {
		return
	}
	if !fs.flush("sync") {
		return
	}
	fs.run(ctx, changed)
}

// fleetStream is one client's fleet stream: the local subscription and
// each node's signature as last sent.
type fleetStream struct {
	h           *handler
	s           *sse
	local       <-chan supervisor.Event
	unsubscribe func()
	sent        map[string]string // node name → nodeSignature
	gatherC     <-chan time.Time
}

// run forwards changes until ctx ends or the client goes away.
func (fs *fleetStream) run(ctx context.Context, changed <-chan struct{}) {
	heartbeat := fs.h.heartbeatTicker()
	defer heartbeat.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-changed:
			fs.arm()
		case ev, ok := <-fs.local:
			if !ok && !fs.resubscribe(ctx) {
				return
			}
			if !ok || localChange(ev) {
				fs.arm()
			}
		case <-fs.gatherC:
			fs.gatherC = nil
			if !fs.flush("update") {
				return
			}
		case <-heartbeat.C:
			if fs.s.ping() != nil {
				return
			}
		}
	}
}

// arm starts gathering changes unless it has started already.
func (fs *fleetStream) arm() {
	if fs.gatherC == nil {
		fs.gatherC = time.After(fs.h.opts.Coalesce)
	}
}

// localChange reports whether ev changes the local node's entry.
func localChange(ev supervisor.Event) bool {
	return strings.HasPrefix(ev.Name, "PROCESS_STATE_") || ev.Name == supervisor.EvGroupAdded ||
		ev.Name == supervisor.EvGroupRemoved || strings.HasPrefix(ev.Name, "SUPERVISOR_STATE_CHANGE_")
}

// resubscribe follows the bus dropping a lagging stream (or closing as the
// engine stops, when ctx ends too); false when ctx ended.
func (fs *fleetStream) resubscribe(ctx context.Context) bool {
	select {
	case <-ctx.Done():
		return false
	case <-time.After(fs.h.opts.Coalesce):
	}
	fs.local, fs.unsubscribe = fs.h.sup.Subscribe(subscriberBuffer)
	return true
}

// flush sends the nodes that differ from what was sent (all for a sync);
// an update with none is not sent. False once the client is gone.
func (fs *fleetStream) flush(name string) bool {
	nodes := fs.h.fleetSnapshot()
	out := make([]fleetNodeJSON, 0, len(nodes))
	for _, n := range nodes {
		sig := nodeSignature(n)
		if name == "sync" || fs.sent[n.Name] != sig {
			out = append(out, n)
			fs.sent[n.Name] = sig
		}
	}
	if len(out) == 0 {
		return true
	}
	return fs.s.event("", name, fleetJSON{Nodes: out}) == nil
}

// nodeSignature is what of n an update must carry when it changes: not
// the times of the answer, nor a running process's description, which
// only counts its uptime (the page does that itself).
func nodeSignature(n fleetNodeJSON) string {
	n.Updated = time.Time{}
	procs := make([]fleet.Process, len(n.Processes))
	for i, p := range n.Processes {
		p.Now = 0
		if p.Statename == "RUNNING" {
			p.Description = ""
		}
		procs[i] = p
	}
	n.Processes = procs
	b, _ := json.Marshal(n)
	return string(b)
}
