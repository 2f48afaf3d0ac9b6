package daemon_test

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// fakeNotify is a service manager's notification socket: every datagram
// received, in order, with the main log as it was at that moment.
type fakeNotify struct {
	t    *testing.T
	name string // the NOTIFY_SOCKET value
	conn *net.UnixConn

	mu   sync.Mutex
	msgs []notifyMsg
	d    *daemon // set once the daemon starts, for the log snapshot
}

type notifyMsg struct {
	text string
	at   time.Time
	log  string // the main log when the datagram arrived
}

func newFakeNotify(t *testing.T, name string) *fakeNotify {
	t.Helper()
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: name, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeNotify{t: t, name: name, conn: c}
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := c.Read(buf)
			if err != nil {
				return
			}
			f.mu.Lock()
			m := notifyMsg{text: string(buf[:n]), at: time.Now()}
			if f.d != nil {
				m.log = f.d.log()
			}
			f.msgs = append(f.msgs, m)
			f.mu.Unlock()
		}
	}()
	t.Cleanup(func() { c.Close() })
	return f
}

// start runs supervisord -n on conf with NOTIFY_SOCKET and env.
func (f *fakeNotify) start(dir, conf string, env ...string) *daemon {
	f.t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	d := startForegroundEnv(f.t, dir, conf, append([]string{"NOTIFY_SOCKET=" + f.name}, env...))
	f.d = d
	return d
}

func (f *fakeNotify) all() []notifyMsg {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]notifyMsg(nil), f.msgs...)
}

// texts is the first line of every datagram so far.
func (f *fakeNotify) texts() []string {
	var out []string
	for _, m := range f.all() {
		first, _, _ := strings.Cut(m.text, "\n")
		out = append(out, first)
	}
	return out
}

// wait waits until the n-th (1-based) datagram whose first line is want
// has arrived and returns it.
func (f *fakeNotify) wait(want string, n int, timeout time.Duration) notifyMsg {
	f.t.Helper()
	var got notifyMsg
	if !waitUntil(timeout, func() bool {
		seen := 0
		for _, m := range f.all() {
			if first, _, _ := strings.Cut(m.text, "\n"); first == want {
				if seen++; seen == n {
					got = m
					return true
				}
			}
		}
		return false
	}) {
		f.t.Fatalf("no datagram %q (#%d) within %v; received %q", want, n, timeout, f.texts())
	}
	return got
}

// count is how many datagrams read want.
func (f *fakeNotify) count(want string) int {
	n := 0
	for _, s := range f.texts() {
		if s == want {
			n++
		}
	}
	return n
}

// withoutWatchdog drops WATCHDOG=1 from a list of first lines.
func withoutWatchdog(texts []string) []string {
	var out []string
	for _, s := range texts {
		if s != "WATCHDOG=1" {
			out = append(out, s)
		}
	}
	return out
}

func successRE(name string) *regexp.Regexp {
	return regexp.MustCompile(`INFO success: ` + regexp.QuoteMeta(name) + ` entered RUNNING state`)
}

// READY=1 comes once every autostart program is RUNNING (past startsecs),
// not when they are merely spawned; SIGHUP is RELOADING=1 (with
// MONOTONIC_USEC) then READY=1 once the new engine's programs are up;
// SIGTERM is STOPPING=1 before the programs are stopped.
func TestSDNotifyReadyReloadStop(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	f := newFakeNotify(t, filepath.Join(dir, "notify"))
	conf := writeConf(t, dir, "", `
[program:fast]
command=sleep 1000
startsecs=0

[program:slow]
command=sleep 1000
startsecs=1

[program:manual]
command=sleep 1000
autostart=false

; Ignores SIGTERM: it is stopped a second after the shutdown begins, by
; SIGKILL, so STOPPING=1 has time to arrive before it.
[program:stubborn]
command=sh -c "trap '' TERM; exec sleep 1000"
startsecs=0
stopwaitsecs=1
`)
	d := f.start(dir, conf)
	ready := f.wait("READY=1", 1, 15*time.Second)
	for _, name := range []string{"fast", "slow", "stubborn"} {
		if !successRE(name).MatchString(ready.log) {
			t.Errorf("READY=1 before %s was RUNNING; the log then:\n%s", name, ready.log)
		}
	}
	if strings.Contains(ready.log, "spawned: 'manual'") {
		t.Errorf("autostart=false program started")
	}

	d.signal(syscall.SIGHUP)
	reloading := f.wait("RELOADING=1", 1, 10*time.Second)
	if !regexp.MustCompile(`\nMONOTONIC_USEC=\d+$`).MatchString(reloading.text) {
		t.Errorf("RELOADING datagram %q has no MONOTONIC_USEC", reloading.text)
	}
	ready2 := f.wait("READY=1", 2, 20*time.Second)
	// The second READY=1 follows the new engine's own success lines.
	after := ready2.log[strings.LastIndex(ready2.log, "received SIGHUP"):]
	for _, name := range []string{"fast", "slow"} {
		if !successRE(name).MatchString(after) {
			t.Errorf("second READY=1 before %s was RUNNING again; the log since SIGHUP:\n%s", name, after)
		}
	}

	d.signal(syscall.SIGTERM)
	stopping := f.wait("STOPPING=1", 1, 10*time.Second)
	if st := d.waitExit(15 * time.Second); st != 0 {
		t.Errorf("exit status %d", st)
	}
	after = stopping.log[strings.LastIndex(stopping.log, "received SIGTERM"):]
	if strings.Contains(after, "stopped: stubborn") {
		t.Errorf("STOPPING=1 only after the programs were stopped:\n%s", after)
	}
	want := []string{"READY=1", "RELOADING=1", "READY=1", "STOPPING=1"}
	if got := withoutWatchdog(f.texts()); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("datagrams %q, want %q", got, want)
	}
}

// A program that gives up (FATAL), one held back by it (depends_on) and one
// that never stops retrying do not hold READY=1 back forever; one still in
// BACKOFF with retries left does, until it is FATAL.
func TestSDNotifyReadyAfterGivingUp(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	name := fmt.Sprintf("@gosupervisor-test-notify-%d-%d", os.Getpid(), time.Now().UnixNano())
	f := newFakeNotify(t, name) // an abstract socket
	conf := writeConf(t, dir, "", `
[program:broken]
command=sh -c "exit 3"
startsecs=1
startretries=2

[program:dependent]
command=sleep 1000
depends_on=broken

[program:flapping]
command=sh -c "exit 4"
startsecs=1
startretries=unlimited

[program:ok]
command=sleep 1000
startsecs=0
`)
	f.start(dir, conf)
	ready := f.wait("READY=1", 1, 20*time.Second)
	if !strings.Contains(ready.log, "INFO gave up: broken entered FATAL state, too many start retries too quickly") {
		t.Errorf("READY=1 before broken gave up; the log then:\n%s", ready.log)
	}
	if strings.Contains(ready.log, "spawned: 'dependent'") {
		t.Errorf("dependent of a FATAL program started")
	}
}

// Under systemd's watchdog, WATCHDOG=1 comes at half of WATCHDOG_USEC
// while the engine answers; not at all when WATCHDOG_PID is another
// process. Children never see the service manager's variables.
func TestSDNotifyWatchdog(t *testing.T) {
	t.Parallel()
	t.Run("ours", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		f := newFakeNotify(t, filepath.Join(dir, "notify"))
		envOut := filepath.Join(dir, "child.env")
		conf := writeConf(t, dir, "", fmt.Sprintf(`
[program:env]
command=sh -c "env > %s; exec sleep 1000"
startsecs=0
`, envOut))
		f.start(dir, conf, "WATCHDOG_USEC=200000")
		f.wait("READY=1", 1, 10*time.Second)
		f.wait("WATCHDOG=1", 8, 10*time.Second)
		// Pings at half of WATCHDOG_USEC: the median gap is about 100 ms
		// (200 ms would be the full period).
		var at []time.Time
		for _, m := range f.all() {
			if m.text == "WATCHDOG=1" {
				at = append(at, m.at)
			}
		}
		var gaps []time.Duration
		for i := 1; i < len(at); i++ {
			gaps = append(gaps, at[i].Sub(at[i-1]))
		}
		slices.Sort(gaps)
		if med := gaps[len(gaps)/2]; med < 50*time.Millisecond || med > 150*time.Millisecond {
			t.Errorf("median gap between WATCHDOG=1 %v, want about 100ms (gaps %v)", med, gaps)
		}
		env := waitFile(t, envOut, 10*time.Second, func(s string) bool { return strings.Contains(s, "PATH=") })
		for _, k := range []string{"NOTIFY_SOCKET=", "WATCHDOG_USEC="} {
			if strings.Contains(env, "\n"+k) || strings.HasPrefix(env, k) {
				t.Errorf("child inherited %s…", k)
			}
		}
	})
	t.Run("other pid", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		f := newFakeNotify(t, filepath.Join(dir, "notify"))
		conf := writeConf(t, dir, "", "")
		d := f.start(dir, conf, "WATCHDOG_USEC=200000", "WATCHDOG_PID=1")
		f.wait("READY=1", 1, 10*time.Second)
		// An observation window, not a wait for something: five periods.
		deadline := time.After(500 * time.Millisecond)
		for done := false; !done; {
			select {
			case <-deadline:
				done = true
			case <-d.exited:
				t.Fatal("supervisord exited")
			}
		}
		if n := f.count("WATCHDOG=1"); n != 0 {
			t.Errorf("%d WATCHDOG=1 for a watchdog of pid 1", n)
		}
	})
}

// Without NOTIFY_SOCKET nothing changes: the same config's log has no
// line about systemd.
func TestSDNotifyBadSocketIsLogged(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	conf := writeConf(t, dir, "", "")
	d := startForegroundEnv(t, dir, conf, []string{"NOTIFY_SOCKET=relative"})
	d.waitLog(`WARN NOTIFY_SOCKET="relative": not an absolute path`, 10*time.Second)
}
