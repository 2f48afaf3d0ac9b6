package fleet_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/gosupervisor/gosupervisor/internal/testutil"
	"github.com/gosupervisor/gosupervisor/tests/compat/harness"
)

// ctl runs our supervisorctl and returns its output and exit status.
func ctl(t *testing.T, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(bins.Supervisorctl, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("supervisorctl %v: %v", args, err)
	}
	return out.String(), testutil.ExitStatus(err)
}

// nodeCtl runs the node's own supervisorctl (the original's for the
// Python node) with args.
func nodeCtl(n *node, args ...string) (string, int) {
	bin := bins.Supervisorctl
	if n.daemon.Name == "python" {
		bin = harness.PySupervisorctl
	}
	pre := []string{"-s", n.url}
	if n.user != "" {
		pre = append(pre, "-u", n.user, "-p", n.pass)
	}
	out, err := exec.Command(bin, append(pre, args...)...).Output()
	return string(out), testutil.ExitStatus(err)
}

// nodeStatus is the node's own `status`.
func nodeStatus(t *testing.T, n *node) []string {
	t.Helper()
	out, code := nodeCtl(n, "status")
	if code != 3 {
		t.Fatalf("%s status: exit %d\n%s", n.name, code, out)
	}
	return lines(out)
}

func lines(s string) []string { return strings.Split(strings.TrimRight(s, "\n"), "\n") }

var (
	blanks = regexp.MustCompile(` {2,}`)
	uptime = regexp.MustCompile(`uptime \d+:\d\d:\d\d`)
)

// norm makes columns and uptimes comparable.
func norm(l string) string {
	return uptime.ReplaceAllString(blanks.ReplaceAllString(strings.TrimSpace(l), " "), "uptime X")
}

// TestFleetCtlOnRealDaemons: fleet status line by line against each
// node's own status; actions on each node kind; a stopped node.
func TestFleetCtlOnRealDaemons(t *testing.T) {
	nodes, conf := startFleet(t)

	out, code := ctl(t, "-c", conf, "fleet", "status")
	if code != 3 { // idle is STOPPED everywhere
		t.Fatalf("fleet status: exit %d\n%s", code, out)
	}
	got := lines(out)
	var want []string
	for _, n := range nodes {
		for _, l := range nodeStatus(t, n) {
			want = append(want, n.name+":"+l)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("fleet status:\n%s\nwant the lines of:\n%s", out, strings.Join(want, "\n"))
	}
	width := strings.Index(got[0], "RUNNING")
	for i := range got {
		if norm(got[i]) != norm(want[i]) {
			t.Errorf("line %d: %q, node's own: %q", i, got[i], want[i])
		}
		if len(got[i]) < width || !strings.HasPrefix(got[i][width:], "RUNNING") && !strings.HasPrefix(got[i][width:], "STOPPED") {
			t.Errorf("line %d: state not in the column at %d: %q", i, width, got[i])
		}
	}
	if width != 33 || !sort.StringsAreSorted(got) {
		t.Errorf("columns or order:\n%s", out)
	}

	// Selections and bad names, as the original's status.
	out, code = ctl(t, "-c", conf, "fleet", "status", "gamma:work:*", "alpha:app", "beta")
	if code != 3 || len(lines(out)) != 2+1+4 || !strings.HasPrefix(out, "alpha:app ") {
		t.Fatalf("selected status: exit %d\n%s", code, out)
	}
	out, code = ctl(t, "-c", conf, "fleet", "status", "alpha:nope", "gamma:app")
	if code != 4 || !strings.Contains(out, "alpha:nope: ERROR (no such process)\n") {
		t.Fatalf("bad name: exit %d\n%s", code, out)
	}

	// Actions on each kind of node, the original's lines prefixed.
	out, code = ctl(t, "-c", conf, "fleet", "start", "alpha:idle", "beta:idle", "gamma:idle")
	if code != 0 || out != "alpha:idle: started\nbeta:idle: started\ngamma:idle: started\n" {
		t.Fatalf("fleet start: exit %d\n%q", code, out)
	}
	out, code = ctl(t, "-c", conf, "fleet", "status")
	if code != 0 || strings.Contains(out, "STOPPED") {
		t.Fatalf("after start: exit %d\n%s", code, out)
	}
	out, code = ctl(t, "-c", conf, "fleet", "restart", "gamma:work:*", "beta:app")
	// The original lists a group's results as its processes finish
	// stopping (or starting), so within each half the order is theirs.
	restarted := lines(out)
	if len(restarted) == 6 {
		slices.Sort(restarted[2:4])
		slices.Sort(restarted[4:6])
	}
	wantRestart := []string{"beta:app: stopped", "beta:app: started",
		"gamma:work:work_0: stopped", "gamma:work:work_1: stopped", "gamma:work:work_0: started", "gamma:work:work_1: started"}
	if code != 0 || !slices.Equal(restarted, wantRestart) {
		t.Fatalf("fleet restart: exit %d\n%s", code, out)
	}
	out, code = ctl(t, "-c", conf, "fleet", "stop", "alpha:all")
	if code != 0 || len(lines(out)) != 4 || !strings.Contains(out, "alpha:idle: stopped\n") {
		t.Fatalf("fleet stop all: exit %d\n%s", code, out)
	}
	out, code = ctl(t, "-c", conf, "fleet", "start", "gamma:idle")
	if code != 0 || out != "gamma:idle: ERROR (already started)\n" { // the original ignores it
		t.Fatalf("start again: exit %d\n%s", code, out)
	}
	// tail as the node's own tail, byte for byte; at is the name's index.
	tails := []struct {
		args []string
		at   int
	}{{[]string{"app"}, 0}, {[]string{"-5", "app", "stdout"}, 1}, {[]string{"app", "stderr"}, 0}, {[]string{"nope"}, 0}}
	for _, n := range nodes {
		for _, tc := range tails {
			own, ownCode := nodeCtl(n, append([]string{"tail"}, tc.args...)...)
			fargs := append([]string(nil), tc.args...)
			fargs[tc.at] = n.name + ":" + fargs[tc.at]
			out, code = ctl(t, append([]string{"-c", conf, "fleet", "tail"}, fargs...)...)
			if code != ownCode || out != own {
				t.Fatalf("fleet tail %v: exit %d %q; the node's own: exit %d %q", fargs, code, out, ownCode, own)
			}
		}
	}

	// Wrong credentials: the node's one line says so, exit 69.
	bad := filepath.Join(t.TempDir(), "bad.conf")
	if err := os.WriteFile(bad, []byte(strings.Replace(nodes[0].remote(), "s3cret", "wrong", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, code = ctl(t, "-c", bad, "fleet", "status")
	if code != 69 || out != "alpha: AUTH FAILED (HTTP 401 Unauthorized)\n" {
		t.Fatalf("wrong password: exit %d\n%s", code, out)
	}

	// A stopped node: one line naming it, the others listed, exit 69.
	nodes[1].daemon.Stop(t)
	out, code = ctl(t, "-c", conf, "fleet", "status")
	if code != 69 || !regexp.MustCompile(`(?m)^beta: UNREACHABLE \(.+\)$`).MatchString(out) ||
		!strings.Contains(out, "alpha:app ") || !strings.Contains(out, "gamma:app ") {
		t.Fatalf("a node down: exit %d\n%s", code, out)
	}
	out, code = ctl(t, "-c", conf, "fleet", "start", "beta:idle", "gamma:app")
	if code != 69 || !strings.HasPrefix(out, "beta: UNREACHABLE (") || !strings.HasSuffix(out, "gamma:app: ERROR (already started)\n") {
		t.Fatalf("action with a node down: exit %d\n%s", code, out)
	}
}

// A config without [remote:NAME] sections: an error naming the file.
func TestFleetWithoutRemotes(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "plain.conf")
	if err := os.WriteFile(conf, []byte("[supervisorctl]\nserverurl=unix:///nonexistent.sock\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, code := ctl(t, "-c", conf, "fleet", "status")
	if code != 2 || out != "Error: no [remote:NAME] sections in "+conf+"\n" {
		t.Fatalf("exit %d\n%s", code, out)
	}
}
