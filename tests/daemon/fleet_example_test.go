package daemon_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gosupervisor/gosupervisor/internal/testutil"
)

// copyFleet lays out examples/fleet in a temp dir: free ports, and the hub
// running the supervisord built for this test as its edge node.
func copyFleet(t *testing.T) (dir string, hubPort int) {
	t.Helper()
	dir = t.TempDir()
	hubPort, pyPort := testutil.FreePort(t), testutil.FreePort(t)
	replace := []struct{ old, new string }{
		{"port=127.0.0.1:9003", fmt.Sprintf("port=127.0.0.1:%d", hubPort)},
		{"127.0.0.1:9005", fmt.Sprintf("127.0.0.1:%d", pyPort)},
		{"%(here)s/../../bin/supervisord", supervisordBin},
	}
	for _, f := range []string{"supervisord.conf", "fleet.conf", "edge/supervisord.conf", "py/supervisord.conf"} {
		src, err := os.ReadFile(filepath.Join(repoRoot, "examples/fleet", f))
		if err != nil {
			t.Fatal(err)
		}
		text := string(src)
		for _, r := range replace {
			text = strings.ReplaceAll(text, r.old, r.new)
		}
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, f)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	hub, _ := os.ReadFile(filepath.Join(dir, "supervisord.conf"))
	for _, r := range replace {
		if !strings.Contains(string(hub), r.new) {
			t.Fatalf("examples/fleet/supervisord.conf no longer contains %q; update this test", r.old)
		}
	}
	return dir, hubPort
}

// fleetView is what the hub's console shows: node → state and its
// processes' states.
func fleetView(t *testing.T, port int) map[string]string {
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/api/v1/fleet", port))
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	var f struct {
		Nodes []struct {
			Name      string `json:"name"`
			Local     bool   `json:"local"`
			State     string `json:"state"`
			Processes []struct {
				Group, Name, Statename string
			} `json:"processes"`
		} `json:"nodes"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&f); err != nil {
		t.Fatalf("GET /api/v1/fleet: %v", err)
	}
	out := map[string]string{}
	for _, n := range f.Nodes {
		name := n.Name
		if n.Local {
			name = "hub"
		}
		out[name] = n.State
		for _, p := range n.Processes {
			out[name+":"+p.Group+":"+p.Name] = p.Statename
		}
	}
	return out
}

// TestFleetExample is `make run EXAMPLE=fleet` in a temp dir: the hub runs
// an edge node of ours and Debian's Python supervisord as its programs;
// its console lists the three nodes' processes and acts on them, fleet
// status reads the same, and stopping the hub leaves no process behind.
func TestFleetExample(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat("/usr/bin/supervisord"); err != nil {
		t.Fatalf("Debian's supervisor is needed (make test-deps): %v", err)
	}
	dir, port := copyFleet(t)
	d := startForeground(t, dir, filepath.Join(dir, "supervisord.conf"))
	d.mainLog = filepath.Join(dir, "supervisord.log")
	want := map[string]string{
		"hub": "up", "edge": "up", "py": "up",
		"hub:web:web": "RUNNING", "hub:node-edge:node-edge": "RUNNING", "hub:node-py:node-py": "RUNNING",
		"edge:worker:worker_0": "RUNNING", "edge:worker:worker_1": "RUNNING", "edge:batch:batch": "STOPPED",
		"py:legacy:legacy": "RUNNING",
	}
	var got map[string]string
	if !waitUntil(30*time.Second, func() bool { got = fleetView(t, port); return maps.Equal(got, want) }) {
		t.Fatalf("fleet view %v, want %v", got, want)
	}

	out, status := runWithin(t, 20*time.Second, supervisorctl(t), "-c", filepath.Join(dir, "fleet.conf"), "fleet", "status")
	for _, line := range []string{"edge:batch ", "edge:worker:worker_0 ", "hub:node-py ", "py:legacy "} {
		if !strings.Contains(out, "\n"+line) && !strings.HasPrefix(out, line) {
			t.Errorf("fleet status has no line for %s:\n%s", line, out)
		}
	}
	if status != 3 || strings.Count(out, "\n") != 7 {
		t.Errorf("fleet status: exit %d (want 3: batch is stopped), %d lines:\n%s", status, strings.Count(out, "\n"), out)
	}

	// An action on a remote node from the hub's console.
	resp, err := http.Post(fmt.Sprintf("http://127.0.0.1:%d/api/v1/fleet/edge/processes/batch/start", port), "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("start edge:batch from the hub: %s", resp.Status)
	}
	if !waitUntil(10*time.Second, func() bool { return fleetView(t, port)["edge:batch:batch"] == "RUNNING" }) {
		t.Fatalf("edge:batch not RUNNING in the fleet view: %v", fleetView(t, port))
	}

	d.signal(syscall.SIGTERM)
	if st := d.waitExit(60 * time.Second); st != 0 {
		t.Errorf("hub exited %d, want 0", st)
	}
	for _, log := range []string{"supervisord.log", "edge/supervisord.log", "py/supervisord.log"} {
		data, _ := os.ReadFile(filepath.Join(dir, log))
		for _, m := range spawnedRE.FindAllStringSubmatch(string(data), -1) {
			if pid, _ := strconv.Atoi(m[2]); alive(pid) {
				t.Errorf("%s's %s (pid %d) outlived the hub", log, m[1], pid)
			}
		}
	}
}
