package pidproxy

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gosupervisor/gosupervisor/tests/compat/harness"
)

// markerVar tags every process a run starts (pidproxy, the program, its
// daemon) so that cleanup kills by pid only processes that are ours.
const markerVar = "PIDPROXY_TEST_RUN"

// daemonScript daemonizes like the programs pidproxy is for: it records its
// argv, environment and signal dispositions, starts a daemon that logs each
// relayed signal (the three that end pidproxy end it too) and writes its
// pid to daemon.pid, then, by mode, exits, waits for the daemon (like
// mysqld_safe) or stays. env --default-signal undoes the SIGINT/SIGQUIT
// ignoring that sh applies to background jobs. The dispositions are read
// with builtins only: a child reading /proc/$PPID/status may catch the
// shell with every signal blocked around a vfork.
const daemonScript = `#!/bin/sh
dir=$1 mode=$2
echo $$ > "$dir/child.pid"
printf '%s\n' "$0" "$@" > "$dir/argv"
env > "$dir/env"
while read -r k v; do case $k in SigBlk:|SigIgn:) echo "$k $v" ;; esac; done < /proc/$$/status > "$dir/dispositions"
env --default-signal /bin/sh -c '
dir=$1
for s in HUP USR1 USR2; do trap "echo $s >> \"\$dir/signals\"" $s; done
for s in TERM INT QUIT; do trap "echo $s >> \"\$dir/signals\"; exit 0" $s; done
echo $$ > "$dir/daemon.pid.new" && mv "$dir/daemon.pid.new" "$dir/daemon.pid"
while :; do sleep 0.1; done
' daemon "$dir" </dev/null >/dev/null 2>&1 &
case $mode in
exit) exit 0 ;;
fg) wait ;;
stay) while :; do sleep 0.1; done ;;
esac
`

// impl is one pidproxy under test.
type impl struct{ name, bin string }

// impls are Debian's and ours. Without the original the test fails, unless
// GOSUPERVISOR_NO_PYTHON=1 leaves ours alone.
func impls(t *testing.T) []impl {
	t.Helper()
	ours := impl{"go", built.Pidproxy}
	if _, err := os.Stat(debianPidproxy); err != nil {
		if harness.NoPython() {
			return []impl{ours}
		}
		t.Fatalf("the Python original %s is the oracle (install Debian's supervisor, or set GOSUPERVISOR_NO_PYTHON=1): %v", debianPidproxy, err)
	}
	return []impl{{"python", debianPidproxy}, ours}
}

// sameAcross fails the test when the implementations' reports differ.
func sameAcross(t *testing.T, what string, reports map[string]string) {
	t.Helper()
	py, ok := reports["python"]
	if !ok {
		return
	}
	if reports["go"] != py {
		t.Errorf("%s differs from Debian's pidproxy:\n--- python:\n%s\n--- go:\n%s\n--- first difference: %s",
			what, py, reports["go"], harness.FirstDiff(py, reports["go"]))
	}
}

// baseEnv is the test's environment without the interpreter knobs (this
// environment may set PYTHONUNBUFFERED) plus the run marker.
func baseEnv(dir string, extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PYTHON") && !strings.HasPrefix(kv, markerVar+"=") {
			env = append(env, kv)
		}
	}
	return append(append(env, markerVar+"="+dir), extra...)
}

// runDir makes a directory holding daemon.sh.
func runDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "daemon.sh"), []byte(daemonScript), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// proxyRun is one pidproxy process started by a test.
type proxyRun struct {
	impl          impl
	dir           string
	cmd           *exec.Cmd
	start         time.Time
	done          chan struct{} // closed once waited for
	end           time.Time
	status        int
	stdout, stder string // file paths
}

// startProxy runs im's pidproxy with args in dir, stdout and stderr going
// to files there, and registers the cleanup of everything the run started.
func startProxy(t *testing.T, im impl, dir string, env []string, args ...string) *proxyRun {
	t.Helper()
	r := &proxyRun{impl: im, dir: dir, done: make(chan struct{}),
		stdout: filepath.Join(dir, "pidproxy.out"), stder: filepath.Join(dir, "pidproxy.err")}
	r.cmd = exec.Command(im.bin, args...)
	r.cmd.Dir, r.cmd.Env = dir, env
	r.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, errf := createFile(t, r.stdout), createFile(t, r.stder)
	r.cmd.Stdout, r.cmd.Stderr = out, errf
	r.start = time.Now()
	if err := r.cmd.Start(); err != nil {
		t.Fatalf("start %s pidproxy: %v", im.name, err)
	}
	out.Close()
	errf.Close()
	go r.wait()
	t.Cleanup(func() { r.cleanup(t) })
	return r
}

func createFile(t *testing.T, path string) *os.File {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func (r *proxyRun) wait() {
	err := r.cmd.Wait()
	r.end = time.Now()
	r.status = 0
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		r.status = exit.ExitCode()
		if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			r.status = 128 + int(ws.Signal())
		}
	}
	close(r.done)
}

// cleanup kills, by pid, what is left of this run's processes.
func (r *proxyRun) cleanup(t *testing.T) {
	for _, name := range []string{"daemon.pid", "child.pid"} {
		if pid, err := readPid(filepath.Join(r.dir, name)); err == nil {
			killOurs(pid, r.dir)
		}
	}
	if !r.exited() {
		_ = r.cmd.Process.Kill()
	}
	<-r.done
}

// killOurs SIGKILLs pid if it is alive and carries the run's marker.
func killOurs(pid int, dir string) {
	env, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
	if err == nil && bytes.Contains(env, []byte("\x00"+markerVar+"="+dir+"\x00")) {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}

func (r *proxyRun) exited() bool {
	select {
	case <-r.done:
		return true
	default:
		return false
	}
}

// waitExit waits up to timeout for pidproxy to exit.
func (r *proxyRun) waitExit(t *testing.T, timeout time.Duration) {
	t.Helper()
	select {
	case <-r.done:
	case <-time.After(timeout):
		t.Fatalf("%s pidproxy still running after %s\n%s", r.impl.name, timeout, r.output())
	}
}

// staysUp reports whether pidproxy is still running after d.
func (r *proxyRun) staysUp(d time.Duration) bool {
	select {
	case <-r.done:
		return false
	case <-time.After(d):
		return true
	}
}

// signal sends sig to the pidproxy process.
func (r *proxyRun) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := r.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("signal %s pidproxy: %v", r.impl.name, err)
	}
}

// daemonPid waits for the daemon's pidfile and returns its pid.
func (r *proxyRun) daemonPid(t *testing.T) int {
	t.Helper()
	return waitPid(t, filepath.Join(r.dir, "daemon.pid"))
}

func waitPid(t *testing.T, path string) int {
	t.Helper()
	var pid int
	err := harness.Poll(10*time.Second, func() bool {
		var err error
		pid, err = readPid(path)
		return err == nil
	})
	if err != nil {
		t.Fatalf("no pid in %s: %v", path, err)
	}
	return pid
}

func readPid(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("read pidfile: %w", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 0, fmt.Errorf("pidfile %s: %w", path, err)
	}
	return pid, nil
}

// signalsLogged is the daemon's log of received signals, one name a line.
func (r *proxyRun) signalsLogged() string {
	b, _ := os.ReadFile(filepath.Join(r.dir, "signals"))
	return string(b)
}

// waitLogged polls until the daemon's log has n lines.
func (r *proxyRun) waitLogged(t *testing.T, n int) string {
	t.Helper()
	err := harness.Poll(5*time.Second, func() bool { return strings.Count(r.signalsLogged(), "\n") >= n })
	if err != nil {
		t.Fatalf("%s: daemon logged %q, want %d signals: %v", r.impl.name, r.signalsLogged(), n, err)
	}
	return r.signalsLogged()
}

// file reads a file of the run, with the pidproxy binary and the run
// directory replaced by placeholders so that runs compare.
func (r *proxyRun) file(name string) string {
	b, _ := os.ReadFile(filepath.Join(r.dir, name))
	return r.normalize(string(b))
}

func (r *proxyRun) normalize(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, r.impl.bin, "PIDPROXY"), r.dir, "RUN")
}

// output is what pidproxy printed, for reports.
func (r *proxyRun) output() string {
	return fmt.Sprintf("stdout %q\nstderr %q", r.file("pidproxy.out"), r.file("pidproxy.err"))
}

// alive is kill(pid, 0) succeeding.
func alive(pid int) bool {
	return syscall.Kill(pid, 0) == nil
}
