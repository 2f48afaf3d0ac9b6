package metrics

import (
	"io"
	"net/http/httptest"
	"os/exec"
	"testing"

	"github.com/gosupervisor/gosupervisor/pkg/process"
	"github.com/gosupervisor/gosupervisor/pkg/supervisor"
)

// BenchmarkScrape is one GET /metrics (snapshot, /proc, encoding) of a
// real engine with 1,000 and 10,000 programs, none running (no /proc
// reads): the engine and exposition cost. Goal ≤ 50 ms at 10,000.
func BenchmarkScrape(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(itoa(n), func(b *testing.B) {
			m := New(newEngine(b, programs(n)), Options{})
			benchScrape(b, m, "")
		})
	}
}

// BenchmarkScrapeRunning is the worst case: every one of 1,000 and 10,000
// processes RUNNING with a live pid whose /proc is read (one read of
// /proc/<pid>/stat and one stat of /proc/<pid>/fd per process). The pids
// are those of 100 real sleep children, in turn.
func BenchmarkScrapeRunning(b *testing.B) {
	pids := sleepers(b, 100)
	for _, n := range []int{1000, 10000} {
		b.Run(itoa(n), func(b *testing.B) {
			m := New(fakeSource(fakeSnapshot(n, pids)), Options{})
			benchScrape(b, m, "")
		})
	}
}

// BenchmarkScrapeGzip is BenchmarkScrape/10000 for a client that accepts
// gzip, as Prometheus does.
func BenchmarkScrapeGzip(b *testing.B) {
	m := New(newEngine(b, programs(10000)), Options{})
	benchScrape(b, m, "gzip")
}

// sleepers starts n sleep children, killed when b ends.
func sleepers(b *testing.B, n int) []int {
	b.Helper()
	var pids []int
	for range n {
		cmd := exec.Command("/bin/sleep", "1000")
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		pids = append(pids, cmd.Process.Pid)
		b.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	}
	return pids
}

func benchScrape(b *testing.B, m *Metrics, encoding string) {
	b.Helper()
	req := httptest.NewRequest("GET", "/metrics", nil)
	if encoding != "" {
		req.Header.Set("Accept-Encoding", encoding)
	}
	w := httptest.NewRecorder()
	m.ServeHTTP(w, req)
	if w.Code != 200 {
		b.Fatalf("status %d", w.Code)
	}
	b.SetBytes(int64(w.Body.Len()))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		w := httptest.NewRecorder()
		w.Body = nil // discard, like a network client reading it
		m.ServeHTTP(discard{w}, req)
	}
}

// discard is a ResponseWriter that drops the body.
type discard struct{ *httptest.ResponseRecorder }

func (d discard) Write(p []byte) (int, error) { return io.Discard.Write(p) }

type fakeSource supervisor.MetricsSnapshot

func (f fakeSource) MetricsSnapshot() supervisor.MetricsSnapshot {
	s := supervisor.MetricsSnapshot(f)
	s.Processes = append([]supervisor.ProcessMetrics(nil), s.Processes...)
	return s
}

func fakeSnapshot(n int, pids []int) supervisor.MetricsSnapshot {
	s := supervisor.MetricsSnapshot{State: 1, StateName: "RUNNING", Events: map[string]uint64{"PROCESS_STATE_RUNNING": uint64(n)}}
	for i := range n {
		name := "p" + itoa(i)
		s.Processes = append(s.Processes, supervisor.ProcessMetrics{
			Name: name, Group: name, State: process.Running, Start: 1700000000, Pid: pids[i%len(pids)], Spawns: 1,
			StdoutBytes: int64(i),
		})
	}
	return s
}

func itoa(n int) string {
	const digits = "0123456789"
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{digits[n%10]}, b...)
	}
	return string(b)
}
