package webui

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gosupervisor/gosupervisor/pkg/config"
	"github.com/gosupervisor/gosupervisor/pkg/logfile"
	"github.com/gosupervisor/gosupervisor/pkg/loglevel"
	"github.com/gosupervisor/gosupervisor/pkg/rpc"
	"github.com/gosupervisor/gosupervisor/pkg/spawn"
	"github.com/gosupervisor/gosupervisor/pkg/supervisor"
)

// This test process runs a Reaper, so it must not use os/exec.
func TestMain(m *testing.M) {
	spawn.ShimMain()
	signal.Ignore(spawn.IgnoredSignals()...)
	os.Exit(m.Run())
}

type nopLog struct{}

func (nopLog) Log(loglevel.Level, string)  {}
func (nopLog) Enabled(loglevel.Level) bool { return false }

// sharedReaper: only one wait4 caller per process.
var sharedReaper = sync.OnceValues(func() (*spawn.Reaper, error) {
	r, err := spawn.NewReaper()
	if err != nil {
		return nil, err
	}
	go r.Run(context.Background())
	return r, nil
})

// env is a running Supervisor with the console served on a real socket.
type env struct {
	t       *testing.T
	dir     string
	conf    string
	sup     *supervisor.Supervisor
	srv     *httptest.Server
	mainLog *logfile.Ring
}

const confHead = "[supervisord]\nlogfile=%[1]s/sd.log\npidfile=%[1]s/sd.pid\nchildlogdir=%[1]s\n\n"

func newEnv(t *testing.T, programs string) *env {
	t.Helper()
	return newEnvWith(t, programs, nil)
}

// newEnvWith is newEnv with the engine's options adjusted by tune (if not
// nil), e.g. fake health checks.
func newEnvWith(t *testing.T, programs string, tune func(*supervisor.Options)) *env {
	t.Helper()
	dir := t.TempDir()
	e := &env{t: t, dir: dir, conf: filepath.Join(dir, "supervisord.conf"), mainLog: logfile.NewRing(1 << 16)}
	e.writeConf(programs)
	cfg, err := config.Load(e.conf, config.Options{})
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	reaper, err := sharedReaper()
	if err != nil {
		t.Fatal(err)
	}
	opts := supervisor.Options{Config: cfg, Log: nopLog{}, Reaper: reaper, MainLogRing: e.mainLog}
	if tune != nil {
		tune(&opts)
	}
	e.sup, err = supervisor.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.sup.Run(ctx) }()
	e.srv = httptest.NewServer(New(e.sup, rpc.New(e.sup, rpc.Options{}), Options{StatsEvery: 200 * time.Millisecond}))
	t.Cleanup(func() {
		// Streams end when the supervisor stops; stop it first so that
		// Close does not wait for them.
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Errorf("supervisor did not stop")
		}
		e.srv.Close()
	})
	return e
}

func (e *env) writeConf(programs string) {
	e.t.Helper()
	if err := os.WriteFile(e.conf, []byte(fmt.Sprintf(confHead, e.dir)+programs), 0o644); err != nil {
		e.t.Fatal(err)
	}
}

// do sends a request and decodes a JSON answer into out (if not nil).
func (e *env) do(method, path string, hdr http.Header, out any) int {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	if out != nil {
		if err := json.Unmarshal(body, out); err != nil {
			e.t.Fatalf("%s %s: %d %q: %v", method, path, resp.StatusCode, body, err)
		}
	}
	return resp.StatusCode
}

func (e *env) proc(ns string) procJSON {
	e.t.Helper()
	var p procJSON
	if code := e.do("GET", "/api/v1/processes/"+ns, nil, &p); code != 200 {
		e.t.Fatalf("GET %s: %d", ns, code)
	}
	return p
}

func (e *env) waitState(ns, state string) procJSON {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		p := e.proc(ns)
		if p.StateName == state {
			return p
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("%s is %s, want %s", ns, p.StateName, state)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// sseReader reads events from a stream.
type sseReader struct {
	resp *http.Response
	sc   *bufio.Scanner
}

type sseEvent struct{ id, name, data string }

func (e *env) stream(path string, hdr http.Header) *sseReader {
	e.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, "GET", e.srv.URL+path, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		e.t.Fatalf("GET %s: %d %s", path, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	e.t.Cleanup(func() { cancel(); resp.Body.Close() })
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 4<<20)
	return &sseReader{resp: resp, sc: sc}
}

// next returns the next event (comments and retry lines skipped).
func (r *sseReader) next() (sseEvent, error) {
	var ev sseEvent
	for r.sc.Scan() {
		line := r.sc.Text()
		switch {
		case line == "":
			if ev.name != "" {
				return ev, nil
			}
		case strings.HasPrefix(line, "id: "):
			ev.id = line[4:]
		case strings.HasPrefix(line, "event: "):
			ev.name = line[7:]
		case strings.HasPrefix(line, "data: "):
			ev.data = line[6:]
		}
	}
	if err := r.sc.Err(); err != nil {
		return ev, err
	}
	return ev, io.EOF
}

// until reads events until match accepts one or the deadline passes.
func (r *sseReader) until(t *testing.T, within time.Duration, match func(sseEvent) bool) sseEvent {
	t.Helper()
	type res struct {
		ev  sseEvent
		err error
	}
	got := make(chan res, 1)
	go func() {
		for {
			ev, err := r.next()
			if err != nil || match(ev) {
				got <- res{ev, err}
				return
			}
		}
	}()
	select {
	case x := <-got:
		if x.err != nil {
			t.Fatalf("stream ended: %v", x.err)
		}
		return x.ev
	case <-time.After(within):
		r.resp.Body.Close()
		<-got
		t.Fatalf("no matching event within %s", within)
	}
	return sseEvent{}
}
