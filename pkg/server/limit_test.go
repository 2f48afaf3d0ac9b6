package server

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gosupervisor/gosupervisor/internal/testutil"
)

// guarded runs the servers of a real engine with short limits.
func guarded(t *testing.T, g Guard) (*engine, *Servers, int) {
	t.Helper()
	port := testutil.FreePort(t)
	e := newEngine(t, fmt.Sprintf("[inet_http_server]\nport=127.0.0.1:%d\n", port)+rpcSection)
	s, err := Start(e.cfg, e.sup, e.log, Options{Poll: 20 * time.Millisecond, Guard: g, Stderr: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return e, s, port
}

func limiterOf(t *testing.T, s *Servers) *connLimiter {
	t.Helper()
	l, ok := s.servers[0].ln.(*connLimiter)
	if !ok {
		t.Fatalf("listener is a %T", s.servers[0].ln)
	}
	return l
}

func mainLogText(t *testing.T, e *engine) string {
	t.Helper()
	data, err := os.ReadFile(e.logPath)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// Half-open connections (headers never finished) are closed at
// ReadHeaderTimeout while a normal client keeps getting answers.
func TestLimitSlowlorisHeaders(t *testing.T) {
	_, s, port := guarded(t, Guard{ReadHeaderTimeout: time.Second})
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	const n = 300
	var closed atomic.Int64
	start := time.Now()
	for range n {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_, _ = io.WriteString(c, "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
		go func() {
			_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
			_, _ = io.Copy(io.Discard, c)
			closed.Add(1)
		}()
	}
	client := &http.Client{Timeout: 2 * time.Second}
	for closed.Load() < n {
		if time.Since(start) > 8*time.Second {
			t.Fatalf("%d of %d half-open connections closed after 8 s", closed.Load(), n)
		}
		code, _, err := rpcPost(client, port, xmlCall("supervisor.getState"))
		if err != nil || code != 200 {
			t.Fatalf("normal client during the slowloris: %d %v", code, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if d := time.Since(start); d < 900*time.Millisecond {
		t.Errorf("half-open connections closed after %v, before the header timeout", d)
	}
	client.CloseIdleConnections()
	waitFor(t, "the count to drop", 2*time.Second, func() bool { return limiterOf(t, s).open() == 0 })
}

// At the cap, a new connection takes the place of the oldest idle or
// incomplete one; with every connection busy it gets a short 503. Both are
// one WARN per burst.
func TestLimitConnectionCap(t *testing.T) {
	e, s, port := guarded(t, Guard{MaxConns: 4})
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	l := limiterOf(t, s)
	if l.max != 4 {
		t.Fatalf("cap %d, want 4", l.max)
	}
	// Four incomplete requests: the cap is reached...
	var idle []net.Conn
	for range 4 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_, _ = io.WriteString(c, "GET / HTTP/1.1\r\n")
		idle = append(idle, c)
	}
	waitFor(t, "4 connections counted", 2*time.Second, func() bool { return l.open() == 4 })
	// ...and a normal client is still answered: the oldest is closed.
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	for range 3 {
		if code, _, err := rpcPost(client, port, xmlCall("supervisor.getState")); err != nil || code != 200 {
			t.Fatalf("call at the cap: %d %v", code, err)
		}
	}
	_ = idle[0].SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := idle[0].Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("oldest incomplete connection: %v, want closed", err)
	}
	// Four busy connections (log streams): the next one gets a 503.
	for _, c := range idle {
		c.Close()
	}
	waitFor(t, "the idle ones gone", 2*time.Second, func() bool { return l.open() == 0 })
	for range 4 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_, _ = io.WriteString(c, "GET /mainlogtail HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
		_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
		if line, err := bufio.NewReader(c).ReadString('\n'); err != nil || !strings.HasPrefix(line, "HTTP/1.1 200") {
			t.Fatalf("stream: %q %v", line, err)
		}
	}
	resp, err := client.Get(fmt.Sprintf("http://%s/ok.html", addr))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 503 || string(body) != "too many connections" {
		t.Errorf("over the cap with all busy: %d %q", resp.StatusCode, body)
	}
	log := mainLogText(t, e)
	if n := strings.Count(log, "WARN server 'inet_http_server' has 4 connections open, its limit"); n != 1 {
		t.Errorf("%d WARN lines for one burst:\n%s", n, log)
	}
}

// An authenticated body at 1 byte per 300 ms is timed out (408); a body
// that comes fast enough is not, nor is a call that waits after its body.
func TestLimitSlowBody(t *testing.T) {
	_, _, port := guarded(t, Guard{BodyTimeout: time.Second, BodyMinRate: 1 << 20})
	body := xmlCall("supervisor.getState")
	c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "POST /RPC2 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/xml\r\nContent-Length: %d\r\n\r\n", len(body))
	start := time.Now()
	go func() {
		for i := range len(body) {
			if _, err := c.Write([]byte{body[i]}); err != nil {
				return
			}
			time.Sleep(300 * time.Millisecond)
		}
	}()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "HTTP/1.1 408") {
		t.Fatalf("slow body: %q %v after %v", line, err, time.Since(start))
	}
	if d := time.Since(start); d < 900*time.Millisecond || d > 3*time.Second {
		t.Errorf("slow body answered after %v, want about 1 s", d)
	}
	// The same to /api/v1.
	c2, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	fmt.Fprintf(c2, "POST /api/v1/all/clear HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
	_ = c2.SetReadDeadline(time.Now().Add(5 * time.Second))
	if line, err := bufio.NewReader(c2).ReadString('\n'); err != nil || !strings.HasPrefix(line, "HTTP/1.1 408") {
		t.Fatalf("slow /api/v1 body: %q %v", line, err)
	}
	// A normal call whose handling outlasts the body deadline is not cut.
	resp, err := http.Post(fmt.Sprintf("http://127.0.0.1:%d/RPC2", port), "text/xml",
		strings.NewReader(xmlCall("supervisor.getState")))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("normal call: %v %v", resp, err)
	}
	resp.Body.Close()
}

// Bodies over the cap outside /RPC2 are refused with 413, under it they
// reach the handler.
func TestLimitAPIBody(t *testing.T) {
	_, _, port := guarded(t, Guard{MaxBodyBytes: 1000})
	post := func(n int, chunked bool) int {
		t.Helper()
		var rd io.Reader = strings.NewReader(`{"wait": false}` + strings.Repeat(" ", n))
		if chunked {
			rd = io.MultiReader(rd) // unknown length: sent chunked
		}
		req, _ := http.NewRequest(http.MethodPost, fmt.Sprintf("http://127.0.0.1:%d/api/v1/all/clear", port), rd)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post(2000, false); code != 413 {
		t.Errorf("2 kB body: %d, want 413", code)
	}
	if code := post(2000, true); code != 413 {
		t.Errorf("2 kB chunked body: %d, want 413", code)
	}
	if code := post(10, true); code == 413 || code == 408 {
		t.Errorf("small body: %d", code)
	}
}

// A follower that stops reading is dropped after StallTimeout: it holds no
// connection (nor goroutine, nor buffer) for good.
func TestLimitStalledFollower(t *testing.T) {
	e, s, port := guarded(t, Guard{StallTimeout: 500 * time.Millisecond})
	c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.(*net.TCPConn).SetReadBuffer(4096)
	_, _ = io.WriteString(c, "GET /mainlogtail HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
	l := limiterOf(t, s)
	waitFor(t, "the stream to be counted", 2*time.Second, func() bool { return l.open() == 1 })
	// Fill the main log far beyond what the socket buffers hold; the
	// client reads nothing.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		line := strings.Repeat("x", 1000)
		for ctx.Err() == nil {
			e.log.Info(line)
			time.Sleep(100 * time.Microsecond)
		}
	}()
	waitFor(t, "the stalled follower to be dropped", 10*time.Second, func() bool { return l.open() == 0 })
}
