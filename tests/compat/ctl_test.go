package compat

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gosupervisor/gosupervisor/tests/compat/harness"
)

// ctlStep is one supervisorctl invocation (or a custom action between them).
type ctlStep struct {
	args   []string
	sort   bool                // group/all operations report in completion order
	filter func(string) string // extra normalisation of the masked output
	do     func(s *site, ctl string) (string, error)
	name   string
}

func ctl(args ...string) ctlStep                     { return ctlStep{args: args} }
func (c ctlStep) sorted() ctlStep                    { c.sort = true; return c }
func (c ctlStep) with(f func(string) string) ctlStep { c.filter = f; return c }
func ctlDo(name string, f func(s *site, ctl string) (string, error)) ctlStep {
	return ctlStep{name: name, do: f}
}

func (c ctlStep) String() string {
	if c.do != nil {
		return c.name
	}
	return "supervisorctl " + strings.Join(c.args, " ")
}

var reNumberLine = regexp.MustCompile(`(?m)^\d+$`)

// runCtl runs a supervisorctl binary with -c conf and returns stdout+stderr
// (the original prints nearly everything on stdout) and the exit status.
func runCtl(ctlBin, conf string, args ...string) (string, int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, ctlBin, append([]string{"-c", conf}, args...)...)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return string(out), ee.ExitCode(), nil
	}
	if err != nil {
		return string(out), -1, fmt.Errorf("run %s %v: %w", ctlBin, args, err)
	}
	return string(out), 0, nil
}

// follow runs a following command (tail -f, maintail -f), reads until want
// lines arrived or the deadline passed, then kills the client by pid.
func follow(ctlBin, conf string, want int, args ...string) (string, error) {
	cmd := exec.Command(ctlBin, append([]string{"-c", conf}, args...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return "", err
	}
	if err := cmd.Start(); err != nil {
		return "", fmt.Errorf("start %v: %w", args, err)
	}
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	var got []string
	timeout := time.After(10 * time.Second)
loop:
	for len(got) < want {
		select {
		case l, ok := <-lines:
			if !ok {
				break loop
			}
			got = append(got, l)
		case <-timeout:
			break loop
		}
	}
	_ = cmd.Process.Kill()
	for range lines { // drain so the reader ends
	}
	_ = cmd.Wait()
	if len(got) < want {
		return strings.Join(got, "\n"), fmt.Errorf("%v: got %d lines before the deadline, want %d: %q", args, len(got), want, got)
	}
	return strings.Join(got, "\n"), nil
}

// onlyLinesWith keeps the output lines containing sub (main log excerpts).
func onlyLinesWith(sub string) func(string) string {
	return func(s string) string {
		var keep []string
		for _, l := range strings.Split(s, "\n") {
			if strings.Contains(l, sub) && !strings.Contains(l, "waiting for ") { // racy in the original
				keep = append(keep, l)
			}
		}
		return strings.Join(keep, "\n")
	}
}

// waitSettled lets autostarts triggered by add/update finish, so that the
// next status is not a snapshot of a race.
func waitSettled() ctlStep {
	return ctlDo("wait until no process is STARTING/STOPPING", func(s *site, _ string) (string, error) {
		return "", s.d.RPC.WaitSettled(20 * time.Second)
	})
}

// ctlControlScenario covers status, start, stop, restart, signal and pid.
func ctlControlScenario() []ctlStep {
	return []ctlStep{
		ctl("status"),
		ctl("status", "sleeper"),
		ctl("status", "nosuch"),
		ctl("status", "g:*"),
		ctl("status", "nosuch:*"),
		ctl("status", "sleeper", "manual"),
		ctl("start", "manual"),
		ctl("start", "manual"),
		ctl("start", "g:*").sorted(),
		ctl("start", "nosuch"),
		ctl("start", "nosuch:*"),
		ctl("start", "notexist"),
		ctl("start"),
		ctl("stop", "manual"),
		ctl("stop", "manual"),
		ctl("stop", "g:*").sorted(),
		ctl("stop", "nosuch"),
		ctl("stop", "nosuch:*"),
		ctl("stop"),
		ctl("restart", "sleeper"),
		ctl("restart", "g:*").sorted(),
		ctl("restart"),
		ctl("stop", "all").sorted(),
		ctl("status"),
		ctl("start", "all").sorted(),
		ctl("restart", "all").sorted(),
		ctl("status"),
		ctl("signal", "CONT", "sleeper"),
		ctl("signal", "cont", "g:*").sorted(),
		ctl("signal", "18", "all").sorted(),
		ctl("signal", "FOO", "sleeper"),
		ctl("signal", "CONT", "nosuch"),
		ctl("signal", "CONT"),
		ctl("stop", "manual"),
		ctl("signal", "CONT", "manual"),
		ctl("pid"),
		ctl("pid", "sleeper"),
		ctl("pid", "all"),
		ctl("pid", "nosuch"),
		ctl("pid", "manual"),
	}
}

// ctlLogsConfigScenario covers tail, maintail, clear, avail, reread,
// add, remove, update, version, help, reload and shutdown.
func ctlLogsConfigScenario() []ctlStep {
	return []ctlStep{
		ctl("tail", "talker"),
		ctl("tail", "talker", "stderr"),
		ctl("tail", "talker", "STDERR"),
		ctl("tail", "-3", "talker"),
		ctl("tail", "nosuch"),
		ctl("tail", "talker", "foo"),
		ctl("tail", "-x", "talker"),
		ctl("tail"),
		ctl("tail", "a", "b", "c"),
		ctlDo("tail -f talker (3 lines, then kill the client)", func(s *site, c string) (string, error) {
			return follow(c, s.conf, 3, "tail", "-f", "talker")
		}),
		ctl("maintail", "-100000").with(onlyLinesWith("sleeper")),
		ctl("maintail", "foo"),
		ctl("maintail", "a", "b"),
		ctlDo("maintail -f (header and one line, then kill the client)", func(s *site, c string) (string, error) {
			out, err := follow(c, s.conf, 2, "maintail", "-f")
			// only the header is comparable: the rest is a cut of the log
			first, _, _ := strings.Cut(out, "\n")
			return first, err
		}),
		ctl("clear", "talker"),
		ctl("tail", "talker"),
		ctl("clear", "nosuch"),
		ctl("clear", "all").sorted(),
		ctl("clear"),
		ctl("avail"),
		ctl("reread"),
		ctlDo("edit config", func(s *site, _ string) (string, error) { return "", s.rewrite(reloadAfter) }),
		ctl("reread"),
		ctl("avail"),
		ctl("add", "newprog"),
		waitSettled(),
		ctl("add", "newprog"),
		ctl("add", "nosuch"),
		ctl("remove", "notexist"),
		ctl("remove", "changeme"),
		ctl("remove", "nosuch"),
		ctl("update", "nosuchgroup"),
		ctl("update"),
		waitSettled(),
		ctl("update"),
		ctl("status"),
		ctl("version"), // 4.2.5 from both daemons
		ctl("version", "x"),
		ctl("help"),
		ctl("help", "status"),
		ctl("help", "nosuch"),
		ctl("nosuch"),
		ctl("reload", "x"),
		ctl("reload"),
		ctlDo("wait until the reloaded daemon is ready", func(s *site, _ string) (string, error) {
			if err := s.d.WaitReady(20 * time.Second); err != nil {
				return "", err
			}
			return "", s.d.RPC.WaitSettled(20 * time.Second)
		}),
		ctl("status"),
		ctl("shutdown"),
		ctlDo("wait for the daemon to exit", func(s *site, _ string) (string, error) {
			return "", s.d.WaitExit(20 * time.Second)
		}),
		ctl("shutdown"),
		ctl("status"),
	}
}

// runCtlScenario runs every step with the given supervisorctl against s.
func (s *site) runCtlScenario(ctlBin string, steps []ctlStep) []string {
	m := harness.Masker{Dirs: []string{s.dir}}
	out := make([]string, len(steps))
	for i, st := range steps {
		var text string
		var code int
		var err error
		began := time.Now()
		if st.do != nil {
			text, err = st.do(s, ctlBin)
		} else {
			text, code, err = runCtl(ctlBin, s.conf, st.args...)
		}
		if os.Getenv("GOSUPERVISOR_COMPAT_DUMP") != "" {
			fmt.Fprintf(os.Stderr, "%s step %d %s took %s\n", s.d.Name, i, st, time.Since(began))
		}
		if err != nil {
			out[i] = "ERROR " + err.Error()
			continue
		}
		text = m.Text(text)
		text = reNumberLine.ReplaceAllString(text, "<N>")
		if st.filter != nil {
			text = st.filter(text)
		}
		if st.sort {
			lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
			sort.Strings(lines)
			text = strings.Join(lines, "\n") + "\n"
		}
		out[i] = fmt.Sprintf("%s[exit %d]", text, code)
	}
	return out
}

// TestPythonCtlAgainstOurDaemon runs Debian's supervisorctl through every
// SPEC §7.3 command against the Python daemon and against ours, on the same
// config, and compares output and exit status.
func TestPythonCtlAgainstOurDaemon(t *testing.T) {
	t.Parallel()
	requirePython(t)
	// Two independent halves on their own daemon pairs, to keep the wall
	// time down: every Python supervisorctl run costs an interpreter start.
	for name, steps := range map[string][]ctlStep{"control": ctlControlScenario(), "logs-config": ctlLogsConfigScenario()} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			compareCtlScenario(t, steps)
		})
	}
}

func compareCtlScenario(t *testing.T, steps []ctlStep) {
	py, ours := newSite(t, reloadBefore), newSite(t, reloadBefore)
	py.start(t, "python", harness.PySupervisord)
	ours.start(t, "go", subject())

	var want, got []string
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); want = py.runCtlScenario(harness.PySupervisorctl, steps) }()
	go func() { defer wg.Done(); got = ours.runCtlScenario(harness.PySupervisorctl, steps) }()
	wg.Wait()
	compareCtl(t, steps, want, got)
}

func compareCtl(t *testing.T, steps []ctlStep, want, got []string) {
	t.Helper()
	for i, st := range steps {
		if testing.Verbose() && os.Getenv("GOSUPERVISOR_COMPAT_DUMP") != "" {
			t.Logf("step %d %s:\n%s", i, st, want[i])
		}
		if strings.HasPrefix(want[i], "ERROR ") {
			t.Errorf("step %d %s: the Python oracle itself failed: %s", i, st, want[i])
			continue
		}
		if want[i] != got[i] {
			t.Errorf("step %d %s:\n--- python daemon:\n%s\n--- our daemon:\n%s", i, st, want[i], got[i])
		}
	}
}
