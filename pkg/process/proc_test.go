package process

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gosupervisor/gosupervisor/pkg/loglevel"
)

func TestStateNamesAndClasses(t *testing.T) {
	cases := []struct {
		s                             State
		name                          string
		running, stopped, signallable bool
	}{
		{Stopped, "STOPPED", false, true, false},
		{Starting, "STARTING", true, false, true},
		{Running, "RUNNING", true, false, true},
		{Backoff, "BACKOFF", true, false, false},
		{Stopping, "STOPPING", false, false, true},
		{Exited, "EXITED", false, true, false},
		{Fatal, "FATAL", false, true, false},
		{Unknown, "UNKNOWN", false, true, false},
	}
	for _, c := range cases {
		if c.s.String() != c.name || c.s.IsRunning() != c.running || c.s.IsStopped() != c.stopped ||
			c.s.IsSignallable() != c.signallable {
			t.Errorf("%d: got %s running=%t stopped=%t signallable=%t", int(c.s), c.s, c.s.IsRunning(),
				c.s.IsStopped(), c.s.IsSignallable())
		}
	}
	if got := []int{int(Stopped), int(Starting), int(Running), int(Backoff), int(Stopping), int(Exited), int(Fatal), int(Unknown)}; got[7] != 1000 || got[6] != 200 || got[5] != 100 {
		t.Errorf("codes %v", got)
	}
}

func TestDecodeWaitStatus(t *testing.T) {
	cases := []struct {
		ws   syscall.WaitStatus
		es   int
		text string
	}{
		{0, 0, "exit status 0"},
		{3 << 8, 3, "exit status 3"},
		{255 << 8, 255, "exit status 255"},
		{15, -1, "terminated by SIGTERM"},
		{9, -1, "terminated by SIGKILL"},
		{11 | 0x80, -1, "terminated by SIGSEGV (core dumped)"},
		{40, -1, "terminated by signal 40"},
		{0x137f, -1, "unknown termination cause 0x137f"}, // stopped by SIGSTOP
		{0xffff, -1, "unknown termination cause 0xffff"}, // continued
	}
	for _, c := range cases {
		es, text := DecodeWaitStatus(c.ws)
		if es != c.es || text != c.text {
			t.Errorf("DecodeWaitStatus(%#x) = %d, %q; want %d, %q", uint32(c.ws), es, text, c.es, c.text)
		}
	}
}

func TestTimedelta(t *testing.T) {
	cases := map[int64]string{
		-5: "0:00:00", 0: "0:00:00", 25: "0:00:25", 3599: "0:59:59", 3600: "1:00:00",
		86399: "23:59:59", 86400: "1 day, 0:00:00", 93784: "1 day, 2:03:04", 2*86400 + 61: "2 days, 0:01:01",
		400 * 86400: "400 days, 0:00:00",
	}
	for in, want := range cases {
		if got := Timedelta(in); got != want {
			t.Errorf("Timedelta(%d) = %q; want %q", in, got, want)
		}
	}
}

func TestDescribe(t *testing.T) {
	loc := testLoc(t)
	stop := time.Date(2023, 11, 22, 15, 14, 59, 0, loc).Unix()
	cases := []struct {
		in   Info
		want string
	}{
		{Info{State: Running, Pid: 9533, Start: 100, Now: 125}, "pid 9533, uptime 0:00:25"},
		{Info{State: Running, Pid: 1, Start: 100, Now: 90}, "pid 1, uptime 0:00:00"},
		{Info{State: Stopped}, "Not started"},
		{Info{State: Exited, Start: 1, Stop: stop}, "Nov 22 03:14 PM"},
		{Info{State: Stopped, Start: 1, Stop: stop - 12*3600}, "Nov 22 03:14 AM"},
		{Info{State: Backoff, Name: "x", Spawnerr: "boom"}, "boom"},
		{Info{State: Fatal, Name: "x"}, `unknown error (try "tail x")`},
		{Info{State: Starting}, ""},
		{Info{State: Stopping}, ""},
		{Info{State: Unknown}, ""},
	}
	for _, c := range cases {
		if got := describe(c.in, loc); got != c.want {
			t.Errorf("describe(%+v) = %q; want %q", c.in, got, c.want)
		}
	}
}

func TestInfoFields(t *testing.T) {
	loc := testLoc(t)
	env := &fakeEnv{spawns: []any{4242}}
	p := newDriven("web_00", "web", Policy{Autostart: true, Startsecs: 1, Exitcodes: []int{0}, Stopsignal: syscall.SIGTERM}, env)
	in := p.Info(at(loc, 0))
	if in.Name != "web_00" || in.Group != "web" || in.Start != 0 || in.Stop != 0 || in.Now != base ||
		in.StateName != "STOPPED" || in.Description != "Not started" || in.Pid != 0 || in.Spawns != 0 {
		t.Fatalf("fresh info %+v", in)
	}
	p.Transition(at(loc, 1500), true)
	p.Transition(at(loc, 2600), true)
	in = p.Info(at(loc, 27_900))
	if in.State != Running || in.Start != base+1 || in.Pid != 4242 || in.Spawns != 1 ||
		in.Description != "pid 4242, uptime 0:00:26" {
		t.Fatalf("running info %+v", in)
	}
	if p.Name() != "web_00" || p.Group() != "web" || p.Policy().Startsecs != 1 || p.Killing() || p.Spawns() != 1 ||
		!p.LastStart().Equal(at(loc, 1500)) || !p.LastStop().IsZero() {
		t.Errorf("getters: %s %s %+v %t %d %v %v", p.Name(), p.Group(), p.Policy(), p.Killing(), p.Spawns(),
			p.LastStart(), p.LastStop())
	}
	_ = p.Stop(at(loc, 30_000))
	p.Exited(15, at(loc, 30_500))
	if in := p.Info(at(loc, 31_000)); p.Killing() || in.Stop != base+30 || in.ExitStatus != -1 ||
		in.Description != "Jan 12 08:47 AM" {
		t.Errorf("stopped info %+v", in)
	}
	far := time.Unix(1<<40, 0)
	if got := p.Info(far).Now; got != 1<<31-1 {
		t.Errorf("now not capped: %d", got)
	}
}

func TestErrors(t *testing.T) {
	env := &fakeEnv{spawns: []any{7}, killErrs: []syscall.Errno{syscall.EPERM}}
	p := newDriven("x", "x", Policy{Stopsignal: syscall.SIGTERM, Startsecs: 1}, env)
	now := time.Unix(base, 0)
	err := p.Stop(now)
	if !errors.Is(err, ErrNotRunning) || err.Error() != "attempted to kill x with sig SIGTERM but it wasn't running" {
		t.Errorf("Stop on STOPPED: %v", err)
	}
	err = p.Signal(syscall.SIGHUP)
	if !errors.Is(err, ErrNotRunning) || err.Error() != "attempted to send x sig SIGHUP but it wasn't running" {
		t.Errorf("Signal on STOPPED: %v", err)
	}
	if err := p.GiveUp(now); err == nil || err.Error() != "Assertion failed for x: STOPPED not in BACKOFF" {
		t.Errorf("GiveUp on STOPPED: %v", err)
	}
	if err := p.Start(now); err != nil || p.State() != Starting {
		t.Fatalf("Start: %v %s", err, p.State())
	}
	if err := p.Stop(now.Add(time.Second)); err == nil || errors.Is(err, ErrNotRunning) || p.State() != Unknown {
		t.Fatalf("Stop with EPERM: %v %s", err, p.State())
	}
	// UNKNOWN keeps the pid: signals are refused, start is a logged no-op.
	if err := p.Signal(syscall.SIGHUP); err == nil || !strings.HasPrefix(err.Error(), "Assertion failed for x: UNKNOWN not in") {
		t.Errorf("Signal in UNKNOWN: %v", err)
	}
	if err := p.Stop(now); err == nil || !strings.HasPrefix(err.Error(), "Assertion failed for x: UNKNOWN not in") {
		t.Errorf("Stop in UNKNOWN: %v", err)
	}
	if err := p.Start(now); err != nil || p.State() != Unknown {
		t.Errorf("Start in UNKNOWN: %v %s", err, p.State())
	}
	if p.Deadline() != (time.Time{}) {
		t.Errorf("UNKNOWN has a deadline %v", p.Deadline())
	}
	// The original crashes on an exit in UNKNOWN; we record it as EXITED so
	// the process can be started again.
	p.Exited(0, now.Add(5*time.Second))
	if p.State() != Exited || p.Pid() != 0 || p.ExitStatus() != 0 {
		t.Errorf("exit in UNKNOWN: %s pid %d", p.State(), p.Pid())
	}
	// A stale exit for a process without a child is ignored.
	n := len(env.trace)
	p.Exited(0, now.Add(6*time.Second))
	if len(env.trace) != n {
		t.Errorf("stale exit changed something: %v", env.trace[n:])
	}
}

func TestZeroPidSpawnIsAnError(t *testing.T) {
	env := &fakeEnv{spawns: []any{0}}
	p := newDriven("x", "x", Policy{Startretries: 3}, env)
	_ = p.Start(time.Unix(base, 0))
	if p.State() != Backoff || p.Spawnerr() != "spawning 'x' returned pid 0" {
		t.Errorf("state %s spawnerr %q", p.State(), p.Spawnerr())
	}
}

// TestDeadline checks when the owner is asked to call Transition.
func TestDeadline(t *testing.T) {
	t0 := time.Unix(base, 0)
	sec := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	env := &fakeEnv{spawns: []any{1, 2, 3, 4}}
	p := newDriven("x", "x", Policy{Autostart: true, Startsecs: 2, Startretries: 1, Autorestart: AutorestartAlways,
		Exitcodes: []int{0}, Stopsignal: syscall.SIGTERM, Stopwaitsecs: 4}, env)
	check := func(what string, want time.Time) {
		t.Helper()
		if got := p.Deadline(); !got.Equal(want) {
			t.Errorf("%s: Deadline() = %v; want %v", what, got, want)
		}
	}
	check("fresh autostart", time.Unix(0, 0))
	p.Transition(t0, false)
	check("autostart while shutting down", time.Time{})
	p.Transition(t0, true)
	check("STARTING", sec(2).Add(1))
	p.Transition(sec(2), true)
	if p.State() != Starting {
		t.Fatalf("RUNNING at exactly startsecs: %s", p.State())
	}
	p.Transition(sec(2).Add(1), true)
	if p.State() != Running {
		t.Fatalf("not RUNNING just after startsecs: %s", p.State())
	}
	check("RUNNING", time.Time{})
	_ = p.Stop(sec(3))
	check("STOPPING", sec(7))
	p.Transition(sec(7), true)
	if env.kills[len(env.kills)-1] != "kill 1 9" {
		t.Fatalf("no SIGKILL at stopwaitsecs: %v", env.kills)
	}
	check("STOPPING after SIGKILL", sec(11))
	p.Exited(9, sec(7.5))
	check("STOPPED after a start", time.Time{})
	_ = p.Start(sec(8))
	p.Exited(1<<8, sec(8.5)) // too quick
	check("BACKOFF", sec(9.5).Add(1))
	p.Transition(sec(9.5), false)
	check("BACKOFF while shutting down", time.Time{})
	p.Transition(sec(9.5).Add(1), true)
	p.Exited(1<<8, sec(10)) // too quick again: tries 2 > startretries 1
	check("BACKOFF exhausted", sec(10))
	p.Transition(sec(10), false)
	if p.State() != Fatal {
		t.Fatalf("exhausted BACKOFF not FATAL while shutting down: %s", p.State())
	}
	check("FATAL", time.Time{})
	_ = p.Start(sec(20))
	p.Transition(sec(23), true)
	p.Exited(0, sec(24))
	check("EXITED with autorestart", sec(24))
	p.Transition(sec(24), false)
	check("EXITED while shutting down", time.Time{})
}

// TestStopwaitsecsZeroPace: with stopwaitsecs=0 SIGKILL repeats once a
// second (the original's poll), not in a busy loop.
func TestStopwaitsecsZeroPace(t *testing.T) {
	t0 := time.Unix(base, 0)
	env := &fakeEnv{spawns: []any{5}}
	p := newDriven("x", "x", Policy{Stopsignal: syscall.SIGTERM, Stopwaitsecs: 0}, env)
	_ = p.Start(t0)
	_ = p.Stop(t0)
	if !p.Deadline().Equal(t0) {
		t.Fatalf("deadline %v", p.Deadline())
	}
	p.Transition(t0, true)
	p.Transition(t0, true)
	if got := strings.Join(env.kills, ","); got != "kill 5 15,kill 5 9" {
		t.Fatalf("kills %s", got)
	}
	if !p.Deadline().Equal(t0.Add(time.Second)) {
		t.Fatalf("deadline after SIGKILL %v", p.Deadline())
	}
}

// sim is a fake owner and world for synctest: children live for a set time,
// ignore SIGTERM if told to, and the owner sleeps until Deadline or an exit.
type sim struct {
	t        *testing.T
	p        *driven
	exits    chan simExit
	lifetime func(n int) time.Duration // n-th spawn (from 0); <0: runs until killed
	trapTerm bool
	start    time.Time
	spawnAt  []time.Duration
	events   []string
	logs     []string
	nextPid  int
}

type simExit struct {
	pid    int
	status syscall.WaitStatus
}

func (s *sim) since() time.Duration { return time.Since(s.start) }

func (s *sim) Spawn(p *Proc) (int, error) {
	n := len(s.spawnAt)
	s.spawnAt = append(s.spawnAt, s.since())
	s.nextPid++
	pid := s.nextPid
	if life := s.lifetime(n); life >= 0 {
		time.AfterFunc(life, func() { s.exits <- simExit{pid, 3 << 8} })
	}
	return pid, nil
}

func (s *sim) Kill(pid int, sig syscall.Signal, group bool) error {
	if sig == syscall.SIGKILL || !s.trapTerm {
		go func() { s.exits <- simExit{pid, syscall.WaitStatus(sig)} }()
	}
	return nil
}

func (s *sim) Log(level loglevel.Level, msg string) {
	s.logs = append(s.logs, s.since().String()+" "+msg)
}

func (s *sim) StateChanged(p *Proc, ev StateEvent) {
	s.events = append(s.events, ev.To.String())
}

// run drives the machine like pkg/supervisor does, until stop returns true
// or d passes; it fails on a busy loop.
func (s *sim) run(d time.Duration, stop func() bool) {
	end := time.After(d)
	for i := 0; ; i++ {
		if i > 10_000 {
			s.t.Fatal("busy loop")
		}
		s.p.Transition(time.Now(), true)
		if stop != nil && stop() {
			return
		}
		var timer <-chan time.Time
		if dl := s.p.Deadline(); !dl.IsZero() {
			timer = time.After(time.Until(dl))
		}
		select {
		case ex := <-s.exits:
			if ex.pid == s.p.Pid() {
				s.p.Exited(ex.status, time.Now())
			}
		case <-timer:
		case <-end:
			return
		}
	}
}

func newSim(t *testing.T, pol Policy, lifetime func(int) time.Duration) *sim {
	s := &sim{t: t, exits: make(chan simExit, 16), lifetime: lifetime, start: time.Now()}
	s.p = newDriven("x", "x", pol, s)
	return s
}

func spawnTimes(s *sim) string {
	var b []string
	for _, d := range s.spawnAt {
		b = append(b, d.String())
	}
	return strings.Join(b, " ")
}

func basePolicy() Policy {
	return Policy{Autostart: true, Startsecs: 1, Startretries: 3, Autorestart: AutorestartUnexpected,
		Exitcodes: []int{0}, Stopsignal: syscall.SIGTERM, Stopwaitsecs: 10}
}

// TestTimingQuickExit is SPEC §10.2 and §10.31 in virtual time: spawns at
// t, t+1, t+3, FATAL with the third exit.
func TestTimingQuickExit(t *testing.T) {
	cases := []struct {
		retries int
		spawns  string
		events  string
	}{
		// Each retry comes the smallest step after its delay (the original's `now > delay`).
		{0, "0s", "STARTING BACKOFF FATAL"},
		{1, "0s 1.010000001s", "STARTING BACKOFF STARTING BACKOFF FATAL"},
		{2, "0s 1.010000001s 3.020000002s", "STARTING BACKOFF STARTING BACKOFF STARTING BACKOFF FATAL"},
		{3, "0s 1.010000001s 3.020000002s 6.030000003s",
			"STARTING BACKOFF STARTING BACKOFF STARTING BACKOFF STARTING BACKOFF FATAL"},
	}
	for _, c := range cases {
		synctest.Test(t, func(t *testing.T) {
			pol := basePolicy()
			pol.Startretries = c.retries
			s := newSim(t, pol, func(int) time.Duration { return 10 * time.Millisecond })
			s.run(time.Minute, func() bool { return s.p.State() == Fatal })
			if got := spawnTimes(s); got != c.spawns {
				t.Errorf("startretries=%d: spawns at %s; want %s", c.retries, got, c.spawns)
			}
			if got := strings.Join(s.events, " "); got != c.events {
				t.Errorf("startretries=%d: events %s; want %s", c.retries, got, c.events)
			}
			// FATAL is decided at the last exit itself (the original: ≤1 s later).
			last := s.spawnAt[len(s.spawnAt)-1] + 10*time.Millisecond
			if s.since() != last {
				t.Errorf("FATAL at %v; want %v", s.since(), last)
			}
		})
	}
}

// TestTimingRunningThenExit: RUNNING just after startsecs; autorestart
// policies after the exit (§10.26).
func TestTimingRunningThenExit(t *testing.T) {
	cases := []struct { // every child exits with status 3 after 2 s
		ar     Autorestart
		code   int // the one configured exitcode
		spawns int
	}{
		{AutorestartAlways, 3, 3},
		{AutorestartUnexpected, 3, 1},
		{AutorestartUnexpected, 0, 3},
		{AutorestartNever, 0, 1},
	}
	for _, c := range cases {
		synctest.Test(t, func(t *testing.T) {
			pol := basePolicy()
			pol.Autorestart = c.ar
			pol.Exitcodes = []int{c.code}
			s := newSim(t, pol, func(int) time.Duration { return 2 * time.Second })
			s.run(5500*time.Millisecond, nil)
			if len(s.spawnAt) != c.spawns {
				t.Errorf("%+v: %d spawns at %s", c, len(s.spawnAt), spawnTimes(s))
			}
			// Strictly after startsecs: the smallest step after it.
			if !strings.HasPrefix(s.logs[1], "1.000000001s success: x entered RUNNING state") {
				t.Errorf("RUNNING not right after startsecs: %q", s.logs[1])
			}
			if c.spawns == 3 && spawnTimes(s) != "0s 2s 4s" {
				t.Errorf("restarts not immediate: %s", spawnTimes(s))
			}
		})
	}
}

// TestTimingStartsecsZero is §10.27: an endless restart loop, never BACKOFF.
func TestTimingStartsecsZero(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		pol := basePolicy()
		pol.Startsecs = 0
		s := newSim(t, pol, func(int) time.Duration { return 100 * time.Millisecond })
		s.run(time.Second+50*time.Millisecond, nil)
		if len(s.spawnAt) != 11 {
			t.Errorf("%d spawns: %s", len(s.spawnAt), spawnTimes(s))
		}
		for _, e := range s.events {
			if e == "BACKOFF" || e == "FATAL" {
				t.Fatalf("entered %s: %v", e, s.events)
			}
		}
		if strings.Join(s.events[:4], " ") != "STARTING RUNNING EXITED STARTING" {
			t.Errorf("events %v", s.events)
		}
	})
}

// TestTimingStopEscalation is §10.20: SIGKILL at stopwaitsecs after stop.
func TestTimingStopEscalation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		pol := basePolicy()
		pol.Stopwaitsecs = 3
		s := newSim(t, pol, func(int) time.Duration { return -1 })
		s.trapTerm = true
		s.run(2*time.Second, nil)
		if s.p.State() != Running {
			t.Fatalf("state %s", s.p.State())
		}
		if err := s.p.Stop(time.Now()); err != nil {
			t.Fatal(err)
		}
		s.run(time.Minute, func() bool { return s.p.State() == Stopped })
		want := "2s killing x (pid 1) with signal SIGTERM\n5s killing 'x' (1) with SIGKILL\n" +
			"5s killing x (pid 1) with signal SIGKILL\n5s stopped: x (terminated by SIGKILL)"
		if got := strings.Join(s.logs[len(s.logs)-4:], "\n"); got != want {
			t.Errorf("logs end\n%s\nwant\n%s", got, want)
		}
	})
}

func BenchmarkCycle(b *testing.B) {
	env := &nopEnv{}
	p := newDriven("x", "x", basePolicy(), env)
	now := time.Unix(base, 0)
	b.ReportAllocs()
	for b.Loop() {
		p.Transition(now, true) // spawn
		now = now.Add(1001 * time.Millisecond)
		p.Transition(now, true) // RUNNING
		now = now.Add(time.Second)
		p.Exited(1<<8, now) // EXITED, unexpected
		// the next Transition restarts it
	}
}

type nopEnv struct{ pid int }

func (e *nopEnv) Spawn(*Proc) (int, error)             { e.pid++; return e.pid, nil }
func (e *nopEnv) Kill(int, syscall.Signal, bool) error { return nil }
func (e *nopEnv) Log(loglevel.Level, string)           {}
func (e *nopEnv) StateChanged(*Proc, StateEvent)       {}

// A run shorter than RestartThrottle is autorestarted one throttle after
// its start, and Deadline says when; a longer run is replaced at once.
func TestRestartThrottle(t *testing.T) {
	env := &fakeEnv{spawns: []any{1, 2, 3}}
	pol := Policy{Autostart: true, Autorestart: AutorestartAlways, Exitcodes: []int{0},
		Stopsignal: syscall.SIGTERM, RestartThrottle: time.Second}
	p := newDriven("x", "x", pol, env)
	t0 := time.Unix(base, 0)
	p.Transition(t0, true)
	p.Exited(1<<8, t0.Add(10*time.Millisecond))
	p.Transition(t0.Add(20*time.Millisecond), true)
	if p.State() != Exited {
		t.Fatalf("restarted %v after 20ms; want EXITED until 1s", p.State())
	}
	if d := p.Deadline(); !d.Equal(t0.Add(time.Second)) {
		t.Fatalf("Deadline %v; want start+1s", d.Sub(t0))
	}
	p.Transition(t0.Add(time.Second), true)
	if p.State() != Starting || p.Pid() != 2 {
		t.Fatalf("at start+1s: %v pid %d; want STARTING pid 2", p.State(), p.Pid())
	}
	t1 := t0.Add(5 * time.Second)
	p.Transition(t1, true) // RUNNING
	p.Exited(9, t1)
	p.Transition(t1, true)
	if p.State() != Starting || p.Pid() != 3 {
		t.Fatalf("after a 4s run: %v pid %d; want replaced at once", p.State(), p.Pid())
	}
}

// TestStateDiagramNamesEveryState keeps STATES.md in step with the code.
func TestStateDiagramNamesEveryState(t *testing.T) {
	doc, err := os.ReadFile("STATES.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []State{Stopped, Starting, Running, Backoff, Stopping, Exited, Fatal, Unknown} {
		if !strings.Contains(string(doc), s.String()+" -->") && !strings.Contains(string(doc), "--> "+s.String()) {
			t.Errorf("STATES.md has no transition of %s", s)
		}
	}
	for _, e := range []string{"Spawn", "Kill", "Timer", "StateChanged", "Log"} {
		if !strings.Contains(string(doc), e) {
			t.Errorf("STATES.md does not mention the %s effect", e)
		}
	}
}

// TestEffectBatches: a Spawn or Kill ends its batch and the answer
// continues the step; every other batch ends with the deadline.
func TestEffectBatches(t *testing.T) {
	t0 := time.Unix(base, 0)
	p := New("x", "x", Policy{Autostart: true, Startsecs: 1, Startretries: 0, Stopsignal: syscall.SIGTERM, Stopwaitsecs: 5})
	kinds := func(effs []Effect) string {
		var b []string
		for _, e := range effs {
			switch e := e.(type) {
			case Log:
				b = append(b, "log")
			case StateChanged:
				b = append(b, "state:"+e.To.String())
			case Spawn:
				b = append(b, "spawn")
			case Kill:
				b = append(b, fmt.Sprintf("kill:%d", e.Signal))
			case Timer:
				b = append(b, "timer")
			}
		}
		return strings.Join(b, " ")
	}
	check := func(what, got, want string) {
		t.Helper()
		if got != want {
			t.Errorf("%s: effects %q; want %q", what, got, want)
		}
	}
	check("autostart", kinds(p.Transition(t0, true)), "state:STARTING spawn")
	if p.Pid() != 0 || p.State() != Starting {
		t.Fatalf("while forking: pid %d state %s", p.Pid(), p.State())
	}
	check("spawned", kinds(p.Spawned(42, nil)), "log timer")
	check("a stray answer", kinds(p.Spawned(43, nil)), "timer")
	if p.Pid() != 42 {
		t.Fatalf("pid %d", p.Pid())
	}
	effs, err := p.Stop(t0.Add(2 * time.Second))
	check("stop", kinds(effs), "log state:STOPPING kill:15")
	if k := effs[len(effs)-1].(Kill); err != nil || k.Pid != 42 || k.Group {
		t.Fatalf("stop: %+v %v", k, err)
	}
	effs, err = p.Killed(fmt.Errorf("kill: %w", syscall.EPERM))
	check("odd kill failure", kinds(effs), "log state:UNKNOWN timer")
	if err == nil || !strings.HasPrefix(err.Error(), "unknown problem killing x (42):") {
		t.Errorf("Killed error %v", err)
	}
	check("exit in UNKNOWN", kinds(p.Exited(0, t0.Add(3*time.Second))), "state:EXITED log timer")
	// A retry from BACKOFF whose spawn fails gives up in the same step.
	q := New("y", "y", Policy{Autostart: true, Startsecs: 1, Startretries: 1})
	q.Transition(t0, true)
	check("first spawn fails", kinds(q.Spawned(0, errors.New("nope"))), "log state:BACKOFF timer")
	check("retry", kinds(q.Transition(t0.Add(2*time.Second), true)), "state:STARTING spawn")
	check("retry fails", kinds(q.Spawned(0, errors.New("nope"))), "log state:BACKOFF state:FATAL log timer")
}

// TestBackoffPolicies: backoff=exponential doubles the delay, backoff_max
// caps it, and startretries=unlimited never gives up (EXTENSIONS.md §3).
func TestBackoffPolicies(t *testing.T) {
	delays := func(s *sim) []time.Duration {
		// Each retry comes 10 ms (the child's life) plus the delay plus
		// the 1 ns step after the previous spawn.
		var out []time.Duration
		for i := 1; i < len(s.spawnAt); i++ {
			out = append(out, (s.spawnAt[i] - s.spawnAt[i-1] - 10*time.Millisecond).Truncate(time.Millisecond))
		}
		return out
	}
	cases := []struct {
		name string
		mod  func(*Policy)
		want []time.Duration
	}{
		{"linear (the original)", func(p *Policy) {}, []time.Duration{1e9, 2e9, 3e9, 4e9, 5e9}},
		{"exponential", func(p *Policy) { p.ExponentialBackoff = true }, []time.Duration{1e9, 2e9, 4e9, 8e9, 16e9}},
		{"exponential capped", func(p *Policy) { p.ExponentialBackoff = true; p.BackoffMax = 5 }, []time.Duration{1e9, 2e9, 4e9, 5e9, 5e9}},
		{"linear capped", func(p *Policy) { p.BackoffMax = 2 }, []time.Duration{1e9, 2e9, 2e9, 2e9, 2e9}},
	}
	for _, c := range cases {
		synctest.Test(t, func(t *testing.T) {
			pol := basePolicy()
			pol.Startretries = 5
			c.mod(&pol)
			s := newSim(t, pol, func(int) time.Duration { return 10 * time.Millisecond })
			s.run(10*time.Minute, func() bool { return s.p.State() == Fatal })
			if got := delays(s); !slices.Equal(got, c.want) {
				t.Errorf("%s: delays %v; want %v", c.name, got, c.want)
			}
		})
	}
	synctest.Test(t, func(t *testing.T) {
		pol := basePolicy()
		pol.UnlimitedRetries, pol.ExponentialBackoff, pol.BackoffMax = true, true, 1
		s := newSim(t, pol, func(int) time.Duration { return 10 * time.Millisecond })
		s.run(24*time.Hour, func() bool { return s.p.State() == Fatal || len(s.spawnAt) > 1000 })
		if s.p.State() == Fatal || len(s.spawnAt) <= 1000 {
			t.Fatalf("unlimited retries: %s after %d spawns", s.p.State(), len(s.spawnAt))
		}
		if s.p.Backoff() < 1000 {
			t.Errorf("tries %d after 1,000 failures", s.p.Backoff())
		}
	})
}
