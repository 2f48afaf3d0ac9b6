package fleet_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gosupervisor/gosupervisor/internal/testutil"
	"github.com/gosupervisor/gosupervisor/pkg/procstat"
	"github.com/gosupervisor/gosupervisor/tests/compat/harness"
)

// BenchmarkFleetStatus20x200 (issue 19): `supervisorctl fleet status` over
// 20 of our daemons × 200 programs on 127.0.0.1 against one node's
// `status`, medians of 9 runs each. Run it with
// go test -run '^$' -bench FleetStatus -benchtime 1x ./tests/fleet
func BenchmarkFleetStatus20x200(b *testing.B) {
	const nodes, programs, reps = 20, 200, 9
	dir := b.TempDir()
	var fleetConf strings.Builder
	var urls []string
	var pids []int
	for i := range nodes {
		url, pid := startBenchNode(b, filepath.Join(dir, fmt.Sprint(i)), programs)
		urls, pids = append(urls, url), append(pids, pid)
		fmt.Fprintf(&fleetConf, "[remote:node%02d]\nserverurl=%s\n\n", i, url)
	}
	conf := filepath.Join(dir, "fleet.conf")
	if err := os.WriteFile(conf, []byte(fleetConf.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		one, _ := median(b, reps, programs, bins.Supervisorctl, "-s", urls[0], "status")
		before := ticks(b, pids)
		all, ctlCPU := median(b, reps, nodes*programs, bins.Supervisorctl, "-c", conf, "fleet", "status")
		daemonCPU := time.Duration(ticks(b, pids)-before) * 10 * time.Millisecond / reps
		// The floor on this machine: all the CPU one fleet status costs
		// (the ctl's and the 20 daemons'), spread over every core.
		floor := (ctlCPU + daemonCPU) / time.Duration(runtime.NumCPU())
		b.ReportMetric(float64(one.Microseconds())/1000, "ms/status")
		b.ReportMetric(float64(all.Microseconds())/1000, "ms/fleet-status")
		b.ReportMetric(float64(all)/float64(one), "ratio")
		b.ReportMetric(float64(floor.Microseconds())/1000, "ms-cpu-floor")
		b.Logf("one node's status %v, fleet status over %d nodes %v (%.2f×); its CPU: ctl %v + daemons %v, over %d cores ≥ %v (%.2f× one status)",
			one, nodes, all, float64(all)/float64(one), ctlCPU, daemonCPU, runtime.NumCPU(), floor, float64(floor)/float64(one))
		replayed, _ := median(b, reps, nodes*programs, bins.Supervisorctl, "-c", replayNodes(b, dir, urls[0], nodes), "fleet", "status")
		b.ReportMetric(float64(replayed)/float64(one), "ratio-replayed")
		b.Logf("fleet status over %d replayed nodes (node00's answer served from memory, as if each node had a machine of its own) %v (%.2f× one status)",
			nodes, replayed, float64(replayed)/float64(one))
	}
}

// replayNodes records node url's answer to fleet status's request (through
// a recording proxy) and starts n stub nodes that serve it from memory, at
// next to no CPU: what the client sees when every node answers on a
// machine of its own, which on this one they cannot. It returns their
// fleet config.
func replayNodes(b *testing.B, dir, url string, n int) string {
	var mu sync.Mutex
	var answer []byte
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body) // a known length: /RPC2 wants a Content-Length
		resp, err := http.Post(url+r.URL.Path, r.Header.Get("Content-Type"), bytes.NewReader(body))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		mu.Lock()
		answer = data
		mu.Unlock()
		w.Header().Set("Content-Type", "text/xml")
		_, _ = w.Write(data)
	}))
	defer proxy.Close()
	one := filepath.Join(dir, "record.conf")
	if err := os.WriteFile(one, []byte("[remote:rec]\nserverurl="+proxy.URL+"\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	if out, err := exec.Command(bins.Supervisorctl, "-c", one, "fleet", "status").CombinedOutput(); err != nil {
		b.Fatalf("recording fleet status: %v\n%.500s", err, out)
	}
	var conf strings.Builder
	for i := range n {
		stub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", "text/xml")
			_, _ = w.Write(answer)
		}))
		b.Cleanup(stub.Close)
		fmt.Fprintf(&conf, "[remote:stub%02d]\nserverurl=%s\n\n", i, stub.URL)
	}
	path := filepath.Join(dir, "replay.conf")
	if err := os.WriteFile(path, []byte(conf.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	return path
}

// ticks is the daemons' CPU time (utime+stime) in 10 ms clock ticks.
func ticks(b *testing.B, pids []int) uint64 {
	var sum uint64
	for _, pid := range pids {
		t, _, err := procstat.Stat("/proc", pid)
		if err != nil {
			b.Fatal(err)
		}
		sum += t
	}
	return sum
}

// startBenchNode runs one of our daemons with n sleeping programs and
// returns its http:// URL and pid once they all run.
func startBenchNode(b *testing.B, dir string, n int) (string, int) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	port := testutil.FreePort(b)
	var c strings.Builder
	fmt.Fprintf(&c, "[supervisord]\nlogfile=%[1]s/supervisord.log\npidfile=%[1]s/supervisord.pid\nchildlogdir=%[1]s\n\n"+
		"[unix_http_server]\nfile=%[1]s/s.sock\n\n[inet_http_server]\nport=127.0.0.1:%[2]d\n\n"+
		"[rpcinterface:supervisor]\nsupervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n\n", dir, port)
	for i := range n {
		fmt.Fprintf(&c, "[program:p%d]\ncommand=/bin/sleep 100000\nstartsecs=0\n\n", i)
	}
	conf := filepath.Join(dir, "supervisord.conf")
	if err := os.WriteFile(conf, []byte(c.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	d := harness.StartDaemon(b, "go", bins.Supervisord, conf, filepath.Join(dir, "s.sock"), nil)
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	if !testutil.WaitUntil(60*time.Second, func() bool {
		out, err := exec.Command(bins.Supervisorctl, "-s", url, "status").Output()
		return err == nil && strings.Count(string(out), "RUNNING") == n
	}) {
		b.Fatalf("%s: not all %d programs running", url, n)
	}
	return url, d.Pid()
}

// median runs the command reps times and returns the median wall time and
// the mean CPU time of the command itself; each run must list want
// processes, all running.
func median(b *testing.B, reps, want int, bin string, args ...string) (time.Duration, time.Duration) {
	var ds []time.Duration
	var cpu time.Duration
	for range reps {
		start := time.Now()
		cmd := exec.Command(bin, args...)
		out, err := cmd.Output()
		ds = append(ds, time.Since(start))
		if cmd.ProcessState != nil {
			cpu += cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
		}
		if os.Getenv("FLEET_BENCH_CPU") != "" {
			b.Logf("%s: wall %v, user %v, sys %v", args[len(args)-1], ds[len(ds)-1], cmd.ProcessState.UserTime(), cmd.ProcessState.SystemTime())
		}
		if err != nil || strings.Count(string(out), "RUNNING") != want {
			b.Fatalf("%v: %v, %d RUNNING lines", args, err, strings.Count(string(out), "RUNNING"))
		}
	}
	slices.Sort(ds)
	return ds[len(ds)/2], cpu / time.Duration(reps)
}
