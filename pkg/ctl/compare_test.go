package ctl

import (
	"encoding/json"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/gosupervisor/gosupervisor/internal/testutil"
)

// pair is two identically configured Python daemons: the original
// supervisorctl talks to a, ours to b, so that commands that change state
// can be compared step by step.
type pair struct{ a, b *daemon }

func startPair(t *testing.T, o daemonOpts) pair {
	t.Helper()
	return pair{a: startDaemon(t, o), b: startDaemon(t, o)}
}

type step struct {
	args      string // the command line after the global options
	stdin     string
	sortLines bool // group results come back in completion order
	http      bool // use the inet server instead of the unix socket
	opts      []string
}

// compare runs one step with both supervisorctls and checks stdout and
// exit status byte for byte after masking.
func (p pair) compare(t *testing.T, s step) {
	t.Helper()
	url := func(d *daemon) string {
		if s.http {
			return d.httpURL()
		}
		return d.unixURL()
	}
	argv := func(d *daemon) []string {
		a := append([]string{"-s", url(d)}, s.opts...)
		return append(a, strings.Fields(s.args)...)
	}
	// The two runs talk to different daemons, so they may overlap.
	var py, go_ runResult
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); py = runCtl(t, true, s.stdin, argv(p.a)...) }()
	go_ = runCtl(t, false, s.stdin, argv(p.b)...)
	wg.Wait()
	want, got := normalize(py.stdout, p.a, p.b), normalize(go_.stdout, p.a, p.b)
	if s.sortLines {
		want, got = sortedLines(want), sortedLines(got)
	}
	if want != got || py.code != go_.code {
		t.Errorf("%q:\n--- original (exit %d)\n%s--- ours (exit %d)\n%s--- ours stderr\n%s",
			s.args, py.code, want, go_.code, got, go_.stderr)
	}
}

func sortedLines(s string) string {
	lines := strings.Split(s, "\n")
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

func runSteps(t *testing.T, p pair, steps []step) {
	t.Helper()
	for _, s := range steps {
		p.compare(t, s)
	}
}

// runStepsConcurrently runs steps that change nothing, several at a time.
func runStepsConcurrently(t *testing.T, p pair, steps []step) {
	t.Helper()
	sem := make(chan struct{}, 6)
	var wg sync.WaitGroup
	for _, s := range steps {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			p.compare(t, s)
		}()
	}
	wg.Wait()
}

func TestCompareCommands(t *testing.T) {
	t.Parallel()
	p := startPair(t, daemonOpts{})
	runStepsConcurrently(t, p, []step{
		// SPEC §10 item 1 and status forms.
		{args: "status"},
		{args: "status", http: true},
		{args: "status all"},
		{args: "status sleeper"},
		{args: "status multi:*"},
		{args: "status multi:multi_00 printer"},
		{args: "status nosuch"},
		{args: "status nosuch:*"},
		{args: "status nosuch sleeper"},
		// pid
		{args: "pid"},
		{args: "pid sleeper"},
		{args: "pid quick"},
		{args: "pid nosuch"},
		{args: "pid all"},
		{args: "tail nosuch"},
		{args: "tail nolog"},
		{args: "tail sleeper foo"},
		{args: "tail sleeper STDERR"},
		{args: "tail"},
		{args: "tail -f"},
		{args: "tail a b c d"},
		{args: "tail -x sleeper"},
		{args: "maintail a b"},
		{args: "maintail foo"},
		{args: "maintail -x"},
		{args: "avail"},
		{args: "avail x"},
		{args: "reread"},
		{args: "reread x"},
		{args: "version"},
		{args: "version x"},
		{args: "help"},
		{args: "help start"},
		{args: "help nosuch"},
		{args: "help help"},
		{args: "foo bar"},
		{args: "quit"},
		{args: "EOF"},
		{args: "add nosuch"},
		{args: "add sleeper"},
		{args: "remove nosuch"},
		{args: "remove sleeper"},
		{args: "fg"},
		{args: "fg a b"},
		{args: "fg nosuch"},
		{args: "fg quick"},
		{args: "open foo://x"},
		{args: "shutdown x"},
		{args: "reload x"},
		{args: "version", opts: []string{"-i"}},
		{args: "", stdin: "status sleeper\npid\nfoo\n\nquit\n"},
		{args: "", stdin: "version\n"},
		{args: "", stdin: "help\nstatus nosuch\nstart\n"},
		{args: "stop nosuch"},
		{args: "start nosuch:*"},
		{args: "stop nosuch:*"},
		{args: "signal HUP nosuch:*"},
		{args: "signal"},
		{args: "signal HUP"},
		{args: "restart"},
		{args: "start"},
		{args: "stop"},
		{args: "clear"},
		{args: "clear nosuch"},
		{args: "clear multi:*"},
		{args: "tail -f nosuch"},
	})
	runSteps(t, p, []step{
		// items 6 and 2 (exit codes of start/stop on FATAL and running processes)
		{args: "start sleeper"},
		{args: "start quick"},
		{args: "stop quick"},
		{args: "status quick"},
		{args: "tail -4 printer"},
		{args: "tail printer stderr"},
		{args: "tail -100 printer STDOUT"},
		{args: "start notexist"},
		{args: "signal USR1 quick"},
		{args: "signal FOO sleeper"},
		{args: "stop sleeper"},
		{args: "stop sleeper"},
		{args: "start sleeper"},
		{args: "restart sleeper"},
		{args: "start grp:*", sortLines: true},
		{args: "start grp:*"},
		{args: "signal USR2 grp:*", sortLines: true},
		{args: "stop grp:ga grp:gb"},
		{args: "restart multi:*", sortLines: true},
		{args: "clear printer"},
		{args: "stop all", sortLines: true},
		{args: "status"},
		{args: "start all", sortLines: true},
	})
}

// SPEC §10 items 12, 13, 14: reread/update/avail after editing the config.
func TestCompareReload(t *testing.T) {
	t.Parallel()
	p := startPair(t, daemonOpts{})
	for _, d := range []*daemon{p.a, p.b} {
		data, err := os.ReadFile(d.conf)
		if err != nil {
			t.Fatal(err)
		}
		s := strings.Replace(string(data), "command=/bin/sleep 1000\nstartsecs=0\nstopwaitsecs=2",
			"command=/bin/sleep 1001\nstartsecs=0\nstopwaitsecs=2", 1)
		s = strings.Replace(s, "[program:notexist]\ncommand=/nonexistent/cmd\nautostart=false\n", "", 1)
		s += "[program:newprog]\ncommand=/bin/sleep 1000\nstartsecs=0\n"
		if err := os.WriteFile(d.conf, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// update --dry-run touches nothing: the later real update still has work.
	dry := runCtl(t, false, "", "-s", p.b.unixURL(), "update", "--dry-run")
	wantDry := "notexist: would be removed\nsleeper: would be changed (restart)\nnewprog: would be added\n"
	if dry.stdout != wantDry || dry.code != 0 {
		t.Errorf("update --dry-run: got %q exit %d, want %q", dry.stdout, dry.code, wantDry)
	}
	runSteps(t, p, []step{
		{args: "reread"},
		{args: "avail"},
		{args: "add newprog"},
		{args: "add newprog"},
		{args: "remove newprog"},
		{args: "update sleeper nosuchgroup"},
		{args: "update"},
		{args: "update"},
		{args: "reread"},
		{args: "status"},
		{args: "stop sleeper"},
		{args: "remove sleeper"},
		{args: "add sleeper"},
		{args: "avail"},
	})
}

// SPEC §10 item 37: commands while supervisord shuts down.
func TestCompareShuttingDown(t *testing.T) {
	t.Parallel()
	p := startPair(t, daemonOpts{})
	runSteps(t, p, []step{
		{args: "start stubborn"},
		{args: "shutdown"},
		{args: "status"},
		{args: "shutdown"},
		{args: "reread"},
		{args: "avail"},
		{args: "update"},
		{args: "add x"},
		{args: "reload"},
		{args: "tail sleeper"},
		{args: "pid"},
	})
}

// SPEC §10 item 46: no [rpcinterface:supervisor].
func TestCompareNoRPCInterface(t *testing.T) {
	t.Parallel()
	p := startPair(t, daemonOpts{noRPC: true})
	runSteps(t, p, []step{{args: "status"}, {args: "start x"}, {args: "version"}, {args: "avail"}})
}

// SPEC §7.2: 401 handling.
func TestCompareAuth(t *testing.T) {
	t.Parallel()
	p := startPair(t, daemonOpts{auth: true})
	runSteps(t, p, []step{
		{args: "status", http: true},
		{args: "pid", http: true, opts: []string{"-u", "user", "-p", "wrong"}},
		{args: "avail", http: true},
		{args: "status sleeper", http: true, opts: []string{"-u", "user", "-p", "secret"}},
		{args: "status sleeper", opts: []string{"-u", "user", "-p", "secret"}},
	})
}

// Server checks without a server and option errors; no daemon needed
// beyond the oracle binary.
func TestCompareNoServer(t *testing.T) {
	t.Parallel()
	needPython(t)
	dir := t.TempDir()
	closed := testutil.FreePort(t)
	cases := [][]string{
		{"-s", "unix://" + dir + "/nosock", "status"},
		{"-s", "unix://" + dir + "/nosock", "start x"},
		{"-s", "unix://" + dir + "/nosock", "avail"},
		{"-s", "unix://" + dir + "/nosock", "shutdown"},
		{"-s", "http://127.0.0.1:" + itoa(closed), "status"},
		{"-s", "http://127.0.0.1:" + itoa(closed), "version"},
		{"-s", "http://127.0.0.1:" + itoa(closed), "reread"},
		{"-s", "http://127.0.0.1:" + itoa(closed), "shutdown"},
		{"-s", "foo"},
		{"-s", "localhost:9001", "status"},
		{"-x"},
		{"--nosuch"},
		{"-s"},
		{"--serverurl"},
		{"--interactive=1"},
		{"--h"},
		{"-s", "http://a", "-s", "http://b", "status"},
		{"-i", "-i", "status"},
		{"-c", dir + "/missing.conf", "status"},
		{"-s", "foo", "-h"},
	}
	for _, args := range cases {
		var argv []string
		for _, a := range args {
			argv = append(argv, strings.Fields(a)...)
		}
		py := runCtl(t, true, "", argv...)
		ours := runCtl(t, false, "", argv...)
		if py.stdout != ours.stdout || py.stderr != ours.stderr || py.code != ours.code {
			t.Errorf("%v:\n--- original (exit %d)\n%s%s--- ours (exit %d)\n%s%s", argv,
				py.code, py.stdout, py.stderr, ours.code, ours.stdout, ours.stderr)
		}
	}
	// -h and the help texts: TestCompareUsage, TestCompareHelpTexts.
}

func itoa(n int) string { return strconv.Itoa(n) }

// status --json: same selection and exit codes as status, one object per
// process with the §5.4 fields.
func TestStatusJSON(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, daemonOpts{})
	tests := []struct {
		args  []string
		names []string
		code  int
	}{
		{[]string{"status", "--json"}, []string{"ga", "gb", "multi_00", "multi_01", "nolog", "notexist", "printer", "quick", "sleeper", "stubborn"}, 3},
		{[]string{"status", "--json", "sleeper"}, []string{"sleeper"}, 0},
		{[]string{"status", "--json", "multi:*"}, []string{"multi_00", "multi_01"}, 0},
		{[]string{"status", "--json", "nosuch"}, []string{}, 4},
	}
	for _, tc := range tests {
		r := runCtl(t, false, "", append([]string{"-s", d.unixURL()}, tc.args...)...)
		var infos []map[string]any
		if err := json.Unmarshal([]byte(r.stdout), &infos); err != nil {
			t.Fatalf("%v: not JSON: %v\n%s", tc.args, err, r.stdout)
		}
		var names []string
		for _, info := range infos {
			for _, k := range []string{"name", "group", "start", "stop", "now", "state", "statename",
				"spawnerr", "exitstatus", "logfile", "stdout_logfile", "stderr_logfile", "pid", "description"} {
				if _, ok := info[k]; !ok {
					t.Errorf("%v: %v lacks %q", tc.args, info["name"], k)
				}
			}
			// The Python original has no gosupervisor.* methods: our
			// members are left out, not null.
			for _, k := range []string{"health", "depends_on", "waiting_for"} {
				if _, ok := info[k]; ok {
					t.Errorf("%v: %v has %q from the original", tc.args, info["name"], k)
				}
			}
			names = append(names, info["name"].(string))
			if info["name"] == "sleeper" && (info["statename"] != "RUNNING" || info["pid"].(float64) <= 0) {
				t.Errorf("sleeper: %v", info)
			}
		}
		sort.Strings(names)
		if strings.Join(names, ",") != strings.Join(tc.names, ",") || r.code != tc.code {
			t.Errorf("%v: names %v exit %d, want %v exit %d", tc.args, names, r.code, tc.names, tc.code)
		}
	}
}
