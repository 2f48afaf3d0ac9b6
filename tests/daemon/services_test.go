package daemon_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gosupervisor/gosupervisor/internal/testutil"
)

// copyServices lays out examples/services in a temp dir with free ports.
func copyServices(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	src, err := os.ReadFile(filepath.Join(repoRoot, "examples/services/supervisord.conf"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(src)
	db := fmt.Sprintf("127.0.0.1:%d", testutil.FreePort(t))
	app := fmt.Sprintf("127.0.0.1:%d", testutil.FreePort(t))
	for _, r := range []struct{ old, new string }{
		{"port=127.0.0.1:9002", fmt.Sprintf("port=127.0.0.1:%d", testutil.FreePort(t))},
		{"127.0.0.1:15432", db},
		{"127.0.0.1:18080", app},
	} {
		if !strings.Contains(text, r.old) {
			t.Fatalf("examples/services/supervisord.conf no longer contains %q; update this test", r.old)
		}
		text = strings.ReplaceAll(text, r.old, r.new)
	}
	if err := os.WriteFile(filepath.Join(dir, "supervisord.conf"), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	bin, err := os.ReadFile(demoBin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "demo"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "demo", "demo"), bin, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestServicesExample is `make run EXAMPLE=services` in a temp dir: the app
// spawns only once the database's check passes, the worker only once the
// app's does; then the critical worker is made to fail for good and
// supervisord exits 1 with every child gone.
func TestServicesExample(t *testing.T) {
	t.Parallel()
	dir := copyServices(t)
	d := startForeground(t, dir, filepath.Join(dir, "supervisord.conf"))
	d.mainLog = filepath.Join(dir, "supervisord.log")
	d.pidfile = filepath.Join(dir, "supervisord.pid")
	order := []string{
		"INFO spawned: 'db' with pid", "INFO health: db is healthy",
		"INFO spawned: 'app' with pid", "INFO health: app is healthy",
		"INFO spawned: 'worker' with pid",
	}
	d.waitRunning("worker", 40*time.Second)
	log := d.log()
	at := -1
	for k, line := range order {
		i := strings.Index(log, line)
		if i < 0 || i <= at {
			t.Fatalf("%q missing or not after %q in the main log:\n%s", line, order[max(k-1, 0)], log)
		}
		at = i
	}

	if err := os.WriteFile(filepath.Join(dir, "worker.crash"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(d.pidsOf("worker")[0], syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if st := d.waitExit(30 * time.Second); st != 1 {
		t.Errorf("supervisord exited %d after the critical worker's FATAL, want 1", st)
	}
	if n := d.count(`CRIT critical program 'worker' entered FATAL state, shutting down`); n != 1 {
		t.Errorf("%d CRIT lines:\n%s", n, d.log())
	}
	for _, pid := range d.spawnedPids() {
		if alive(pid) {
			t.Errorf("child %d outlived supervisord", pid)
		}
	}
}
