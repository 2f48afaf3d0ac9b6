// Package daemon_test runs the real supervisord binary as a subprocess on
// temporary configs and checks what a user would see: the main log, files
// written by children, /proc, exit statuses and terminal output.
package daemon_test

import (
	"bytes"
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
)

// Paths of the binaries built once by TestMain.
var (
	supervisordBin string
	monitorBin     string
	demoBin        string // examples/services/demo
	repoRoot       string
)

func TestMain(m *testing.M) {
	os.Exit(buildAndRun(m))
}

func buildAndRun(m *testing.M) int {
	root, err := filepath.Abs("../..")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	repoRoot = root
	tmp, err := os.MkdirTemp("", "gosupervisor-daemon-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(tmp)
	supervisordBin = filepath.Join(tmp, "supervisord")
	monitorBin = filepath.Join(tmp, "monitor")
	demoBin = filepath.Join(tmp, "demo")
	for _, b := range []struct{ out, pkg string }{
		{supervisordBin, "./cmd/supervisord"},
		{monitorBin, "./examples/monitor/micro/monitor"},
		{demoBin, "./examples/services/demo"},
	} {
		cmd := exec.Command("go", "build", "-o", b.out, b.pkg)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "building %s: %v\n%s", b.pkg, err, out)
			return 1
		}
	}
	return m.Run()
}

// daemon is one supervisord started by a test.
type daemon struct {
	t       *testing.T
	dir     string
	conf    string
	mainLog string
	pidfile string
	logFrom int       // size of the main log before this daemon started
	cmd     *exec.Cmd // nil for a daemonized supervisord (it is not our child)
	pid     int
	stdout  *testutil.SyncBuffer
	stderr  *testutil.SyncBuffer
	exited  chan struct{}
	status  int // exit status once exited is closed
}

// conf writes a config into dir with the test's usual [supervisord] section
// (main log, pidfile and childlogdir in dir) followed by rest.
func writeConf(t *testing.T, dir, supervisordExtra, rest string) string {
	t.Helper()
	// The marker variable lets cleanup recognise our children by /proc.
	text := fmt.Sprintf("[supervisord]\nlogfile=%s\npidfile=%s\nchildlogdir=%s\nenvironment=%s\n%s\n\n%s\n",
		filepath.Join(dir, "main.log"), filepath.Join(dir, "supervisord.pid"), dir,
		markerVar+"=\""+dir+"\"", supervisordExtra, rest)
	path := filepath.Join(dir, "supervisord.conf")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// startForeground runs supervisord -n on conf and registers its cleanup.
func startForeground(t *testing.T, dir, conf string, args ...string) *daemon {
	t.Helper()
	return startForegroundEnv(t, dir, conf, nil, args...)
}

// startForegroundEnv is startForeground with extra environment variables.
func startForegroundEnv(t *testing.T, dir, conf string, env []string, args ...string) *daemon {
	t.Helper()
	return startBinary(t, supervisordBin, dir, conf, env, args...)
}

// startBinary runs bin (ours or the Python original) with -n on conf.
func startBinary(t *testing.T, bin, dir, conf string, env []string, args ...string) *daemon {
	t.Helper()
	d := newDaemon(t, dir, conf)
	argv := append([]string{"-n", "-c", conf}, args...)
	d.cmd = exec.Command(bin, argv...)
	d.cmd.Dir = dir
	d.cmd.Env = append(os.Environ(), env...)
	d.cmd.Stdout, d.cmd.Stderr = d.stdout, d.stderr
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	d.pid = d.cmd.Process.Pid
	go func() {
		err := d.cmd.Wait()
		d.status = exitStatus(err)
		close(d.exited)
	}()
	t.Cleanup(d.cleanup)
	return d
}

func newDaemon(t *testing.T, dir, conf string) *daemon {
	d := &daemon{
		t: t, dir: dir, conf: conf,
		mainLog: filepath.Join(dir, "main.log"),
		pidfile: filepath.Join(dir, "supervisord.pid"),
		stdout:  &testutil.SyncBuffer{}, stderr: &testutil.SyncBuffer{},
		exited: make(chan struct{}),
	}
	// A daemon restarted on the same files only looks at its own lines.
	if st, err := os.Stat(d.mainLog); err == nil {
		d.logFrom = int(st.Size())
	}
	return d
}

var exitStatus = testutil.ExitStatus

// cleanup stops the daemon (TERM, then KILL) and kills, by pid and process
// group, every child it logged as spawned, so a failed test leaves nothing.
func (d *daemon) cleanup() {
	if d.pid > 0 && alive(d.pid) {
		_ = syscall.Kill(d.pid, syscall.SIGTERM)
		if !waitUntil(10*time.Second, func() bool { return !alive(d.pid) }) {
			_ = syscall.Kill(d.pid, syscall.SIGKILL)
		}
	}
	if d.cmd != nil {
		select {
		case <-d.exited:
		case <-time.After(5 * time.Second):
		}
	}
	for _, pid := range d.spawnedPids() {
		// Only a live process carrying this test's marker is ours (a pid
		// may have been reused by now).
		if alive(pid) && hasMarker(pid, d.dir) {
			_ = syscall.Kill(-pid, syscall.SIGKILL)
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	if d.t.Failed() {
		d.t.Logf("main log %s (from byte %d):\n%s", d.mainLog, d.logFrom, d.log())
		if s := d.stderr.String(); s != "" {
			d.t.Logf("daemon stderr:\n%s", s)
		}
	}
}

// markerVar is set in every test config's [supervisord] environment to the
// test's directory, so children can be told apart from unrelated processes.
const markerVar = "GOSUPERVISOR_DAEMON_TEST_DIR"

func hasMarker(pid int, dir string) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
	return err == nil && bytes.Contains(b, []byte("\x00"+markerVar+"="+dir+"\x00"))
}

var spawnedRE = regexp.MustCompile(`spawned: '([^']+)' with pid (\d+)`)

// spawnedPids lists every child pid the main log reports.
func (d *daemon) spawnedPids() []int {
	var pids []int
	for _, m := range spawnedRE.FindAllStringSubmatch(d.log(), -1) {
		pid, _ := strconv.Atoi(m[2])
		pids = append(pids, pid)
	}
	return pids
}

// pidsOf lists the pids the main log reports spawned for one program.
func (d *daemon) pidsOf(name string) []int {
	var pids []int
	for _, m := range spawnedRE.FindAllStringSubmatch(d.log(), -1) {
		if m[1] == name {
			pid, _ := strconv.Atoi(m[2])
			pids = append(pids, pid)
		}
	}
	return pids
}

// log returns the main log's lines written since this daemon started.
func (d *daemon) log() string {
	b, _ := os.ReadFile(d.mainLog)
	if len(b) >= d.logFrom {
		b = b[d.logFrom:]
	}
	return string(b)
}

// waitLog waits until the main log matches re and returns the submatches.
func (d *daemon) waitLog(re string, timeout time.Duration) []string {
	d.t.Helper()
	rx := regexp.MustCompile(re)
	var m []string
	if !waitUntil(timeout, func() bool { m = rx.FindStringSubmatch(d.log()); return m != nil }) {
		d.t.Fatalf("main log never matched %q within %v", re, timeout)
	}
	return m
}

// waitCount waits until re matches the main log at least n times.
func (d *daemon) waitCount(re string, n int, timeout time.Duration) {
	d.t.Helper()
	rx := regexp.MustCompile(re)
	if !waitUntil(timeout, func() bool { return len(rx.FindAllString(d.log(), -1)) >= n }) {
		d.t.Fatalf("main log matched %q %d times, want ≥ %d within %v",
			re, len(rx.FindAllString(d.log(), -1)), n, timeout)
	}
}

func (d *daemon) count(re string) int {
	return len(regexp.MustCompile(re).FindAllString(d.log(), -1))
}

// waitRunning waits for the success line of a program and returns its pid.
func (d *daemon) waitRunning(name string, timeout time.Duration) int {
	d.t.Helper()
	d.waitLog(`INFO success: `+regexp.QuoteMeta(name)+` entered RUNNING state, process has stayed up for > than \d+ seconds \(startsecs\)`, timeout)
	pids := d.pidsOf(name)
	if len(pids) == 0 {
		d.t.Fatalf("%s RUNNING but never spawned", name)
	}
	return pids[len(pids)-1]
}

// signal sends sig to the daemon.
func (d *daemon) signal(sig syscall.Signal) {
	d.t.Helper()
	if err := syscall.Kill(d.pid, sig); err != nil {
		d.t.Fatalf("signal %v to supervisord %d: %v", sig, d.pid, err)
	}
}

// waitExit waits for a foreground daemon to exit and returns its status.
func (d *daemon) waitExit(timeout time.Duration) int {
	d.t.Helper()
	select {
	case <-d.exited:
		return d.status
	case <-time.After(timeout):
		d.t.Fatalf("supervisord %d still running after %v", d.pid, timeout)
	}
	return -1
}

var (
	waitUntil = testutil.WaitUntil
	alive     = testutil.Alive
)

// procStat is pid's state letter and parent pid ("" if it is gone).
func procStat(pid int) (state string, ppid int) {
	state, ppid, _ = testutil.ProcStat(pid)
	return state, ppid
}

// readPids reads a file of whitespace-separated pids written by a child.
func readPids(t *testing.T, path string, want int) []int {
	t.Helper()
	var pids []int
	ok := waitUntil(10*time.Second, func() bool {
		b, err := os.ReadFile(path)
		if err != nil {
			return false
		}
		pids = pids[:0]
		for _, f := range strings.Fields(string(b)) {
			n, err := strconv.Atoi(f)
			if err == nil {
				pids = append(pids, n)
			}
		}
		return len(pids) >= want
	})
	if !ok {
		t.Fatalf("%s: want %d pids, have %v", path, want, pids)
	}
	return pids
}

// readFile waits until path holds content satisfying cond and returns it.
func waitFile(t *testing.T, path string, timeout time.Duration, cond func(string) bool) string {
	t.Helper()
	var s string
	if !waitUntil(timeout, func() bool {
		b, err := os.ReadFile(path)
		s = string(b)
		return err == nil && cond(s)
	}) {
		t.Fatalf("%s never reached the expected content; it holds %q", path, truncate(s, 2000))
	}
	return s
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// sq quotes s for sh.
func sq(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
