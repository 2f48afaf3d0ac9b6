package supervisor

import (
	"math"

	"github.com/gosupervisor/gosupervisor/pkg/config"
	"github.com/gosupervisor/gosupervisor/pkg/health"
	"github.com/gosupervisor/gosupervisor/pkg/process"
)

// MetricsSnapshot is what /metrics shows of the engine (EXTENSIONS.md §6),
// taken in one visit of the loop so that a scrape of a big configuration
// costs one round trip, not one per process. Nothing is sampled between
// scrapes.
type MetricsSnapshot struct {
	// State and StateName are supervisord's own state (getState).
	State     int
	StateName string
	// Processes are in getAllProcessInfo's order.
	Processes []ProcessMetrics
	// Events counts the events emitted since the daemon started, by type
	// ("PROCESS_STATE_RUNNING", "TICK_5"...).
	Events map[string]uint64
	// Pools are the event listener pools, in creation order.
	Pools []PoolMetrics
}

// ProcessMetrics is one process of a MetricsSnapshot.
type ProcessMetrics struct {
	Name, Group string
	State       process.State
	// Start is laststart in whole seconds since the epoch (0 = never),
	// clamped to 32 bits as getProcessInfo gives it.
	Start      int64
	ExitStatus int
	Pid        int // 0 when not running
	// Spawns is how many times it was spawned in this daemon generation.
	Spawns int
	// Checked: it has a healthcheck=; Health is then its status.
	Checked bool
	Health  health.Status
	// LogBytes are the bytes written to its stdout and stderr logs (their
	// tail rings, which see every logged byte whether or not a file is
	// configured). Redirected stderr counts as stdout.
	StdoutBytes, StderrBytes int64
	// Listener: the process is a member of an [eventlistener:x] pool.
	Listener bool
}

// PoolMetrics is one event listener pool of a MetricsSnapshot.
type PoolMetrics struct {
	Name     string
	Buffered int // events waiting for a listener
}

// MetricsSnapshot returns the engine's state for /metrics.
func (s *Supervisor) MetricsSnapshot() MetricsSnapshot {
	var out MetricsSnapshot
	out.State, out.StateName = s.State()
	s.call(func() {
		n := 0
		for _, g := range s.order {
			n += len(g.procs)
		}
		out.Processes = make([]ProcessMetrics, 0, n)
		for _, g := range s.order {
			listener := g.cfg.Kind == config.EventListenerPool
			for _, p := range g.procs {
				pm := ProcessMetrics{
					Name: p.cfg.Name, Group: p.cfg.Group,
					State: p.m.State(), ExitStatus: p.m.ExitStatus(),
					Pid: p.m.Pid(), Spawns: p.m.Spawns(),
					StdoutBytes: p.stdout.ring.End(), StderrBytes: p.stderr.ring.End(),
					Listener: listener,
				}
				if t := p.m.LastStart(); !t.IsZero() {
					pm.Start = min(max(t.Unix(), math.MinInt32), math.MaxInt32)
				}
				if p.health != nil {
					pm.Checked, pm.Health = true, p.health.t.Status()
				}
				out.Processes = append(out.Processes, pm)
			}
		}
		out.Events = make(map[string]uint64, len(s.events.counts))
		for name, c := range s.events.counts {
			out.Events[name] = c
		}
		for _, pl := range s.listeners.pools {
			out.Pools = append(out.Pools, PoolMetrics{Name: pl.p.Name(), Buffered: len(pl.p.Buffered())})
		}
	})
	return out
}
