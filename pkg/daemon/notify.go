package daemon

import (
	"context"
	"sync"
	"time"

	"github.com/gosupervisor/gosupervisor/pkg/config"
	"github.com/gosupervisor/gosupervisor/pkg/loglevel"
	"github.com/gosupervisor/gosupervisor/pkg/mainlog"
	"github.com/gosupervisor/gosupervisor/pkg/rpc"
	"github.com/gosupervisor/gosupervisor/pkg/sdnotify"
	"github.com/gosupervisor/gosupervisor/pkg/supervisor"
)

// sd_notify under systemd (EXTENSIONS.md §5). Nothing here runs on the
// engine's loop: the engine's event bus never blocks on a subscriber (one
// that falls behind is dropped and resubscribes here), the readiness
// questions are ordinary calls from this side, and the datagrams are sent
// from these goroutines with a bounded write.
//
// READY=1 is sent once the initial start pass is over: no autostart process
// is still on its way up. An autostart process is on its way up while it is
// STARTING, in BACKOFF with retries left (startretries=unlimited counts as
// given up for READY at its first BACKOFF, or READY could never come), or
// held back by depends_on while a dependency it waits for is itself on its
// way up (STARTING, BACKOFF, RUNNING but not yet healthy, or held back in
// turn). Everything else counts as started or given up: RUNNING (past
// startsecs; a health check of its own is not waited for, only a
// dependent's wait for it), FATAL, EXITED, STOPPED, or held back by a
// dependency that will not come up by itself (FATAL, stopped, not
// autostart). After SIGHUP or restart(), RELOADING=1 goes out as the old
// engine begins to stop and READY=1 again by the same rule for the new one;
// STOPPING=1 goes out as the shutdown begins.

// notifyPhase is where the service manager last heard we are.
type notifyPhase int

const (
	phaseStarting notifyPhase = iota
	phaseReady
	phaseReloading
	phaseStopping
)

// sdNotifier is one supervisord's conversation with the service manager; a
// nil *sdNotifier (no NOTIFY_SOCKET) does nothing.
type sdNotifier struct {
	n *sdnotify.Notifier

	mu    sync.Mutex
	phase notifyPhase
	log   *mainlog.Logger // the current instance's, for send errors
	// cur is the running engine, asked the watchdog's question.
	cur      *supervisor.Supervisor
	failures int // consecutive failed sends (logged once per run of them)
}

// newSDNotifier reads NOTIFY_SOCKET; nil without it. A bad value is
// returned as an error to log once the main log is open.
func newSDNotifier(getenv func(string) string) (*sdNotifier, error) {
	n, err := sdnotify.New(getenv(sdnotify.SocketEnv))
	if n == nil {
		return nil, err
	}
	return &sdNotifier{n: n}, nil
}

// send sends msg, logging a failure (once until a send succeeds again).
func (s *sdNotifier) send(msg string) {
	err := s.n.Notify(msg)
	s.mu.Lock()
	log := s.log
	first := err != nil && s.failures == 0
	if err != nil {
		s.failures++
	} else {
		s.failures = 0
	}
	s.mu.Unlock()
	if first && log != nil {
		log.Warn(err.Error())
	}
}

// to moves to phase p and sends msg, unless the service manager already
// knows (each is sent once per phase; READY only while starting or
// reloading, nothing after STOPPING).
func (s *sdNotifier) to(p notifyPhase, msg string) {
	if s == nil {
		return
	}
	s.mu.Lock()
	ok := s.phase != p && s.phase != phaseStopping
	if p == phaseReady {
		ok = s.phase == phaseStarting || s.phase == phaseReloading
	}
	if ok {
		s.phase = p
	}
	s.mu.Unlock()
	if ok {
		s.send(msg)
	}
}

func (s *sdNotifier) ready()     { s.to(phaseReady, sdnotify.Ready) }
func (s *sdNotifier) stopping()  { s.to(phaseStopping, sdnotify.Stopping) }
func (s *sdNotifier) reloading() { s.to(phaseReloading, sdnotify.Reloading()) }

// instanceWatch follows one engine from before its Run to its end.
type instanceWatch struct {
	done chan struct{}
}

// watch subscribes to sup's events (call before Run) and, until sup's Run
// has returned, sends READY=1 when its start pass is over and RELOADING=1
// or STOPPING=1 when it begins to stop. wait() waits for the follower, so
// that whatever it had to say is said before the next engine speaks.
func (s *sdNotifier) watch(sup *supervisor.Supervisor, cfg *config.Config, log *mainlog.Logger) *instanceWatch {
	w := &instanceWatch{done: make(chan struct{})}
	if s == nil {
		close(w.done)
		return w
	}
	s.mu.Lock()
	s.log, s.cur = log, sup
	s.mu.Unlock()
	unlimited := map[string]bool{}
	for _, g := range cfg.Groups {
		for _, p := range g.Processes {
			if p.StartretriesUnlimited {
				unlimited[rpc.MakeNamespec(g.Name, p.Name)] = true
			}
		}
	}
	events, cancel := sup.Subscribe(1024)
	go func() {
		defer close(w.done)
		defer func() { cancel() }()
		settled := false
		for {
			select {
			case _, ok := <-events:
				if !ok {
					// Dropped for falling behind, or the engine has
					// ended: resubscribe and look again.
					select {
					case <-sup.Done():
						return
					default:
					}
					cancel()
					events, cancel = sup.Subscribe(1024)
				}
			case <-sup.Done():
				return
			}
			// One look for however many events came together.
			for drained := false; !drained; {
				select {
				case _, ok := <-events:
					drained = !ok
				default:
					drained = true
				}
			}
			switch sup.Mood() {
			case supervisor.MoodRestarting:
				s.reloading()
			case supervisor.MoodShutdown:
				s.stopping()
			default:
				if !settled && startPassOver(sup, unlimited) {
					settled = true
					s.ready()
				}
			}
		}
	}()
	return w
}

func (w *instanceWatch) wait() { <-w.done }

// ended is the engine's end: what the follower may have missed.
func (s *sdNotifier) ended(restart bool) {
	if restart {
		s.reloading()
	} else {
		s.stopping()
	}
}

// startPassOver applies the READY rule above to sup's processes.
func startPassOver(sup *supervisor.Supervisor, unlimited map[string]bool) bool {
	notReady := sup.Readiness()
	if len(notReady) == 0 {
		return true
	}
	var states map[string]string // every process's state, when needed
	waiting := map[string][]string{}
	waitingFor := func(ns string) []string {
		if w, ok := waiting[ns]; ok {
			return w
		}
		w, _ := sup.ProcessWaiting(ns)
		waiting[ns] = w.WaitingFor
		return w.WaitingFor
	}
	// comingUp reports whether ns is on its way up (seen guards cycles).
	var comingUp func(ns string, seen map[string]bool) bool
	comingUp = func(ns string, seen map[string]bool) bool {
		if seen[ns] {
			return false
		}
		seen[ns] = true
		if states == nil {
			states = map[string]string{}
			for _, p := range sup.Processes() {
				states[p.Namespec()] = p.StateName
			}
		}
		switch states[ns] {
		case "STARTING":
			return true
		case "BACKOFF":
			return !unlimited[ns]
		case "RUNNING":
			// Up, or about to be healthy: its dependents are coming.
			return true
		case "STOPPED", "EXITED":
			for _, d := range waitingFor(ns) {
				if comingUp(d, seen) {
					return true
				}
			}
		}
		return false
	}
	for _, nr := range notReady {
		ns := rpc.MakeNamespec(nr.Group, nr.Name)
		switch nr.State {
		case "STARTING":
			return false
		case "BACKOFF":
			if !unlimited[ns] {
				return false
			}
		case "STOPPED", "EXITED":
			for _, d := range waitingFor(ns) {
				if comingUp(d, map[string]bool{ns: true}) {
					return false
				}
			}
		}
	}
	return true
}

// watchdog sends WATCHDOG=1 every interval while the engine's loop answers
// probe: at each tick it pings only if the question asked at the previous
// tick (or since) has been answered, then asks again; one question at a
// time. A loop stuck for longer than an interval misses a ping; stuck for
// WATCHDOG_USEC, systemd acts.
func (s *sdNotifier) watchdog(ctx context.Context, interval time.Duration, probe func()) {
	answered := make(chan struct{}, 1)
	inFlight := false
	ask := func() {
		inFlight = true
		go func() {
			probe()
			answered <- struct{}{}
		}()
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	lastAnswer := false
	ask()
	for {
		select {
		case <-ctx.Done():
			return
		case <-answered:
			inFlight, lastAnswer = false, true
		case <-t.C:
			if lastAnswer {
				s.send(sdnotify.Watchdog)
			}
			lastAnswer = false
			if !inFlight {
				ask()
			}
		}
	}
}

// probe is the watchdog's question to the current engine: a cheap one that
// goes through its loop (and returns at once from an engine that has
// ended, between a restart's two engines).
func (s *sdNotifier) probe() {
	s.mu.Lock()
	sup := s.cur
	s.mu.Unlock()
	if sup != nil {
		_ = sup.Identification()
	}
}

// startWatchdog starts the watchdog when WATCHDOG_USEC asks for it; a bad
// value is logged, as is the interval.
func (s *sdNotifier) startWatchdog(ctx context.Context, getenv func(string) string, pid int, log *mainlog.Logger) {
	if s == nil {
		return
	}
	interval, ok, err := sdnotify.WatchdogInterval(getenv, pid)
	if err != nil {
		log.Warn("systemd watchdog off: " + err.Error())
	}
	if !ok {
		return
	}
	if log.Enabled(loglevel.Debug) {
		log.Debug("systemd watchdog: WATCHDOG=1 every " + interval.String())
	}
	go s.watchdog(ctx, max(interval, time.Millisecond), s.probe)
}
