package server

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gosupervisor/gosupervisor/internal/testutil"
)

// TestManyClients (issue 18, "what held"): 50 XML-RPC clients on their own
// keep-alive connections call a mix of getAllProcessInfo, getState,
// readLog and tailProcessStdoutLog against a real daemon on 127.0.0.1
// for 10 s while a program writes its log; every call is answered
// with a methodResponse that is not a fault.
func TestManyClients(t *testing.T) {
	if testing.Short() {
		t.Skip("10 s of load")
	}
	port := testutil.FreePort(t)
	d := startDaemon(t, port, rpcSection+`
[inet_http_server]
port=127.0.0.1:{port}

[program:chatty]
command=/bin/sh -c 'i=0; while :; do i=$((i+1)); echo "line $i"; done'
stdout_logfile=%(dir)s/chatty.out
stdout_logfile_maxbytes=1MB
stdout_logfile_backups=1

[program:idle]
command=/bin/sleep 1000
`)
	d.waitState(t, "chatty", "RUNNING")
	d.waitState(t, "idle", "RUNNING")

	calls := []struct{ name, body, want string }{
		{"getAllProcessInfo", rpcCall("supervisor.getAllProcessInfo"), "<string>chatty</string>"},
		{"getState", rpcCall("supervisor.getState"), "RUNNING"},
		{"readLog", rpcWith("supervisor.readLog", []string{"<int>0</int>", "<int>2000</int>"}), "<string>"},
		// The log can be empty just after a rotation: any tail answer.
		{"tailProcessStdoutLog", rpcWith("supervisor.tailProcessStdoutLog",
			[]string{"<string>chatty</string>", "<int>0</int>", "<int>2000</int>"}), "<boolean>"},
	}
	const clients = 50
	const run = 10 * time.Second
	var total, failed atomic.Int64
	var mu sync.Mutex
	var errs []string
	fail := func(msg string) {
		failed.Add(1)
		mu.Lock()
		if len(errs) < 10 {
			errs = append(errs, msg)
		}
		mu.Unlock()
	}
	var wg sync.WaitGroup
	start := time.Now()
	stop := start.Add(run)
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			tr := &http.Transport{MaxIdleConnsPerHost: 1}
			defer tr.CloseIdleConnections()
			cl := &http.Client{Transport: tr, Timeout: 5 * time.Second}
			for i := c; time.Now().Before(stop); i++ {
				call := calls[i%len(calls)]
				resp, err := cl.Post(d.url("/RPC2"), "text/xml", strings.NewReader(call.body))
				if err != nil {
					fail(fmt.Sprintf("client %d %s: %v", c, call.name, err))
					continue
				}
				b, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				total.Add(1)
				switch {
				case err != nil:
					fail(fmt.Sprintf("client %d %s: reading: %v", c, call.name, err))
				case resp.StatusCode != 200 || !strings.Contains(string(b), "<methodResponse>") ||
					strings.Contains(string(b), "<fault>") || !strings.Contains(string(b), call.want):
					fail(fmt.Sprintf("client %d %s: %d %.300q", c, call.name, resp.StatusCode, b))
				}
			}
		}(c)
	}
	wg.Wait()
	took := time.Since(start)
	n := total.Load()
	t.Logf("%d clients: %d calls in %v (%.0f calls/s), %d errors", clients, n, took.Round(time.Millisecond),
		float64(n)/took.Seconds(), failed.Load())
	if failed.Load() != 0 {
		t.Fatalf("%d failed calls, first ones:\n%s", failed.Load(), strings.Join(errs, "\n"))
	}
	if n < clients*10 {
		t.Fatalf("only %d calls in %v", n, took)
	}
	select {
	case <-d.exited:
		t.Fatalf("daemon exited: %v\n%s", d.err, d.stderr)
	default:
	}
	d.waitState(t, "chatty", "RUNNING")
}
