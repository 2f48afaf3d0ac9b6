// Package deploy replays the deployment write-up (seed 002) end to end: a
// micro service under supervisord, rebuilt in place, config edited, then
// `supervisorctl -c ../../supervisord.conf update` and `restart monitor`,
// with our daemon and client and with Debian's Python ones as the reference.
package deploy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gosupervisor/gosupervisor/tests/compat/harness"
)

// bins is set once by TestMain, then only read.
var bins harness.Binaries

func TestMain(m *testing.M) {
	os.Exit(harness.RunWithBinaries(m, "deploy-bin-", &bins))
}

const monitorPkg = harness.Module + "/examples/monitor/micro/monitor"

// Sections added to the example for the deploy: worker changes its
// environment, indexer its command line, legacy disappears, reporter appears.
const (
	extraBefore = `
[program:indexer]
command=/bin/sleep 1003

[program:legacy]
command=/bin/sleep 1001

[program:worker]
command=/bin/sleep 1000
environment=RUN_MODE=%(ENV_RUN_MODE)s
`
	extraAfter = `
[program:indexer]
command=/bin/sleep 1004 1

[program:reporter]
command=/bin/sleep 1002

[program:worker]
command=/bin/sleep 1000
environment=RUN_MODE=%(ENV_RUN_MODE)s,WORKER_SHARDS="2"
`
	wantDryRun = "legacy: would be removed\nindexer: would be changed (restart)\nworker: would be changed (restart)\nreporter: would be added\n"
)

// deployment is one copy of examples/monitor in a temp dir.
type deployment struct {
	dir, conf, sock, progDir string
	health                   string // http://127.0.0.1:<port>/health
	example                  string // the example config, ports rewritten
}

func newDeployment(t *testing.T) *deployment {
	t.Helper()
	src, err := os.ReadFile("../../examples/monitor/supervisord.conf")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	d := &deployment{dir: dir, conf: filepath.Join(dir, "supervisord.conf"), sock: filepath.Join(dir, "supervisor.sock"),
		progDir: filepath.Join(dir, "micro", "monitor")}
	if err := os.MkdirAll(filepath.Join(d.progDir, "logs"), 0o755); err != nil {
		t.Fatal(err)
	}
	text := string(src)
	inet, mon := harness.FreePort(t), harness.FreePort(t)
	d.health = fmt.Sprintf("http://127.0.0.1:%d/health", mon)
	text = mustReplace(t, text, "port=127.0.0.1:9001", fmt.Sprintf("port=127.0.0.1:%d", inet))
	text = mustReplace(t, text, "environment=RUN_MODE=%(ENV_RUN_MODE)s\n",
		fmt.Sprintf("environment=RUN_MODE=%%(ENV_RUN_MODE)s,MONITOR_ADDR=\"127.0.0.1:%d\"\n", mon))
	d.example = text
	d.writeConfig(t, extraBefore)
	d.buildMonitor(t, "v1")
	return d
}

func mustReplace(t *testing.T, s, old, new string) string {
	t.Helper()
	if !strings.Contains(s, old) {
		t.Fatalf("examples/monitor/supervisord.conf no longer contains %q", old)
	}
	return strings.Replace(s, old, new, 1)
}

func (d *deployment) writeConfig(t *testing.T, extra string) {
	t.Helper()
	if err := os.WriteFile(d.conf, []byte(d.example+extra), 0o644); err != nil {
		t.Fatal(err)
	}
}

// buildMonitor is the write-up's `go build` in the program's directory,
// replacing the binary of the running service.
func (d *deployment) buildMonitor(t *testing.T, version string) {
	t.Helper()
	if err := harness.GoBuild(filepath.Join(d.progDir, "monitor"), monitorPkg, "-X main.version="+version); err != nil {
		t.Fatal(err)
	}
}

// ctl runs a client like the write-up's CI job: from the program directory
// with -c ../../supervisord.conf.
func (d *deployment) ctl(t *testing.T, bin string, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append([]string{"-c", "../../supervisord.conf"}, args...)...)
	cmd.Dir = d.progDir
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return string(out), ee.ExitCode()
	case err != nil:
		t.Fatalf("%s %v: %v\n%s", bin, args, err, out)
	}
	return string(out), 0
}

// waitHealth polls /health until it reports version.
func (d *deployment) waitHealth(t *testing.T, version string) string {
	t.Helper()
	var body string
	client := &http.Client{Timeout: 2 * time.Second}
	err := harness.Poll(15*time.Second, func() bool {
		resp, err := client.Get(d.health)
		if err != nil {
			body = err.Error()
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		body = string(b)
		return strings.Contains(body, "version="+version+" ")
	})
	if err != nil {
		t.Fatalf("%s never said version=%s: %v (last: %q)", d.health, version, err, body)
	}
	if !strings.Contains(body, "mode=deploytest ") {
		t.Errorf("/health %q: RUN_MODE from %%(ENV_RUN_MODE)s did not reach the service", body)
	}
	return body
}

// pids returns name -> pid for every process the daemon manages.
func pids(t *testing.T, dm *harness.Daemon) map[string]int64 {
	t.Helper()
	v, err := dm.RPC.Value("supervisor.getAllProcessInfo")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for _, i := range v.([]any) {
		m := i.(map[string]any)
		out[m["name"].(string)], _ = m["pid"].(int64)
	}
	return out
}

var (
	reStatusLine = regexp.MustCompile(`^(\S+)\s+(\S+)`)
	reUptime     = regexp.MustCompile(`pid \d+, uptime \d+:\d\d:\d\d`)
)

// checkAllRunning asserts `status` lists exactly names, all RUNNING, exit 0.
func checkAllRunning(t *testing.T, out string, code int, names ...string) {
	t.Helper()
	var got []string
	for _, l := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		m := reStatusLine.FindStringSubmatch(l)
		if m == nil || m[2] != "RUNNING" {
			t.Errorf("status line not RUNNING: %q", l)
			continue
		}
		got = append(got, m[1])
	}
	if strings.Join(got, " ") != strings.Join(names, " ") || code != 0 {
		t.Errorf("status: programs %v exit %d, want %v exit 0\n%s", got, code, names, out)
	}
}

// flow is the write-up's deployment with one daemon and one client; it
// returns the client's transcript (masked) for comparison across pairs.
func flow(t *testing.T, daemonBin, ctlBin string, dryRun bool) []string {
	d := newDeployment(t)
	dm := harness.StartDaemon(t, filepath.Base(daemonBin), daemonBin, d.conf, d.sock, []string{"RUN_MODE=deploytest"})
	if _, err := dm.RPC.WaitState("monitor", "RUNNING", 15*time.Second, nil); err != nil {
		t.Fatal(err)
	}
	if err := dm.RPC.WaitSettled(15 * time.Second); err != nil {
		t.Fatal(err)
	}
	d.waitHealth(t, "v1")
	m := harness.Masker{Dirs: []string{d.dir}}
	var transcript []string
	record := func(what, out string, code int) {
		transcript = append(transcript, fmt.Sprintf("$ %s\n%s[exit %d]", what, reUptime.ReplaceAllString(m.Text(out), "pid <PID>, uptime <UP>"), code))
	}
	out, code := d.ctl(t, ctlBin, "status")
	checkAllRunning(t, out, code, "indexer", "legacy", "monitor", "worker")
	record("status", out, code)

	// The deploy: new binary in place, new config.
	d.buildMonitor(t, "v2")
	d.writeConfig(t, extraAfter)
	before := pids(t, dm)

	if dryRun {
		out, code = d.ctl(t, ctlBin, "update", "--dry-run")
		if out != wantDryRun || code != 0 {
			t.Errorf("update --dry-run: got %q exit %d, want %q exit 0", out, code, wantDryRun)
		}
		if after := pids(t, dm); fmt.Sprint(after) != fmt.Sprint(before) {
			t.Errorf("update --dry-run changed processes: before %v, after %v", before, after)
		}
		d.waitHealth(t, "v1") // the old binary still serves
	}

	out, code = d.ctl(t, ctlBin, "update")
	record("update", out, code)
	if err := dm.RPC.WaitSettled(15 * time.Second); err != nil {
		t.Fatal(err)
	}
	after := pids(t, dm)
	if _, ok := after["legacy"]; ok {
		t.Errorf("update left the removed program legacy: %v", after)
	}
	if after["reporter"] == 0 {
		t.Errorf("update did not start the added program reporter: %v", after)
	}
	for _, name := range []string{"worker", "indexer"} {
		if after[name] == 0 || after[name] == before[name] {
			t.Errorf("update did not restart the changed program %s: pid %d -> %d", name, before[name], after[name])
		}
	}
	if after["monitor"] != before["monitor"] {
		t.Errorf("update restarted the unchanged monitor: pid %d -> %d", before["monitor"], after["monitor"])
	}
	d.waitHealth(t, "v1") // not restarted yet

	out, code = d.ctl(t, ctlBin, "restart", "monitor")
	record("restart monitor", out, code)
	d.waitHealth(t, "v2")

	out, code = d.ctl(t, ctlBin, "status")
	checkAllRunning(t, out, code, "indexer", "monitor", "reporter", "worker")
	record("status", out, code)

	out, code = d.ctl(t, ctlBin, "update")
	record("update (nothing to do)", out, code)
	return transcript
}

// TestDeployFlow runs the flow for each daemon/client pair concurrently and
// compares every client transcript with the Python-only reference.
func TestDeployFlow(t *testing.T) {
	type pair struct {
		name, daemon, ctl string
		dryRun            bool
	}
	pairs := []pair{
		{"go-daemon+go-ctl", bins.Supervisord, bins.Supervisorctl, true},
	}
	python := !harness.NoPython()
	if python {
		if err := harness.CheckPython(); err != nil {
			t.Fatal(err)
		}
		pairs = append(pairs,
			pair{"python-daemon+python-ctl", harness.PySupervisord, harness.PySupervisorctl, false},
			pair{"go-daemon+python-ctl", bins.Supervisord, harness.PySupervisorctl, false},
			pair{"python-daemon+go-ctl", harness.PySupervisord, bins.Supervisorctl, true},
		)
	}
	var mu sync.Mutex
	transcripts := map[string][]string{}
	t.Run("pairs", func(t *testing.T) {
		for _, p := range pairs {
			t.Run(p.name, func(t *testing.T) {
				t.Parallel()
				tr := flow(t, p.daemon, p.ctl, p.dryRun)
				mu.Lock()
				transcripts[p.name] = tr
				mu.Unlock()
			})
		}
	})
	if !python {
		return
	}
	ref, ok := transcripts["python-daemon+python-ctl"]
	if !ok {
		t.Fatal("the Python reference flow did not complete")
	}
	for name, tr := range transcripts {
		if name == "python-daemon+python-ctl" {
			continue
		}
		if len(tr) != len(ref) {
			t.Errorf("%s: transcript has %d commands, reference %d", name, len(tr), len(ref))
			continue
		}
		for i := range ref {
			if tr[i] != ref[i] {
				t.Errorf("%s differs from python-daemon+python-ctl:\n--- python:\n%s\n--- %s:\n%s", name, ref[i], name, tr[i])
			}
		}
	}
}
