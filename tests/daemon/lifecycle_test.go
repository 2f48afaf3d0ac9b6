package daemon_test

import (
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

	"golang.org/x/sys/unix"
)

// treeProgram is a program whose shell starts two grandchildren and records
// every pid of the tree (grandchildren first, the shell last) in pidfile.
func treeProgram(pidfile string) string {
	return fmt.Sprintf(`sh -c 'sleep 1000 & echo $! >> %[1]s; sleep 1000 & echo $! >> %[1]s; echo $$ >> %[1]s; wait'`, pidfile)
}

// TestForegroundStartStop: -n, a process tree stopped as a group, a failing
// program going FATAL, SIGTERM ending everything with status 0, the pidfile.
func TestForegroundStartStop(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	pids := filepath.Join(dir, "tree.pids")
	conf := writeConf(t, dir, "", fmt.Sprintf(`
[program:tree]
command=%s
stopasgroup=true

[program:fail]
command=sh -c "exit 1"
startretries=1
`, treeProgram(pids)))
	d := startForeground(t, dir, conf)

	d.waitLog(fmt.Sprintf(`INFO supervisord started with pid %d\n`, d.pid), 10*time.Second)
	treePid := d.waitRunning("tree", 10*time.Second)
	d.waitLog(`WARN exited: fail \(exit status 1; not expected\)`, 10*time.Second)
	d.waitLog(`INFO gave up: fail entered FATAL state, too many start retries too quickly`, 10*time.Second)
	if n := len(d.pidsOf("fail")); n != 2 {
		t.Errorf("fail spawned %d times, want 2 (startretries=1)", n)
	}
	if b, err := os.ReadFile(d.pidfile); err != nil || string(b) != strconv.Itoa(d.pid)+"\n" {
		t.Errorf("pidfile holds %q (%v), want %q", b, err, strconv.Itoa(d.pid)+"\n")
	}
	if !hasMarker(treePid, dir) {
		t.Errorf("child %d lacks the [supervisord] environment marker cleanup relies on", treePid)
	}
	tree := readPids(t, pids, 3)
	if tree[2] != treePid {
		t.Errorf("the tree's shell wrote pid %d, the log says spawned %d", tree[2], treePid)
	}
	for _, pid := range tree {
		if !alive(pid) {
			t.Fatalf("pid %d of the tree is not running before SIGTERM", pid)
		}
	}

	d.signal(syscall.SIGTERM)
	if st := d.waitExit(15 * time.Second); st != 0 {
		t.Errorf("supervisord exited with %d after SIGTERM, want 0", st)
	}
	for _, re := range []string{
		`WARN received SIGTERM indicating exit request`,
		`INFO waiting for tree to die`,
		`WARN stopped: tree \(terminated by SIGTERM\)`,
	} {
		if !regexp.MustCompile(`\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} ` + re).MatchString(d.log()) {
			t.Errorf("main log lacks %q", re)
		}
	}
	// Grandchildren are reparented (to us or init) once the daemon is gone;
	// none may still be running.
	if !waitUntil(5*time.Second, func() bool {
		for _, pid := range tree {
			if alive(pid) {
				return false
			}
		}
		return true
	}) {
		t.Errorf("processes of the tree %v survived supervisord", tree)
	}
	if _, err := os.Stat(d.pidfile); !os.IsNotExist(err) {
		t.Errorf("pidfile still there after exit: %v", err)
	}
	if !strings.Contains(d.stdout.String(), "supervisord started with pid") {
		t.Errorf("-n without silent must copy the log to stdout; stdout: %q", truncate(d.stdout.String(), 500))
	}
}

// startDaemonized runs supervisord without -n from cwd and returns the
// daemon found through its pidfile; the command itself must return 0 quickly.
func startDaemonized(t *testing.T, dir, cwd string, args ...string) *daemon {
	t.Helper()
	d := newDaemon(t, dir, "")
	cmd := exec.Command(supervisordBin, args...)
	cmd.Dir = cwd
	cmd.Stdout, cmd.Stderr = d.stdout, d.stderr
	start := time.Now()
	err := cmd.Run()
	took := time.Since(start)
	close(d.exited)
	if st := exitStatus(err); st != 0 {
		t.Fatalf("supervisord %q (daemonizing) exited %d, stderr %q", args, st, d.stderr.String())
	}
	if took > 5*time.Second {
		t.Errorf("daemonizing took %v", took)
	}
	pidText := waitFile(t, d.pidfile, 5*time.Second, func(s string) bool { return strings.HasSuffix(s, "\n") })
	pid, err := strconv.Atoi(strings.TrimSuffix(pidText, "\n"))
	if err != nil {
		t.Fatalf("pidfile %q: %v", pidText, err)
	}
	d.pid = pid
	t.Cleanup(d.cleanup)
	return d
}

func TestDaemonMode(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	wd := filepath.Join(dir, "wd")
	if err := os.Mkdir(wd, 0o755); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "u.out")
	conf := writeConf(t, dir, "umask=027\ndirectory="+wd, `
[program:u]
command=sh -c "umask; pwd; exec sleep 1000"
stdout_logfile=`+out)
	d := startDaemonized(t, dir, t.TempDir(), "-c", conf)

	if !alive(d.pid) {
		t.Fatalf("daemon %d from the pidfile is not running", d.pid)
	}
	sid, err := unix.Getsid(d.pid)
	if err != nil {
		t.Fatal(err)
	}
	if mine, _ := unix.Getsid(0); sid == mine || sid != d.pid {
		t.Errorf("daemon session %d, ours %d: want a new session led by the daemon (%d)", sid, mine, d.pid)
	}
	if cwd, err := os.Readlink(fmt.Sprintf("/proc/%d/cwd", d.pid)); err != nil || cwd != wd {
		t.Errorf("daemon cwd %q (%v), want %q", cwd, err, wd)
	}
	d.waitLog(fmt.Sprintf(`supervisord started with pid %d\n`, d.pid), 10*time.Second)
	waitFile(t, out, 10*time.Second, func(s string) bool { return s == "0027\n"+wd+"\n" })
	d.waitRunning("u", 10*time.Second)
	// The original opens its log before daemonizing (our umask applies) and
	// creates child logs and the pidfile after (the config's umask applies).
	for path, want := range map[string]os.FileMode{
		d.mainLog: 0o666 &^ ownUmask(t),
		out:       0o640,
		d.pidfile: 0o640,
	} {
		if st, err := os.Stat(path); err != nil || st.Mode().Perm() != want {
			t.Errorf("%s: mode %v (%v), want %v", filepath.Base(path), st.Mode().Perm(), err, want)
		}
	}

	d.signal(syscall.SIGTERM)
	if !waitUntil(10*time.Second, func() bool { return !alive(d.pid) }) {
		t.Fatalf("daemon %d still alive after SIGTERM", d.pid)
	}
	for _, pid := range d.pidsOf("u") {
		if alive(pid) {
			t.Errorf("child %d survived the daemon", pid)
		}
	}
	if _, err := os.Stat(d.pidfile); !os.IsNotExist(err) {
		t.Errorf("pidfile still there after exit: %v", err)
	}
}

// TestDaemonModeRelativeConfig: the original reads the config before it
// forks and changes directory, so a relative -c works with directory= set.
func TestDaemonModeRelativeConfig(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	wd := filepath.Join(dir, "wd")
	if err := os.Mkdir(wd, 0o755); err != nil {
		t.Fatal(err)
	}
	writeConf(t, dir, "directory="+wd, "[program:s]\ncommand=sleep 1000\n")
	d := startDaemonized(t, dir, dir, "-c", "supervisord.conf")
	d.waitRunning("s", 10*time.Second)
}

// TestDaemonModeLogLines: the original logs its daemonizing in the main log.
func TestDaemonModeLogLines(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	conf := writeConf(t, dir, "directory="+dir, "[program:s]\ncommand=sleep 1000\n")
	d := startDaemonized(t, dir, dir, "-c", conf)
	d.waitLog(`supervisord started with pid`, 10*time.Second)
	for _, want := range []string{
		"INFO daemonizing the supervisord process\n",
		"INFO set current directory: '" + dir + "'\n",
	} {
		if !strings.Contains(d.log(), want) {
			t.Errorf("main log lacks %q", want)
		}
	}
}

func TestSIGHUP(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	programs := "[program:a]\ncommand=sleep 1000\n[program:b]\ncommand=sleep 1001\n"
	conf := writeConf(t, dir, "", programs)
	d := startForeground(t, dir, conf)
	a1 := d.waitRunning("a", 10*time.Second)
	b1 := d.waitRunning("b", 10*time.Second)
	autoA := func() []string {
		m, _ := filepath.Glob(filepath.Join(dir, "a-stdout---supervisor-*.log"))
		return m
	}
	firstAuto := autoA()
	if len(firstAuto) != 1 {
		t.Fatalf("AUTO stdout logs of a: %v, want one", firstAuto)
	}

	d.signal(syscall.SIGHUP)
	d.waitLog(`WARN received SIGHUP indicating restart request`, 5*time.Second)
	d.waitCount(`success: a entered RUNNING`, 2, 15*time.Second)
	d.waitCount(`success: b entered RUNNING`, 2, 15*time.Second)
	a2, b2 := d.pidsOf("a")[1], d.pidsOf("b")[1]
	if a2 == a1 || b2 == b1 || !alive(a2) || !alive(b2) {
		t.Errorf("after SIGHUP a: %d→%d, b: %d→%d; want new running pids", a1, a2, b1, b2)
	}
	if alive(a1) || alive(b1) {
		t.Errorf("old processes %d, %d still running after the restart", a1, b1)
	}
	if n := d.count(fmt.Sprintf(`supervisord started with pid %d\n`, d.pid)); n != 2 || !alive(d.pid) {
		t.Errorf("want the same daemon (pid %d) started twice, log says %d times", d.pid, n)
	}
	// The restart deletes the old AUTO logs and creates new ones.
	if now := autoA(); len(now) != 1 || now[0] == firstAuto[0] {
		t.Errorf("AUTO stdout logs of a after SIGHUP: %v (before: %v); want one new file", now, firstAuto)
	}

	// A broken config: the original exits with status 2; we keep running with
	// the old processes and log why (documented improvement).
	if err := os.WriteFile(conf, []byte("[supervisord]\n[program:a]\ncommand=sleep 1000\nautostart=maybe\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	d.signal(syscall.SIGHUP)
	d.waitCount(`WARN received SIGHUP indicating restart request`, 2, 5*time.Second)
	d.waitLog(`ERRO .*not a valid boolean value: 'maybe' in section 'program:a'`, 5*time.Second)
	if !alive(d.pid) || !alive(a2) || !alive(b2) {
		t.Errorf("after SIGHUP with a broken config: daemon alive %v, a %v, b %v; want all running",
			alive(d.pid), alive(a2), alive(b2))
	}
	if n := len(d.pidsOf("a")); n != 2 {
		t.Errorf("a spawned %d times, want 2 (the broken config must not restart anything)", n)
	}
}

func TestSIGUSR2ReopensLogs(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	out := filepath.Join(dir, "ticker.out")
	conf := writeConf(t, dir, "", `
[program:ticker]
command=sh -c 'while :; do echo tick; sleep 0.05; done'
stdout_logfile=`+out)
	d := startForeground(t, dir, conf)
	d.waitRunning("ticker", 10*time.Second)
	waitFile(t, out, 5*time.Second, func(s string) bool { return strings.Contains(s, "tick\n") })

	movedLog, movedOut := d.mainLog+".moved", out+".moved"
	if err := os.Rename(d.mainLog, movedLog); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(out, movedOut); err != nil {
		t.Fatal(err)
	}
	d.signal(syscall.SIGUSR2)
	moved := waitFile(t, movedLog, 5*time.Second, func(s string) bool { return strings.Contains(s, "INFO supervisord logreopen\n") })
	if !strings.Contains(moved, "INFO received SIGUSR2 indicating log reopen request\n") {
		t.Errorf("moved main log lacks the SIGUSR2 line:\n%s", moved)
	}
	if _, err := os.Stat(d.mainLog); err != nil {
		t.Errorf("no new main log after SIGUSR2: %v", err)
	}
	if strings.Contains(d.log(), "logreopen") {
		t.Errorf("the reopen lines belong in the old file, the new one has:\n%s", d.log())
	}
	waitFile(t, out, 5*time.Second, func(s string) bool { return strings.Contains(s, "tick\n") })
	// The moved child log stops growing once everything is reopened.
	size := func() int64 { st, _ := os.Stat(movedOut); return st.Size() }
	var last int64 = -1
	if !waitUntil(3*time.Second, func() bool {
		s := size()
		same := s == last
		last = s
		time.Sleep(200 * time.Millisecond)
		return same
	}) {
		t.Errorf("the moved child log keeps growing after SIGUSR2")
	}
}

// TestRestartPolicies exercises autorestart, backoff and stop escalation
// with real children in one daemon.
func TestRestartPolicies(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	conf := writeConf(t, dir, "", `
[program:victim]
command=sleep 1000
autorestart=true

[program:three]
command=sh -c "exit 3"
startretries=3

[program:stubborn]
command=sh -c 'trap "" TERM; while :; do sleep 0.1; done'
stopwaitsecs=1

[program:expected]
command=sh -c "sleep 0.3; exit 2"
startsecs=0
autorestart=unexpected
exitcodes=0,2

[program:unexpected]
command=sh -c "sleep 0.3; exit 1"
startsecs=0
autorestart=unexpected
exitcodes=0,2

[program:always]
command=sh -c "sleep 0.3; exit 0"
startsecs=0
autorestart=true
`)
	d := startForeground(t, dir, conf)

	// kill -9 of a RUNNING child: restarted with a new pid.
	v1 := d.waitRunning("victim", 10*time.Second)
	if err := syscall.Kill(v1, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	d.waitLog(`WARN exited: victim \(terminated by SIGKILL; not expected\)`, 5*time.Second)
	d.waitCount(`success: victim entered RUNNING`, 2, 10*time.Second)
	if v2 := d.pidsOf("victim")[1]; v2 == v1 || !alive(v2) {
		t.Errorf("victim after kill -9: pid %d (was %d), alive %v", v2, v1, alive(v2))
	}

	// exit 3 with startretries=3: 4 spawns, then FATAL.
	d.waitLog(`INFO gave up: three entered FATAL state, too many start retries too quickly`, 15*time.Second)
	if n := len(d.pidsOf("three")); n != 4 {
		t.Errorf("three spawned %d times, want 4", n)
	}
	if n := d.count(`WARN exited: three \(exit status 3; not expected\)`); n != 4 {
		t.Errorf("%d 'exited: three' lines, want 4", n)
	}

	// autorestart=unexpected: exit 1 respawns, exit 2 (in exitcodes) stays EXITED.
	d.waitCount(`spawned: 'unexpected'`, 3, 10*time.Second)
	d.waitCount(`spawned: 'always'`, 3, 10*time.Second)
	d.waitLog(`INFO exited: expected \(exit status 2; expected\)`, 5*time.Second)
	if n := len(d.pidsOf("expected")); n != 1 {
		t.Errorf("expected (exit 2 in exitcodes, autorestart=unexpected) spawned %d times, want 1", n)
	}
	if d.count(`WARN exited: unexpected \(exit status 1; not expected\)`) < 2 {
		t.Errorf("unexpected's exits are not logged as not expected")
	}

	// Shutdown: the stubborn one ignores SIGTERM, SIGKILL after stopwaitsecs.
	stub := d.pidsOf("stubborn")[0]
	d.signal(syscall.SIGTERM)
	d.waitLog(fmt.Sprintf(`WARN killing 'stubborn' \(%d\) with SIGKILL`, stub), 10*time.Second)
	d.waitLog(`WARN stopped: stubborn \(terminated by SIGKILL\)`, 5*time.Second)
	if st := d.waitExit(10 * time.Second); st != 0 {
		t.Errorf("exit status %d, want 0", st)
	}
}

// TestExitSignals: SIGTERM, SIGINT and SIGQUIT each end supervisord with
// status 0 and the original's log line naming the signal.
func TestExitSignals(t *testing.T) {
	t.Parallel()
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT, syscall.SIGQUIT} {
		t.Run(unix.SignalName(sig), func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			d := startForeground(t, dir, writeConf(t, dir, "", "[program:s]\ncommand=sleep 1000\nstartsecs=0\n"))
			d.waitLog(`INFO success: s entered RUNNING state`, 10*time.Second)
			s := d.pidsOf("s")[0]
			d.signal(sig)
			if st := d.waitExit(10 * time.Second); st != 0 {
				t.Errorf("exit status %d, want 0", st)
			}
			if !strings.Contains(d.log(), "WARN received "+unix.SignalName(sig)+" indicating exit request\n") {
				t.Errorf("no exit request line for %s", unix.SignalName(sig))
			}
			if alive(s) {
				t.Errorf("child %d survived", s)
			}
		})
	}
}

// stubbornProgram ignores SIGTERM until SIGKILL after stopwaitsecs.
func stubbornProgram(stopwaitsecs int) string {
	return fmt.Sprintf(`
[program:stubborn]
command=sh -c 'trap "" TERM; while :; do sleep 0.1; done'
stopwaitsecs=%d
`, stopwaitsecs)
}

// TestSIGTERMDuringRestart: the original's SIGTERM sets the SHUTDOWN mood
// whatever is going on, so a SIGTERM while a SIGHUP restart waits for
// processes to stop ends supervisord instead of restarting it (observed on
// 4.2.5 with the same signal sequence).
func TestSIGTERMDuringRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	d := startForeground(t, dir, writeConf(t, dir, "", stubbornProgram(6)))
	d.waitRunning("stubborn", 10*time.Second)
	d.signal(syscall.SIGHUP)
	d.waitLog(`INFO waiting for stubborn to die`, 5*time.Second)
	// A second SIGHUP while restarting is "received" again (only a shutdown
	// makes the original say "ignored").
	d.signal(syscall.SIGHUP)
	if !waitUntil(1500*time.Millisecond, func() bool { return d.count(`WARN received SIGHUP indicating restart request`) == 2 }) ||
		strings.Contains(d.log(), "ignored SIGHUP") {
		t.Errorf("a second SIGHUP during a restart must be logged as received, like the original")
	}
	d.signal(syscall.SIGTERM)
	d.waitLog(`WARN received SIGTERM indicating exit request`, 5*time.Second)
	select {
	case <-d.exited:
		if d.status != 0 {
			t.Errorf("exit status %d, want 0", d.status)
		}
	case <-time.After(10 * time.Second):
		t.Errorf("supervisord did not exit on SIGTERM during a restart")
	}
	if n := d.count(`supervisord started with pid`); n != 1 {
		t.Errorf("supervisord started %d times, want once (SIGTERM cancels the restart)", n)
	}
}

// TestSignalsDuringShutdown: SIGHUP during shutdown is ignored with the
// original's message; a second SIGTERM is logged again.
func TestSignalsDuringShutdown(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	d := startForeground(t, dir, writeConf(t, dir, "", stubbornProgram(3)))
	d.waitRunning("stubborn", 10*time.Second)
	d.signal(syscall.SIGTERM)
	d.waitLog(`INFO waiting for stubborn to die`, 5*time.Second)
	d.signal(syscall.SIGHUP)
	d.waitLog(`WARN ignored SIGHUP indicating restart request \(shutdown in progress\)`, 5*time.Second)
	d.signal(syscall.SIGTERM)
	d.waitCount(`WARN received SIGTERM indicating exit request`, 2, 5*time.Second)
	if st := d.waitExit(10 * time.Second); st != 0 {
		t.Errorf("exit status %d, want 0", st)
	}
	if n := d.count(`supervisord started with pid`); n != 1 {
		t.Errorf("supervisord started %d times, want once", n)
	}
}

// ownUmask reads this process's umask from /proc without changing it.
func ownUmask(t *testing.T) os.FileMode {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^Umask:\s+([0-7]+)$`).FindSubmatch(b)
	if m == nil {
		t.Fatal("no Umask in /proc/self/status")
	}
	n, err := strconv.ParseUint(string(m[1]), 8, 32)
	if err != nil {
		t.Fatal(err)
	}
	return os.FileMode(n)
}

// TestSilentAndUnwritablePidfile: -s keeps the log off stdout; a pidfile
// that cannot be written is logged as CRIT and supervisord carries on.
func TestSilentAndUnwritablePidfile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	const pidfile = "/proc/gosupervisor-daemon-test.pid" // /proc refuses new files, even to root
	conf := writeConf(t, dir, "", "[program:s]\ncommand=sleep 1000\nstartsecs=0\n")
	d := startForeground(t, dir, conf, "-s", "-j", pidfile)
	d.waitLog(`INFO success: s entered RUNNING state`, 10*time.Second)
	if !strings.Contains(d.log(), "CRIT could not write pidfile "+pidfile+"\n") {
		t.Errorf("main log lacks the pidfile CRIT line")
	}
	d.signal(syscall.SIGTERM)
	if st := d.waitExit(10 * time.Second); st != 0 {
		t.Errorf("exit status %d, want 0", st)
	}
	if out := d.stdout.String(); out != "" {
		t.Errorf("-s: stdout should stay empty, has %q", truncate(out, 300))
	}
}

// A second daemon on the same pidfile (here a config without HTTP servers,
// so no socket or port conflict stops it first) refuses to start instead of
// running every program twice; a stale pidfile is simply replaced.
func TestSecondDaemonOnSamePidfileRefuses(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	conf := writeConf(t, dir, "", "[program:sleeper]\ncommand=sleep 1000\nstartsecs=0\n")
	first := startForeground(t, dir, conf)
	first.waitRunning("sleeper", 10*time.Second)

	second := startForeground(t, dir, conf)
	if status := second.waitExit(15 * time.Second); status != 2 {
		t.Fatalf("second daemon exited %d, want 2; stderr %q", status, second.stderr.String())
	}
	want := fmt.Sprintf("Error: Another supervisord is already running with pid %d (pidfile %s).  Shut it down first before starting supervisord.\n", first.pid, first.pidfile)
	if got := second.stderr.String(); !strings.HasPrefix(got, want) || !strings.Contains(got, "For help, use ") {
		t.Errorf("stderr %q, want it to start with %q", got, want)
	}
	if !alive(first.pid) || len(first.pidsOf("sleeper")) != 1 {
		t.Errorf("the first daemon was disturbed: alive=%v spawns=%v", alive(first.pid), first.pidsOf("sleeper"))
	}
	if b, _ := os.ReadFile(first.pidfile); string(b) != strconv.Itoa(first.pid)+"\n" {
		t.Errorf("pidfile now holds %q", b)
	}
}

func TestStalePidfileIsReplaced(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	conf := writeConf(t, dir, "", "[program:sleeper]\ncommand=sleep 1000\nstartsecs=0\n")
	// A pid that is not a supervisord (this test process) marks a stale file.
	if err := os.WriteFile(filepath.Join(dir, "supervisord.pid"), []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	d := startForeground(t, dir, conf)
	d.waitRunning("sleeper", 10*time.Second)
	if b, _ := os.ReadFile(d.pidfile); string(b) != strconv.Itoa(d.pid)+"\n" {
		t.Errorf("pidfile holds %q, want the new daemon's pid", b)
	}
}
