package supervisor

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gosupervisor/gosupervisor/pkg/config"
	"github.com/gosupervisor/gosupervisor/pkg/health"
	"github.com/gosupervisor/gosupervisor/pkg/loglevel"
	"github.com/gosupervisor/gosupervisor/pkg/spawn"
)

// fakeSpawner is a world of pretend children for engine tests under
// testing/synctest: a child runs for what lifetime says (forever when it
// returns < 0), SIGTERM ends it after termDelay unless it traps it, SIGKILL
// at once. Nothing is forked; times are the bubble's virtual clock.
type fakeSpawner struct {
	start    time.Time
	exits    chan spawn.Exit
	lifetime func(name string, n int) time.Duration // n-th spawn of name, from 0
	trapTerm map[string]bool
	// termDelay is how long a child takes to exit after SIGTERM.
	termDelay time.Duration

	mu      sync.Mutex
	nextPid int
	names   map[int]string
	alive   map[int]bool
	spawned []string // "name@offset" in order
	counts  map[string]int
	kills   []string // "name SIG@offset"
}

func newFakeSpawner(lifetime func(string, int) time.Duration) *fakeSpawner {
	return &fakeSpawner{
		start: time.Now(), exits: make(chan spawn.Exit, 1024), lifetime: lifetime,
		trapTerm: map[string]bool{}, nextPid: 1000,
		names: map[int]string{}, alive: map[int]bool{}, counts: map[string]int{},
	}
}

func (f *fakeSpawner) since() time.Duration { return time.Since(f.start) }

func (f *fakeSpawner) Spawn(spec spawn.Spec) (*spawn.Child, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextPid++
	pid := f.nextPid
	n := f.counts[spec.Name]
	f.counts[spec.Name]++
	f.names[pid] = spec.Name
	f.alive[pid] = true
	f.spawned = append(f.spawned, fmt.Sprintf("%s@%v", spec.Name, f.since()))
	if life := f.lifetime(spec.Name, n); life >= 0 {
		f.exitAfter(pid, life, syscall.WaitStatus(1<<8))
	}
	return &spawn.Child{Pid: pid}, nil
}

// exitAfter reaps pid with status after d, once.
func (f *fakeSpawner) exitAfter(pid int, d time.Duration, status syscall.WaitStatus) {
	time.AfterFunc(d, func() {
		f.mu.Lock()
		live := f.alive[pid]
		delete(f.alive, pid)
		f.mu.Unlock()
		if live {
			f.exits <- spawn.Exit{Pid: pid, Status: status}
		}
	})
}

func (f *fakeSpawner) Kill(pid int, sig syscall.Signal, group bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	name := f.names[pid]
	f.kills = append(f.kills, fmt.Sprintf("%s %d@%v", name, sig, f.since()))
	if !f.alive[pid] {
		return fmt.Errorf("kill %d: %w", pid, syscall.ESRCH)
	}
	switch {
	case sig == syscall.SIGKILL:
		f.exitAfter(pid, 0, syscall.WaitStatus(syscall.SIGKILL))
	case sig == syscall.SIGTERM && !f.trapTerm[name]:
		f.exitAfter(pid, f.termDelay, syscall.WaitStatus(syscall.SIGTERM))
	}
	return nil
}

func (f *fakeSpawner) TakeExits() (spawn.Exits, error) {
	return spawn.Exits{C: f.exits, Release: func() {}}, nil
}

func (f *fakeSpawner) snapshot() (spawned, kills []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.spawned), slices.Clone(f.kills)
}

// timedLog records main-log lines with their virtual time offset.
type timedLog struct {
	start time.Time
	mu    sync.Mutex
	lines []string
}

func (l *timedLog) Log(_ loglevel.Level, msg string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf("%v %s", time.Since(l.start), msg))
}

func (l *timedLog) Enabled(loglevel.Level) bool { return true }

func (l *timedLog) matching(substr string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, line := range l.lines {
		if strings.Contains(line, substr) {
			out = append(out, line)
		}
	}
	return out
}

// engine is a Supervisor on a fake spawner inside a synctest bubble.
type engine struct {
	t      *testing.T
	path   string
	s      *Supervisor
	f      *fakeSpawner
	log    *timedLog
	cancel context.CancelFunc
	runErr chan error
}

// newEngine must be called inside synctest.Test.
func newEngine(t *testing.T, f *fakeSpawner, programs string) *engine {
	t.Helper()
	return newEngineOn(t, f, programs, nil)
}

// newEngineOn is newEngine with Options.Clock set to clock (nil: the real
// one) and any other options set by mods.
func newEngineOn(t *testing.T, f *fakeSpawner, programs string, clock Clock, mods ...func(*Options)) *engine {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "supervisord.conf")
	e := &engine{t: t, path: path, f: f, log: &timedLog{start: f.start}, runErr: make(chan error, 1)}
	e.write(programs)
	cfg, err := config.Load(path, config.Options{})
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	opts := Options{Config: cfg, Log: e.log, Reaper: f, Clock: clock, Environ: []string{"PATH=/usr/bin:/bin"}}
	for _, mod := range mods {
		mod(&opts)
	}
	e.s, err = New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	e.cancel = cancel
	go func() { e.runErr <- e.s.Run(ctx) }()
	return e
}

func (e *engine) write(programs string) {
	e.t.Helper()
	dir := filepath.Dir(e.path)
	conf := fmt.Sprintf("[supervisord]\nlogfile=%s/sd.log\nchildlogdir=%s\n\n%s", dir, dir, programs)
	if err := os.WriteFile(e.path, []byte(conf), 0o644); err != nil {
		e.t.Fatal(err)
	}
}

// stop shuts the engine down and waits for Run to return.
func (e *engine) stop() {
	e.cancel()
	if err := <-e.runErr; err != nil {
		e.t.Errorf("Run: %v", err)
	}
}

// states is every process's state by name.
func (e *engine) states() map[string]string {
	out := map[string]string{}
	for _, pi := range e.s.Processes() {
		out[pi.Name] = pi.StateName
	}
	return out
}

// program is a config section for a fake child (the command must exist:
// startProcess resolves it).
func program(name string, settings ...string) string {
	return fmt.Sprintf("[program:%s]\ncommand=/bin/sh\nstdout_logfile=NONE\nstderr_logfile=NONE\n%s\n\n",
		name, strings.Join(settings, "\n"))
}

func names(entries []string) []string {
	out := make([]string, len(entries))
	for i, e := range entries {
		out[i], _, _ = strings.Cut(e, "@")
	}
	return out
}

// TestEngineStartsInPriorityOrder: autostart spawns level by level, lowest
// priority first, and a level of many is forked on workers but attached in
// order.
func TestEngineStartsInPriorityOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeSpawner(func(string, int) time.Duration { return -1 })
		var conf string
		for i, prio := range []int{400, 200, 100, 600, 300, 500} {
			conf += program(fmt.Sprintf("pr_%c", 'a'+i), fmt.Sprintf("priority=%d", prio))
		}
		conf += program("many", "numprocs=6", "process_name=%(program_name)s_%(process_num)d", "priority=700")
		e := newEngine(t, f, conf)
		defer e.stop()
		synctest.Wait()
		spawned, _ := f.snapshot()
		want := []string{"pr_c", "pr_b", "pr_e", "pr_a", "pr_f", "pr_d",
			"many_0", "many_1", "many_2", "many_3", "many_4", "many_5"}
		// The last level is forked on workers, in any order.
		got := names(spawned)
		if !slices.Equal(got[:6], want[:6]) || !slices.Equal(slices.Sorted(slices.Values(got[6:])), want[6:]) {
			t.Errorf("spawn order %v; want %v", got, want)
		}
		spawnedLog := e.log.matching("spawned: ")
		if len(spawnedLog) != len(want) {
			t.Fatalf("spawned lines %v", spawnedLog)
		}
		for i, line := range spawnedLog {
			if !strings.Contains(line, "'"+want[i]+"'") {
				t.Errorf("log line %d %q; want %s", i, line, want[i])
			}
		}
		time.Sleep(1100 * time.Millisecond)
		synctest.Wait()
		for name, st := range e.states() {
			if st != "RUNNING" {
				t.Errorf("%s is %s after startsecs", name, st)
			}
		}
	})
}

// TestEngineCrashLoopThrottle: an `exit 1` child with startsecs=0 and
// autorestart=true is respawned once a second, not in a busy loop.
func TestEngineCrashLoopThrottle(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeSpawner(func(string, int) time.Duration { return time.Millisecond })
		e := newEngine(t, f, program("crash", "startsecs=0", "autorestart=true"))
		defer e.stop()
		time.Sleep(10*time.Second + 500*time.Millisecond)
		synctest.Wait()
		spawned, _ := f.snapshot()
		if len(spawned) != 11 {
			t.Fatalf("%d spawns in 10.5 s; want 11 (one a second): %v", len(spawned), spawned)
		}
		for i, s := range spawned {
			if want := fmt.Sprintf("crash@%v", time.Duration(i)*time.Second); s != want {
				t.Errorf("spawn %d at %s; want %s", i, s, want)
			}
		}
		// A run of a second or more is replaced at once.
		f2 := newFakeSpawner(func(string, int) time.Duration { return 3 * time.Second })
		e2 := newEngine(t, f2, program("slow", "startsecs=0", "autorestart=true"))
		defer e2.stop()
		time.Sleep(7 * time.Second)
		synctest.Wait()
		if spawned, _ := f2.snapshot(); !slices.Equal(spawned, []string{"slow@0s", "slow@3s", "slow@6s"}) {
			t.Errorf("long runs: spawns %v", spawned)
		}
	})
}

// TestEngineBackoff: quick exits back off 1, 2, 3 s (each retry the
// smallest step after its delay) and give up after startretries.
func TestEngineBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeSpawner(func(string, int) time.Duration { return 10 * time.Millisecond })
		e := newEngine(t, f, program("quick", "startsecs=1", "startretries=3"))
		defer e.stop()
		time.Sleep(20 * time.Second)
		synctest.Wait()
		spawned, _ := f.snapshot()
		want := []string{"quick@0s", "quick@1.010000001s", "quick@3.020000002s", "quick@6.030000003s"}
		if !slices.Equal(spawned, want) {
			t.Errorf("spawns %v; want %v", spawned, want)
		}
		if st := e.states()["quick"]; st != "FATAL" {
			t.Errorf("state %s; want FATAL", st)
		}
		if got := e.log.matching("gave up: quick entered FATAL state"); len(got) != 1 || !strings.HasPrefix(got[0], "6.040000003s ") {
			t.Errorf("gave up lines %v", got)
		}
	})
}

// TestEngineStopwaitsecs: a child that ignores SIGTERM gets SIGKILL
// exactly stopwaitsecs later, and the waiting stop returns then.
func TestEngineStopwaitsecs(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeSpawner(func(string, int) time.Duration { return -1 })
		f.trapTerm["stubborn"] = true
		e := newEngine(t, f, program("stubborn", "startsecs=1", "stopwaitsecs=7"))
		defer e.stop()
		time.Sleep(2 * time.Second)
		wait, err := e.s.StopProcess("stubborn")
		if err != nil || wait == nil {
			t.Fatalf("StopProcess: %v %v", wait, err)
		}
		if err := wait(context.Background()); err != nil {
			t.Fatalf("wait: %v", err)
		}
		_, kills := f.snapshot()
		if want := []string{"stubborn 15@2s", "stubborn 9@9s"}; !slices.Equal(kills, want) {
			t.Errorf("kills %v; want %v", kills, want)
		}
		if got := len(e.log.matching("waiting for stubborn to stop")); got != 4 {
			t.Errorf("%d stop reports in 7 s; want 4 (every 2 s)", got)
		}
		if st := e.states()["stubborn"]; st != "STOPPED" {
			t.Errorf("state %s", st)
		}
	})
}

// TestEngineShutdownOrder: shutdown stops the highest priority first and
// waits for each level to be gone before the next.
func TestEngineShutdownOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeSpawner(func(string, int) time.Duration { return -1 })
		f.termDelay = 500 * time.Millisecond
		e := newEngine(t, f, program("db", "priority=1")+program("app", "priority=2")+
			program("web", "priority=3", "numprocs=2", "process_name=%(program_name)s_%(process_num)d"))
		time.Sleep(2 * time.Second)
		e.stop()
		_, kills := f.snapshot()
		want := []string{"web_1 15@2s", "web_0 15@2s", "app 15@2.5s", "db 15@3s"}
		if !slices.Equal(kills, want) {
			t.Errorf("kills %v; want %v", kills, want)
		}
	})
}

// TestEngineReloadDiff: a re-read config is diffed against the active
// groups; removing and adding groups stops and starts only those.
func TestEngineReloadDiff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeSpawner(func(string, int) time.Duration { return -1 })
		e := newEngine(t, f, program("keep")+program("gone")+program("edit", "startsecs=1"))
		defer e.stop()
		time.Sleep(2 * time.Second)
		e.write(program("keep") + program("edit", "startsecs=2") + program("fresh"))
		added, changed, removed, err := e.s.ReloadConfig()
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(added, []string{"fresh"}) || !slices.Equal(changed, []string{"edit"}) || !slices.Equal(removed, []string{"gone"}) {
			t.Fatalf("diff added %v changed %v removed %v", added, changed, removed)
		}
		for _, g := range []string{"gone", "edit"} {
			ws, errs := e.s.StopProcesses([]string{g + ":" + g})
			if errs[0] != nil {
				t.Fatalf("stop %s: %v", g, errs[0])
			}
			if err := ws[0](context.Background()); err != nil {
				t.Fatal(err)
			}
			if err := e.s.RemoveGroup(g); err != nil {
				t.Fatalf("remove %s: %v", g, err)
			}
		}
		for _, g := range []string{"edit", "fresh"} {
			if err := e.s.AddGroup(g); err != nil {
				t.Fatalf("add %s: %v", g, err)
			}
		}
		synctest.Wait()
		spawned, kills := f.snapshot()
		if want := []string{"edit", "gone", "keep", "edit", "fresh"}; !slices.Equal(names(spawned), want) {
			t.Errorf("spawns %v; want %v", spawned, want)
		}
		if want := []string{"gone 15@2s", "edit 15@2s"}; !slices.Equal(kills, want) {
			t.Errorf("kills %v; want %v", kills, want)
		}
		got := e.states()
		if len(got) != 3 || got["keep"] != "RUNNING" || got["edit"] != "STARTING" || got["fresh"] != "STARTING" {
			t.Errorf("states %v", got)
		}
	})
}

// TestEngineBatchStartStop: stop all and start all through the batch
// calls, one loop round trip each, in priority order.
func TestEngineBatchStartStop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeSpawner(func(string, int) time.Duration { return -1 })
		e := newEngine(t, f, program("w", "numprocs=50", "process_name=%(program_name)s_%(process_num)02d", "startsecs=0"))
		defer e.stop()
		synctest.Wait()
		var nss []string
		for _, pi := range e.s.Processes() {
			nss = append(nss, pi.Group+":"+pi.Name)
		}
		ws, errs := e.s.StopProcesses(nss)
		for i := range nss {
			if errs[i] != nil || ws[i] == nil {
				t.Fatalf("stop %s: %v", nss[i], errs[i])
			}
		}
		synctest.Wait()
		for name, st := range e.states() {
			if st != "STOPPED" {
				t.Fatalf("%s %s after stop all", name, st)
			}
		}
		ws, errs = e.s.StartProcesses(append(nss, "nosuch"))
		if errs[len(nss)] == nil {
			t.Error("no BAD_NAME for nosuch")
		}
		for i := range nss {
			if errs[i] != nil {
				t.Fatalf("start %s: %v", nss[i], errs[i])
			}
			// startsecs=0: RUNNING the smallest step after the spawn.
			if ws[i] != nil {
				if err := ws[i](context.Background()); err != nil {
					t.Fatalf("wait %s: %v", nss[i], err)
				}
			}
		}
		// Forked ahead on workers, attached (logged) in priority order.
		lines := e.log.matching("spawned: ")
		if len(lines) != 100 {
			t.Fatalf("%d spawned lines", len(lines))
		}
		var attached []string
		for _, l := range lines[50:] {
			_, name, _ := strings.Cut(l, "'")
			attached = append(attached, name)
		}
		if !slices.IsSorted(attached) {
			t.Errorf("second start attached in order %v", attached)
		}
		if spawned, _ := f.snapshot(); len(spawned) != 100 {
			t.Errorf("%d spawns", len(spawned))
		}
	})
}

// countingClock is the real clock (virtual in a bubble) shifted by offset,
// counting the timers the engine asks for.
type countingClock struct {
	offset time.Duration
	mu     sync.Mutex
	timers int
}

func (c *countingClock) Now() time.Time { return time.Now().Add(c.offset) }

func (c *countingClock) NewTimer(d time.Duration) Timer {
	c.mu.Lock()
	c.timers++
	c.mu.Unlock()
	return realClock{}.NewTimer(d)
}

func (c *countingClock) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.timers
}

// TestEngineClock: the loop reads time and arms its timer through
// Options.Clock only, and an idle engine arms none at all.
func TestEngineClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeSpawner(func(string, int) time.Duration { return -1 })
		clock := &countingClock{offset: 24 * time.Hour}
		e := newEngineOn(t, f, program("a", "startsecs=1", "numprocs=20", "process_name=%(program_name)s_%(process_num)d"), clock)
		defer e.stop()
		time.Sleep(1100 * time.Millisecond)
		synctest.Wait()
		infos := e.s.Processes()
		for _, pi := range infos {
			if pi.StateName != "RUNNING" {
				t.Fatalf("%s %s", pi.Name, pi.StateName)
			}
			if got := pi.Start.Sub(f.start); got != 24*time.Hour {
				t.Errorf("%s started at +%v on the engine's clock; want +24h", pi.Name, got)
			}
		}
		armed := clock.count()
		if armed == 0 {
			t.Fatal("the engine armed no timer through its clock for startsecs")
		}
		time.Sleep(30 * time.Second)
		synctest.Wait()
		if got := clock.count(); got != armed {
			t.Errorf("an idle engine armed %d timers in 30 s", got-armed)
		}
	})
}

// TestEngineDependsOnOrdersStartup: depends_on wins over priority; a held
// process is STOPPED and described as waiting.
func TestEngineDependsOnOrdersStartup(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeSpawner(func(string, int) time.Duration { return -1 })
		e := newEngine(t, f, program("db", "priority=900", "startsecs=2")+
			program("app", "priority=100", "depends_on=db", "startsecs=1")+
			program("web", "priority=50", "depends_on=app"))
		defer e.stop()
		synctest.Wait()
		if spawned, _ := f.snapshot(); !slices.Equal(names(spawned), []string{"db"}) {
			t.Fatalf("at start spawned %v; want only db", spawned)
		}
		infos := map[string]string{}
		for _, pi := range e.s.Processes() {
			infos[pi.Name] = pi.StateName + " " + pi.Description
		}
		if infos["app"] != "STOPPED waiting for db" || infos["web"] != "STOPPED waiting for app" {
			t.Errorf("held processes: %v", infos)
		}
		time.Sleep(5 * time.Second)
		synctest.Wait()
		spawned, _ := f.snapshot()
		if want := []string{"db@0s", "app@2.000000001s", "web@3.000000002s"}; !slices.Equal(spawned, want) {
			t.Errorf("spawns %v; want %v (each once its dependency is RUNNING)", spawned, want)
		}
	})
}

// TestEngineAutostartStartsDependencies: an autostart program starts its
// autostart=false dependency first, as `start` would; an autorestart does
// not start a dependency that was stopped.
func TestEngineAutostartStartsDependencies(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeSpawner(func(name string, n int) time.Duration {
			if name == "app" && n == 1 {
				return 5 * time.Second // app's second run exits
			}
			return -1
		})
		e := newEngine(t, f, program("db", "autostart=false", "startsecs=1")+
			program("app", "depends_on=db", "startsecs=1"))
		defer e.stop()
		time.Sleep(3 * time.Second)
		synctest.Wait()
		if spawned, _ := f.snapshot(); !slices.Equal(spawned, []string{"db@0s", "app@1.000000001s"}) {
			t.Fatalf("spawns %v; want db, then app once db is RUNNING", spawned)
		}
		if _, err := e.s.StopProcess("db"); err != nil {
			t.Fatal(err)
		}
		if _, err := e.s.StopProcess("app"); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if _, err := e.s.StartProcess("db"); err != nil {
			t.Fatal(err)
		}
		if _, err := e.s.StartProcess("app"); err != nil {
			t.Fatal(err)
		}
		time.Sleep(3 * time.Second)
		synctest.Wait()
		if _, err := e.s.StopProcess("db"); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Second) // app exits and wants its autorestart
		synctest.Wait()
		spawned, _ := f.snapshot()
		if n := len(names(spawned)); n != 4 {
			t.Errorf("spawns %v; want db and app twice, nothing after db's stop", spawned)
		}
		if st := e.states(); st["db"] != "STOPPED" || st["app"] != "EXITED" {
			t.Errorf("states %v; want db STOPPED, app EXITED waiting", st)
		}
	})
}

// TestEngineUpdateAddsDependent: a program added by update waits for its
// dependency (here one still STARTING), and a depends_on edit makes the
// group changed.
func TestEngineUpdateAddsDependent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeSpawner(func(string, int) time.Duration { return -1 })
		e := newEngine(t, f, program("db", "startsecs=5"))
		defer e.stop()
		time.Sleep(time.Second)
		e.write(program("db", "startsecs=5") + program("app", "depends_on=db", "startsecs=1"))
		added, changed, _, err := e.s.ReloadConfig()
		if err != nil || !slices.Equal(added, []string{"app"}) || len(changed) != 0 {
			t.Fatalf("diff added %v changed %v: %v", added, changed, err)
		}
		if err := e.s.AddGroup("app"); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if infos := e.s.Processes(); len(infos) != 2 || infos[0].Name != "app" || infos[0].Description != "waiting for db" {
			t.Errorf("added app: %+v", infos)
		}
		time.Sleep(5 * time.Second)
		synctest.Wait()
		if spawned, _ := f.snapshot(); !slices.Equal(spawned, []string{"db@0s", "app@5.000000001s"}) {
			t.Errorf("spawns %v; want app once db is RUNNING", spawned)
		}
		e.write(program("db", "startsecs=5") + program("app", "depends_on=", "startsecs=1"))
		if _, changed, _, err := e.s.ReloadConfig(); err != nil || !slices.Equal(changed, []string{"app"}) {
			t.Errorf("depends_on removed: changed %v, %v; want app", changed, err)
		}
	})
}

// TestEngineTransitiveStart: starting a process starts its stopped
// dependencies first; the waiting start returns once it is RUNNING.
func TestEngineTransitiveStart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeSpawner(func(string, int) time.Duration { return -1 })
		e := newEngine(t, f, program("db", "autostart=false", "startsecs=1")+
			program("app", "autostart=false", "depends_on=db", "startsecs=1")+
			program("web", "autostart=false", "depends_on=app", "startsecs=1"))
		defer e.stop()
		w, err := e.s.StartProcess("web")
		if err != nil || w == nil {
			t.Fatalf("StartProcess: %v", err)
		}
		if err := w(context.Background()); err != nil {
			t.Fatalf("wait: %v", err)
		}
		spawned, _ := f.snapshot()
		if want := []string{"db@0s", "app@1.000000001s", "web@2.000000002s"}; !slices.Equal(spawned, want) {
			t.Errorf("spawns %v; want %v", spawned, want)
		}
		if st := e.states(); st["web"] != "RUNNING" || st["app"] != "RUNNING" || st["db"] != "RUNNING" {
			t.Errorf("states %v", st)
		}
	})
}

// TestEngineFatalDependency: a waiting start fails once a dependency is
// FATAL, with the fault of EXTENSIONS.md §1.
func TestEngineFatalDependency(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeSpawner(func(name string, _ int) time.Duration {
			if name == "db" {
				return 10 * time.Millisecond
			}
			return -1
		})
		e := newEngine(t, f, program("db", "autostart=false", "startretries=1")+
			program("app", "autostart=false", "depends_on=db"))
		defer e.stop()
		w, err := e.s.StartProcess("app")
		if err != nil || w == nil {
			t.Fatalf("StartProcess: %v", err)
		}
		err = w(context.Background())
		if err == nil || err.Error() != "SPAWN_ERROR: dependency 'db' is FATAL" {
			t.Fatalf("wait: %v", err)
		}
		if spawned, _ := f.snapshot(); slices.Contains(names(spawned), "app") {
			t.Errorf("app was spawned: %v", spawned)
		}
	})
}

// TestEngineShutdownStopsDependentsFirst: db has the highest priority
// number, so the original would stop it first; its dependent goes first.
func TestEngineShutdownStopsDependentsFirst(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeSpawner(func(string, int) time.Duration { return -1 })
		f.termDelay = 300 * time.Millisecond
		e := newEngine(t, f, program("db", "priority=999")+program("app", "priority=1", "depends_on=db")+
			program("other", "priority=500"))
		time.Sleep(3 * time.Second)
		e.stop()
		_, kills := f.snapshot()
		if want := []string{"app 15@3s", "db 15@3.3s", "other 15@3.6s"}; !slices.Equal(kills, want) {
			t.Errorf("kills %v; want %v", kills, want)
		}
	})
}

// TestEngineStopAllStopsDependentsFirst: a batch stop holds a dependency's
// stop until its dependents in the batch are stopped; stopping the
// dependency alone does not touch them.
func TestEngineStopAllStopsDependentsFirst(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeSpawner(func(string, int) time.Duration { return -1 })
		f.termDelay = 300 * time.Millisecond
		e := newEngine(t, f, program("db")+program("app", "depends_on=db"))
		defer e.stop()
		time.Sleep(3 * time.Second)
		ws, errs := e.s.StopProcesses([]string{"db", "app"})
		for i, w := range ws {
			if errs[i] != nil || w == nil {
				t.Fatalf("stop %d: %v", i, errs[i])
			}
			if err := w(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		_, kills := f.snapshot()
		if want := []string{"app 15@3s", "db 15@3.3s"}; !slices.Equal(kills, want) {
			t.Errorf("kills %v; want %v", kills, want)
		}
		// Alone, a dependency stops at once and its dependent stays.
		ws, _ = e.s.StartProcesses([]string{"db", "app"})
		for _, w := range ws {
			if w != nil {
				_ = w(context.Background())
			}
		}
		w, err := e.s.StopProcess("db")
		if err != nil || w == nil {
			t.Fatal(err)
		}
		_ = w(context.Background())
		if st := e.states(); st["app"] != "RUNNING" || st["db"] != "STOPPED" {
			t.Errorf("after stopping db alone: %v", st)
		}
	})
}

// TestEngineCritical: a critical program going FATAL stops everything in
// order and ends Run with a CriticalError.
func TestEngineCritical(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeSpawner(func(name string, _ int) time.Duration {
			if name == "worker" {
				return 10 * time.Millisecond
			}
			return -1
		})
		e := newEngine(t, f, program("worker", "critical=true", "startretries=1")+program("web"))
		err := <-e.runErr
		e.cancel()
		var crit *CriticalError
		if !errors.As(err, &crit) || crit.Program != "worker" {
			t.Fatalf("Run: %v; want a CriticalError for worker", err)
		}
		if lines := e.log.matching("critical program 'worker' entered FATAL state, shutting down"); len(lines) != 1 {
			t.Errorf("CRIT lines %v", lines)
		}
		// The CRIT line follows the machine's own "gave up" line.
		if lines := e.log.matching("entered FATAL state"); len(lines) != 2 || !strings.Contains(lines[0], "gave up:") {
			t.Errorf("FATAL lines in this order: %q", lines)
		}
		if _, kills := f.snapshot(); !slices.Equal(kills, []string{"web 15@1.020000001s"}) {
			t.Errorf("kills %v", kills)
		}
	})
}

// TestEngineBackoffKeys: backoff=exponential, backoff_max and
// startretries=unlimited reach the machine from the config.
func TestEngineBackoffKeys(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeSpawner(func(string, int) time.Duration { return 10 * time.Millisecond })
		e := newEngine(t, f, program("flaky", "backoff=exponential", "backoff_max=4", "startretries=unlimited"))
		defer e.stop()
		time.Sleep(2 * time.Hour)
		synctest.Wait()
		spawned, _ := f.snapshot()
		if len(spawned) < 1000 {
			t.Fatalf("%d spawns in two hours of 4 s delays, want over 1,000 failures", len(spawned))
		}
		want := []string{"flaky@0s", "flaky@1.010000001s", "flaky@3.020000002s", "flaky@7.030000003s", "flaky@11.040000004s", "flaky@15.050000005s"}
		if !slices.Equal(spawned[:6], want) {
			t.Errorf("first spawns %v; want %v", spawned[:6], want)
		}
		if st := e.states()["flaky"]; st == "FATAL" {
			t.Error("unlimited retries gave up")
		}
	})
}

// fakeChecks answers health checks by namespec from a script: the n-th
// check of a process (from 0) passes when ok(n); hang makes it block
// until its timeout.
type fakeChecks struct {
	mu     sync.Mutex
	counts map[string]int
	at     map[string][]time.Duration
	start  time.Time
	ok     func(name string, n int) bool
	hang   func(name string, n int) bool
}

func newFakeChecks(start time.Time, ok func(string, int) bool) *fakeChecks {
	return &fakeChecks{counts: map[string]int{}, at: map[string][]time.Duration{}, start: start, ok: ok}
}

func (c *fakeChecks) check(ctx context.Context, name string, _ *config.HealthCheck) health.Result {
	c.mu.Lock()
	n := c.counts[name]
	c.counts[name]++
	c.at[name] = append(c.at[name], time.Since(c.start))
	c.mu.Unlock()
	if c.hang != nil && c.hang(name, n) {
		<-ctx.Done()
		return health.Result{Err: "hung"}
	}
	if c.ok(name, n) {
		return health.Result{OK: true}
	}
	return health.Result{Err: "connection refused"}
}

func (c *fakeChecks) times(name string) []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.at[name])
}

func newHealthEngine(t *testing.T, f *fakeSpawner, c *fakeChecks, programs string) *engine {
	t.Helper()
	return newEngineOn(t, f, programs, nil, func(o *Options) { o.Check = c.check })
}

const tcpCheck = "healthcheck=tcp://127.0.0.1:5432"

// TestEngineUnhealthyRestarts: retries consecutive failures make a process
// unhealthy exactly once, and on_unhealthy=restart (the default) restarts
// it; health shows in the description and getProcessHealth.
func TestEngineUnhealthyRestarts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeSpawner(func(string, int) time.Duration { return -1 })
		c := newFakeChecks(f.start, func(_ string, n int) bool { return n < 2 })
		e := newHealthEngine(t, f, c, program("web", tcpCheck, "healthcheck_interval=2", "healthcheck_retries=3"))
		defer e.stop()
		time.Sleep(4 * time.Second)
		synctest.Wait()
		if pi := e.s.Processes()[0]; !strings.HasSuffix(pi.Description, ", healthy") {
			t.Errorf("description %q; want the healthy suffix", pi.Description)
		}
		time.Sleep(8 * time.Second)
		synctest.Wait()
		// RUNNING at 1 s; checks every 2 s from 3 s: ok, ok, then three
		// failures, the third at 11 s: unhealthy, SIGTERM, respawn.
		if got := c.times("web"); len(got) < 5 || got[4] != 11*time.Second+1 {
			t.Fatalf("check times %v", got)
		}
		spawned, kills := f.snapshot()
		if !slices.Equal(kills, []string{"web 15@11.000000001s"}) || len(spawned) != 2 || spawned[1] != "web@11.000000001s" {
			t.Errorf("kills %v spawns %v; want one restart at the third failure", kills, spawned)
		}
		if n := len(e.log.matching("health: web is unhealthy (3 failures: connection refused)")); n != 1 {
			t.Errorf("%d unhealthy lines; log %v", n, e.log.matching("health:"))
		}
		h, err := e.s.ProcessHealth("web")
		if err != nil || !h.Checked || h.Kind != "tcp" || h.Status != "starting" || h.LastError != "connection refused" {
			t.Errorf("ProcessHealth after the restart: %+v %v", h, err)
		}
	})
}

// TestEngineHealthStartPeriodAndShutdown: failures inside the start
// period do not count; on_unhealthy=shutdown ends Run as critical.
func TestEngineHealthStartPeriodAndShutdown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeSpawner(func(string, int) time.Duration { return -1 })
		c := newFakeChecks(f.start, func(string, int) bool { return false })
		e := newHealthEngine(t, f, c, program("db", tcpCheck, "healthcheck_interval=1", "healthcheck_retries=2",
			"healthcheck_start_period=5", "on_unhealthy=shutdown")+program("other"))
		err := <-e.runErr
		e.cancel()
		var crit *CriticalError
		if !errors.As(err, &crit) || crit.Why != "is unhealthy" {
			t.Fatalf("Run: %v", err)
		}
		// RUNNING at 1 s, start period to 6 s: the checks at 2…5 s do not
		// count, those at 6 and 7 s (the period over) do.
		if got := time.Since(f.start); got != 7*time.Second+1 {
			t.Errorf("shut down at %v; want 7s", got)
		}
		if lines := e.log.matching("critical program 'db' is unhealthy, shutting down"); len(lines) != 1 {
			t.Errorf("CRIT lines %v", lines)
		}
	})
}

// TestEngineDependencyWaitsForHealth and a hanging check: app starts only
// once db is healthy; a check that hangs fails at its timeout; /readyz's
// list names what is not ready.
func TestEngineDependencyWaitsForHealth(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeSpawner(func(string, int) time.Duration { return -1 })
		c := newFakeChecks(f.start, func(_ string, n int) bool { return n >= 1 })
		c.hang = func(_ string, n int) bool { return n == 0 }
		e := newHealthEngine(t, f, c, program("db", tcpCheck, "healthcheck_interval=2", "healthcheck_timeout=1")+
			program("app", "depends_on=db"))
		defer e.stop()
		time.Sleep(3500 * time.Millisecond)
		synctest.Wait()
		// First check at 3 s hangs; it fails at 4 s (timeout 1 s).
		if nr := e.s.Readiness(); len(nr) != 2 || nr[0].Name != "app" || nr[1].Health != "starting" {
			t.Errorf("readiness %+v", nr)
		}
		time.Sleep(3 * time.Second)
		synctest.Wait()
		h, _ := e.s.ProcessHealth("db")
		if h.Status != "healthy" {
			t.Fatalf("db health %+v", h)
		}
		spawned, _ := f.snapshot()
		// Second check at 4 s + 2 s = 6 s passes: app spawns then.
		if want := []string{"db@0s", "app@6.000000001s"}; !slices.Equal(spawned, want) {
			t.Errorf("spawns %v; want %v", spawned, want)
		}
		time.Sleep(2 * time.Second)
		synctest.Wait()
		if nr := e.s.Readiness(); len(nr) != 0 {
			t.Errorf("not ready: %+v", nr)
		}
	})
}
