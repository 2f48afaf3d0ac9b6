package daemon_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Issue 18's defects 1 and 5, on a real daemon driven by our supervisorctl.

var (
	ctlOnce sync.Once
	ctlBin  string
	ctlErr  error
)

// supervisorctl builds our supervisorctl once, next to the daemon binary.
func supervisorctl(t *testing.T) string {
	t.Helper()
	ctlOnce.Do(func() {
		ctlBin = filepath.Join(filepath.Dir(supervisordBin), "supervisorctl")
		cmd := exec.Command("go", "build", "-o", ctlBin, "./cmd/supervisorctl")
		cmd.Dir = repoRoot
		if out, err := cmd.CombinedOutput(); err != nil {
			ctlErr = fmt.Errorf("building supervisorctl: %v\n%s", err, out)
		}
	})
	if ctlErr != nil {
		t.Fatal(ctlErr)
	}
	return ctlBin
}

// runWithin runs bin with args and fails the test if it has not finished
// by timeout (a reread used to hang forever on a FIFO include).
func runWithin(t *testing.T, timeout time.Duration, bin string, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("%s %s did not finish within %v; output so far:\n%s", filepath.Base(bin), strings.Join(args, " "), timeout, out)
	}
	return string(out), exitStatus(err)
}

// vmRSS is /proc/<pid>/status's VmRSS in KiB.
func vmRSS(t *testing.T, pid int) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatalf("supervisord %d: %v", pid, err)
	}
	m := regexp.MustCompile(`(?m)^VmRSS:\s+(\d+) kB`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("no VmRSS in /proc/%d/status", pid)
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}

func ctlSection(dir string) string {
	return fmt.Sprintf(`[unix_http_server]
file=%[1]s/sv.sock

[supervisorctl]
serverurl=unix://%[1]s/sv.sock

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface
`, dir)
}

// TestRereadHostileInclude: ln -s /dev/zero conf.d/zero.conf and mkfifo
// conf.d/x.conf, then supervisorctl reread. Before, the first read until the
// daemon died of OOM (its children left to init) and the second blocked
// reread forever. Now each reread is refused at once, naming the file, and
// the daemon and its child stay as they were.
func TestRereadHostileInclude(t *testing.T) {
	ctl := supervisorctl(t)
	dir := t.TempDir()
	confd := filepath.Join(dir, "conf.d")
	if err := os.Mkdir(confd, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(confd, "sleeper.conf"), []byte("[program:sleeper]\ncommand=/bin/sleep 100000\nstartsecs=1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	conf := writeConf(t, dir, "", ctlSection(dir)+"\n[include]\nfiles=conf.d/*.conf\n")
	d := startForeground(t, dir, conf)
	child := d.waitRunning("sleeper", 15*time.Second)
	base := vmRSS(t, d.pid)

	check := func(what string) {
		t.Helper()
		if !alive(d.pid) {
			t.Fatalf("%s: supervisord died", what)
		}
		if !alive(child) {
			t.Fatalf("%s: the child %d died", what, child)
		}
		if _, ppid := procStat(child); ppid != d.pid {
			t.Fatalf("%s: the child's parent is %d, not supervisord %d", what, ppid, d.pid)
		}
		// Generous: what matters is that nothing of /dev/zero was read
		// (the defect took gigabytes).
		if rss := vmRSS(t, d.pid); rss > base+64*1024 {
			t.Fatalf("%s: supervisord's RSS went from %d kB to %d kB", what, base, rss)
		}
		out, _ := runWithin(t, 20*time.Second, ctl, "-c", conf, "status", "sleeper")
		if !regexp.MustCompile(`^sleeper\s+RUNNING\s+pid ` + strconv.Itoa(child) + `,`).MatchString(out) {
			t.Fatalf("%s: status says %q", what, out)
		}
	}
	reread := func(target, kind string) {
		t.Helper()
		out, status := runWithin(t, 20*time.Second, ctl, "-c", conf, "reread")
		want := fmt.Sprintf("ERROR: CANT_REREAD: could not read included file \"%s\": %s\n", target, kind)
		if out != want || status == 0 {
			t.Fatalf("reread: status %d, output\n%q\nwant\n%q", status, out, want)
		}
	}

	zero := filepath.Join(confd, "zero.conf")
	if err := os.Symlink("/dev/zero", zero); err != nil {
		t.Fatal(err)
	}
	reread(zero, "not a regular file but a character device (symlink to /dev/zero)")
	check("reread with /dev/zero")
	// --check-config reads the same way.
	out, status := runWithin(t, 20*time.Second, supervisordBin, "-c", conf, "--check-config")
	if status == 0 || !strings.HasPrefix(out, "Error: could not read included file \""+zero+"\"") {
		t.Errorf("--check-config: status %d, output %q", status, out)
	}
	if err := os.Remove(zero); err != nil {
		t.Fatal(err)
	}

	fifo := filepath.Join(confd, "x.conf")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	for i := range 2 { // the second must not queue behind the first
		reread(fifo, "not a regular file but a named pipe (FIFO)")
		check(fmt.Sprintf("reread %d with a FIFO", i+1))
	}
	out, status = runWithin(t, 20*time.Second, supervisordBin, "-c", conf, "--check-config")
	if status == 0 || !strings.HasPrefix(out, "Error: could not read included file \""+fifo+"\"") {
		t.Errorf("--check-config: status %d, output %q", status, out)
	}

	// Once the FIFO is gone, reread works again and changes nothing.
	if err := os.Remove(fifo); err != nil {
		t.Fatal(err)
	}
	if out, status := runWithin(t, 20*time.Second, ctl, "-c", conf, "reread"); status != 0 || out != "No config updates to processes\n" {
		t.Fatalf("reread after cleanup: status %d, %q", status, out)
	}
	check("reread after cleanup")
}

// TestDeletedLogDirectory: rm -rf LOGDIR; supervisorctl restart talker.
// Before, the child wrote into the deleted file and tail said "ERROR (no
// log file)". Now the spawn recreates the directory (mkdir -p, 0755 less the
// umask) with a WARN naming it and the output goes to the new file; the
// same at SIGUSR2's reopen.
func TestDeletedLogDirectory(t *testing.T) {
	ctl := supervisorctl(t)
	dir := t.TempDir()
	logs := filepath.Join(dir, "logs")
	logdir := filepath.Join(logs, "app")
	if err := os.MkdirAll(logdir, 0o755); err != nil {
		t.Fatal(err)
	}
	logfile := filepath.Join(logdir, "talker.log")
	conf := writeConf(t, dir, "", ctlSection(dir)+fmt.Sprintf(`
[program:talker]
command=/bin/sh -c 'n=0; while :; do n=$((n+1)); echo "tick $n"; sleep 0.05; done'
startsecs=1
stdout_logfile=%s
`, logfile))
	d := startForeground(t, dir, conf)
	first := d.waitRunning("talker", 15*time.Second)
	waitFile(t, logfile, 10*time.Second, func(s string) bool { return strings.Contains(s, "tick 3\n") })

	tailHasTicks := func(what string) {
		t.Helper()
		var out string
		if !waitUntil(10*time.Second, func() bool {
			out, _ = runWithin(t, 20*time.Second, ctl, "-c", conf, "tail", "talker")
			return strings.Contains(out, "tick ")
		}) {
			t.Fatalf("%s: supervisorctl tail talker says %q", what, out)
		}
	}
	checkDir := func(what string) {
		t.Helper()
		for _, p := range []string{logs, logdir} {
			st, err := os.Stat(p)
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			if m := st.Mode().Perm(); m != 0o755 {
				t.Errorf("%s: %s has mode %#o, want 0755", what, p, m)
			}
		}
	}
	tailHasTicks("before")

	if err := os.RemoveAll(logs); err != nil {
		t.Fatal(err)
	}
	out, status := runWithin(t, 30*time.Second, ctl, "-c", conf, "restart", "talker")
	if status != 0 || out != "talker: stopped\ntalker: started\n" {
		t.Fatalf("restart: status %d, %q", status, out)
	}
	if pids := d.pidsOf("talker"); pids[len(pids)-1] == first {
		t.Fatalf("talker was not respawned")
	}
	d.waitLog(regexp.QuoteMeta("WARN log directory "+logdir+" was removed; recreated it for "+logfile), 10*time.Second)
	// New output, in the new file: numbering starts again with the new child.
	waitFile(t, logfile, 10*time.Second, func(s string) bool { return strings.HasPrefix(s, "tick 1\n") && strings.Contains(s, "tick 3\n") })
	checkDir("after restart")
	tailHasTicks("after restart")

	// SIGUSR2 (reopen) without a restart.
	if err := os.RemoveAll(logs); err != nil {
		t.Fatal(err)
	}
	d.signal(syscall.SIGUSR2)
	d.waitCount(regexp.QuoteMeta("WARN log directory "+logdir+" was removed; recreated it for "+logfile), 2, 10*time.Second)
	waitFile(t, logfile, 10*time.Second, func(s string) bool { return strings.Count(s, "tick ") >= 3 })
	checkDir("after SIGUSR2")
	tailHasTicks("after SIGUSR2")
	if !alive(d.pid) {
		t.Fatal("supervisord died")
	}
}
