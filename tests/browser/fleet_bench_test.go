package browser

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gosupervisor/gosupervisor/internal/testutil"
)

// BenchmarkFleetConsole20x200: the fleet console over 20 of our daemons on
// loopback (the console's own and 19 [remote:NAME] nodes) with 200 running
// programs each: the time to the first full table in Chromium (4,000 rows,
// every node up), right after the console's daemon started and then warm,
// and the server's first fleet sync (bytes, and time from the request).
//
//	go test -run '^$' -bench FleetConsole -benchtime 1x ./tests/browser
func BenchmarkFleetConsole20x200(b *testing.B) {
	const nodes, programs = 20, 200
	root := repoRoot(b)
	requireTools(b, root)
	bin := buildDaemon(b, root)
	dir := b.TempDir()
	var progs strings.Builder
	for i := range programs {
		fmt.Fprintf(&progs, "\n[program:p%03d]\ncommand=/bin/sleep 1000\nstartsecs=0\n", i)
	}
	var remotes strings.Builder
	urls := map[string]string{}
	for i := 1; i < nodes; i++ {
		name := fmt.Sprintf("n%02d", i)
		port := testutil.FreePort(b)
		urls[name] = "http://127.0.0.1:" + strconv.Itoa(port)
		d := startDaemon(b, []string{bin, "-n", "-c", nodeConf(b, dir, name, port, progs.String())}, nil)
		b.Cleanup(func() { d.stop(b) })
		fmt.Fprintf(&remotes, "\n[remote:%s]\nserverurl=%s\n", name, urls[name])
	}
	for name, u := range urls {
		waitRunning(b, name, u, programs)
	}
	port := testutil.FreePort(b)
	url := "http://127.0.0.1:" + strconv.Itoa(port)
	console := startDaemon(b, []string{bin, "-n", "-c", nodeConf(b, dir, "console", port, progs.String()+remotes.String())}, nil)
	b.Cleanup(func() { console.stop(b) })
	waitRPC(b, console, url)

	b.ResetTimer()
	out := runNodeOut(b, root, "fleetbench.mjs", url, strconv.Itoa(nodes*programs), strconv.Itoa(nodes), "5")
	var res struct {
		Cold int   `json:"cold"`
		Warm []int `json:"warm"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		b.Fatalf("fleetbench.mjs said %q: %v", out, err)
	}
	slices.Sort(res.Warm)
	size, took := firstSync(b, url)
	b.ReportMetric(float64(res.Cold), "cold-ms")
	b.ReportMetric(float64(res.Warm[len(res.Warm)/2]), "warm-p50-ms")
	b.ReportMetric(float64(res.Warm[len(res.Warm)-1]), "warm-max-ms")
	b.ReportMetric(float64(took.Milliseconds()), "sync-ms")
	b.ReportMetric(float64(size), "sync-bytes")
}

// waitRunning polls a node until n of its processes are RUNNING.
func waitRunning(b testing.TB, name, url string, n int) {
	b.Helper()
	body := `<?xml version="1.0"?><methodCall><methodName>supervisor.getAllProcessInfo</methodName><params></params></methodCall>`
	ok := testutil.WaitUntil(60*time.Second, func() bool {
		resp, err := http.Post(url+"/RPC2", "text/xml", strings.NewReader(body))
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		text, _ := io.ReadAll(resp.Body)
		return strings.Count(string(text), "<string>RUNNING</string>") == n
	})
	if !ok {
		b.Fatalf("%s: not %d processes RUNNING", name, n)
	}
}

// firstSync reads the first sync of /api/v1/fleet/events: its size and
// the time from the request.
func firstSync(b testing.TB, url string) (int, time.Duration) {
	b.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", url+"/api/v1/fleet/events", nil)
	t0 := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		if line := sc.Text(); strings.HasPrefix(line, "data: ") {
			return len(line) - 6, time.Since(t0)
		}
	}
	b.Fatalf("no sync: %v", sc.Err())
	return 0, 0
}

// runNodeOut runs a script in tests/browser and returns its last line.
func runNodeOut(b testing.TB, root string, args ...string) string {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", args...)
	cmd.Dir = filepath.Join(root, "tests/browser")
	out, err := cmd.CombinedOutput()
	if err != nil {
		b.Fatalf("node %v: %v\n%s", args, err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return lines[len(lines)-1]
}
