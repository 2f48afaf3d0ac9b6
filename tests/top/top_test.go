// Package top_test drives `supervisorctl top` in tmux (Debian's package) as
// a person would, against our supervisord and against Debian's Python
// original: sort, filter, stop and start a process, tail a log, resize the
// window, restart the daemon and see the reconnect, quit and find the
// terminal as it was. Screens are read with capture-pane, polled with
// deadlines.
package top_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gosupervisor/gosupervisor/tests/compat/harness"
)

var bins harness.Binaries

func TestMain(m *testing.M) {
	os.Exit(harness.RunWithBinaries(m, "gstop-bin-", &bins))
}

// tmux is one tmux server of the test's own (-S socket in a temp dir).
type tmux struct {
	t    *testing.T
	sock string
}

func newTmux(t *testing.T, dir string, w, h int, env ...string) *tmux {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Fatalf("tmux not installed (make test-deps installs Debian's tmux): %v", err)
	}
	x := &tmux{t: t, sock: filepath.Join(dir, "tmux.sock")}
	args := []string{"new-session", "-d", "-s", "top", "-x", fmt.Sprint(w), "-y", fmt.Sprint(h)}
	for _, e := range env {
		args = append(args, "-e", e)
	}
	args = append(args, "env", "PS1=$ ", "sh")
	x.run(args...)
	x.run("set-option", "-g", "window-size", "manual")
	t.Cleanup(func() { _ = exec.Command("tmux", "-S", x.sock, "kill-server").Run() })
	return x
}

func (x *tmux) run(args ...string) string {
	x.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-S", x.sock}, args...)...).CombinedOutput()
	if err != nil {
		x.t.Fatalf("tmux %v: %v\n%s", args, err, out)
	}
	return string(out)
}

func (x *tmux) keys(keys ...string) {
	x.t.Helper()
	x.run(append([]string{"send-keys", "-t", "top"}, keys...)...)
}

// text types literally.
func (x *tmux) text(s string) {
	x.t.Helper()
	x.run("send-keys", "-t", "top", "-l", s)
}

func (x *tmux) screen() string { return x.run("capture-pane", "-p", "-t", "top") }

// wait polls the screen until cond holds, failing after d with the screen.
func (x *tmux) wait(what string, d time.Duration, cond func(string) bool) string {
	x.t.Helper()
	deadline := time.Now().Add(d)
	for {
		s := x.screen()
		if cond(s) {
			return s
		}
		if time.Now().After(deadline) {
			x.t.Fatalf("after %v, still not %s; screen:\n%s", d, what, s)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// prompt waits for the shell's prompt on the last line after top ended.
func (x *tmux) prompt() {
	x.t.Helper()
	x.wait("the shell's prompt", 5*time.Second, func(s string) bool {
		l := strings.Split(strings.TrimRight(s, "\n "), "\n")
		return strings.HasSuffix(strings.TrimSpace(l[len(l)-1]), "$")
	})
}

func (x *tmux) waitRe(what, re string, d time.Duration) string {
	x.t.Helper()
	r := regexp.MustCompile(re)
	return x.wait(what, d, r.MatchString)
}

const conf = `[unix_http_server]
file=%[1]s/sv.sock
[supervisord]
logfile=%[1]s/supervisord.log
pidfile=%[1]s/supervisord.pid
childlogdir=%[1]s
[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface
[supervisorctl]
serverurl=unix://%[1]s/sv.sock
[program:crash]
command=sh -c 'echo crashing; sleep 0.2; exit 3'
startsecs=1
startretries=100000
[program:web]
command=sh -c 'while :; do echo tick; sleep 0.3; done'
[group:pool]
programs=w1,w2
[program:w1]
command=sleep 1000
[program:w2]
command=sleep 1001
`

func TestTopOurs(t *testing.T) {
	t.Parallel()
	scenario(t, bins.Supervisord, "gosupervisor", "events")
}

func TestTopPython(t *testing.T) {
	t.Parallel()
	if harness.NoPython() {
		t.Skip(harness.ErrNoPython)
	}
	if err := harness.CheckPython(); err != nil {
		t.Fatal(err)
	}
	scenario(t, harness.PySupervisord, "supervisor 4.2.5", "polling")
}

func scenario(t *testing.T, daemon, name, kind string) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "supervisord.conf")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(conf, dir)), 0o644); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "sv.sock")
	d := harness.StartDaemon(t, name, daemon, cfg, sock, nil)

	x := newTmux(t, dir, 80, 24, "TERM=xterm-256color")
	x.text(bins.Supervisorctl + " -c " + cfg + " top")
	x.keys("Enter")
	x.waitRe("the table", `(?m)^pool:w1\s+RUNNING\s+\d+`, 10*time.Second)
	s := x.wait("the daemon named", 5*time.Second, func(s string) bool {
		return strings.Contains(s, name) && strings.Contains(s, kind)
	})
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) != 24 || !strings.HasPrefix(lines[23], "?help") {
		t.Errorf("80x24: %d lines, footer %q", len(lines), lines[len(lines)-1])
	}
	// the crash loop stands out: its restarts are counted
	x.waitRe("crash restarts counted", `(?m)^crash\s+(STARTING|BACKOFF|RUNNING|EXITED)\s.*\s[1-9]\d* `, 15*time.Second)

	// sort by CPU (descending), then by name again
	x.keys("5")
	x.wait("sorted by CPU", 2*time.Second, func(s string) bool { return strings.Contains(s, "CPU%↓") })
	x.keys("1")
	x.wait("sorted by name", 2*time.Second, func(s string) bool { return strings.Contains(s, "NAME↑") })

	// filter: only the pool
	x.keys("/")
	x.text("pool")
	x.keys("Enter")
	x.wait("filtered", 2*time.Second, func(s string) bool {
		return strings.Contains(s, `filter "pool"`) && strings.Contains(s, "pool:w2") && !regexp.MustCompile(`(?m)^web `).MatchString(s)
	})
	// stop pool:w1 (the first row), confirmed
	x.keys("x")
	x.wait("the confirmation", 2*time.Second, func(s string) bool { return strings.Contains(s, "Really stop pool:w1? [y/N]") })
	x.keys("y")
	start := time.Now()
	x.waitRe("pool:w1 STOPPED", `(?m)^pool:w1\s+STOPPED`, 2*time.Second)
	t.Logf("%s: stop → STOPPED on screen in %v", name, time.Since(start))
	x.keys("s")
	start = time.Now()
	x.waitRe("pool:w1 STARTING or RUNNING", `(?m)^pool:w1\s+(STARTING|RUNNING)\s+\d+`, 2*time.Second)
	t.Logf("%s: start → STARTING/RUNNING on screen in %v", name, time.Since(start))
	x.waitRe("pool:w1 RUNNING again", `(?m)^pool:w1\s+RUNNING\s+\d+`, 5*time.Second)
	// state filter: not RUNNING hides the running pool
	x.keys("Escape")
	x.wait("the filter cleared", 2*time.Second, func(s string) bool { return strings.Contains(s, "web ") })
	x.keys("f")
	x.wait("state filter", 2*time.Second, func(s string) bool {
		return strings.Contains(s, "state not RUNNING") && !strings.Contains(s, "pool:w2")
	})
	x.keys("Escape")

	// tail web's log
	x.keys("/")
	x.text("web")
	x.keys("Enter", "l")
	x.waitRe("log lines", `web stdout · following(?s:.*)\ntick\ntick\n`, 3*time.Second)
	x.keys(" ")
	x.wait("paused", 2*time.Second, func(s string) bool { return strings.Contains(s, "web stdout · paused") })
	x.keys("q")
	x.wait("the table", 2*time.Second, func(s string) bool { return strings.Contains(s, "NAME↑") })
	x.keys("Escape")
	x.waitRe("back to the table", `(?m)^pool:w2\s+RUNNING`, 2*time.Second)

	// resize: more rows and a complete description column
	x.run("resize-window", "-t", "top", "-x", "120", "-y", "40")
	wide := regexp.MustCompile(`(?m)^pool:w2\s+RUNNING.*pid \d+, uptime \d+:\d\d:\d\d\s*$`)
	x.wait("120x40 with whole descriptions", 3*time.Second, func(s string) bool {
		l := strings.Split(strings.TrimRight(s, "\n"), "\n")
		return wide.MatchString(s) && len(l) == 40 && strings.HasPrefix(l[39], "?help")
	})
	x.run("resize-window", "-t", "top", "-x", "80", "-y", "24")
	x.wait("80x24 again", 3*time.Second, func(s string) bool {
		l := strings.Split(strings.TrimRight(s, "\n"), "\n")
		return len(l) == 24 && strings.HasPrefix(l[23], "?help")
	})

	// the daemon goes away and comes back
	d.Stop(t)
	x.wait("the lost connection", 5*time.Second, func(s string) bool {
		return strings.Contains(s, "connection lost, reconnecting")
	})
	harness.StartDaemon(t, name, daemon, cfg, sock, nil)
	x.wait("reconnected", 10*time.Second, func(s string) bool {
		return strings.Contains(s, "reconnected to "+name) && regexp.MustCompile(`(?m)^pool:w1\s+RUNNING`).MatchString(s)
	})

	// quit with Ctrl-C: the shell works and the terminal is cooked again
	x.keys("C-c")
	x.prompt()
	x.text("stty -a | tr ' ' '\\n' | grep -x -e icanon -e echo -e -icanon -e -echo | tr '\\n' ' '; echo DO''NE")
	x.keys("Enter")
	s = x.waitRe("the shell back", `(?m)DONE$`, 5*time.Second)
	if !strings.Contains(s, "icanon echo DONE") {
		t.Errorf("terminal not restored:\n%s", s)
	}
}

// NO_COLOR and TERM=dumb: the table without any colour.
func TestTopNoColour(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "supervisord.conf")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(conf, dir)), 0o644); err != nil {
		t.Fatal(err)
	}
	harness.StartDaemon(t, "gosupervisor", bins.Supervisord, cfg, filepath.Join(dir, "sv.sock"), nil)
	for _, env := range []string{"NO_COLOR=1 TERM=xterm-256color", "TERM=dumb"} {
		x := newTmux(t, t.TempDir(), 80, 24)
		x.text("env " + env + " " + bins.Supervisorctl + " -c " + cfg + " top")
		x.keys("Enter")
		x.waitRe("the table", `(?m)^pool:w1\s+RUNNING\s+\d+`, 10*time.Second)
		esc := x.run("capture-pane", "-p", "-e", "-t", "top")
		if m := regexp.MustCompile(`\x1b\[[0-9;]*(3[0-7]|9[0-7]|38;[25])[;m]`).FindString(esc); m != "" {
			t.Errorf("%s: colour escape %q on screen:\n%q", env, m, esc)
		}
		if !regexp.MustCompile(`\x1b\[[0-9;]*7m`).MatchString(esc) {
			t.Errorf("%s: the selection should be in reverse video:\n%q", env, esc)
		}
		x.keys("q")
		x.prompt()
		x.text("echo DO''NE")
		x.keys("Enter")
		x.waitRe("the shell back", `(?m)^DONE$`, 5*time.Second)
	}
}
