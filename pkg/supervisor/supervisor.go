// Package supervisor is the engine: one goroutine (the loop) owns every
// process record, as the original's single select loop does. RPC handlers,
// the reaper, pipe readers and timers talk to it by message; callers that
// must wait (start with wait=true, stop) wait on state notifications, never
// by sleeping.
package supervisor

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gosupervisor/gosupervisor/pkg/config"
	"github.com/gosupervisor/gosupervisor/pkg/events"
	"github.com/gosupervisor/gosupervisor/pkg/forward"
	"github.com/gosupervisor/gosupervisor/pkg/health"
	"github.com/gosupervisor/gosupervisor/pkg/logfile"
	"github.com/gosupervisor/gosupervisor/pkg/loglevel"
	"github.com/gosupervisor/gosupervisor/pkg/spawn"
)

// Mood is supervisord's state (the original's SupervisorStates).
type Mood int

const (
	MoodFatal      Mood = 2
	MoodRunning    Mood = 1
	MoodRestarting Mood = 0
	MoodShutdown   Mood = -1
)

func (m Mood) String() string {
	switch m {
	case MoodFatal:
		return "FATAL"
	case MoodRunning:
		return "RUNNING"
	case MoodRestarting:
		return "RESTARTING"
	case MoodShutdown:
		return "SHUTDOWN"
	}
	return "UNKNOWN"
}

// Logger is the daemon's own log as the engine uses it (pkg/mainlog
// implements it). Messages are the original's exact texts.
type Logger interface {
	Log(level loglevel.Level, msg string)
	Enabled(level loglevel.Level) bool
}

// Options configure a Supervisor.
type Options struct {
	Config      *config.Config
	LoadOptions config.Options // to re-read the same file (reread/SIGHUP) the same way
	Log         Logger
	// Reaper starts, signals and reaps children: the daemon's
	// *spawn.Reaper, or a fake in engine tests.
	Reaper Spawner
	// EventSerials hands out the events' global serials. The original's
	// counter is a module global that outlives a restart (SIGHUP), so the
	// daemon passes the same one to each Supervisor it builds; nil starts
	// a new one at 0.
	EventSerials *events.Counter
	// Idle, when set, takes quiet output pipes so that their readers need
	// no goroutine (see package idlepoll); nil keeps a reader per pipe.
	Idle logfile.Parker
	// Clock gives the engine its time and timers; nil means the real clock.
	Clock Clock
	// ProcRoot is where resource samples are read ("" = "/proc").
	ProcRoot string
	// Check, when set, runs every health check in place of the real
	// probes and exec children (engine tests' fake checks). It runs off
	// the loop and must return by ctx's deadline.
	Check func(ctx context.Context, namespec string, hc *config.HealthCheck) health.Result
	// Environ is supervisord's environment at start, inherited by children;
	// nil means os.Environ().
	Environ []string
	// MainLogPath is the main log's file, "" if none (syslog).
	MainLogPath string
	// MainLogRing is the main log's in-memory tail, for live views.
	MainLogRing *logfile.Ring
	// ReopenMainLog and ClearMainLog act on the daemon's own log.
	ReopenMainLog func() error
	ClearMainLog  func() error
	// Forward is where stdout_forward/stderr_forward lines go; nil means
	// forward.Std(), the process's own stdout and stderr.
	Forward *forward.Set
}

// Spawner is what the engine needs of the reaper.
type Spawner interface {
	Spawn(spec spawn.Spec) (*spawn.Child, error)
	// Kill signals pid, or its process group; an error wrapping
	// syscall.ESRCH means the child is already gone.
	Kill(pid int, sig syscall.Signal, group bool) error
	// TakeExits hands the engine the stream of reaped children for the
	// length of its Run.
	TakeExits() (spawn.Exits, error)
}

// Supervisor is the engine. Create it with New, run it with Run.
type Supervisor struct {
	opts  Options
	clock Clock
	log   Logger
	pid   int

	inbox chan func()
	feed  *feed         // from the pipe readers; never blocks (feed.go)
	guard loopGuard     // in tests, call/post from the loop panic
	done  chan struct{} // closed when Run returns

	// Everything below is owned by the loop goroutine.
	cfg       *config.Config // active
	pending   *config.Config // last read (reloadConfig), for addProcessGroup/getAllConfigInfo
	groups    map[string]*group
	order     []*group // sorted by (priority, name)
	byPid     map[int]*proc
	mood      Mood
	serverURL string
	timer     Timer
	timerAt   time.Time
	dirty     []*proc        // processes the next pass visits (pass.go)
	deadlines deadlines      // processes waiting for a time, earliest first
	live      int            // processes not in a stopped state
	draining  []*proc        // reaped, waiting for their pipes (drain.go)
	hasDeps   bool           // some process has depends_on (deps.go)
	prober    *health.Prober // http/tcp health checks (health.go)
	checkPids map[int]*proc  // exec health checks' children
	exitErr   error          // why Run ends in failure (critical.go)
	fatalCrit *proc          // a critical program just went FATAL (critical.go)
	stopping  *shutdown      // non-nil while stopping everything (shutdown or restart)
	next      *config.Config // set while a restart is pending
	events    *bus
	lastTick  map[int]int64
	listeners listeners           // event listener pools (listeners.go)
	bufs      *logfile.BufferPool // read buffers lent to the pumps
	fwd       *forward.Set        // stdout_forward/stderr_forward destinations
	env       environment         // opts.Environ, indexed (read-only)
	sampler   *sampler            // resource samples, off the loop (sampler.go)

	gen atomic.Uint64 // see Generation

	// moodMirror lets State() answer without a round trip through the loop.
	mu         sync.Mutex
	moodMirror Mood
}

// New returns a Supervisor for the config; nothing starts until Run.
func New(opts Options) (*Supervisor, error) {
	if opts.Config == nil {
		return nil, errors.New("supervisor: no config")
	}
	if opts.Reaper == nil {
		return nil, errors.New("supervisor: no reaper")
	}
	if opts.Log == nil {
		return nil, errors.New("supervisor: no logger")
	}
	clock := opts.Clock
	if clock == nil {
		clock = realClock{}
	}
	if opts.Environ == nil {
		opts.Environ = os.Environ()
	}
	s := &Supervisor{
		opts:       opts,
		clock:      clock,
		log:        opts.Log,
		pid:        os.Getpid(),
		inbox:      make(chan func(), 64),
		feed:       newFeed(),
		done:       make(chan struct{}),
		groups:     map[string]*group{},
		byPid:      map[int]*proc{},
		mood:       MoodRunning,
		moodMirror: MoodRunning,
		events:     newBus(),
		lastTick:   map[int]int64{},
		bufs:       logfile.NewBufferPool(),
		env:        newEnvironment(opts.Environ),
		prober:     health.NewProber(),
		checkPids:  map[int]*proc{},
		fwd:        opts.Forward,
	}
	if s.fwd == nil {
		s.fwd = forward.Std()
	}
	log := s.log
	s.fwd.SetWarn(func(msg string) { log.Log(loglevel.Warn, msg) })
	s.setConfig(opts.Config)
	s.initListeners()
	s.sampler = newSampler(s, opts.ProcRoot, opts.Config.Supervisord.History)
	return s, nil
}

func (s *Supervisor) setConfig(cfg *config.Config) {
	s.cfg = cfg
	s.pending = cfg
	s.serverURL = cfg.DefaultServerURL()
	s.forwardWidth()
}

// Run adds every group of the config, autostarts and runs the loop until
// shutdown completes (or ctx ends, which stops everything the same way).
// It returns a *RestartRequest when a restart (SIGHUP, restart()) has
// stopped everything: the caller rebuilds the daemon with its config, as the
// original re-runs its whole start-up.
func (s *Supervisor) Run(ctx context.Context) error {
	defer close(s.done)
	s.guard.enter(testing.Testing())
	taken, err := s.opts.Reaper.TakeExits()
	if err != nil {
		return fmt.Errorf("supervisor: %w", err)
	}
	defer taken.Release()
	exits := taken.C
	for _, gc := range s.cfg.Groups {
		s.addGroup(gc)
	}
	s.emit(Event{Name: EvSupervisorRunning})
	go s.sampler.run(s.done)
	s.pass()
	s.armTimer()

	stopOnCtx := ctx.Done()
	for {
		var timerC <-chan time.Time
		if s.timer != nil {
			timerC = s.timer.C()
		}
		select {
		case fn := <-s.inbox:
			fn()
		case <-s.feed.wake:
			s.feed.drain()
		case ex, ok := <-exits:
			if !ok {
				// The reaper has stopped (daemon exit); nothing more will be reaped.
				exits = nil
				continue
			}
			s.reaped(ex)
		case <-timerC:
			s.timer, s.timerAt = nil, time.Time{}
		case <-stopOnCtx:
			stopOnCtx = nil
			s.beginShutdown(MoodShutdown)
		}
		s.pass()
		if s.stopping != nil {
			if s.stopping.advance(s) {
				s.stopTimer()
				s.events.close()
				// Forwarded lines still queued go out before the daemon
				// exits, unless supervisord's stdout is stuck.
				s.fwd.Sync(forwardSync)
				if s.mood == MoodRestarting && s.next != nil {
					return &RestartRequest{Config: s.next}
				}
				return s.exitErr
			}
			s.pass() // the stops advance just made
		}
		s.armTimer()
	}
}

// Done is closed when Run has returned.
func (s *Supervisor) Done() <-chan struct{} { return s.done }

// call runs fn on the loop goroutine and waits for it. Never from the
// loop itself: code there calls directly.
func (s *Supervisor) call(fn func()) {
	s.guard.check("call")
	reply := make(chan struct{})
	select {
	case s.inbox <- func() { fn(); close(reply) }:
	case <-s.done:
		return
	}
	select {
	case <-reply:
	case <-s.done:
	}
}

// post runs fn on the loop goroutine without waiting for it, but it waits
// for room in the inbox: never from the loop itself, nor from a pipe
// reader (they use s.feed).
func (s *Supervisor) post(fn func()) {
	s.guard.check("post")
	select {
	case s.inbox <- fn:
	case <-s.done:
	}
}

// armTimer points the single loop timer at the earliest deadline: a
// process's, the shutdown report's or the next TICK boundary.
func (s *Supervisor) armTimer() {
	next := s.nextDeadline()
	if d := s.nextDrain(); !d.IsZero() && (next.IsZero() || d.Before(next)) {
		next = d
	}
	if s.stopping != nil {
		if d := s.stopping.nextReport; !d.IsZero() && (next.IsZero() || d.Before(next)) {
			next = d
		}
	}
	if d := s.nextTick(); !d.IsZero() && (next.IsZero() || d.Before(next)) {
		next = d
	}
	if next.IsZero() {
		s.stopTimer()
		return
	}
	if next.Equal(s.timerAt) && s.timer != nil {
		return
	}
	wait := max(next.Sub(s.clock.Now()), 0)
	s.stopTimer()
	s.timer = s.clock.NewTimer(wait)
	s.timerAt = next
}

func (s *Supervisor) stopTimer() {
	if s.timer != nil {
		s.timer.Stop()
		s.timer = nil
		s.timerAt = time.Time{}
	}
}

// setMood changes the mood on the loop and mirrors it for State(). Every
// process's autostart rule reads it.
func (s *Supervisor) setMood(m Mood) {
	s.mood = m
	s.touchAll()
	s.mu.Lock()
	s.moodMirror = m
	s.mu.Unlock()
}

// Mood returns supervisord's current state; safe from any goroutine.
func (s *Supervisor) Mood() Mood {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.moodMirror
}

// sortGroups orders groups like the original: by (priority, name).
func (s *Supervisor) sortGroups() {
	sort.SliceStable(s.order, func(i, j int) bool {
		a, b := s.order[i].cfg, s.order[j].cfg
		if a.Priority != b.Priority {
			return a.Priority < b.Priority
		}
		return a.Name < b.Name
	})
}
