package metrics_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gosupervisor/gosupervisor/internal/testutil"
	"github.com/gosupervisor/gosupervisor/tests/compat/harness"
)

// pyConf is a Debian Python supervisord with one running and one stopped
// program, its XML-RPC also on an inet port for node_exporter.
const pyConf = `[unix_http_server]
file = %[1]s/py.sock
[inet_http_server]
port = 127.0.0.1:%[2]d
[supervisord]
logfile = %[1]s/py.log
pidfile = %[1]s/py.pid
childlogdir = %[1]s
[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface
[program:pyapp]
command = /bin/sleep 1000
startsecs = 0
[program:pyidle]
command = /bin/sleep 1000
autostart = false
`

// TestPrometheusFleet runs the example fleet.yml (file_sd targets with a
// node label) against two of our daemons and a Python original exported
// by node_exporter's supervisord collector, and evaluates the example
// dashboard with its node variable: every node's processes are there,
// each labelled with its node, and choosing one node keeps only its own.
func TestPrometheusFleet(t *testing.T) {
	t.Parallel()
	bin := need(t, prometheusBin)
	if harness.NoPython() {
		t.Skip(harness.ErrNoPython)
	}
	n1, n2 := startDaemon(t), startDaemon(t)
	pyDir := t.TempDir()
	pyPort := testutil.FreePort(t)
	pyPath := filepath.Join(pyDir, "supervisord.conf")
	if err := os.WriteFile(pyPath, []byte(fmt.Sprintf(pyConf, pyDir, pyPort)), 0o644); err != nil {
		t.Fatal(err)
	}
	py := harness.StartDaemon(t, "python", harness.PySupervisord, pyPath, filepath.Join(pyDir, "py.sock"), nil)
	if _, err := py.RPC.WaitState("pyapp", "RUNNING", 15*time.Second, nil); err != nil {
		t.Fatal(err)
	}
	nePort := testutil.FreePort(t)
	start(t, pyDir, need(t, nodeExporterBin), "--collector.disable-defaults", "--collector.supervisord",
		fmt.Sprintf("--collector.supervisord.url=http://127.0.0.1:%d/RPC2", pyPort),
		fmt.Sprintf("--web.listen-address=127.0.0.1:%d", nePort))

	dir := writeFleetConfig(t, map[string]int{"n1": n1.port, "n2": n2.port, "py": nePort})
	port := testutil.FreePort(t)
	start(t, dir, bin, "--config.file="+filepath.Join(dir, "fleet.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"), fmt.Sprintf("--web.listen-address=127.0.0.1:%d", port),
		"--log.level=warn")
	p := &prom{t: t, url: fmt.Sprintf("http://127.0.0.1:%d", port)}
	waitHTTP(t, p.url+"/-/ready", 20*time.Second)

	p.waitValue(`count(count by (node) (node_supervisord_up{job="supervisord"}))`, 20*time.Second, func(v float64) bool { return v == 3 })
	p.waitValue(`node_supervisord_up{node="py",name="pyapp"}`, 5*time.Second, func(v float64) bool { return v == 1 })
	p.waitValue(`node_supervisord_up{node="n2",name="app"}`, 5*time.Second, func(v float64) bool { return v == 1 })

	for _, expr := range dashboardQueriesFor(t, "n1|py") {
		for _, labels := range p.series(expr) {
			if n, ok := labels["node"]; ok && n != "n1" && n != "py" {
				t.Errorf("dashboard query %s with node=~n1|py: a series of node %q", expr, n)
			}
		}
	}
	nodes := map[string]bool{}
	for _, expr := range dashboardQueriesFor(t, ".*") {
		if !strings.HasPrefix(expr, "node_supervisord_state{") {
			continue
		}
		for _, labels := range p.series(expr) {
			nodes[labels["node"]] = true
		}
	}
	if len(nodes) != 3 || !nodes["n1"] || !nodes["n2"] || !nodes["py"] {
		t.Errorf("the dashboard's state panel for all nodes shows nodes %v, want n1, n2, py", nodes)
	}
}

// writeFleetConfig copies the example fleet.yml and alerts.yml into a
// temp dir, scraping every second, with a file_sd file of the given
// node → port targets on 127.0.0.1.
func writeFleetConfig(t *testing.T, nodes map[string]int) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range []string{"fleet.yml", "alerts.yml"} {
		data, err := os.ReadFile(filepath.Join(exampleDir(t), name))
		if err != nil {
			t.Fatal(err)
		}
		text := string(data)
		if name == "fleet.yml" {
			text = strings.ReplaceAll(text, "15s", "1s")
			text = strings.Replace(text, "refresh_interval: 5m", "refresh_interval: 1s", 1)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var sd strings.Builder
	for node, port := range nodes {
		fmt.Fprintf(&sd, "- targets: [\"127.0.0.1:%d\"]\n  labels:\n    node: %s\n", port, node)
	}
	if err := os.MkdirAll(filepath.Join(dir, "targets"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "targets", "nodes.yml"), []byte(sd.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// series is results' label sets.
func (p *prom) series(expr string) []map[string]string {
	p.t.Helper()
	var out []map[string]string
	for _, s := range p.results(expr) {
		out = append(out, s.Metric)
	}
	return out
}
