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
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gosupervisor/gosupervisor/tests/compat/harness"
)

// usageFor is Debian's usage text for a program run as name.
func usageFor(name string) string {
	return `pidproxy -- run command and proxy signals to it via its pidfile.

This executable runs a command and then monitors a pidfile.  When this
executable receives a signal, it sends the same signal to the pid
in the pidfile.

Usage: ` + name + ` <pidfile name> <command> [<cmdarg1> ...]

`
}

// runOnce runs bin to completion in dir and returns its output and status.
func runOnce(t *testing.T, dir string, env []string, bin string, args ...string) (stdout, stderr string, status int) {
	t.Helper()
	var cmd *exec.Cmd
	var out, errb bytes.Buffer
	var err error
	// A binary just copied can be "text file busy" for a moment: a parallel
	// test's fork may still hold the copy's write descriptor until its exec.
	for try := 0; ; try++ {
		cmd = exec.Command(bin, args...)
		cmd.Dir, cmd.Env = dir, env
		out.Reset()
		errb.Reset()
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err = cmd.Run(); !errors.Is(err, syscall.ETXTBSY) || try == 50 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("run %s: %v", bin, err)
	}
	return out.String(), errb.String(), cmd.ProcessState.ExitCode()
}

// TestUsage: with fewer than two arguments both print the docstring on
// stdout and exit 1; the name in it is the path the program was executed
// as, with a "-script.py" suffix cut.
func TestUsage(t *testing.T) {
	t.Parallel()
	reports := map[string]string{}
	for _, im := range impls(t) {
		var rep strings.Builder
		for _, args := range [][]string{nil, {"only-a-pidfile"}} {
			stdout, stderr, status := runOnce(t, "", baseEnv(""), im.bin, args...)
			stdout = strings.ReplaceAll(stdout, im.bin, "PIDPROXY")
			fmt.Fprintf(&rep, "args %q: status %d\nstdout %q\nstderr %q\n", args, status, stdout, stderr)
			if im.name == "go" && (stdout != usageFor("PIDPROXY") || stderr != "" || status != 1) {
				t.Errorf("ours with %q: status %d, stdout %q, stderr %q", args, status, stdout, stderr)
			}
		}
		dir := t.TempDir()
		copyFile(t, im.bin, filepath.Join(dir, "pidproxy-script.py"))
		stdout, _, status := runOnce(t, dir, baseEnv(dir), "./pidproxy-script.py")
		fmt.Fprintf(&rep, "as ./pidproxy-script.py: status %d\nstdout %q\n", status, stdout)
		if im.name == "go" && stdout != usageFor("./pidproxy") {
			t.Errorf("ours as ./pidproxy-script.py printed %q", stdout)
		}
		reports[im.name] = rep.String()
	}
	sameAcross(t, "usage", reports)
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o755); err != nil {
		t.Fatal(err)
	}
}

// relayed are the signals pidproxy passes on; the first three end it.
func relayed() []syscall.Signal {
	return []syscall.Signal{syscall.SIGTERM, syscall.SIGINT, syscall.SIGQUIT, syscall.SIGHUP, syscall.SIGUSR1, syscall.SIGUSR2}
}

func signalName(sig syscall.Signal) string {
	return map[syscall.Signal]string{syscall.SIGTERM: "TERM", syscall.SIGINT: "INT", syscall.SIGQUIT: "QUIT",
		syscall.SIGHUP: "HUP", syscall.SIGUSR1: "USR1", syscall.SIGUSR2: "USR2"}[sig]
}

// reportSet collects one report per implementation from parallel subtests
// and compares them when all are in.
type reportSet struct {
	mu      sync.Mutex
	reports map[string]string
}

func (s *reportSet) add(name, report string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.reports == nil {
		s.reports = map[string]string{}
	}
	s.reports[name] = report
}

// forEachImpl runs body for each implementation in parallel subtests and
// then compares their reports.
func forEachImpl(t *testing.T, what string, body func(t *testing.T, im impl) string) {
	t.Helper()
	var set reportSet
	t.Run("impls", func(t *testing.T) {
		for _, im := range impls(t) {
			t.Run(im.name, func(t *testing.T) {
				t.Parallel()
				set.add(im.name, body(t, im))
			})
		}
	})
	sameAcross(t, what, set.reports)
}

// TestSignalsForwarded sends each relayed signal to pidproxy and checks the
// daemon named in the pidfile gets it, and that pidproxy exits 0 after
// TERM, INT and QUIT but keeps running after HUP, USR1 and USR2.
func TestSignalsForwarded(t *testing.T) {
	t.Parallel()
	for _, sig := range relayed() {
		t.Run(signalName(sig), func(t *testing.T) {
			t.Parallel()
			forEachImpl(t, "relaying SIG"+signalName(sig), func(t *testing.T, im impl) string {
				return relayOne(t, im, sig)
			})
		})
	}
}

// relayOne runs the program in "stay" mode, so that pidproxy's 5-second
// poll cannot end it: only relaying TERM, INT or QUIT does, at once.
func relayOne(t *testing.T, im impl, sig syscall.Signal) string {
	dir := runDir(t)
	r := startProxy(t, im, dir, baseEnv(dir), dir+"/daemon.pid", dir+"/daemon.sh", dir, "stay")
	daemon := r.daemonPid(t)
	r.signal(t, sig)
	logged := r.waitLogged(t, 1)
	ends := sig == syscall.SIGTERM || sig == syscall.SIGINT || sig == syscall.SIGQUIT
	if !ends {
		if !r.staysUp(500 * time.Millisecond) {
			t.Errorf("%s pidproxy exited after SIG%s", im.name, signalName(sig))
		}
		r.signal(t, syscall.SIGTERM)
		logged = r.waitLogged(t, 2)
	}
	r.waitExit(t, 2*time.Second)
	want := signalName(sig) + "\n"
	if !ends {
		want += "TERM\n"
	}
	if logged != want || r.status != 0 {
		t.Errorf("%s: daemon got %q (want %q), pidproxy status %d\n%s", im.name, logged, want, r.status, r.output())
	}
	if err := waitGone(daemon); err != nil {
		t.Errorf("%s: daemon: %v", im.name, err)
	}
	return fmt.Sprintf("daemon got %q\nstatus %d\n%s", logged, r.status, r.output())
}

// waitGone polls until pid no longer exists.
func waitGone(pid int) error {
	if err := harness.Poll(5*time.Second, func() bool { return !alive(pid) }); err != nil {
		return fmt.Errorf("pid %d still exists: %w", pid, err)
	}
	return nil
}

// TestExitFollowsDirectChild: pidproxy polls waitpid every 5 seconds and
// exits 0 once its own child has exited, leaving the daemon running; the
// daemon's death alone does not end it.
func TestExitFollowsDirectChild(t *testing.T) {
	t.Parallel()
	t.Run("program exits after daemonizing", func(t *testing.T) {
		t.Parallel()
		forEachImpl(t, "exit after the program daemonized", programExits)
	})
	t.Run("daemon dies, program stays", func(t *testing.T) {
		t.Parallel()
		forEachImpl(t, "exit after the daemon died", daemonDies)
	})
}

func programExits(t *testing.T, im impl) string {
	dir := runDir(t)
	r := startProxy(t, im, dir, baseEnv(dir), dir+"/daemon.pid", dir+"/daemon.sh", dir, "exit")
	daemon := r.daemonPid(t)
	r.waitExit(t, 10*time.Second)
	took := r.end.Sub(r.start)
	if took < 4500*time.Millisecond || took > 8*time.Second || r.status != 0 {
		t.Errorf("%s pidproxy exited after %s with status %d; want about 5s (its first waitpid poll), 0", im.name, took, r.status)
	}
	if !alive(daemon) {
		t.Errorf("%s: the daemon died with pidproxy", im.name)
	}
	return fmt.Sprintf("status %d, exited at the first poll %v, daemon alive %v\n%s", r.status, took < 8*time.Second, alive(daemon), r.output())
}

func daemonDies(t *testing.T, im impl) string {
	dir := runDir(t)
	r := startProxy(t, im, dir, baseEnv(dir), dir+"/daemon.pid", dir+"/daemon.sh", dir, "stay")
	daemon := r.daemonPid(t)
	child := waitPid(t, dir+"/child.pid")
	killOurs(daemon, dir)
	up := r.staysUp(6 * time.Second)
	if !up {
		t.Errorf("%s pidproxy exited when the daemon died", im.name)
	}
	killOurs(child, dir)
	killed := time.Now()
	r.waitExit(t, 8*time.Second)
	if took := r.end.Sub(killed); took > 6*time.Second || r.status != 0 {
		t.Errorf("%s pidproxy exited %s after its child with status %d; want within a 5s poll, 0", im.name, took, r.status)
	}
	return fmt.Sprintf("up 6s after the daemon died %v, status %d after the program died\n%s", up, r.status, r.output())
}

// fifoFeeder serves pidfile contents through FIFOs: opening one for
// writing succeeds only once pidproxy opens it to read, from its signal
// handler, so each content meets exactly one signal. Every content gets a
// fresh FIFO renamed over the pidfile before the signal is sent: a reader
// of the previous one could otherwise still hold it open and take the text.
type fifoFeeder struct {
	path string
	n    int
}

// next puts a new FIFO in place of the pidfile.
func (f *fifoFeeder) next(t *testing.T) {
	t.Helper()
	f.n++
	tmp := fmt.Sprintf("%s.%d", f.path, f.n)
	if err := syscall.Mkfifo(tmp, 0o600); err != nil {
		t.Fatalf("mkfifo %s: %v", tmp, err)
	}
	if err := os.Rename(tmp, f.path); err != nil {
		t.Fatal(err)
	}
}

// signalAndOpen sends sig to pidproxy and waits for its handler to be
// reading a fresh FIFO: until then a non-blocking open for writing fails
// with ENXIO.
func (f *fifoFeeder) signalAndOpen(t *testing.T, r *proxyRun, sig syscall.Signal) *os.File {
	t.Helper()
	f.next(t)
	r.signal(t, sig)
	fd, err := -1, error(nil)
	perr := harness.Poll(5*time.Second, func() bool {
		fd, err = syscall.Open(f.path, syscall.O_WRONLY|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
		return err != syscall.ENXIO
	})
	if perr != nil || err != nil {
		t.Fatalf("open %s for writing: %v, %v (is pidproxy reading it?)", f.path, err, perr)
	}
	if err := syscall.SetNonblock(fd, false); err != nil {
		t.Fatal(err)
	}
	return os.NewFile(uintptr(fd), f.path)
}

// feed answers sig's pidfile read with content.
func (f *fifoFeeder) feed(t *testing.T, r *proxyRun, sig syscall.Signal, content string) {
	t.Helper()
	w := f.signalAndOpen(t, r, sig)
	defer w.Close()
	if _, err := w.WriteString(content); err != nil {
		t.Fatalf("write pidfile FIFO: %v", err)
	}
}

// unreadable are pidfile contents int() rejects, and the signal sent with
// each: not even TERM ends pidproxy then.
func unreadable() []struct {
	sig     syscall.Signal
	content string
} {
	return []struct {
		sig     syscall.Signal
		content string
	}{
		{syscall.SIGHUP, ""}, {syscall.SIGTERM, "garbage\n"}, {syscall.SIGINT, "12 34"}, {syscall.SIGQUIT, "\xff\xfe1"},
		{syscall.SIGUSR1, "0x10"}, {syscall.SIGUSR2, "1__0"}, {syscall.SIGTERM, "\ufeff1"}, {syscall.SIGHUP, "1.0"},
	}
}

// readable are ways of writing pid that int(text.strip()) accepts.
func readable(pid int) []string {
	s := strconv.Itoa(pid)
	arabic := strings.Map(func(r rune) rune { return r - '0' + '\u0660' }, s)
	underscored := strings.Join(strings.Split(s, ""), "_")
	return []string{" +00" + s + "\n\n", underscored, arabic, "\u3000" + s + "\u00a0", "\x1c" + s + "\x1f\t"}
}

// TestUnreadablePidfile: a missing or unparsable pidfile makes pidproxy
// print "Can't read child pidfile NAME!" on stdout (buffered until exit
// unless PYTHONUNBUFFERED) and carry on, whatever the signal; the pidfile
// is read again at every signal and int() accepts Unicode digits and
// whitespace, signs, leading zeros and underscores.
func TestUnreadablePidfile(t *testing.T) {
	t.Parallel()
	for _, unbuffered := range []bool{false, true} {
		t.Run(fmt.Sprintf("PYTHONUNBUFFERED=%v", unbuffered), func(t *testing.T) {
			t.Parallel()
			forEachImpl(t, "unreadable pidfiles", func(t *testing.T, im impl) string {
				return unreadableRun(t, im, unbuffered)
			})
		})
	}
}

func unreadableRun(t *testing.T, im impl, unbuffered bool) string {
	dir := runDir(t)
	env := baseEnv(dir)
	if unbuffered {
		env = append(env, "PYTHONUNBUFFERED=1")
	}
	pidfile := dir + "/fifo.pid"
	r := startProxy(t, im, dir, env, pidfile, dir+"/daemon.sh", dir, "fg")
	daemon := r.daemonPid(t)
	msg := "Can't read child pidfile " + pidfile + "!\n"
	want := ""
	if unbuffered {
		want = missingPidfile(t, r, msg)
	}
	fifo := &fifoFeeder{path: pidfile}
	for _, c := range unreadable() {
		fifo.feed(t, r, c.sig, c.content)
		want += msg
		if unbuffered {
			// Python prints the text and the newline in two writes; a
			// signal between them would run the next handler's print
			// in the middle of the line.
			r.waitStdout(t, want)
		}
	}
	for i, c := range readable(daemon) {
		fifo.feed(t, r, syscall.SIGHUP, c)
		r.waitLogged(t, i+1) // the daemon's shell would merge pending HUPs
	}
	before := lastTerm(t, r, fifo, daemon)
	if (unbuffered && before != r.normalize(want)) || (!unbuffered && before != "") {
		t.Errorf("%s: stdout before exit is %q (unbuffered %v)", im.name, before, unbuffered)
	}
	logged := r.waitLogged(t, len(readable(daemon))+1)
	if wantLog := strings.Repeat("HUP\n", len(readable(daemon))) + "TERM\n"; logged != wantLog {
		t.Errorf("%s: daemon got %q, want %q", im.name, logged, wantLog)
	}
	if got := r.file("pidproxy.out"); got != r.normalize(want) || r.status != 0 {
		t.Errorf("%s: status %d, stdout %q, want %q", im.name, r.status, got, want)
	}
	return fmt.Sprintf("stdout before exit %q\ndaemon got %q\nstatus %d\n%s", before, logged, r.status, r.output())
}

// missingPidfile sends TERM and HUP while there is no pidfile, waiting for
// each message (stdout is unbuffered), and returns what was printed.
func missingPidfile(t *testing.T, r *proxyRun, msg string) string {
	t.Helper()
	want := ""
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGHUP} {
		r.signal(t, sig)
		want += msg
		r.waitStdout(t, want)
	}
	return want
}

// lastTerm sends TERM with the daemon's pid in the pidfile and waits for
// pidproxy to exit; it returns stdout as it was once every earlier handler
// had finished, before the exit flushed it.
func lastTerm(t *testing.T, r *proxyRun, fifo *fifoFeeder, daemon int) string {
	t.Helper()
	w := fifo.signalAndOpen(t, r, syscall.SIGTERM)
	before := r.file("pidproxy.out")
	if _, err := fmt.Fprintf(w, "%d\n", daemon); err != nil {
		t.Fatal(err)
	}
	w.Close()
	r.waitExit(t, 5*time.Second)
	return before
}

// waitStdout polls until pidproxy's stdout is want.
func (r *proxyRun) waitStdout(t *testing.T, want string) {
	t.Helper()
	if err := harness.Poll(5*time.Second, func() bool { return r.file("pidproxy.out") == r.normalize(want) }); err != nil {
		t.Fatalf("%s: stdout %q, want %q: %v", r.impl.name, r.file("pidproxy.out"), want, err)
	}
}

// TestKillFails: a pid that is gone, or that does not fit a pid_t, makes
// os.kill raise in the signal handler: a traceback on stderr, status 1.
func TestKillFails(t *testing.T) {
	t.Parallel()
	cases := map[string][2]string{
		"gone":      {"99999999\n", "ProcessLookupError: [Errno 3] No such process\n"},
		"above int": {"2147483648", "OverflowError: signed integer is greater than maximum\n"},
		"below int": {"-2147483649", "OverflowError: signed integer is less than minimum\n"},
		"huge":      {"99999999999999999999", "OverflowError: Python int too large to convert to C long\n"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			forEachImpl(t, "kill failing for "+name, func(t *testing.T, im impl) string {
				return killFails(t, im, c[0], c[1])
			})
		})
	}
}

// killFails relays USR1 to the pid written as content and expects the
// traceback ending in last.
func killFails(t *testing.T, im impl, content, last string) string {
	dir := runDir(t)
	pidfile := filepath.Join(dir, "bad.pid")
	if err := os.WriteFile(pidfile, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	r := startProxy(t, im, dir, baseEnv(dir), pidfile, dir+"/daemon.sh", dir, "fg")
	r.daemonPid(t)
	r.signal(t, syscall.SIGUSR1)
	r.waitExit(t, 5*time.Second)
	stderr := r.file("pidproxy.err")
	head := "Traceback (most recent call last):\n  File \"PIDPROXY\", line 33, in <module>\n"
	if r.status != 1 || !strings.HasPrefix(stderr, head) || !strings.HasSuffix(stderr, last) {
		t.Errorf("%s: status %d\n%s", im.name, r.status, r.output())
	}
	return fmt.Sprintf("status %d\n%s", r.status, r.output())
}
