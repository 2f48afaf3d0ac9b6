package metrics

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/gosupervisor/gosupervisor/pkg/health"
	"github.com/gosupervisor/gosupervisor/pkg/process"
	"github.com/gosupervisor/gosupervisor/pkg/supervisor"
)

// fakeProc writes a /proc for pid under root: ticks of CPU, rss pages and
// fds descriptors.
func fakeProc(t *testing.T, root string, pid int, ticks, rssPages, fds int) {
	t.Helper()
	dir := filepath.Join(root, strconv.Itoa(pid))
	if err := os.MkdirAll(filepath.Join(dir, "fd"), 0o755); err != nil {
		t.Fatal(err)
	}
	stat := strconv.Itoa(pid) + " (x y) S 1 1 1 0 -1 0 0 0 0 0 " + strconv.Itoa(ticks) + " 0 0 0 20 0 1 0 500 1000 " + strconv.Itoa(rssPages) + " 0 0\n"
	if err := os.WriteFile(filepath.Join(dir, "stat"), []byte(stat), 0o644); err != nil {
		t.Fatal(err)
	}
	for i := range fds {
		if err := os.WriteFile(filepath.Join(dir, "fd", strconv.Itoa(i)), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// variedSnapshot has a process in every state, health checks in each
// status, listener pools, events and names that need escaping.
func variedSnapshot() supervisor.MetricsSnapshot {
	s := supervisor.MetricsSnapshot{
		State: 1, StateName: "RUNNING",
		Events: map[string]uint64{"PROCESS_STATE_RUNNING": 3, "TICK_5": 10, "PROCESS_STATE_FATAL": 1},
		Pools:  []supervisor.PoolMetrics{{Name: "zlisten", Buffered: 2}, {Name: "alisten", Buffered: 0}},
	}
	states := []process.State{process.Stopped, process.Starting, process.Running, process.Backoff,
		process.Stopping, process.Exited, process.Fatal, process.Unknown}
	for i, st := range states {
		p := supervisor.ProcessMetrics{
			Name: "p" + strconv.Itoa(i), Group: "g" + strconv.Itoa(len(states)-i),
			State: st, ExitStatus: i - 1, Spawns: i, StdoutBytes: int64(i * 100), StderrBytes: int64(i),
		}
		if isUp(st) {
			p.Start, p.Pid = 1700000000+int64(i), 100+i
		}
		if i%3 == 0 {
			p.Checked, p.Health = true, health.Status(i%3+i%2)
		}
		s.Processes = append(s.Processes, p)
	}
	// Names needing escapes, and a group with two processes.
	s.Processes = append(s.Processes,
		supervisor.ProcessMetrics{Name: `we"ird\`, Group: "g1", State: process.Running, Start: 1, Pid: 999},
		supervisor.ProcessMetrics{Name: "a", Group: "g1", State: process.Stopped})
	return s
}

// registryText is the Collector's output through a client_golang registry
// and expfmt, the reference the direct writer must match.
func registryText(t *testing.T, c *Collector) string {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	for _, mf := range mfs {
		if _, err := expfmt.MetricFamilyToText(&b, mf); err != nil {
			t.Fatal(err)
		}
	}
	return b.String()
}

func TestTextMatchesRegistry(t *testing.T) {
	root := t.TempDir()
	for i := range 8 {
		fakeProc(t, root, 100+i, 123*i, 7+i, i)
	}
	// pid 999 has no /proc: no resource series for it.
	c := NewCollector(fakeSource(variedSnapshot()), Options{ProcRoot: root})
	want := registryText(t, c)
	var b bytes.Buffer
	for _, f := range (&textWriter{sc: c.scrape()}).families() {
		b.Write(f.text)
	}
	if got := b.String(); got != want {
		t.Fatalf("direct writer differs from the registry's encoding:\n--- got\n%s\n--- want\n%s", got, want)
	}
	for _, line := range []string{
		`node_supervisord_up{group="g6",name="p2"} 1`,
		`node_supervisord_up{group="g5",name="p3"} 0`, // BACKOFF
		`node_supervisord_up{group="g4",name="p4"} 1`, // STOPPING
		`node_supervisord_start_time_seconds{group="g4",name="p4"} 1.700000004e+09`,
		`node_supervisord_state{group="g1",name="p7"} 1000`,
		`node_supervisord_exit_status{group="g8",name="p0"} -1`,
		`supervisord_process_cpu_seconds_total{group="g6",name="p2"} 2.46`,
		`supervisord_process_resident_memory_bytes{group="g6",name="p2"} ` + strconv.Itoa(9*os.Getpagesize()),
		`supervisord_process_open_fds{group="g6",name="p2"} 2`,
		`supervisord_process_restarts_total{group="g1",name="p7"} 6`,
		`supervisord_process_health{group="g8",name="p0"} 0`,
		`supervisord_process_health{group="g5",name="p3"} 1`,
		`supervisord_log_bytes_total{group="g6",name="p2",stream="stdout"} 200`,
		`supervisord_events_total{type="TICK_5"} 10`,
		`supervisord_listener_buffer_events{pool="zlisten"} 2`,
		`node_supervisord_state{group="g1",name="we\"ird\\"} 20`,
		"supervisord_state 1",
	} {
		if !strings.Contains(want, "\n"+line+"\n") {
			t.Errorf("missing %s", line)
		}
	}
	if strings.Contains(want, `start_time_seconds{group="g5"`) {
		t.Error("a BACKOFF process has a start time series; node_exporter gives none")
	}
}

// An engine with nothing checked, no pools and no pids has none of those
// families at all (as a registry leaves empty families out).
func TestEmptyFamilies(t *testing.T) {
	c := NewCollector(fakeSource(supervisor.MetricsSnapshot{
		State: 1, Processes: []supervisor.ProcessMetrics{{Name: "a", Group: "a"}},
	}), Options{ProcRoot: t.TempDir()})
	want := registryText(t, c)
	var b bytes.Buffer
	for _, f := range (&textWriter{sc: c.scrape()}).families() {
		b.Write(f.text)
	}
	if b.String() != want {
		t.Fatalf("got\n%s\nwant\n%s", b.String(), want)
	}
	for _, absent := range []string{"supervisord_process_health", "supervisord_listener_buffer_events", "node_supervisord_start_time_seconds", "supervisord_process_cpu"} {
		if strings.Contains(want, absent) {
			t.Errorf("%s present", absent)
		}
	}
}

func TestHandler(t *testing.T) {
	sup := newEngine(t, programs(3))
	m := New(sup, Options{})
	m.ObserveRPC("supervisor.getState", 0)
	m.ObserveRPC("supervisor.getState", 0)
	m.ObserveRPC("supervisor.startProcess", 10)
	m.ObserveRPC("no.such", 1)

	w := httptest.NewRecorder()
	m.ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	if w.Code != 200 || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/plain; version=0.0.4") {
		t.Fatalf("status %d, Content-Type %q", w.Code, w.Header().Get("Content-Type"))
	}
	text := w.Body.String()
	for _, line := range []string{
		`node_supervisord_state{group="p00001",name="p00001"} 0`,
		`supervisord_rpc_requests_total{code="0",method="supervisor.getState"} 2`,
		`supervisord_rpc_requests_total{code="10",method="supervisor.startProcess"} 1`,
		`supervisord_rpc_requests_total{code="1",method="unknown"} 1`,
		`supervisord_events_total{type="PROCESS_GROUP_ADDED"} 3`,
		"supervisord_up 1",
	} {
		if !strings.Contains(text, "\n"+line+"\n") {
			t.Errorf("missing %s", line)
		}
	}
	for _, prefix := range []string{"\ngo_goroutines ", "\nprocess_resident_memory_bytes ", "\nprocess_open_fds "} {
		if !strings.Contains(text, prefix) {
			t.Errorf("no %s", strings.TrimSpace(prefix))
		}
	}
	// The whole output parses, each family once, in name order.
	parser := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	var names []string
	for _, line := range strings.Split(text, "\n") {
		if name, ok := strings.CutPrefix(line, "# TYPE "); ok {
			names = append(names, strings.Fields(name)[0])
		}
	}
	if len(names) != len(fams) {
		t.Errorf("%d TYPE lines, %d families", len(names), len(fams))
	}
	for i := 1; i < len(names); i++ {
		if names[i-1] >= names[i] {
			t.Errorf("families out of order: %s before %s", names[i-1], names[i])
		}
	}

	// gzip when accepted, the same text inside.
	req := httptest.NewRequest("GET", "/metrics", nil)
	req.Header.Set("Accept-Encoding", "deflate, gzip;q=0.5")
	w = httptest.NewRecorder()
	m.ServeHTTP(w, req)
	if w.Header().Get("Content-Encoding") != "gzip" {
		t.Fatalf("Content-Encoding %q", w.Header().Get("Content-Encoding"))
	}
	zr, err := gzip.NewReader(w.Body)
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(zr)
	if err != nil || !strings.Contains(string(data), "\nsupervisord_up 1\n") {
		t.Fatalf("gunzipped: %v\n%.300s", err, data)
	}
	req.Header.Set("Accept-Encoding", "gzip;q=0")
	w = httptest.NewRecorder()
	m.ServeHTTP(w, req)
	if w.Header().Get("Content-Encoding") != "" {
		t.Error("gzip;q=0 still gzipped")
	}
}

// node_exporter's rule: up (and a start time) for STARTING, RUNNING and
// STOPPING only.
func TestIsUp(t *testing.T) {
	up := map[process.State]bool{process.Starting: true, process.Running: true, process.Stopping: true}
	for _, st := range []process.State{process.Stopped, process.Starting, process.Running, process.Backoff,
		process.Stopping, process.Exited, process.Fatal, process.Unknown} {
		if isUp(st) != up[st] {
			t.Errorf("isUp(%v) = %v", st, isUp(st))
		}
	}
}
