// Package metrics_test runs our supervisord, built from ./cmd/supervisord,
// with real children and checks its GET /metrics (EXTENSIONS.md §6) with
// the real tools of the Prometheus ecosystem (Debian's packages):
//
//   - `promtool check metrics` on the output, `promtool check rules` on
//     examples/observability/alerts.yml;
//   - a real Prometheus (127.0.0.1, temporary storage, 1 s scrapes) that
//     scrapes the daemon, loads the example alerts, evaluates every query of
//     the example Grafana dashboard, and sees node_supervisord_up and the
//     restart counter move after a kill -9 of a child;
//   - node_exporter 1.5.0's supervisord collector against the same daemon:
//     the four node_supervisord_* families identical (names, labels, types,
//     help, values) to ours, for processes in every state a config can hold
//     still (RUNNING, STARTING, STOPPED, EXITED, FATAL) and BACKOFF.
//
// The tools must be installed (`make test-deps` installs them).
package metrics_test

import (
	"os"
	"os/exec"
	"testing"

	"github.com/gosupervisor/gosupervisor/tests/compat/harness"
)

var bins harness.Binaries

func TestMain(m *testing.M) {
	os.Exit(harness.RunWithBinaries(m, "gsm-bin-", &bins))
}

// Debian's binaries.
const (
	promtoolBin     = "promtool"
	prometheusBin   = "prometheus"
	nodeExporterBin = "prometheus-node-exporter"
)

// need returns bin's path, failing t when it is not installed.
func need(t *testing.T, bin string) string {
	t.Helper()
	p, err := exec.LookPath(bin)
	if err != nil {
		t.Fatalf("%s not installed (make test-deps installs Debian's prometheus, promtool and prometheus-node-exporter): %v", bin, err)
	}
	return p
}
