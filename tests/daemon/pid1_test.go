package daemon_test

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// childrenOf lists the pids whose parent is pid (host view of /proc).
func childrenOf(pid int) []int {
	entries, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range entries {
		n, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if _, ppid := procStat(n); ppid == pid {
			out = append(out, n)
		}
	}
	return out
}

// zombiesOf lists the zombie children of pid.
func zombiesOf(pid int) []int {
	var out []int
	for _, c := range childrenOf(pid) {
		if st, _ := procStat(c); st == "Z" {
			out = append(out, c)
		}
	}
	return out
}

// TestPID1ReapsOrphans runs supervisord as PID 1 of a new pid namespace with
// a program that double-forks: the orphaned grandchildren are reparented to
// supervisord, which must reap them (no zombie stays behind).
func TestPID1ReapsOrphans(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("needs root for unshare --pid")
	}
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		t.Fatalf("util-linux unshare is needed: %v", err)
	}
	dir := t.TempDir()
	conf := writeConf(t, dir, "", `
[program:forker]
command=sh -c "(sleep 0.3 &); (sleep 0.3 &); (sleep 0.3 &); sleep 2"
startsecs=0
autorestart=false
`)
	d := newDaemon(t, dir, conf)
	cmd := exec.Command(unshare, "--pid", "--fork", "--mount-proc", supervisordBin, "-n", "-c", conf)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = d.stdout, d.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	status := 0
	go func() { status = exitStatus(cmd.Wait()); close(done) }()
	t.Cleanup(func() {
		// Killing the namespace's init kills everything in the namespace.
		if d.pid > 0 && alive(d.pid) {
			_ = syscall.Kill(d.pid, syscall.SIGKILL)
		}
		if alive(cmd.Process.Pid) {
			_ = cmd.Process.Kill()
		}
		select {
		case <-done:
		case <-time.After(5 * time.Second):
		}
		if t.Failed() {
			t.Logf("main log:\n%s\nstderr:\n%s", d.log(), d.stderr.String())
		}
	})

	// supervisord is unshare's only child; from here it has a host pid.
	if !waitUntil(10*time.Second, func() bool {
		kids := childrenOf(cmd.Process.Pid)
		if len(kids) == 1 {
			d.pid = kids[0]
		}
		return d.pid != 0
	}) {
		t.Fatalf("unshare (%d) never started supervisord", cmd.Process.Pid)
	}
	d.waitLog(`INFO supervisord started with pid 1\n`, 10*time.Second)
	d.waitCount(`INFO reaped unknown pid \d+ \(exit status 0\)`, 3, 10*time.Second)
	d.waitLog(`INFO exited: forker \(exit status 0; expected\)`, 10*time.Second)
	if !waitUntil(2*time.Second, func() bool { return len(zombiesOf(d.pid)) == 0 }) {
		t.Errorf("zombies left under the namespace's PID 1 (%d): %v", d.pid, zombiesOf(d.pid))
	}
	if n := len(childrenOf(d.pid)); n != 0 {
		t.Errorf("PID 1 still has %d children after everything exited", n)
	}

	d.signal(syscall.SIGTERM)
	select {
	case <-done:
		if status != 0 {
			t.Errorf("unshare exited %d (supervisord's status), want 0", status)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("supervisord as PID 1 did not exit on SIGTERM")
	}
	if !strings.Contains(d.log(), "WARN received SIGTERM indicating exit request") {
		t.Errorf("no SIGTERM line in the log")
	}
}
