package daemon_test

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gosupervisor/gosupervisor/internal/testutil"
)

// copyExample lays out examples/monitor in a temp dir (config, monitor
// binary, logs dir) with its ports rewritten to free ones, so the test never
// writes into the repository or collides with a running `make run`.
func copyExample(t *testing.T) (dir string, monitorPort int) {
	t.Helper()
	dir = t.TempDir()
	src, err := os.ReadFile(filepath.Join(repoRoot, "examples/monitor/supervisord.conf"))
	if err != nil {
		t.Fatal(err)
	}
	monitorPort = testutil.FreePort(t)
	text := string(src)
	for _, r := range []struct{ old, new string }{
		{"port=127.0.0.1:9001", fmt.Sprintf("port=127.0.0.1:%d", testutil.FreePort(t))},
		{"environment=RUN_MODE=%(ENV_RUN_MODE)s", fmt.Sprintf(`environment=RUN_MODE=%%(ENV_RUN_MODE)s,MONITOR_ADDR="127.0.0.1:%d",%s="%s"`, monitorPort, markerVar, dir)},
	} {
		if !strings.Contains(text, r.old) {
			t.Fatalf("examples/monitor/supervisord.conf no longer contains %q; update this test", r.old)
		}
		text = strings.Replace(text, r.old, r.new, 1)
	}
	if err := os.WriteFile(filepath.Join(dir, "supervisord.conf"), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	progDir := filepath.Join(dir, "micro", "monitor")
	if err := os.MkdirAll(filepath.Join(progDir, "logs"), 0o755); err != nil {
		t.Fatal(err)
	}
	bin, err := os.ReadFile(monitorBin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(progDir, "monitor"), bin, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir, monitorPort
}

func startExample(t *testing.T, runMode string) (*daemon, int) {
	t.Helper()
	dir, port := copyExample(t)
	d := startForegroundEnv(t, dir, filepath.Join(dir, "supervisord.conf"), []string{"RUN_MODE=" + runMode})
	d.mainLog = filepath.Join(dir, "supervisord.log")
	d.pidfile = filepath.Join(dir, "supervisord.pid")
	return d, port
}

// health returns the monitor's /health body ("" while it does not answer).
func health(port int) string {
	c := http.Client{Timeout: time.Second}
	resp, err := c.Get(fmt.Sprintf("http://127.0.0.1:%d/health", port))
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return ""
	}
	return string(b)
}

// TestMonitorExample is `make run` in a temp dir: the monitor becomes
// RUNNING, answers /health, and comes back with a new pid after kill -9.
func TestMonitorExample(t *testing.T) {
	t.Parallel()
	d, port := startExample(t, "dev")
	pid1 := d.waitRunning("monitor", 15*time.Second)
	wantHealth := func(pid int) {
		t.Helper()
		want := fmt.Sprintf("ok version=dev mode=dev pid=%d ", pid)
		var got string
		if !waitUntil(10*time.Second, func() bool { got = health(port); return strings.HasPrefix(got, want) }) {
			t.Fatalf("/health on port %d says %q, want prefix %q", port, got, want)
		}
	}
	wantHealth(pid1)
	if !hasMarker(pid1, d.dir) {
		t.Errorf("monitor %d lacks the cleanup marker", pid1)
	}

	if err := syscall.Kill(pid1, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	d.waitLog(`WARN exited: monitor \(terminated by SIGKILL; not expected\)`, 10*time.Second)
	d.waitCount(`success: monitor entered RUNNING`, 2, 15*time.Second)
	pid2 := d.pidsOf("monitor")[1]
	if pid2 == pid1 {
		t.Fatalf("monitor restarted with the same pid %d", pid1)
	}
	wantHealth(pid2)
	logFile := filepath.Join(filepath.Dir(d.mainLog), "micro/monitor/logs/monitor.log")
	waitFile(t, logFile, 5*time.Second, func(s string) bool {
		return strings.Count(s, "listening on http://127.0.0.1:") >= 2
	})
}

// TestMonitorExampleBroken: RUN_MODE=broken exits at once; startretries=3
// means 4 spawns, then FATAL.
func TestMonitorExampleBroken(t *testing.T) {
	t.Parallel()
	d, _ := startExample(t, "broken")
	d.waitLog(`INFO gave up: monitor entered FATAL state, too many start retries too quickly`, 20*time.Second)
	if n := len(d.pidsOf("monitor")); n != 4 {
		t.Errorf("monitor spawned %d times, want 4", n)
	}
	if n := d.count(`WARN exited: monitor \(exit status 1; not expected\)`); n != 4 {
		t.Errorf("%d 'exited: monitor (exit status 1; not expected)' lines, want 4", n)
	}
	logFile := filepath.Join(filepath.Dir(d.mainLog), "micro/monitor/logs/monitor.log")
	waitFile(t, logFile, 5*time.Second, func(s string) bool {
		return strings.Count(s, "monitor: RUN_MODE=broken, refusing to start\n") == 4
	})
}
