package supervisor

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/gosupervisor/gosupervisor/pkg/config"
	"github.com/gosupervisor/gosupervisor/pkg/fault"
	"github.com/gosupervisor/gosupervisor/pkg/idlepoll"
	"github.com/gosupervisor/gosupervisor/pkg/loglevel"
	"github.com/gosupervisor/gosupervisor/pkg/process"
	"github.com/gosupervisor/gosupervisor/pkg/rpc"
	"github.com/gosupervisor/gosupervisor/pkg/spawn"
)

func TestMain(m *testing.M) {
	spawn.ShimMain()
	signal.Ignore(spawn.IgnoredSignals()...)
	os.Exit(m.Run())
}

// memLog records the daemon's log lines.
type memLog struct {
	mu    sync.Mutex
	lines []string
	hook  func(msg string) // called with each line, outside the lock
}

func (l *memLog) Log(level loglevel.Level, msg string) {
	l.mu.Lock()
	l.lines = append(l.lines, msg)
	hook := l.hook
	l.mu.Unlock()
	if hook != nil {
		hook(msg)
	}
}

func (l *memLog) setHook(fn func(string)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.hook = fn
}

func (l *memLog) Enabled(loglevel.Level) bool { return true }

func (l *memLog) count(prefix string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, line := range l.lines {
		if strings.HasPrefix(line, prefix) {
			n++
		}
	}
	return n
}

func (l *memLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// harness runs one Supervisor on a config written to a temp dir.
type harness struct {
	t      *testing.T
	dir    string
	s      *Supervisor
	log    *memLog
	cancel context.CancelFunc
	runErr chan error
	once   sync.Once
	idle   *idlepoll.Poller
}

// sharedReaper: a process can have only one reaper (it is the only caller
// of wait4), so the tests of this package share one.
var sharedReaper = sync.OnceValues(func() (*spawn.Reaper, error) {
	r, err := spawn.NewReaper()
	if err != nil {
		return nil, err
	}
	go r.Run(context.Background())
	return r, nil
})

func start(t *testing.T, programs string) *harness {
	t.Helper()
	return startWith(t, "", programs)
}

// startWith is start with more [supervisord] keys (lines ending in "\n").
func startWith(t *testing.T, supervisord, programs string) *harness {
	t.Helper()
	dir := t.TempDir()
	conf := fmt.Sprintf("[supervisord]\nlogfile=%s/sd.log\npidfile=%s/sd.pid\nchildlogdir=%s\n%s\n%s",
		dir, dir, dir, supervisord, programs)
	path := filepath.Join(dir, "supervisord.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path, config.Options{})
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	reaper, err := sharedReaper()
	if err != nil {
		t.Fatal(err)
	}
	// Output pipes park between bursts, as in the daemon.
	idle, err := idlepoll.New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { idle.Close() })
	h := &harness{t: t, dir: dir, log: &memLog{}, runErr: make(chan error, 1), idle: idle}
	h.s, err = New(Options{Config: cfg, Log: h.log, Reaper: reaper, Idle: idle})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	go func() { h.runErr <- h.s.Run(ctx) }()
	t.Cleanup(h.stop)
	return h
}

// stop shuts the supervisor down and waits for Run to return.
func (h *harness) stop() {
	h.once.Do(func() {
		h.cancel()
		select {
		case <-h.runErr:
		case <-time.After(30 * time.Second):
			h.t.Errorf("supervisor did not stop; log:\n%s", h.log)
		}
	})
}

// waitFor polls cond until it holds or the deadline passes.
func (h *harness) waitFor(what string, timeout time.Duration, cond func() bool) {
	h.t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			h.t.Fatalf("timed out waiting for %s; log:\n%s", what, h.log)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (h *harness) info(name string) rpc.ProcessInfo {
	for _, p := range h.s.Processes() {
		if p.Namespec() == name {
			return p
		}
	}
	h.t.Fatalf("no process %s", name)
	return rpc.ProcessInfo{}
}

func (h *harness) waitState(name string, state process.State, timeout time.Duration) rpc.ProcessInfo {
	h.t.Helper()
	var in rpc.ProcessInfo
	h.waitFor(fmt.Sprintf("%s to be %s", name, state), timeout, func() bool {
		in = h.info(name)
		return in.State == int(state)
	})
	return in
}

func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	if err != nil {
		return false
	}
	// A zombie still answers kill(0); look at its state.
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	fields := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+1:]))
	return len(fields) > 0 && fields[0] != "Z"
}

// Quiet programs hold no reader goroutine: every output pipe waits in the
// idle poller, a burst of output is logged whole, and then that pipe goes
// back to the poller.
func TestQuietPipesWaitInTheIdlePoller(t *testing.T) {
	h := start(t, "[program:quiet]\ncommand=/bin/sleep 1000\nstartsecs=0\nnumprocs=3\nprocess_name=%(program_name)s_%(process_num)s\n\n"+
		"[program:talker]\ncommand=/bin/sh -c 'read line; echo \"got $line\"; echo oops >&2; exec sleep 1000'\nstartsecs=0\n")
	for _, name := range []string{"quiet:quiet_0", "quiet:quiet_1", "quiet:quiet_2", "talker"} {
		h.waitState(name, process.Running, 10*time.Second)
	}
	h.waitFor("all 8 pipes parked", 10*time.Second, func() bool { return h.idle.Parked() == 8 })
	if err := h.s.SendStdin("talker", []byte("hello\n")); err != nil {
		t.Fatal(err)
	}
	path, err := h.s.LogPath("talker", "stdout")
	if err != nil {
		t.Fatal(err)
	}
	h.waitFor("talker's output in its log", 10*time.Second, func() bool {
		data, _ := os.ReadFile(path)
		return string(data) == "got hello\n"
	})
	// Woken by the output, both of talker's readers park again once quiet
	// for a second.
	h.waitFor("talker's pipes parked again", 10*time.Second, func() bool { return h.idle.Parked() == 8 })
}

func TestKill9RestartsWithNewPid(t *testing.T) {
	h := start(t, "[program:sleeper]\ncommand=/bin/sleep 1000\nstartsecs=0\nautorestart=true\n")
	first := h.waitState("sleeper", process.Running, 10*time.Second)
	if err := syscall.Kill(first.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	var next rpc.ProcessInfo
	h.waitFor("a new pid", 10*time.Second, func() bool {
		next = h.info("sleeper")
		return next.State == int(process.Running) && next.PID != first.PID && next.PID != 0
	})
	if h.log.count("exited: sleeper (terminated by SIGKILL; not expected)") != 1 {
		t.Errorf("missing exit line; log:\n%s", h.log)
	}
}

func TestExitAtOnceIsSpawnedStartretriesPlusOneTimesThenFatal(t *testing.T) {
	h := start(t, "[program:quick]\ncommand=/bin/sh -c \"exit 3\"\nstartretries=3\n")
	in := h.waitState("quick", process.Fatal, 20*time.Second)
	if got := h.log.count("spawned: 'quick'"); got != 4 {
		t.Errorf("spawned %d times, want 4; log:\n%s", got, h.log)
	}
	if in.SpawnErr != "Exited too quickly (process log may have details)" || in.Description != in.SpawnErr {
		t.Errorf("spawnerr %q description %q", in.SpawnErr, in.Description)
	}
	if h.log.count("gave up: quick entered FATAL state, too many start retries too quickly") != 1 {
		t.Errorf("no gave up line; log:\n%s", h.log)
	}
}

func TestStopwaitsecsEscalatesToSIGKILL(t *testing.T) {
	ready := filepath.Join(t.TempDir(), "trapped")
	h := start(t, fmt.Sprintf("[program:stubborn]\ncommand=/bin/sh -c \"trap '' TERM; touch %s; while :; do sleep 0.1; done\"\nstartsecs=0\nstopwaitsecs=1\n", ready))
	h.waitState("stubborn", process.Running, 10*time.Second)
	h.waitFor("the TERM trap", 10*time.Second, func() bool { _, err := os.Stat(ready); return err == nil })
	w, err := h.s.StopProcess("stubborn")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := w(ctx); err != nil {
		t.Fatal(err)
	}
	in := h.info("stubborn")
	if in.State != int(process.Stopped) || in.ExitStatus != -1 {
		t.Errorf("state %s exitstatus %d", in.StateName, in.ExitStatus)
	}
	if h.log.count("killing 'stubborn' (") != 1 || h.log.count("stopped: stubborn (terminated by SIGKILL)") != 1 {
		t.Errorf("missing kill lines; log:\n%s", h.log)
	}
}

func TestKillasgroupLeavesNoGrandchild(t *testing.T) {
	dir := t.TempDir()
	pidfile := filepath.Join(dir, "grandchild.pid")
	h := start(t, fmt.Sprintf("[program:parent]\ncommand=/bin/sh -c \"sleep 1000 & echo $! > %s; wait\"\nstartsecs=0\nstopasgroup=true\n", pidfile))
	h.waitState("parent", process.Running, 10*time.Second)
	var grandchild int
	h.waitFor("the grandchild's pid", 10*time.Second, func() bool {
		data, err := os.ReadFile(pidfile)
		if err != nil {
			return false
		}
		grandchild, err = strconv.Atoi(strings.TrimSpace(string(data)))
		return err == nil && grandchild > 0
	})
	w, err := h.s.StopProcess("parent")
	if err != nil {
		t.Fatal(err)
	}
	if err := w(context.Background()); err != nil {
		t.Fatal(err)
	}
	h.waitFor("the grandchild to be gone", 10*time.Second, func() bool { return !alive(grandchild) })
}

func TestChildSeesUserUmaskDirectory(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("user= needs root (the test suite runs as root in CI)")
	}
	out := filepath.Join(t.TempDir(), "out")
	if err := os.Chmod(filepath.Dir(out), 0o777); err != nil {
		t.Fatal(err)
	}
	h := start(t, fmt.Sprintf("[program:who]\ncommand=/bin/sh -c \"umask; pwd; id -u; echo $SUPERVISOR_PROCESS_NAME $SUPERVISOR_GROUP_NAME $SUPERVISOR_ENABLED $FOO\"\nuser=nobody\numask=077\ndirectory=/tmp\nstdout_logfile=%s\nautostart=true\nstartsecs=0\nautorestart=false\nenvironment=FOO=\"a,b\"\n", out))
	h.waitState("who", process.Exited, 10*time.Second)
	h.waitFor("the output", 10*time.Second, func() bool {
		data, _ := os.ReadFile(out)
		return strings.Count(string(data), "\n") >= 4
	})
	data, _ := os.ReadFile(out)
	if want := "0077\n/tmp\n65534\nwho who 1 a,b\n"; string(data) != want {
		t.Errorf("child printed %q, want %q", data, want)
	}
}

func TestStartWaitAndFaults(t *testing.T) {
	h := start(t, `[program:slow]
command=/bin/sleep 1000
autostart=false
startsecs=1

[program:dies]
command=/bin/sh -c "sleep 0.3; exit 1"
autostart=false
startsecs=2

[program:notexist]
command=/nonexistent/cmd
autostart=false
`)
	w, err := h.s.StartProcess("slow")
	if err != nil || w == nil {
		t.Fatalf("StartProcess: %v %v", w, err)
	}
	if err := w(context.Background()); err != nil {
		t.Fatalf("wait: %v", err)
	}
	if in := h.info("slow"); in.State != int(process.Running) {
		t.Errorf("slow is %s after wait", in.StateName)
	}
	if _, err := h.s.StartProcess("slow"); !isFault(err, fault.AlreadyStarted, "slow") {
		t.Errorf("second start: %v", err)
	}
	w, err = h.s.StartProcess("dies")
	if err != nil {
		t.Fatal(err)
	}
	if err := w(context.Background()); !isFault(err, fault.SpawnError, "dies") {
		t.Errorf("dies: %v", err)
	}
	if _, err := h.s.StartProcess("notexist"); !isFault(err, fault.NoFile, "can't find command '/nonexistent/cmd'") {
		t.Errorf("notexist: %v", err)
	}
	if _, err := h.s.StartProcess("nosuch"); !isFault(err, fault.BadName, "nosuch") {
		t.Errorf("nosuch: %v", err)
	}
	if _, err := h.s.StopProcess("notexist"); !isFault(err, fault.NotRunning, "notexist") {
		t.Errorf("stop notexist: %v", err)
	}
}

func isFault(err error, code fault.Code, extra string) bool {
	var f *fault.Error
	return errors.As(err, &f) && f.Code == code && f.Extra == extra
}

func TestShutdownStopsPriorityLevelsInDescendingOrder(t *testing.T) {
	h := start(t, `[program:p1]
command=/bin/sleep 1000
priority=1
startsecs=0

[program:m]
command=/bin/sleep 1000
process_name=m%(process_num)d
numprocs=3
priority=2
startsecs=0

[program:p2]
command=/bin/sleep 1000
priority=2
startsecs=0

[program:p3]
command=/bin/sleep 1000
priority=3
startsecs=0
`)
	for _, n := range []string{"p1", "m:m0", "m:m1", "m:m2", "p2", "p3"} {
		h.waitState(n, process.Running, 10*time.Second)
	}
	var pids []int
	for _, p := range h.s.Processes() {
		pids = append(pids, p.PID)
	}
	h.stop()
	order := stoppedOrder(h.log.String())
	want := []string{"p3", "m0", "m1", "m2", "p2", "p1"}
	// Within a priority level the order is not defined; compare levels.
	level := func(n string) int {
		switch n {
		case "p3":
			return 0
		case "p1":
			return 2
		}
		return 1
	}
	if len(order) != len(want) {
		t.Fatalf("stopped %v, want %v; log:\n%s", order, want, h.log)
	}
	for i := 1; i < len(order); i++ {
		if level(order[i]) < level(order[i-1]) {
			t.Errorf("stop order %v breaks descending priority", order)
		}
	}
	for _, pid := range pids {
		if alive(pid) {
			t.Errorf("pid %d survived shutdown", pid)
		}
	}
}

func stoppedOrder(log string) []string {
	var out []string
	for _, line := range strings.Split(log, "\n") {
		if rest, ok := strings.CutPrefix(line, "stopped: "); ok {
			out = append(out, rest[:strings.IndexByte(rest, ' ')])
		}
	}
	return out
}

// TestRapidCrashCyclesLeakNothing: 1,000 crash/restart cycles (100
// processes, each restarted once a second by the throttle) leave no zombie,
// no leaked descriptor and no leaked goroutine.
func TestRapidCrashCyclesLeakNothing(t *testing.T) {
	fdsBefore := countFDs(t)
	h := start(t, "[program:crash]\ncommand=/bin/true\nstartsecs=0\nautorestart=true\nstdout_logfile=NONE\nstderr_logfile=NONE\n"+
		"numprocs=100\nprocess_name=%(program_name)s_%(process_num)s\n")
	h.waitFor("1000 spawns", 120*time.Second, func() bool { return h.log.count("spawned: 'crash_") >= 1000 })
	h.stop()
	if zombies := zombieChildren(t); len(zombies) > 0 {
		t.Errorf("zombies left: %v", zombies)
	}
	// Pipes close asynchronously in their pump goroutines; allow them to finish.
	deadline := time.Now().Add(10 * time.Second)
	for countFDs(t) > fdsBefore && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if after := countFDs(t); after > fdsBefore {
		t.Errorf("descriptors: %d before, %d after", fdsBefore, after)
	}
	goleak.VerifyNone(t, goleak.IgnoreCurrent(), goleak.IgnoreTopFunction("github.com/gosupervisor/gosupervisor/pkg/spawn.(*Reaper).Run"),
		goleak.IgnoreTopFunction("github.com/gosupervisor/gosupervisor/pkg/spawn.(*Reaper).forward"),
		goleak.IgnoreAnyFunction("os/signal.signal_recv"))
}

func countFDs(t *testing.T) int {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(entries)
}

func zombieChildren(t *testing.T) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	me := os.Getpid()
	var out []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		s := string(data)
		fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(fields) > 1 && fields[0] == "Z" && fields[1] == strconv.Itoa(me) {
			out = append(out, pid)
		}
	}
	return out
}

func TestFCGIProgramGetsListeningSocketOnStdin(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "fcgi.sock")
	out := filepath.Join(dir, "out")
	h := start(t, fmt.Sprintf("[fcgi-program:fcgi]\nsocket=unix://%s\ncommand=/bin/sh -c \"if [ -S /proc/self/fd/0 ]; then echo socket; fi; exec sleep 1000\"\nprocess_name=%%(program_name)s_%%(process_num)d\nnumprocs=2\nstartsecs=0\nstdout_logfile=%s\n", sock, out))
	h.waitState("fcgi:fcgi_0", process.Running, 10*time.Second)
	h.waitState("fcgi:fcgi_1", process.Running, 10*time.Second)
	h.waitFor("both children to see a socket on stdin", 10*time.Second, func() bool {
		data, _ := os.ReadFile(out)
		return strings.Count(string(data), "socket\n") == 2
	})
	if st, err := os.Stat(sock); err != nil || st.Mode()&os.ModeSocket == 0 || st.Mode().Perm() != 0o700 {
		t.Fatalf("socket file: %v %v", st, err)
	}
	h.stop()
	if _, err := os.Stat(sock); err == nil {
		// The original leaves the file behind but closes the socket; we check it no longer listens.
		if c, err := net.Dial("unix", sock); err == nil {
			c.Close()
			t.Error("fcgi socket still accepting after every process exited")
		}
	}
	if h.log.count("Closing socket unix://") < 2 {
		t.Errorf("socket not closed after the last process; log:\n%s", h.log)
	}
}

func TestSendStdin(t *testing.T) {
	out := filepath.Join(t.TempDir(), "cat.out")
	h := start(t, fmt.Sprintf(`[program:cat]
command=/bin/cat
startsecs=0
stdout_logfile=%s

[program:deaf]
command=/bin/sleep 1000
startsecs=0
`, out))
	h.waitState("cat", process.Running, 10*time.Second)
	h.waitState("deaf", process.Running, 10*time.Second)
	for _, line := range []string{"hello\n", "world\n"} {
		if err := h.s.SendStdin("cat", []byte(line)); err != nil {
			t.Fatal(err)
		}
	}
	h.waitFor("cat to echo its input", 10*time.Second, func() bool {
		data, _ := os.ReadFile(out)
		return string(data) == "hello\nworld\n"
	})
	// A child that never reads: its pipe fills, the queue takes the rest up
	// to its bound, and the loop stays responsive throughout.
	chunk := make([]byte, 64<<10)
	var err error
	for i := 0; i < 64 && err == nil; i++ {
		err = h.s.SendStdin("deaf", chunk)
	}
	if err == nil || isFault(err, fault.NoFile, "deaf") {
		t.Errorf("a full stdin queue should refuse more input, got %v", err)
	}
	if in := h.info("deaf"); in.State != int(process.Running) {
		t.Errorf("deaf is %s", in.StateName)
	}
	w, err := h.s.StopProcess("cat")
	if err != nil {
		t.Fatal(err)
	}
	if err := w(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := h.s.SendStdin("cat", []byte("x")); !isFault(err, fault.NotRunning, "cat") {
		t.Errorf("stdin to a stopped process: %v", err)
	}
	if err := h.s.SendStdin("nosuch", []byte("x")); !isFault(err, fault.BadName, "nosuch") {
		t.Errorf("stdin to an unknown process: %v", err)
	}
}

// The autostart batch is forked concurrently but attached in the original's
// order: groups by (priority, name), so the log reads as with serial spawns.
func TestBatchAutostartKeepsOrder(t *testing.T) {
	var conf strings.Builder
	var want []string
	for i := range 20 {
		name := fmt.Sprintf("p%02d", i)
		fmt.Fprintf(&conf, "[program:%s]\ncommand=/bin/sleep 1000\nstartsecs=0\npriority=%d\n\n", name, 100-i%5)
		want = append(want, name)
	}
	h := start(t, conf.String())
	for _, n := range want {
		h.waitState(n, process.Running, 20*time.Second)
	}
	var spawned []string
	for _, line := range strings.Split(h.log.String(), "\n") {
		if rest, ok := strings.CutPrefix(line, "spawned: '"); ok {
			spawned = append(spawned, rest[:strings.IndexByte(rest, '\'')])
		}
	}
	// Expected: by priority ascending (96 … 100), then by name.
	expected := append([]string(nil), want...)
	prio := func(name string) int { n, _ := strconv.Atoi(name[1:]); return 100 - n%5 }
	sort.Slice(expected, func(i, j int) bool {
		if pi, pj := prio(expected[i]), prio(expected[j]); pi != pj {
			return pi < pj
		}
		return expected[i] < expected[j]
	})
	if strings.Join(spawned, " ") != strings.Join(expected, " ") {
		t.Errorf("spawn order\n got %v\nwant %v", spawned, expected)
	}
	if h.log.count("reaped unknown pid") != 0 {
		t.Errorf("a child forked ahead was reaped as unknown; log:\n%s", h.log)
	}
}

// A program that exits at once with startsecs=0 and autorestart=true is
// respawned about once a second, as from the original's poll loop, not as
// fast as the machine can fork: counted over a window, not timed.
func TestCrashLoopIsThrottledToOncePerSecond(t *testing.T) {
	h := start(t, "[program:crash]\ncommand=/bin/sh -c 'exit 1'\nstartsecs=0\nautorestart=true\n")
	h.waitFor("the first spawn", 10*time.Second, func() bool { return h.log.count("spawned: 'crash'") >= 1 })
	window := 3 * time.Second
	before := h.log.count("spawned: 'crash'")
	end := time.Now().Add(window)
	h.waitFor("the window to pass", 2*window, func() bool { return !time.Now().Before(end) })
	got := h.log.count("spawned: 'crash'") - before
	if got < 2 || got > 4 {
		t.Errorf("%d spawns in %v; want about one a second (2..4); log:\n%s", got, window, h.log)
	}
	if n := h.log.count("exited: crash (exit status 1; not expected)"); n < got {
		t.Errorf("%d exit lines for %d spawns", n, got)
	}
	// It is seen down between runs: EXITED is its state most of the time.
	exited := 0
	for range 20 {
		if h.info("crash").State == int(process.Exited) {
			exited++
		}
		time.Sleep(20 * time.Millisecond)
	}
	if exited < 10 {
		t.Errorf("EXITED in %d of 20 samples; want most", exited)
	}
}

// Lower priorities are forked first at start-up, also when the autostart
// batch is forked concurrently: the children's pids rise with priority.
// Each level here also holds several programs, so levels are forked on
// the workers, one level at a time.
func TestAutostartForksPriorityLevelsInOrder(t *testing.T) {
	prios := map[string]int{"pr_a": 600, "pr_b": 100, "pr_c": 500, "pr_d": 200, "pr_e": 300, "pr_f": 400}
	var conf strings.Builder
	for name, prio := range prios {
		fmt.Fprintf(&conf, "[program:%s]\ncommand=/bin/sleep 1000\nstartsecs=0\npriority=%d\nnumprocs=4\nprocess_name=%%(program_name)s_%%(process_num)s\n\n", name, prio)
	}
	h := start(t, conf.String())
	type started struct{ prio, pid int }
	var got []started
	for name, prio := range prios {
		for i := range 4 {
			in := h.waitState(fmt.Sprintf("%s:%s_%d", name, name, i), process.Running, 20*time.Second)
			got = append(got, started{prio, in.PID})
		}
	}
	sort.Slice(got, func(i, j int) bool { return got[i].pid < got[j].pid })
	for i := 1; i < len(got); i++ {
		if got[i].prio < got[i-1].prio {
			t.Fatalf("priority %d forked after %d (pid %d > %d); by pid: %v", got[i].prio, got[i-1].prio,
				got[i].pid, got[i-1].pid, got)
		}
	}
}
