package webui

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gosupervisor/gosupervisor/pkg/rpc"
	"github.com/gosupervisor/gosupervisor/pkg/supervisor"
)

// subscriberBuffer is how many engine events a stream may fall behind before
// the bus drops it (we then resubscribe and send a full list).
const subscriberBuffer = 256

// statsJSON is one process's resource use in a "stats" event.
type statsJSON struct {
	CPU float64 `json:"cpu"`
	RSS int64   `json:"rss"`
}

// events streams the process table as Server-Sent Events:
//
//	sync    {supervisor, processes}  the whole list (first, and after any resync)
//	update  {supervisor, processes}  the processes whose state changed
//	stats   {namespec: {cpu, rss}}   every StatsEvery for processes with a pid
//
// Updates are driven by the engine's state-change events (gathered for
// Coalesce so that a "start all" is one update), never by polling. The bus
// drops a stream that falls behind instead of blocking the engine; the
// stream then resubscribes and sends a fresh sync.
func (h *handler) events(w http.ResponseWriter, r *http.Request) {
	every, asked, err := heartbeatParam(r, h.opts.Heartbeat)
	if err != nil {
		writeError(w, http.StatusBadRequest, errBadRequest(err.Error()))
		return
	}
	ctx, cancel := h.streamContext(r)
	defer cancel()
	// An open console is someone watching: the engine samples resources.
	defer h.hist.WatchHistory()()
	st := &eventStream{h: h, every: every, pids: map[string]int{}, ext: map[string]string{}, flaps: map[string]int{}, dirty: map[string]bool{}}
	st.ch, st.unsubscribe = h.sup.Subscribe(subscriberBuffer)
	// The stream may resubscribe: end the subscription it has at the end.
	defer func() { st.unsubscribe() }()
	if st.s, err = startSSE(w); err != nil {
		return
	}
	// Confirm the asked period, so that the client may count on it (a
	// daemon of ours before this parameter ignores it and pings every 15 s).
	if asked && st.s.comment("heartbeat "+every.String()) != nil {
		return
	}
	if !st.send("sync", h.snapshot()) {
		return
	}
	st.run(ctx)
}

// eventStream is one client's events stream after the first sync: its
// subscription, the pids it has shown (for stats), and the state changes
// gathered for the next update. Its methods report false once the client
// is gone.
type eventStream struct {
	h           *handler
	s           *sse
	every       time.Duration // heartbeat period
	ch          <-chan supervisor.Event
	unsubscribe func()
	pids        map[string]int // namespec → pid, as last sent
	// ext is each process's health and waiting_for as last sent
	// (extSignature): a dependency coming up or going down changes what
	// its dependents wait for without an event of theirs.
	ext map[string]string
	// flaps is each process's recent_restarts as last sent: restarts
	// age out of the window without an event.
	flaps map[string]int

	// gather runs while changes are being gathered; at its end dirty
	// processes go out in an update, or everything in a sync when full.
	gather  *time.Timer
	gatherC <-chan time.Time
	dirty   map[string]bool
	full    bool
}

// Bounds of ?heartbeat=.
const (
	minHeartbeat = 250 * time.Millisecond
	maxHeartbeat = time.Minute
)

// heartbeatParam reads ?heartbeat=DURATION (Go syntax, "1s"): a client that
// must notice a hung daemon within seconds (the fleet watcher) asks for
// pings that often. asked tells that the request named one.
func heartbeatParam(r *http.Request, def time.Duration) (every time.Duration, asked bool, err error) {
	v := r.URL.Query().Get("heartbeat")
	if v == "" {
		return def, false, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < minHeartbeat || d > maxHeartbeat {
		return 0, false, fmt.Errorf("heartbeat %q is not a duration from %v to %v", v, minHeartbeat, maxHeartbeat)
	}
	return d, true, nil
}

// run forwards events until ctx ends or the client goes away.
func (st *eventStream) run(ctx context.Context) {
	stats := time.NewTicker(st.h.opts.StatsEvery)
	defer stats.Stop()
	heartbeat := time.NewTicker(st.every)
	defer heartbeat.Stop()
	defer func() {
		if st.gather != nil {
			st.gather.Stop()
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-st.ch:
			if !ok {
				if !st.resubscribe(ctx) {
					return
				}
				continue
			}
			st.note(ev)
		case <-st.gatherC:
			if !st.flush() {
				return
			}
		case <-stats.C:
			if !st.sendStats() {
				return
			}
			st.agedFlaps()
		case <-heartbeat.C:
			if st.s.ping() != nil {
				return
			}
		}
	}
}

// send writes a sync or update event with procs and remembers their pids.
func (st *eventStream) send(name string, procs []procJSON) bool {
	for _, p := range procs {
		st.pids[p.Namespec] = p.PID
		st.ext[p.Namespec] = extSignature(p)
		st.flaps[p.Namespec] = p.RecentRestarts
	}
	return st.s.event("", name, listJSON{Supervisor: st.h.supervisorInfo(), Processes: procs}) == nil
}

// arm starts gathering changes unless it has started already.
func (st *eventStream) arm() {
	if st.gatherC == nil {
		st.gather = time.NewTimer(st.h.opts.Coalesce)
		st.gatherC = st.gather.C
	}
}

// note gathers one engine event: a process state change or health
// transition marks the process, a group coming or going and a change of
// supervisord's state need a sync.
func (st *eventStream) note(ev supervisor.Event) {
	switch {
	case strings.HasPrefix(ev.Name, "PROCESS_STATE_"), strings.HasPrefix(ev.Name, "PROCESS_HEALTH_"):
		st.dirty[rpc.MakeNamespec(ev.Group, ev.Process)] = true
		st.arm()
	case ev.Name == supervisor.EvGroupAdded, ev.Name == supervisor.EvGroupRemoved,
		strings.HasPrefix(ev.Name, "SUPERVISOR_STATE_CHANGE_"):
		st.full = true
		st.arm()
	}
}

// resubscribe follows the bus closing the subscription: dropped for
// lagging (or the engine is stopping: then ctx ends too). It subscribes
// again and schedules a sync of the whole list; false when ctx ended.
func (st *eventStream) resubscribe(ctx context.Context) bool {
	// A stopping engine closes the bus just before Done: give it that
	// moment rather than spinning on closed channels.
	select {
	case <-ctx.Done():
		return false
	case <-time.After(st.h.opts.Coalesce):
	}
	st.ch, st.unsubscribe = st.h.sup.Subscribe(subscriberBuffer)
	st.full = true
	st.arm()
	return true
}

// extSignature is what of p's extensions an update must carry when it
// changes: health (not the time of the last check, which changes with
// every check) and what p waits for.
func extSignature(p procJSON) string {
	if p.Health == nil && len(p.WaitingFor) == 0 {
		return ""
	}
	var b strings.Builder
	if hl := p.Health; hl != nil {
		fmt.Fprintf(&b, "%s %d %q", hl.Status, hl.Failures, hl.LastError)
	}
	fmt.Fprintf(&b, " %q", p.WaitingFor)
	return b.String()
}

// flush ends a gathering: a sync of everything when full, else an update
// with the processes that changed, and those whose health or dependencies
// changed with them.
func (st *eventStream) flush() bool {
	st.gather, st.gatherC = nil, nil
	all := st.h.snapshot()
	if st.full {
		clear(st.pids)
		clear(st.ext)
		clear(st.flaps)
		if !st.send("sync", all) {
			return false
		}
	} else {
		changed := make([]procJSON, 0, len(st.dirty))
		for _, p := range all {
			if st.dirty[p.Namespec] || st.ext[p.Namespec] != extSignature(p) {
				changed = append(changed, p)
			}
		}
		if !st.send("update", changed) {
			return false
		}
	}
	st.full = false
	clear(st.dirty)
	return true
}

// sendStats writes the CPU and memory figures of the processes with a pid.
func (st *eventStream) sendStats() bool {
	out := map[string]statsJSON{}
	for ns, pid := range st.pids {
		if pid == 0 {
			continue
		}
		if sample, ok := st.h.stats.get(pid); ok {
			out[ns] = statsJSON{CPU: sample.cpu, RSS: sample.rss}
		}
	}
	return st.s.event("", "stats", out) == nil
}
