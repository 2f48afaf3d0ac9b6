package metrics_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gosupervisor/gosupervisor/internal/testutil"
	"github.com/gosupervisor/gosupervisor/tests/compat/harness"
)

// daemon is one running supervisord of ours with an authenticated inet
// server whose /metrics is public (metrics_public = true).
type daemon struct {
	*harness.Daemon
	dir  string
	port int
}

// conf holds a process in every state that stays put, a numprocs group
// (group ≠ name), a health-checked program, a crash-looping one and the
// victim that the Prometheus test kills. %[1]s is the temp dir, %[2]d the
// inet port.
const conf = `[supervisord]
logfile=%[1]s/supervisord.log
pidfile=%[1]s/supervisord.pid
childlogdir=%[1]s

[unix_http_server]
file=%[1]s/s.sock

[inet_http_server]
port=127.0.0.1:%[2]d
username=user
password=123
metrics_public=true

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[program:app]
command=/bin/sh -c 'echo app-out; exec sleep 1000'
startsecs=0

[program:starting]
command=/bin/sleep 1000
startsecs=3600

[program:stopped]
command=/bin/sleep 1000
autostart=false

[program:exited]
command=/bin/sh -c 'exit 3'
startsecs=0
autorestart=false

[program:fatal]
command=/bin/false
startretries=0

[program:backoff]
command=/bin/false
startretries=unlimited
backoff=exponential
backoff_max=4

[program:worker]
command=/bin/sleep 1000
process_name=%%(program_name)s_%%(process_num)d
numprocs=2
startsecs=0

[program:checked]
command=/bin/sleep 1000
startsecs=0
healthcheck=exec:/bin/true
healthcheck_interval=1

; Ignores SIGTERM: STOPPING for stopwaitsecs once asked to stop (startsecs
; gives the shell time to set the trap before RUNNING).
[program:stubborn]
command=/bin/sh -c 'trap "" TERM; exec sleep 1000'
startsecs=1
stopwaitsecs=5
autostart=false

; Crashes (exit 1 at once) while %[1]s/crashes holds a count above 0.
[program:victim]
command=/bin/sh -c 'n=$(cat %[1]s/crashes 2>/dev/null || echo 0); if [ "$n" -gt 0 ]; then echo $((n-1)) > %[1]s/crashes; exit 1; fi; exec sleep 1000'
startsecs=1
`

func startDaemon(t *testing.T) *daemon {
	t.Helper()
	dir := t.TempDir()
	port := testutil.FreePort(t)
	path := filepath.Join(dir, "supervisord.conf")
	if err := os.WriteFile(path, []byte(fmt.Sprintf(conf, dir, port)), 0o644); err != nil {
		t.Fatal(err)
	}
	d := &daemon{Daemon: harness.StartDaemon(t, "go", bins.Supervisord, path, filepath.Join(dir, "s.sock"), nil), dir: dir, port: port}
	for name, state := range map[string]string{
		"app": "RUNNING", "starting": "STARTING", "stopped": "STOPPED", "exited": "EXITED",
		"fatal": "FATAL", "backoff": "BACKOFF", "worker:worker_0": "RUNNING", "worker:worker_1": "RUNNING",
		"checked": "RUNNING", "victim": "RUNNING",
	} {
		if _, err := d.RPC.WaitState(name, state, 15*time.Second, nil); err != nil {
			t.Fatalf("%s never %s: %v\n%s", name, state, err, d.Output())
		}
	}
	return d
}

func (d *daemon) metricsURL() string { return fmt.Sprintf("http://127.0.0.1:%d/metrics", d.port) }

// get returns url's body, failing t unless the status is 200.
func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %v\n%.2000s", url, resp.StatusCode, err, body)
	}
	return string(body)
}

// nodeFamilies is the node_supervisord_* part of an exposition: HELP,
// TYPE and sample lines, in their order.
func nodeFamilies(text string) string {
	var b strings.Builder
	for line := range strings.SplitSeq(text, "\n") {
		if strings.HasPrefix(line, "node_supervisord_") || strings.HasPrefix(line, "# HELP node_supervisord_") ||
			strings.HasPrefix(line, "# TYPE node_supervisord_") {
			b.WriteString(line + "\n")
		}
	}
	return b.String()
}

// start runs a long-lived tool for the test, stopped (by its pid) at
// cleanup; its output goes to a file in dir, shown on failure.
func start(t *testing.T, dir, name string, args ...string) *exec.Cmd {
	t.Helper()
	logPath := filepath.Join(dir, filepath.Base(name)+".log")
	out, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); out.Close(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			data, _ := os.ReadFile(logPath)
			t.Logf("--- %s output:\n%.4000s", name, data)
		}
	})
	return cmd
}

// waitHTTP polls url until it answers 200.
func waitHTTP(t *testing.T, url string, timeout time.Duration) {
	t.Helper()
	err := harness.Poll(timeout, func() bool {
		resp, err := http.Get(url)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	if err != nil {
		t.Fatalf("%s never answered 200: %v", url, err)
	}
}

// TestNodeExporterIdentical compares the four node_supervisord_* families
// with node_exporter 1.5.0's supervisord collector scraping the same
// daemon over XML-RPC (with the inet server's credentials), in every
// state: RUNNING, STARTING, STOPPED, EXITED, FATAL, BACKOFF (the
// crash-looping program) and STOPPING.
func TestNodeExporterIdentical(t *testing.T) {
	t.Parallel()
	ne := need(t, nodeExporterBin)
	d := startDaemon(t)
	nePort := testutil.FreePort(t)
	start(t, d.dir, ne, "--collector.disable-defaults", "--collector.supervisord",
		fmt.Sprintf("--collector.supervisord.url=http://user:123@127.0.0.1:%d/RPC2", d.port),
		fmt.Sprintf("--web.listen-address=127.0.0.1:%d", nePort))
	neURL := fmt.Sprintf("http://127.0.0.1:%d/metrics", nePort)
	waitHTTP(t, neURL, 10*time.Second)

	want := []string{
		`node_supervisord_state{group="app",name="app"} 20`,
		`node_supervisord_up{group="app",name="app"} 1`,
		`node_supervisord_state{group="starting",name="starting"} 10`,
		`node_supervisord_up{group="starting",name="starting"} 1`,
		`node_supervisord_state{group="stopped",name="stopped"} 0`,
		`node_supervisord_up{group="stopped",name="stopped"} 0`,
		`node_supervisord_state{group="exited",name="exited"} 100`,
		`node_supervisord_exit_status{group="exited",name="exited"} 3`,
		`node_supervisord_state{group="fatal",name="fatal"} 200`,
		`node_supervisord_up{group="fatal",name="fatal"} 0`,
		`node_supervisord_state{group="backoff",name="backoff"} 30`,
		`node_supervisord_up{group="backoff",name="backoff"} 0`,
		`node_supervisord_up{group="worker",name="worker_1"} 1`,
	}
	last, matched := sampleNode(t, d, neURL, want)
	// STOPPED, EXITED, FATAL and BACKOFF have no start time; up ones do.
	for _, name := range []string{"stopped", "exited", "fatal", "backoff"} {
		if strings.Contains(last, `node_supervisord_start_time_seconds{group="`+name+`"`) {
			t.Errorf("%s has a start time series", name)
		}
	}
	for _, name := range []string{"app", "starting", "checked"} {
		if !strings.Contains(last, `node_supervisord_start_time_seconds{group="`+name+`",name="`+name+`"} `) {
			t.Errorf("%s has no start time series", name)
		}
	}
	t.Logf("%d identical samples; node_supervisord_* of ours and node_exporter's:\n%s", matched, last)

	// STOPPING is up too (node_exporter's isRunning): a process that
	// ignores SIGTERM, compared while it stops.
	if _, err := d.RPC.Value("supervisor.startProcess", "stubborn"); err != nil {
		t.Fatal(err)
	}
	if _, err := d.RPC.Value("supervisor.stopProcess", "stubborn", false); err != nil {
		t.Fatal(err)
	}
	last, _ = sampleNode(t, d, neURL, []string{
		`node_supervisord_state{group="stubborn",name="stubborn"} 40`,
		`node_supervisord_up{group="stubborn",name="stubborn"} 1`,
	})
	if !strings.Contains(last, `node_supervisord_start_time_seconds{group="stubborn",name="stubborn"} `) {
		t.Error("STOPPING process has no start time series")
	}
}

// sampleNode compares ours and node_exporter's node_supervisord_*
// families until a sample has every line of want; it returns that sample
// and how many identical samples it took. A sample counts when two scrapes
// of ours around node_exporter's agree (no state changed meanwhile); any
// such sample that differs from node_exporter's fails t.
func sampleNode(t *testing.T, d *daemon, neURL string, want []string) (string, int) {
	t.Helper()
	var last string
	matched := 0
	err := harness.Poll(20*time.Second, func() bool {
		a := nodeFamilies(get(t, d.metricsURL()))
		n := nodeFamilies(get(t, neURL))
		b := nodeFamilies(get(t, d.metricsURL()))
		if a != b {
			return false // a state changed during the sample
		}
		if last = a; a != n {
			t.Fatalf("node_supervisord_* differ from node_exporter's:\n%s\n--- ours:\n%s\n--- node_exporter:\n%s", harness.FirstDiff(a, n), a, n)
		}
		matched++
		for _, line := range want {
			if !strings.Contains(last, line+"\n") {
				return false
			}
		}
		return true
	})
	if err != nil {
		t.Fatalf("no stable sample with every expected series (%d identical samples): %v\n--- ours:\n%s", matched, err, last)
	}
	return last, matched
}

// TestPromtool lints our /metrics with `promtool check metrics`: the only
// finding allowed is node_exporter's own start time counter without
// _total, which node_exporter's output has too (names are kept for its
// dashboards). The example rules pass `promtool check rules`.
func TestPromtool(t *testing.T) {
	t.Parallel()
	pt := need(t, promtoolBin)
	d := startDaemon(t)
	var text string
	if err := harness.Poll(10*time.Second, func() bool {
		text = get(t, d.metricsURL())
		return strings.Contains(text, "\n"+`supervisord_process_health{group="checked",name="checked"} 1`+"\n")
	}); err != nil {
		t.Fatalf("checked never healthy in /metrics: %v\n%s", err, text)
	}
	const inherited = `node_supervisord_start_time_seconds counter metrics should have "_total" suffix`
	cmd := exec.Command(pt, "check", "metrics")
	cmd.Stdin = strings.NewReader(text)
	out, _ := cmd.CombinedOutput()
	for line := range strings.SplitSeq(strings.TrimSpace(string(out)), "\n") {
		if line = strings.TrimSpace(line); line != "" && line != inherited {
			t.Errorf("promtool check metrics: %s", line)
		}
	}
	if !strings.Contains(string(out), inherited) {
		t.Logf("promtool no longer reports %q", inherited)
	}
	// Every family has HELP and TYPE, and the output parses as a whole.
	for _, fam := range []string{"supervisord_process_restarts_total", "supervisord_process_cpu_seconds_total",
		"supervisord_process_resident_memory_bytes", "supervisord_process_open_fds", "supervisord_process_health",
		"supervisord_log_bytes_total", "supervisord_events_total", "supervisord_rpc_requests_total",
		"supervisord_up", "supervisord_state", "supervisord_info", "go_goroutines", "process_resident_memory_bytes"} {
		if !strings.Contains(text, "# TYPE "+fam+" ") {
			t.Errorf("no family %s", fam)
		}
	}
	for _, line := range []string{
		`supervisord_log_bytes_total{group="app",name="app",stream="stdout"} 8`,
		`supervisord_process_restarts_total{group="stopped",name="stopped"} 0`,
	} {
		if !strings.Contains(text, "\n"+line+"\n") {
			t.Errorf("missing %s", line)
		}
	}
	// The resource series of a running child are its /proc figures.
	v, err := d.RPC.ProcessInfo("app")
	if err != nil {
		t.Fatal(err)
	}
	pid := v["pid"].(int64)
	fds, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if want := fmt.Sprintf(`supervisord_process_open_fds{group="app",name="app"} %d`, len(fds)); !strings.Contains(text, want+"\n") {
		t.Errorf("missing %s", want)
	}
	if !regexp.MustCompile(`\nsupervisord_process_resident_memory_bytes\{group="app",name="app"\} [0-9.e+]+\n`).MatchString(text) {
		t.Error("no RSS for app")
	}

	// Authentication: the rest of the server still wants credentials.
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/", d.port))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("GET / without credentials: %d, want 401", resp.StatusCode)
	}

	out, err = exec.Command(pt, "check", "rules", alertsPath(t)).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "SUCCESS: 5 rules found") {
		t.Errorf("promtool check rules: %v\n%s", err, out)
	}
	for _, cfg := range []string{"prometheus.yml", "fleet.yml"} {
		out, err = exec.Command(pt, "check", "config", filepath.Join(exampleDir(t), cfg)).CombinedOutput()
		if err != nil {
			t.Errorf("promtool check config %s: %v\n%s", cfg, err, out)
		}
	}
}

func exampleDir(t *testing.T) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "examples", "observability")
}

func alertsPath(t *testing.T) string { return filepath.Join(exampleDir(t), "alerts.yml") }

// prom is a Prometheus server's HTTP API.
type prom struct {
	t   *testing.T
	url string
}

// sample is one series of an instant query's answer.
type sample struct {
	Metric map[string]string `json:"metric"`
	Value  [2]any            `json:"value"`
}

// results evaluates expr now; it fails t on an API error (a bad expression).
func (p *prom) results(expr string) []sample {
	p.t.Helper()
	resp, err := http.Get(p.url + "/api/v1/query?query=" + url.QueryEscape(expr))
	if err != nil {
		p.t.Fatalf("query %s: %v", expr, err)
	}
	defer resp.Body.Close()
	var r struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			Result []sample `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil || r.Status != "success" {
		p.t.Fatalf("query %s: %v %s %s", expr, err, r.Status, r.Error)
	}
	return r.Data.Result
}

// query is results' values.
func (p *prom) query(expr string) []float64 {
	p.t.Helper()
	var out []float64
	for _, s := range p.results(expr) {
		str, _ := s.Value[1].(string)
		f, _ := strconv.ParseFloat(str, 64)
		out = append(out, f)
	}
	return out
}

// waitValue polls expr until it yields exactly one value for which ok holds.
func (p *prom) waitValue(expr string, timeout time.Duration, ok func(float64) bool) float64 {
	p.t.Helper()
	var last []float64
	err := harness.Poll(timeout, func() bool {
		last = p.query(expr)
		return len(last) == 1 && ok(last[0])
	})
	if err != nil {
		p.t.Fatalf("%s: %v; last %v", expr, err, last)
	}
	return last[0]
}

// TestPrometheus has a real Prometheus scrape the daemon every second with
// the example alert rules loaded, evaluates the example dashboard's
// queries, and watches a kill -9 of a child: up drops while it crash-loops
// and comes back, its restart counter grows by three.
func TestPrometheus(t *testing.T) {
	t.Parallel()
	bin := need(t, prometheusBin)
	d := startDaemon(t)
	dir := t.TempDir()
	cfg := fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files:
  - %s
scrape_configs:
  - job_name: supervisord
    static_configs:
      - targets: ["127.0.0.1:%d"]
`, alertsPath(t), d.port)
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	port := testutil.FreePort(t)
	start(t, dir, bin, "--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"), fmt.Sprintf("--web.listen-address=127.0.0.1:%d", port),
		"--log.level=warn")
	p := &prom{t: t, url: fmt.Sprintf("http://127.0.0.1:%d", port)}
	waitHTTP(t, p.url+"/-/ready", 20*time.Second)

	victim := `{job="supervisord",group="victim",name="victim"}`
	p.waitValue(`up{job="supervisord"}`, 15*time.Second, func(v float64) bool { return v == 1 })
	p.waitValue("node_supervisord_up"+victim, 15*time.Second, func(v float64) bool { return v == 1 })
	before := p.waitValue("supervisord_process_restarts_total"+victim, 5*time.Second, func(float64) bool { return true })

	// Two crashes after the kill: STARTING exits at once, BACKOFF 1 s then
	// 2 s (down), then a run that stays.
	if err := os.WriteFile(filepath.Join(d.dir, "crashes"), []byte("2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	info, err := d.RPC.ProcessInfo("victim")
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(int(info["pid"].(int64)), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	p.waitValue("supervisord_process_restarts_total"+victim, 20*time.Second, func(v float64) bool { return v == before+3 })
	p.waitValue("node_supervisord_up"+victim, 10*time.Second, func(v float64) bool { return v == 1 })
	p.waitValue("min_over_time(node_supervisord_up"+victim+"[1m])", 5*time.Second, func(v float64) bool { return v == 0 })
	p.waitValue("max_over_time(node_supervisord_state"+victim+"[1m])", 5*time.Second, func(v float64) bool { return v == 30 })
	p.waitValue("increase(supervisord_process_restarts_total"+victim+"[1m])", 5*time.Second, func(v float64) bool { return v >= 2 })
	// The scrape also records the crash's events.
	p.waitValue(`supervisord_events_total{type="PROCESS_STATE_BACKOFF"}`, 5*time.Second, func(v float64) bool { return v >= 2 })

	// The example rules load and evaluate without error.
	err = harness.Poll(15*time.Second, func() bool {
		var r struct {
			Data struct {
				Groups []struct {
					Rules []struct {
						Name   string `json:"name"`
						Health string `json:"health"`
						Error  string `json:"lastError"`
					} `json:"rules"`
				} `json:"groups"`
			} `json:"data"`
		}
		resp, err := http.Get(p.url + "/api/v1/rules")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		if json.NewDecoder(resp.Body).Decode(&r) != nil || len(r.Data.Groups) != 1 || len(r.Data.Groups[0].Rules) != 5 {
			return false
		}
		for _, rule := range r.Data.Groups[0].Rules {
			if rule.Health != "ok" {
				if rule.Error != "" {
					t.Fatalf("rule %s: %s", rule.Name, rule.Error)
				}
				return false
			}
		}
		return true
	})
	if err != nil {
		t.Fatalf("example rules never all evaluated ok: %v", err)
	}
	// FATAL fires at once (for: 0m) for the fatal program.
	p.waitValue(`ALERTS{alertname="SupervisordProcessFatal",name="fatal",alertstate="firing"}`, 10*time.Second, func(v float64) bool { return v == 1 })

	// Every query of the example dashboard is valid PromQL, and the
	// per-process panels have data.
	for _, expr := range dashboardQueries(t) {
		res := p.query(expr)
		if strings.Contains(expr, "node_supervisord_state") && len(res) == 0 {
			t.Errorf("dashboard query %s: no data", expr)
		}
	}
}

// dashboardQueries are the example dashboard's expressions with its
// variables filled in as Grafana would for "All".
func dashboardQueries(t *testing.T) []string { return dashboardQueriesFor(t, ".*") }

// dashboardQueriesFor fills the node variable with node (a regex).
func dashboardQueriesFor(t *testing.T, node string) []string {
	data, err := os.ReadFile(filepath.Join(exampleDir(t), "grafana-dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(data, &dash); err != nil {
		t.Fatalf("dashboard JSON: %v", err)
	}
	r := strings.NewReplacer("$__rate_interval", "1m", "$node", node, "$instance", ".*", "$group", ".*")
	var out []string
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			out = append(out, r.Replace(tg.Expr))
		}
	}
	if len(out) < 10 {
		t.Fatalf("only %d dashboard queries", len(out))
	}
	return slices.Compact(out)
}
