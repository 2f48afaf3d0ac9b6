package daemon_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// stormClient is an XML-RPC client on the daemon's unix socket.
func stormClient(sock string) *http.Client {
	return &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", sock)
		},
	}}
}

// stormCall posts one call and returns the answer, or an error for
// anything but a 200 methodResponse without a fault.
func stormCall(c *http.Client, method string, params ...string) (string, error) {
	var ps strings.Builder
	for _, p := range params {
		fmt.Fprintf(&ps, "<param><value>%s</value></param>", p)
	}
	body := `<?xml version="1.0"?><methodCall><methodName>` + method + `</methodName><params>` + ps.String() + `</params></methodCall>`
	resp, err := c.Post("http://localhost/RPC2", "text/xml", strings.NewReader(body))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), "<methodResponse>") || strings.Contains(string(b), "<fault>") {
		return string(b), fmt.Errorf("%s: HTTP %d: %.300s", method, resp.StatusCode, b)
	}
	return string(b), nil
}

var (
	stormNameRE  = regexp.MustCompile(`<name>name</name>\s*<value><string>([^<]*)</string>`)
	stormStateRE = regexp.MustCompile(`<name>statename</name>\s*<value><string>([^<]*)</string>`)
	stormPidRE   = regexp.MustCompile(`<name>pid</name>\s*<value><int>(\d+)</int>`)
)

// stormStatus parses getAllProcessInfo into name → state and name → pid.
func stormStatus(answer string) (map[string]string, map[string]int) {
	states, pids := map[string]string{}, map[string]int{}
	// One struct per process; its members come in a fixed order.
	for _, s := range strings.Split(answer, "</struct>") {
		n := stormNameRE.FindStringSubmatch(s)
		st := stormStateRE.FindStringSubmatch(s)
		p := stormPidRE.FindStringSubmatch(s)
		if n == nil || st == nil || p == nil {
			continue
		}
		states[n[1]] = st[1]
		pids[n[1]], _ = strconv.Atoi(p[1])
	}
	return states, pids
}

// stormChildren lists the live (non-zombie) processes whose parent is ppid,
// and the zombies separately.
func stormChildren(ppid int) (live, zombies []int) {
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if st, pp := procStat(pid); pp == ppid {
			if st == "Z" || st == "X" {
				zombies = append(zombies, pid)
			} else {
				live = append(live, pid)
			}
		}
	}
	sort.Ints(live)
	return live, zombies
}

// TestSIGHUPStorm (issue 18, "what held"): 50 SIGHUPs in a row, each
// awaited until the daemon has started again and every program is
// RUNNING, while a client keeps calling over the unix socket and one
// program writes as fast as it can. The daemon stays up, ends with every
// program RUNNING and none FATAL, and its only children are the current
// generation's: nothing left from the 50 before.
func TestSIGHUPStorm(t *testing.T) {
	if testing.Short() {
		t.Skip("50 restarts")
	}
	t.Parallel()
	dir := t.TempDir()
	sock := filepath.Join(dir, "sv.sock")
	programs := fmt.Sprintf(`[unix_http_server]
file=%s

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[program:a]
command=sleep 1000
startsecs=0

[program:b]
command=sleep 1001
startsecs=0

[program:c]
command=/bin/sh -c 'trap "exit 0" TERM; while :; do sleep 0.05; done'
startsecs=0

[program:chatty]
command=/bin/sh -c 'i=0; while :; do i=$((i+1)); echo "chatty line $i"; done'
startsecs=0
stdout_logfile=%s/chatty.log
stdout_logfile_maxbytes=1MB
stdout_logfile_backups=2
`, sock, dir)
	conf := writeConf(t, dir, "", programs)
	d := startForeground(t, dir, conf)
	names := []string{"a", "b", "c", "chatty"}
	for _, n := range names {
		d.waitRunning(n, 10*time.Second)
	}
	c := stormClient(sock)
	defer c.CloseIdleConnections()

	// allRunning polls until every program is RUNNING and returns the pids.
	allRunning := func(what string) map[string]int {
		t.Helper()
		var states map[string]string
		var pids map[string]int
		var last error
		ok := waitUntil(10*time.Second, func() bool {
			ans, err := stormCall(c, "supervisor.getAllProcessInfo")
			if err != nil {
				last = err
				return false
			}
			states, pids = stormStatus(ans)
			for _, n := range names {
				if states[n] != "RUNNING" {
					return false
				}
			}
			return len(states) == len(names)
		})
		if !ok {
			t.Fatalf("%s: programs not all RUNNING within 10 s: %v (last error %v)", what, states, last)
		}
		return pids
	}
	allRunning("before the SIGHUPs")

	// The load: a client calling all the time. Calls made while the
	// daemon restarts may fail (the original also closes its sockets);
	// calls between restarts must be answered.
	var okCalls, failedCalls atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			lc := stormClient(sock)
			defer lc.CloseIdleConnections()
			calls := [][]string{
				{"supervisor.getAllProcessInfo"}, {"supervisor.getState"},
				{"supervisor.tailProcessStdoutLog", "<string>chatty</string>", "<int>0</int>", "<int>4000</int>"},
				{"supervisor.readLog", "<int>0</int>", "<int>2000</int>"},
			}
			for i := w; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				call := calls[i%len(calls)]
				if _, err := stormCall(lc, call[0], call[1:]...); err != nil {
					failedCalls.Add(1)
					time.Sleep(5 * time.Millisecond) // not a spin while the socket is down
				} else {
					okCalls.Add(1)
				}
			}
		}(w)
	}
	defer func() { close(stop); wg.Wait() }()

	const hups = 50
	start := time.Now()
	startedRE := fmt.Sprintf(`supervisord started with pid %d\n`, d.pid)
	for i := 1; i <= hups; i++ {
		d.signal(syscall.SIGHUP)
		d.waitCount(startedRE, i+1, 10*time.Second)
		allRunning(fmt.Sprintf("after SIGHUP %d", i))
		if !alive(d.pid) {
			t.Fatalf("daemon gone after SIGHUP %d", i)
		}
	}
	took := time.Since(start)
	close(stop)
	wg.Wait()
	stop = make(chan struct{}) // for the deferred close
	t.Logf("%d SIGHUPs in %v (%v each); load client: %d calls answered, %d failed during restarts",
		hups, took.Round(time.Millisecond), (took / hups).Round(time.Millisecond), okCalls.Load(), failedCalls.Load())
	if okCalls.Load() < hups {
		t.Errorf("the load client was answered only %d times across %d restarts", okCalls.Load(), hups)
	}

	pids := allRunning("after the storm")
	if n := d.count(`WARN received SIGHUP indicating restart request`); n != hups {
		t.Errorf("main log has %d SIGHUP lines, want %d", n, hups)
	}
	if n := d.count(startedRE); n != hups+1 {
		t.Errorf("main log has %d 'supervisord started' lines, want %d", n, hups+1)
	}
	if m := regexp.MustCompile(`.*(FATAL|gave up:|CRIT [^SR]|ERRO|panic|too many open files).*`).FindAllString(d.log(), 5); m != nil {
		t.Errorf("main log reports trouble:\n%s", strings.Join(m, "\n"))
	}
	for _, n := range names {
		if got := len(d.pidsOf(n)); got != hups+1 {
			t.Errorf("%s spawned %d times, want %d (one per generation)", n, got, hups+1)
		}
	}

	// The daemon's children are exactly the current generation. Reaping
	// the last stopped ones may take a moment, so poll.
	var want []int
	for _, p := range pids {
		want = append(want, p)
	}
	sort.Ints(want)
	var live, zombies []int
	if !waitUntil(5*time.Second, func() bool {
		live, zombies = stormChildren(d.pid)
		return fmt.Sprint(live) == fmt.Sprint(want) && len(zombies) == 0
	}) {
		t.Errorf("children of supervisord %d: %v and zombies %v, want only the current programs %v", d.pid, live, zombies, want)
	}
	current := map[int]bool{}
	for _, p := range want {
		current[p] = true
	}
	var left []int
	for _, p := range d.spawnedPids() {
		if !current[p] && alive(p) && hasMarker(p, dir) {
			left = append(left, p)
		}
	}
	if len(left) != 0 {
		t.Errorf("processes of earlier generations still running: %v", left)
	}
	if !alive(d.pid) {
		t.Fatal("supervisord is gone")
	}
}
