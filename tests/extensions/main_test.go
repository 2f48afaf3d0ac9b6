// Package extensions_test runs our supervisord, built from ./cmd/supervisord,
// with real children on temporary configs that use the keys of
// ../shared/EXTENSIONS.md §1–§3 and §6 (depends_on, health checks,
// critical, backoff, startretries=unlimited, /healthz, /readyz,
// probes_public), and checks what users and clients observe: the main log,
// files written by children, /proc, exit statuses, our supervisorctl and
// the Python original's (/usr/bin/supervisorctl), a plain XML-RPC client
// and HTTP probes.
//
// The children that serve HTTP or TCP are this test binary itself, run
// with GSX_HELPER set (see helper_test.go). Every child carries a marker
// variable naming its test's directory, so cleanup kills only what the
// test started.
package extensions_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gosupervisor/gosupervisor/internal/testutil"
	"github.com/gosupervisor/gosupervisor/tests/compat/harness"
)

// Set once by TestMain, then only read.
var (
	bins    harness.Binaries // our supervisord and supervisorctl
	selfBin string           // this test binary, run as a helper child
)

// Python's supervisorctl, the original client.
const pyCtl = harness.PySupervisorctl

func TestMain(m *testing.M) {
	if os.Getenv(helperVar) != "" {
		os.Exit(helperMain(os.Args[1:]))
	}
	os.Exit(buildAndRun(m))
}

func buildAndRun(m *testing.M) int {
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	selfBin = exe
	return harness.RunWithBinaries(m, "gsx-bin-", &bins)
}

// markerVar is set in every test config's [supervisord] environment to the
// test's directory; children (and exec checks, which get the program's
// environment) inherit it, so cleanup can tell them from other processes.
const markerVar = "GOSUPERVISOR_EXT_TEST_DIR"

// env is one test's directory and config.
type env struct {
	t    *testing.T
	dir  string
	conf string
	sock string
	log  string
}

// newEnv makes a short temporary directory (unix socket paths are limited
// to 108 bytes, so not t.TempDir under a long test name).
func newEnv(t *testing.T) *env {
	t.Helper()
	dir, err := os.MkdirTemp("", "gsx-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Only after every process of the test is gone (cleanups run
		// last-in first-out, and this one was registered first).
		killMarked(dir)
		if !t.Failed() {
			_ = os.RemoveAll(dir)
		} else {
			t.Logf("test files kept in %s", dir)
		}
	})
	return &env{t: t, dir: dir, sock: filepath.Join(dir, "s.sock"), log: filepath.Join(dir, "main.log")}
}

// path is a file in the test's directory.
func (e *env) path(name string) string { return filepath.Join(e.dir, name) }

// write writes the config: a unix socket server, [supervisord] with the
// main log, pidfile and child logs in the directory, the rpcinterface,
// [supervisorctl] on the socket, then sections.
func (e *env) write(supervisordExtra, sections string) {
	e.t.Helper()
	text := fmt.Sprintf(`[unix_http_server]
file=%[1]s/s.sock

[supervisord]
logfile=%[1]s/main.log
pidfile=%[1]s/supervisord.pid
childlogdir=%[1]s
loglevel=info
environment=%[2]s="%[1]s"
%[3]s

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=unix://%[1]s/s.sock

%[4]s
`, e.dir, markerVar, supervisordExtra, sections)
	e.conf = e.path("supervisord.conf")
	if err := os.WriteFile(e.conf, []byte(text), 0o644); err != nil {
		e.t.Fatal(err)
	}
}

// helperProgram is the command= and environment= lines of a program that
// runs this test binary as the helper child mode (helper_test.go).
func helperProgram(mode string, args ...string) string {
	return fmt.Sprintf("command=%s %s %s\nenvironment=%s=\"1\"\n", selfBin, mode, strings.Join(args, " "), helperVar)
}

// daemon is our supervisord, run in the foreground by a test.
type daemon struct {
	e      *env
	cmd    *exec.Cmd
	rpc    *harness.Client
	out    *testutil.SyncBuffer
	exited chan struct{}
	status int // exit status once exited is closed
	start  time.Time
}

// startDaemon runs supervisord -n on the env's config and waits until it
// answers getState with RUNNING on its socket.
func (e *env) startDaemon() *daemon {
	e.t.Helper()
	d := &daemon{e: e, rpc: harness.NewUnixClient(e.sock), out: &testutil.SyncBuffer{}, exited: make(chan struct{})}
	d.cmd = exec.Command(bins.Supervisord, "-n", "-c", e.conf)
	d.cmd.Dir = e.dir
	d.cmd.Stdout, d.cmd.Stderr = d.out, d.out
	// Its own process group: a Ctrl-C of the test run reaches the
	// cleanup, which stops it in order, before it reaches the daemon.
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	d.start = time.Now()
	if err := d.cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	go func() {
		d.status = exitStatus(d.cmd.Wait())
		close(d.exited)
	}()
	e.t.Cleanup(d.cleanup)
	if !waitUntil(15*time.Second, func() bool {
		if d.hasExited() {
			return true
		}
		v, err := d.rpc.Value("supervisor.getState")
		m, _ := v.(map[string]any)
		return err == nil && m["statename"] == "RUNNING"
	}) || d.hasExited() {
		e.t.Fatalf("supervisord never served RPC on %s (exited: %v)\noutput:\n%s", e.sock, d.hasExited(), d.out.String())
	}
	return d
}

var exitStatus = testutil.ExitStatus

func (d *daemon) hasExited() bool {
	select {
	case <-d.exited:
		return true
	default:
		return false
	}
}

// cleanup stops the daemon (TERM, then KILL after 15 s) and shows its log
// if the test failed.
func (d *daemon) cleanup() {
	if !d.hasExited() {
		_ = d.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-d.exited:
		case <-time.After(15 * time.Second):
			d.e.t.Errorf("supervisord %d ignored SIGTERM for 15s; killing it", d.cmd.Process.Pid)
			_ = d.cmd.Process.Kill()
			<-d.exited
		}
	}
	if d.e.t.Failed() {
		d.e.t.Logf("main log:\n%s\nsupervisord output:\n%s", d.mainLog(), d.out.String())
	}
}

// waitExit waits for the daemon to exit by itself and returns its status.
func (d *daemon) waitExit(timeout time.Duration) int {
	d.e.t.Helper()
	select {
	case <-d.exited:
		return d.status
	case <-time.After(timeout):
		d.e.t.Fatalf("supervisord %d still running after %v", d.cmd.Process.Pid, timeout)
	}
	return -1
}

func (d *daemon) mainLog() string {
	b, _ := os.ReadFile(d.e.log)
	return string(b)
}

// waitLog waits until the main log matches re and returns the submatches.
func (d *daemon) waitLog(re string, timeout time.Duration) []string {
	d.e.t.Helper()
	rx := regexp.MustCompile(re)
	var m []string
	if !waitUntil(timeout, func() bool { m = rx.FindStringSubmatch(d.mainLog()); return m != nil }) {
		d.e.t.Fatalf("main log never matched %q within %v", re, timeout)
	}
	return m
}

// count is how often re matches the main log.
func (d *daemon) count(re string) int {
	return len(regexp.MustCompile(re).FindAllString(d.mainLog(), -1))
}

// waitCount waits until re matches the main log at least n times.
func (d *daemon) waitCount(re string, n int, timeout time.Duration) {
	d.e.t.Helper()
	if !waitUntil(timeout, func() bool { return d.count(re) >= n }) {
		d.e.t.Fatalf("main log matched %q %d times, want ≥ %d within %v", re, d.count(re), n, timeout)
	}
}

var spawnedRE = regexp.MustCompile(`(?m)^(\S+ \S+) INFO spawned: '([^']+)' with pid (\d+)$`)

// spawn is one "spawned:" line of the main log.
type spawn struct {
	at   time.Time
	name string
	pid  int
}

// spawns lists the main log's spawns of name ("" for all).
func (d *daemon) spawns(name string) []spawn {
	var out []spawn
	for _, m := range spawnedRE.FindAllStringSubmatch(d.mainLog(), -1) {
		if name != "" && m[2] != name {
			continue
		}
		at, _ := time.ParseInLocation("2006-01-02 15:04:05,000", m[1], time.Local)
		pid, _ := strconv.Atoi(m[3])
		out = append(out, spawn{at: at, name: m[2], pid: pid})
	}
	return out
}

// pidOf is the pid of name's latest spawn, 0 if none.
func (d *daemon) pidOf(name string) int {
	s := d.spawns(name)
	if len(s) == 0 {
		return 0
	}
	return s[len(s)-1].pid
}

// info is getProcessInfo(name).
func (d *daemon) info(name string) map[string]any {
	d.e.t.Helper()
	m, err := d.rpc.ProcessInfo(name)
	if err != nil {
		d.e.t.Fatal(err)
	}
	return m
}

// waitState waits until name is in state and cond (may be nil) holds.
func (d *daemon) waitState(name, state string, timeout time.Duration, cond func(map[string]any) bool) map[string]any {
	d.e.t.Helper()
	m, err := d.rpc.WaitState(name, state, timeout, cond)
	if err != nil {
		d.e.t.Fatal(err)
	}
	return m
}

// health is gosupervisor.getProcessHealth(name).
func (d *daemon) health(name string) map[string]any {
	d.e.t.Helper()
	v, err := d.rpc.Value("gosupervisor.getProcessHealth", name)
	if err != nil {
		d.e.t.Fatal(err)
	}
	m, _ := v.(map[string]any)
	return m
}

// ctl runs a supervisorctl (ours or Python's) on the env's config and
// returns its combined output and exit status.
func (e *env) ctl(bin string, args ...string) (string, int) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append([]string{"-c", e.conf}, args...)...)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return string(out), ee.ExitCode()
	case err != nil:
		e.t.Fatalf("%s %v: %v\n%s", bin, args, err, out)
	}
	return string(out), 0
}

// requirePython fails without the original's supervisorctl, unless the
// user opted out with GOSUPERVISOR_NO_PYTHON=1 (then it skips).
func requirePython(t *testing.T) {
	t.Helper()
	if harness.NoPython() {
		t.Skip(harness.ErrNoPython)
	}
	if err := harness.CheckPython(); err != nil {
		t.Fatal(err)
	}
}

var (
	waitUntil = testutil.WaitUntil
	alive     = testutil.Alive
)

// procStat is pid's state letter and process group ("" if it is gone).
func procStat(pid int) (state string, pgrp int) {
	state, _, pgrp = testutil.ProcStat(pid)
	return state, pgrp
}

// livePids lists the live processes whose cond holds.
func livePids(cond func(pid int) bool) []int {
	ents, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || !alive(pid) {
			continue
		}
		if cond(pid) {
			out = append(out, pid)
		}
	}
	return out
}

// inGroup lists the live processes of process group pgrp.
func inGroup(pgrp int) []int {
	return livePids(func(pid int) bool { _, g := procStat(pid); return g == pgrp })
}

func hasMarker(pid int, dir string) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
	return err == nil && bytes.Contains(b, []byte("\x00"+markerVar+"="+dir+"\x00"))
}

// marked lists the live processes that carry dir's marker.
func marked(dir string) []int {
	return livePids(func(pid int) bool { return hasMarker(pid, dir) })
}

// killMarked kills what a test left behind: only processes carrying its
// marker, by pid.
func killMarked(dir string) {
	for _, pid := range marked(dir) {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}

// readPids waits until path holds at least n whitespace-separated pids.
func readPids(t *testing.T, path string, n int, timeout time.Duration) []int {
	t.Helper()
	var pids []int
	if !waitUntil(timeout, func() bool {
		b, _ := os.ReadFile(path)
		pids = pids[:0]
		for _, f := range strings.Fields(string(b)) {
			if p, err := strconv.Atoi(f); err == nil {
				pids = append(pids, p)
			}
		}
		return len(pids) >= n
	}) {
		t.Fatalf("%s: want %d pids within %v, have %v", path, n, timeout, pids)
	}
	return pids
}

// waitGone waits until none of pids is alive and returns how long it took.
func waitGone(t *testing.T, what string, timeout time.Duration, pids ...int) {
	t.Helper()
	var left []int
	if !waitUntil(timeout, func() bool {
		left = left[:0]
		for _, p := range pids {
			if alive(p) {
				left = append(left, p)
			}
		}
		return len(left) == 0
	}) {
		t.Fatalf("%s: pids %v still alive %v later", what, left, timeout)
	}
}

// statusLines splits a status output into name → line.
func statusLines(out string) map[string]string {
	m := map[string]string{}
	for _, l := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		if f := strings.Fields(l); len(f) > 0 {
			m[f[0]] = l
		}
	}
	return m
}

// originalLine is a status line as the original's supervisorctl formats it
// (its _show_statuses, for names up to 30 characters).
func originalLine(name, state, desc string) string {
	return fmt.Sprintf("%-33s%-10s%s", name, state, desc)
}

var uptimeRE = regexp.MustCompile(`uptime \d+:\d\d:\d\d`)

// maskUptime hides the uptime, which may tick between two clients' calls.
func maskUptime(s string) string { return uptimeRE.ReplaceAllString(s, "uptime H:MM:SS") }
