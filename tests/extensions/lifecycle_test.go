package extensions_test

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// A critical program that goes FATAL shuts supervisord down with exit
// status 1, a CRIT line, and no child or grandchild left.
func TestCriticalFatalExits1(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	grandchild, goFile := e.path("grandchild"), e.path("go")
	// crit fails (before startsecs, with no retries: FATAL) once the test
	// has seen the others up and says go, so that there is something to
	// stop.
	e.write("", fmt.Sprintf(`[program:crit]
command=/bin/sh -c 'while [ ! -e %[2]s ]; do sleep 0.05; done; exit 3'
startsecs=5
startretries=0
critical=true

[program:tree]
command=/bin/sh -c 'sleep 1000 & echo $! > %[1]s; wait'
startsecs=0
stopasgroup=true

[program:plain]
command=sleep 1000
startsecs=0
`, grandchild, goFile))
	d := e.startDaemon()
	gc := readPids(t, grandchild, 1, 10*time.Second)[0]
	d.waitState("plain", "RUNNING", 10*time.Second, nil)
	d.waitState("tree", "RUNNING", 10*time.Second, nil)
	if !alive(gc) {
		t.Fatalf("tree's grandchild %d is not alive", gc)
	}
	if err := os.WriteFile(goFile, nil, 0o644); err != nil {
		t.Fatal(err)
	}

	if st := d.waitExit(20 * time.Second); st != 1 {
		t.Errorf("supervisord exited with status %d, want 1", st)
	}
	log := d.mainLog()
	if !regexp.MustCompile(`(?m) CRIT critical program 'crit' entered FATAL state, shutting down$`).MatchString(log) {
		t.Errorf("no CRIT line for crit in the main log")
	}
	if !strings.Contains(log, "gave up: crit entered FATAL state") {
		t.Errorf("crit never went FATAL")
	}
	var pids []int
	for _, s := range d.spawns("") {
		pids = append(pids, s.pid)
	}
	if len(pids) != 3 {
		t.Errorf("spawns %v, want one per program", d.spawns(""))
	}
	for _, name := range []string{"tree", "plain"} {
		if !regexp.MustCompile(`WARN stopped: ` + name + ` \(terminated by SIGTERM\)`).MatchString(log) {
			t.Errorf("%s was not stopped in order (no 'stopped: %s' line)", name, name)
		}
	}
	// The daemon has exited: every process it spawned, the grandchild
	// included, must already be gone (a short grace for the kernel to
	// reap orphans).
	waitGone(t, "children of the exited supervisord", 2*time.Second, append(pids, gc)...)
	if left := marked(e.dir); len(left) > 0 {
		t.Errorf("processes of the test still alive: %v", left)
	}
}

// depends_on orders startup (dependencies first) and shutdown (dependents
// first) against the priorities, on real children that write down when
// they start and when they get SIGTERM.
func TestDependsOnOrder(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	order := e.path("order")
	prog := func(name string, prio int, deps string) string {
		s := fmt.Sprintf(`[program:%[1]s]
command=/bin/sh -c 'trap "echo stop %[1]s >> %[2]s; kill \$!; exit 0" TERM; echo start %[1]s >> %[2]s; sleep 1000 & wait'
priority=%[3]d
startsecs=1
`, name, order, prio)
		if deps != "" {
			s += "depends_on=" + deps + "\n"
		}
		return s + "\n"
	}
	// Priorities alone would start c first and stop a first.
	e.write("", prog("c", 100, "b")+prog("a", 300, "")+prog("b", 200, "a"))
	d := e.startDaemon()
	for _, n := range []string{"a", "b", "c"} {
		d.waitState(n, "RUNNING", 15*time.Second, nil)
	}
	if got := waitFileLines(t, order, 3); got != "start a\nstart b\nstart c\n" {
		t.Errorf("start order:\n%s", got)
	}
	sp := d.spawns("")
	if len(sp) != 3 || sp[0].name != "a" || sp[1].name != "b" || sp[2].name != "c" {
		t.Errorf("spawn order %v, want a, b, c", sp)
	}

	if err := d.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if st := d.waitExit(30 * time.Second); st != 0 {
		t.Errorf("supervisord exited %d after SIGINT, want 0", st)
	}
	if got := waitFileLines(t, order, 6); got != "start a\nstart b\nstart c\nstop c\nstop b\nstop a\n" {
		t.Errorf("start and stop order:\n%s", got)
	}
	log := d.mainLog()
	ia, ib, ic := strings.Index(log, "stopped: a "), strings.Index(log, "stopped: b "), strings.Index(log, "stopped: c ")
	if ia < 0 || ib < 0 || ic < 0 || ic >= ib || ib >= ia {
		t.Errorf("main log stops at c %d, b %d, a %d; want c, b, a", ic, ib, ia)
	}
}

// waitFileLines waits until path has at least n lines and returns it.
func waitFileLines(t *testing.T, path string, n int) string {
	t.Helper()
	var s string
	if !waitUntil(10*time.Second, func() bool {
		b, _ := os.ReadFile(path)
		s = string(b)
		return strings.Count(s, "\n") >= n
	}) {
		t.Fatalf("%s: want %d lines, have %q", path, n, s)
	}
	return s
}

// backoff=exponential doubles the delay between retries up to backoff_max;
// startretries=unlimited never gives up.
func TestExponentialBackoffUnlimited(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.write("", `[program:expo]
command=/bin/sh -c 'exit 1'
startsecs=1
startretries=unlimited
backoff=exponential
backoff_max=4

[program:flat]
command=/bin/sh -c 'exit 1'
startsecs=1
startretries=unlimited
backoff=exponential
backoff_max=1

[program:orig]
command=/bin/sh -c 'exit 1'
startsecs=1
startretries=1
`)
	d := e.startDaemon()
	// Spawns at 0, 1, 3, 7, 11 s: retries 1, 2 and 3 run after the
	// original's default startretries (3) would have given up.
	d.waitCount(`INFO spawned: 'expo' with pid \d+`, 5, 25*time.Second)
	sp := d.spawns("expo")
	want := []float64{1, 2, 4, 4}
	for i, w := range want {
		got := sp[i+1].at.Sub(sp[i].at).Seconds()
		if got < w-0.1 || got > w+0.6 {
			t.Errorf("delay before retry %d of expo: %.3fs, want %.0fs (+ startup)", i+1, got, w)
		}
	}
	flat := d.spawns("flat")
	if len(flat) < 8 {
		t.Errorf("flat (backoff_max=1) spawned %d times in ~11s, want ≥ 8", len(flat))
	}
	for i := 1; i < len(flat); i++ {
		if got := flat[i].at.Sub(flat[i-1].at).Seconds(); got < 0.9 || got > 1.6 {
			t.Errorf("delay before retry %d of flat: %.3fs, want 1s", i, got)
		}
	}
	for _, name := range []string{"expo", "flat"} {
		if n := d.count(`gave up: ` + name + ` `); n != 0 {
			t.Errorf("%s gave up despite startretries=unlimited", name)
		}
		if st := d.info(name)["statename"]; st != "BACKOFF" && st != "STARTING" {
			t.Errorf("%s is %v, want BACKOFF or STARTING", name, st)
		}
	}
	// The control: a number keeps the original's meaning.
	if d.count(`INFO gave up: orig entered FATAL state, too many start retries too quickly`) != 1 {
		t.Errorf("orig (startretries=1) did not go FATAL")
	}
	if n := len(d.spawns("orig")); n != 2 {
		t.Errorf("orig spawned %d times, want 2", n)
	}
}
