package webui

import (
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
	ctx, cancel := h.streamContext(r)
	defer cancel()
	ch, unsubscribe := h.sup.Subscribe(subscriberBuffer)
	defer func() { unsubscribe() }()
	s, err := startSSE(w)
	if err != nil {
		return
	}
	pids := map[string]int{}
	send := func(name string, procs []procJSON) bool {
		for _, p := range procs {
			pids[p.Namespec] = p.PID
		}
		return s.event("", name, listJSON{Supervisor: h.supervisorInfo(), Processes: procs}) == nil
	}
	if !send("sync", h.snapshot()) {
		return
	}
	stats := time.NewTicker(h.opts.StatsEvery)
	defer stats.Stop()
	heartbeat := h.heartbeatTicker()
	defer heartbeat.Stop()
	var (
		gather  *time.Timer
		gatherC <-chan time.Time
		dirty   = map[string]bool{}
		full    bool
	)
	defer func() {
		if gather != nil {
			gather.Stop()
		}
	}()
	arm := func() {
		if gatherC == nil {
			gather = time.NewTimer(h.opts.Coalesce)
			gatherC = gather.C
		}
	}
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-ch:
			if !ok {
				// Dropped for lagging (or the engine is stopping: then ctx
				// ends too). Resubscribe and send the whole list again.
				// A stopping engine closes the bus just before Done: give it
				// that moment rather than spinning on closed channels.
				select {
				case <-ctx.Done():
					return
				case <-time.After(h.opts.Coalesce):
				}
				ch, unsubscribe = h.sup.Subscribe(subscriberBuffer)
				full = true
				arm()
				continue
			}
			switch {
			case strings.HasPrefix(ev.Name, "PROCESS_STATE_"):
				dirty[rpc.MakeNamespec(ev.Group, ev.Process)] = true
				arm()
			case ev.Name == supervisor.EvGroupAdded, ev.Name == supervisor.EvGroupRemoved,
				strings.HasPrefix(ev.Name, "SUPERVISOR_STATE_CHANGE_"):
				full = true
				arm()
			}
		case <-gatherC:
			gather, gatherC = nil, nil
			all := h.snapshot()
			if full {
				clear(pids)
				if !send("sync", all) {
					return
				}
			} else {
				changed := make([]procJSON, 0, len(dirty))
				for _, p := range all {
					if dirty[p.Namespec] {
						changed = append(changed, p)
					}
				}
				if !send("update", changed) {
					return
				}
			}
			full = false
			clear(dirty)
		case <-stats.C:
			out := map[string]statsJSON{}
			for ns, pid := range pids {
				if pid == 0 {
					continue
				}
				if st, ok := h.stats.get(pid); ok {
					out[ns] = statsJSON{CPU: st.cpu, RSS: st.rss}
				}
			}
			if s.event("", "stats", out) != nil {
				return
			}
		case <-heartbeat.C:
			if s.ping() != nil {
				return
			}
		}
	}
}
