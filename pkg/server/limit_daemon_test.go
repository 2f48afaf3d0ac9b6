package server

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gosupervisor/gosupervisor/internal/testutil"
)

// Resource limits against misbehaving clients (issue 18 item 4, defects 2
// and 4), against real daemons on 127.0.0.1.

const limitRPC = "[rpcinterface:supervisor]\nsupervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n"

func xmlCall(method string, params ...string) string {
	var b strings.Builder
	b.WriteString("<?xml version='1.0'?><methodCall><methodName>" + method + "</methodName><params>")
	for _, p := range params {
		b.WriteString("<param>" + p + "</param>")
	}
	b.WriteString("</params></methodCall>")
	return b.String()
}

// rpcPost posts an XML-RPC body to /RPC2 on 127.0.0.1:port.
func rpcPost(c *http.Client, port int, body string) (int, string, error) {
	resp, err := c.Post(fmt.Sprintf("http://127.0.0.1:%d/RPC2", port), "text/xml", strings.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

func procStatus(t *testing.T, pid int, key string) int64 {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, key+":"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb
		}
	}
	t.Fatalf("no %s in /proc/%d/status", key, pid)
	return 0
}

func countFDs(pid int) int {
	ents, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	return len(ents)
}

// halfOpen keeps n connections that sent "GET / HTTP/1.1\r\n" and nothing
// more, reconnecting whenever one is closed, until ctx ends. It returns
// how many connections it opened in all.
func halfOpen(ctx context.Context, addr string, n int) *atomic.Int64 {
	var opened atomic.Int64
	for range n {
		go func() {
			for ctx.Err() == nil {
				c, err := net.DialTimeout("tcp", addr, time.Second)
				if err != nil {
					select {
					case <-ctx.Done():
					case <-time.After(20 * time.Millisecond):
					}
					continue
				}
				opened.Add(1)
				_, _ = io.WriteString(c, "GET / HTTP/1.1\r\n")
				go func() { <-ctx.Done(); c.Close() }()
				_, _ = io.Copy(io.Discard, c) // until the daemon closes it
				c.Close()
			}
		}()
	}
	return &opened
}

// Defect 2: with nofile 256, 400 half-open connections (reconnecting when
// closed) made a restarting program go FATAL with "too many open files".
// Now the connection cap keeps descriptors for spawning: the program
// keeps restarting and a normal client keeps getting answers.
func TestLimitDefect2HalfOpenUnderLowNofile(t *testing.T) {
	port := testutil.FreePort(t)
	dir := t.TempDir()
	conf := writeConf(t, dir, port, "minfds=64\n[inet_http_server]\nport=127.0.0.1:{port}\n"+limitRPC+
		"[program:flapper]\ncommand=/bin/sh -c 'sleep 0.1; exit 3'\nstartsecs=0\nautorestart=true\nstartretries=1000\n"+
		"stdout_logfile=%(dir)s/flapper.log\n")
	out := &testutil.SyncBuffer{}
	cmd := exec.Command("/bin/sh", "-c", "ulimit -n 256 && exec \"$0\" -n -c \"$1\"", daemonBin, conf)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	getState := xmlCall("supervisor.getState")
	waitFor(t, "the daemon to answer", 10*time.Second, func() bool {
		code, _, err := rpcPost(client, port, getState)
		return err == nil && code == 200
	})
	pid := cmd.Process.Pid
	var rl [2]int64
	if lim, err := os.ReadFile(fmt.Sprintf("/proc/%d/limits", pid)); err == nil {
		for _, line := range strings.Split(string(lim), "\n") {
			if strings.HasPrefix(line, "Max open files") {
				f := strings.Fields(line)
				rl[0], _ = strconv.ParseInt(f[3], 10, 64)
				rl[1], _ = strconv.ParseInt(f[4], 10, 64)
			}
		}
	}
	if rl[0] != 256 {
		t.Fatalf("daemon's nofile = %v, want 256", rl)
	}
	mainLog := filepath.Join(dir, "sd.log")
	spawns := func() int {
		data, _ := os.ReadFile(mainLog)
		return strings.Count(string(data), "spawned: 'flapper'")
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	opened := halfOpen(ctx, fmt.Sprintf("127.0.0.1:%d", port), 400)
	waitFor(t, "400 half-open connections", 10*time.Second, func() bool { return opened.Load() >= 400 })
	before := spawns()
	// A normal client keeps getting answers while the attack goes on.
	var calls, failures int
	var slowest time.Duration
	maxFDs := 0
	end := time.Now().Add(6 * time.Second)
	for time.Now().Before(end) {
		t0 := time.Now()
		code, body, err := rpcPost(client, port, getState)
		slowest = max(slowest, time.Since(t0))
		calls++
		if err != nil || code != 200 || !strings.Contains(body, "RUNNING") {
			failures++
			t.Logf("normal client: %d %v %.80q", code, err, body)
		}
		maxFDs = max(maxFDs, countFDs(pid))
		time.Sleep(100 * time.Millisecond)
	}
	cancel()
	after := spawns()
	data, _ := os.ReadFile(mainLog)
	log := string(data)
	t.Logf("%d half-open connections opened; flapper spawned %d times during the attack; normal client %d/%d answered (slowest %v); daemon fds peaked at %d of 256",
		opened.Load(), after-before, calls-failures, calls, slowest.Round(time.Millisecond), maxFDs)
	if failures > 0 {
		t.Errorf("%d of %d normal calls failed during the attack", failures, calls)
	}
	if strings.Contains(log, "too many open files") || strings.Contains(log, "gave up: flapper") ||
		strings.Contains(log, "entered FATAL state") {
		t.Fatalf("flapper lost its restarts:\n%s", tailLines(log, 20))
	}
	// The engine restarts an exited process on its next tick (about 1 s).
	if after-before < 4 {
		t.Errorf("flapper spawned only %d times in 6 s of attack", after-before)
	}
	if n := strings.Count(log, "its limit: closing the oldest"); n != 1 {
		t.Errorf("%d WARN lines for one burst, want 1:\n%s", n, tailLines(log, 20))
	}
}

func tailLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// Many clients at once are all served: 1,000 concurrent connections, each
// with a call in flight.
func TestLimitThousandConcurrentConnections(t *testing.T) {
	port := testutil.FreePort(t)
	d := startDaemon(t, port, "[inet_http_server]\nport=127.0.0.1:{port}\n"+limitRPC)
	const n = 1000
	conns := make([]net.Conn, n)
	for i := range conns {
		c, err := net.DialTimeout("tcp", d.inet(), 5*time.Second)
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		defer c.Close()
		conns[i] = c
	}
	// All connected: now every one sends its call and waits for the answer.
	req := rawPost(xmlCall("supervisor.getState"))
	var wg sync.WaitGroup
	var ok atomic.Int64
	errs := make(chan string, n)
	for _, c := range conns {
		wg.Go(func() {
			_ = c.SetDeadline(time.Now().Add(20 * time.Second))
			if _, err := io.WriteString(c, req); err != nil {
				errs <- err.Error()
				return
			}
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				errs <- err.Error()
				return
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 && strings.Contains(string(body), "RUNNING") {
				ok.Add(1)
			} else {
				errs <- fmt.Sprintf("%d %.60q", resp.StatusCode, body)
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
		break
	}
	if ok.Load() != n {
		t.Fatalf("%d of %d concurrent calls answered", ok.Load(), n)
	}
}

// Huge and deep bodies are refused without the daemon's memory staying
// up, and the multicall bomb of defect 4 is refused or bounded.
func TestLimitBodiesAndRSS(t *testing.T) {
	port := testutil.FreePort(t)
	conf := "[inet_http_server]\nport=127.0.0.1:{port}\n" + limitRPC
	for i := range 3 {
		conf += fmt.Sprintf("[program:p%d]\ncommand=/bin/sleep 1000\n", i)
	}
	d := startDaemon(t, port, conf)
	pid := d.cmd.Process.Pid
	client := &http.Client{Timeout: 60 * time.Second}
	// Warm up, then the baseline.
	for range 20 {
		if _, _, err := rpcPost(client, port, xmlCall("supervisor.getAllProcessInfo")); err != nil {
			t.Fatal(err)
		}
	}
	base := procStatus(t, pid, "VmRSS")
	t.Logf("baseline RSS %d kB", base)
	// Each step's peak RSS: VmHWM, reset before the step.
	resetPeak := func() { _ = os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0) }
	resetPeak()
	back := func(what string) {
		t.Helper()
		peak := procStatus(t, pid, "VmHWM")
		// The daemon gives a refused request's memory back soon after.
		var rss int64
		deadline := time.Now().Add(20 * time.Second)
		for {
			rss = procStatus(t, pid, "VmRSS")
			if rss < base+16<<10 || time.Now().After(deadline) {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Logf("%s: RSS peak %d kB, %d kB after (baseline %d kB)", what, peak, rss, base)
		if rss >= base+16<<10 {
			t.Errorf("%s: RSS %d kB stays above the baseline %d kB", what, rss, base)
		}
		if peak > base+80<<10 {
			t.Errorf("%s: RSS peaked at %d kB (baseline %d kB)", what, peak, base)
		}
		resetPeak()
	}

	// A 100 MB body, sent whole: refused with 413.
	big := func(path, ctype string) int {
		t.Helper()
		const size = 100 << 20
		pr, pw := io.Pipe()
		go func() {
			chunk := []byte(strings.Repeat("<value></value>", 4096))
			var sent int
			for sent < size {
				n, err := pw.Write(chunk[:min(len(chunk), size-sent)])
				sent += n
				if err != nil {
					return
				}
			}
			pw.Close()
		}()
		req, _ := http.NewRequest(http.MethodPost, fmt.Sprintf("http://127.0.0.1:%d%s", port, path), pr)
		req.ContentLength = size
		req.Header.Set("Content-Type", ctype)
		resp, err := client.Do(req)
		pr.CloseWithError(io.ErrClosedPipe)
		if err != nil {
			t.Fatalf("100 MB to %s: %v", path, err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := big("/RPC2", "text/xml"); code != 413 {
		t.Errorf("100 MB body to /RPC2: %d, want 413", code)
	}
	if code := big("/api/v1/all/stop", "application/json"); code != 413 {
		t.Errorf("100 MB body to /api/v1: %d, want 413", code)
	}
	back("100 MB bodies")

	// Within the byte cap, too many elements: 2 million empty values.
	empty := xmlCall("system.listMethods", "<value><array><data>"+strings.Repeat("<value></value>", 2_000_000)+"</data></array></value>")
	if code, _, err := rpcPost(client, port, empty); err != nil || code != 413 {
		t.Errorf("30 MB of empty values: %d %v, want 413", code, err)
	}
	back("30 MB of empty values")

	// 10^5-deep XML.
	deep := xmlCall("system.listMethods", strings.Repeat("<value><array><data>", 100_000/3)+"<value>x</value>"+strings.Repeat("</data></array></value>", 100_000/3))
	if code, _, err := rpcPost(client, port, deep); err != nil || code != 400 {
		t.Errorf("10^5-deep XML: %d %v, want 400", code, err)
	}
	back("10^5-deep XML")

	// Defect 4: system.multicall([{'methodName':'supervisor.getAllProcessInfo'}]*100000).
	call := "<value><struct><member><name>methodName</name><value><string>supervisor.getAllProcessInfo</string></value></member></struct></value>"
	multi := func(n int) string {
		return xmlCall("system.multicall", "<value><array><data>"+strings.Repeat(call, n)+"</data></array></value>")
	}
	if code, _, err := rpcPost(client, port, multi(100_000)); err != nil || code != 413 {
		t.Errorf("multicall of 100,000 calls: %d %v, want 413", code, err)
	}
	code, body, err := rpcPost(client, port, multi(10_001))
	if err != nil || code != 200 || !strings.Contains(body, "INCORRECT_PARAMETERS: system.multicall takes at most 10000 calls, not 10001") {
		t.Errorf("multicall of 10,001 calls: %d %v %.200q", code, err, body)
	}
	back("multicalls refused")
	// The most it takes is answered as it runs: a 38 MB answer, streamed.
	start := time.Now()
	code, body, err = rpcPost(client, port, multi(10_000))
	if err != nil || code != 200 || strings.Count(body, "<name>statename</name>") != 30_000 || !strings.HasSuffix(body, "</methodResponse>\n") {
		t.Fatalf("multicall of 10,000 calls: %d %v, %d bytes", code, err, len(body))
	}
	t.Logf("multicall of 10,000 getAllProcessInfo: %d MB answer in %v", len(body)>>20, time.Since(start).Round(time.Millisecond))
	back("multicall of 10,000 calls")
}

// Stream followers reset at once give their descriptors back, and a normal
// client is answered meanwhile.
func TestLimitFollowersResetAtOnce(t *testing.T) {
	port := testutil.FreePort(t)
	d := startDaemon(t, port, "[inet_http_server]\nport=127.0.0.1:{port}\n"+limitRPC+
		"[program:talker]\ncommand=/bin/sh -c 'while :; do echo hello; sleep 0.05; done'\nstdout_logfile=%(dir)s/talker.log\n")
	pid := d.cmd.Process.Pid
	d.waitState(t, "talker", "RUNNING")
	base := countFDs(pid)
	var conns []net.Conn
	paths := []string{"/logtail/talker", "/mainlogtail", "/api/v1/events", "/api/v1/logs/talker/stdout/stream"}
	for i := range 40 {
		c, err := net.Dial("tcp", d.inet())
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", paths[i%len(paths)])
		br := bufio.NewReader(c)
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		if line, err := br.ReadString('\n'); err != nil || !strings.HasPrefix(line, "HTTP/1.1 200") {
			t.Fatalf("%s: %q %v", paths[i%len(paths)], line, err)
		}
		conns = append(conns, c)
	}
	during := countFDs(pid)
	// Reset all at once (RST, not FIN).
	for _, c := range conns {
		_ = c.(*net.TCPConn).SetLinger(0)
		c.Close()
	}
	start := time.Now()
	waitFor(t, "the followers' descriptors to be closed", 5*time.Second, func() bool { return countFDs(pid) <= base })
	t.Logf("fds: %d before, %d with 40 followers, back to %d in %v", base, during, countFDs(pid), time.Since(start).Round(time.Millisecond))
	if code, _, err := rpcPost(&http.Client{Timeout: 5 * time.Second}, port, xmlCall("supervisor.getState")); err != nil || code != 200 {
		t.Fatalf("getState after the resets: %d %v", code, err)
	}
}
