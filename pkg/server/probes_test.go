package server

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gosupervisor/gosupervisor/pkg/config"
	"github.com/gosupervisor/gosupervisor/pkg/rpc"
)

// fakeExt stands in for the engine's extensions (rpc.ExtBackend).
type fakeExt struct {
	mu       sync.Mutex
	notReady []rpc.NotReady
	health   map[string]rpc.Health
	waiting  map[string]rpc.Waiting
}

func (f *fakeExt) ProcessHealth(ns string) (rpc.Health, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	g, p := rpc.SplitNamespec(ns)
	if h, ok := f.health[rpc.MakeNamespec(g, p)]; ok {
		return h, nil
	}
	return rpc.Health{Name: p, Group: g}, nil
}

func (f *fakeExt) ProcessWaiting(ns string) (rpc.Waiting, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	g, p := rpc.SplitNamespec(ns)
	if w, ok := f.waiting[rpc.MakeNamespec(g, p)]; ok {
		return w, nil
	}
	return rpc.Waiting{Name: p, Group: g}, nil
}

func (f *fakeExt) Readiness() []rpc.NotReady {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]rpc.NotReady(nil), f.notReady...)
}

func (f *fakeExt) set(nr ...rpc.NotReady) {
	f.mu.Lock()
	f.notReady = nr
	f.mu.Unlock()
}

func (e *engine) handlerWith(sc config.HTTPServer, opts Options) http.Handler {
	opts.Poll = 20 * time.Millisecond
	return Handler(e.sup, e.log, sc, opts)
}

func TestHealthz(t *testing.T) {
	e := newEngine(t, progConf)
	for _, h := range []http.Handler{
		e.handler(config.HTTPServer{Section: "unix_http_server", Unix: true}),
		e.handlerWith(config.HTTPServer{Section: "unix_http_server", Unix: true}, Options{Ext: &fakeExt{}}),
	} {
		rec := do(h, "GET", "/healthz", "", nil)
		if rec.Code != 200 || rec.Body.String() != `{"status":"ok"}`+"\n" {
			t.Errorf("GET /healthz: %d %q", rec.Code, rec.Body.String())
		}
		hd := rec.Header()
		if hd.Get("Content-Type") != "application/json" || hd.Get("Cache-Control") != "no-store" ||
			hd.Get("Server") != "Medusa/1.12" || hd.Get("Content-Length") != strconv.Itoa(rec.Body.Len()) {
			t.Errorf("GET /healthz headers %v", hd)
		}
		if rec := do(h, "HEAD", "/healthz", "", nil); rec.Code != 200 || rec.Body.Len() != 0 {
			t.Errorf("HEAD /healthz: %d %q", rec.Code, rec.Body.String())
		}
		// Other methods and neighbouring paths are the console's, as before.
		for _, c := range [][2]string{{"POST", "/healthz"}, {"GET", "/healthz/"}, {"GET", "/healthzx"}, {"GET", "/healthz.html"}} {
			if rec := do(h, c[0], c[1], "", nil); rec.Code == 200 || strings.Contains(rec.Body.String(), `"status":"ok"`) {
				t.Errorf("%s %s: %d %q, want the console's answer", c[0], c[1], rec.Code, rec.Body.String())
			}
		}
		// The original's routes are untouched.
		if rec := do(h, "GET", "/ok.html", "", nil); rec.Code != 200 {
			t.Errorf("GET /ok.html: %d", rec.Code)
		}
	}
}

func readyz(t *testing.T, h http.Handler, hdr map[string]string) (int, map[string]any, string) {
	t.Helper()
	rec := do(h, "GET", "/readyz", "", hdr)
	var body map[string]any
	if rec.Code == 200 || rec.Code == 503 {
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			t.Fatalf("/readyz body %q: %v", rec.Body.String(), err)
		}
		if rec.Header().Get("Content-Type") != "application/json" {
			t.Errorf("/readyz Content-Type %q", rec.Header().Get("Content-Type"))
		}
	}
	return rec.Code, body, rec.Body.String()
}

func TestReadyz(t *testing.T) {
	e := newEngine(t, progConf)
	ext := &fakeExt{}
	h := e.handlerWith(config.HTTPServer{Section: "unix_http_server", Unix: true}, Options{Ext: ext})
	code, _, raw := readyz(t, h, nil)
	if code != 200 || raw != `{"ready":true,"not_ready":[]}`+"\n" {
		t.Errorf("ready: %d %q", code, raw)
	}
	ext.set(rpc.NotReady{Name: "db", Group: "db", State: "RUNNING", Health: "unhealthy"},
		rpc.NotReady{Name: "web_0", Group: "web", State: "STARTING"})
	code, _, raw = readyz(t, h, nil)
	want := `{"ready":false,"not_ready":[{"name":"db","group":"db","statename":"RUNNING","health":"unhealthy"},` +
		`{"name":"web_0","group":"web","statename":"STARTING","health":null}]}` + "\n"
	if code != 503 || raw != want {
		t.Errorf("not ready: %d %q\nwant %q", code, raw, want)
	}
	if rec := do(h, "HEAD", "/readyz", "", nil); rec.Code != 503 || rec.Body.Len() != 0 {
		t.Errorf("HEAD /readyz: %d %q", rec.Code, rec.Body.String())
	}
	if rec := do(h, "POST", "/readyz", "", nil); rec.Code == 503 || rec.Code == 200 {
		t.Errorf("POST /readyz: %d, want the console's answer", rec.Code)
	}

	// Shutting down: not ready whatever the processes do, and it says why.
	ext.set()
	e.sup.Shutdown()
	waitFor(t, "SHUTDOWN", 5*time.Second, func() bool { c, _ := e.sup.State(); return c < rpc.StateRunning })
	code, _, raw = readyz(t, h, nil)
	if code != 503 || raw != `{"ready":false,"statename":"SHUTDOWN","not_ready":[]}`+"\n" {
		t.Errorf("shutting down: %d %q", code, raw)
	}
	// /healthz still answers while the daemon serves.
	if rec := do(h, "GET", "/healthz", "", nil); rec.Code != 200 {
		t.Errorf("/healthz while shutting down: %d", rec.Code)
	}
}

// With the real engine: /readyz exists once the engine implements
// rpc.ExtBackend (every program here is autostart=false, so it is ready);
// until then the path is the console's, as any unknown one.
func TestReadyzRealEngine(t *testing.T) {
	e := newEngine(t, progConf)
	h := e.handler(config.HTTPServer{Section: "unix_http_server", Unix: true})
	code, _, raw := readyz(t, h, nil)
	if _, ok := any(e.sup).(rpc.ExtBackend); ok {
		if code != 200 || raw != `{"ready":true,"not_ready":[]}`+"\n" {
			t.Errorf("engine with ExtBackend: /readyz %d %q", code, raw)
		}
	} else if code != 404 {
		t.Errorf("engine without ExtBackend: /readyz %d %q, want 404", code, raw)
	}
}

// The probes are behind the server's authentication like every path,
// unless the section sets probes_public.
func TestProbesAuth(t *testing.T) {
	e := newEngine(t, progConf)
	authed := config.HTTPServer{Section: "inet_http_server", Name: "", Username: "user", Password: "123", HasAuth: true}
	other := config.HTTPServer{Section: "inet_http_server:b", Name: "b", Username: "user", Password: "123", HasAuth: true}
	opts := Options{Ext: &fakeExt{}}
	closed := e.handlerWith(authed, opts)
	pub := authed
	pub.ProbesPublic = true
	public := e.handlerWith(pub, opts)
	notPublic := e.handlerWith(other, opts)
	for _, p := range []string{"/healthz", "/readyz"} {
		for _, h := range []http.Handler{closed, notPublic} {
			if rec := do(h, "GET", p, "", nil); rec.Code != 401 {
				t.Errorf("GET %s without credentials: %d, want 401", p, rec.Code)
			}
			if rec := do(h, "GET", p, "", basic("user", "123")); rec.Code != 200 {
				t.Errorf("GET %s with credentials: %d", p, rec.Code)
			}
		}
		for _, hdr := range []map[string]string{nil, basic("user", "123"), basic("user", "wrong")} {
			if rec := do(public, "GET", p, "", hdr); rec.Code != 200 || rec.Header().Get("Server") != "Medusa/1.12" {
				t.Errorf("probes_public: GET %s (%v): %d", p, hdr, rec.Code)
			}
		}
	}
	// Only the probes: everything else still needs credentials.
	for _, c := range [][2]string{{"GET", "/"}, {"GET", "/ok.html"}, {"POST", "/RPC2"}, {"POST", "/healthz"},
		{"GET", "/healthz/"}, {"GET", "/api/v1/processes"}, {"GET", "/logtail/prog"}} {
		if rec := do(public, c[0], c[1], "", nil); rec.Code != 401 {
			t.Errorf("probes_public: %s %s without credentials: %d, want 401", c[0], c[1], rec.Code)
		}
	}
}

// Options.Ext reaches /RPC2's gosupervisor.* methods too.
func TestExtOverRPC2(t *testing.T) {
	e := newEngine(t, progConf)
	ext := &fakeExt{health: map[string]rpc.Health{"prog": {Name: "prog", Group: "prog", Checked: true, Kind: "http",
		Target: "http://127.0.0.1:1/", Status: "healthy", LastCheck: time.Unix(1700000000, 0)}}}
	ext.set(rpc.NotReady{Name: "prog", Group: "prog", State: "STOPPED"})
	h := e.handlerWith(config.HTTPServer{Section: "unix_http_server", Unix: true}, Options{Ext: ext, ListExtensions: true})
	call := func(method string, params string) string {
		body := "<?xml version='1.0'?>\n<methodCall><methodName>" + method + "</methodName><params>" + params + "</params></methodCall>\n"
		rec := do(h, "POST", "/RPC2", body, map[string]string{"Content-Length": strconv.Itoa(len(body))})
		if rec.Code != 200 {
			t.Fatalf("%s: HTTP %d", method, rec.Code)
		}
		return strings.ReplaceAll(rec.Body.String(), "\n", "")
	}
	str := func(s string) string { return "<param><value><string>" + s + "</string></value></param>" }
	for _, c := range []struct{ method, params, want string }{
		{"gosupervisor.getProcessHealth", str("prog"), "<name>status</name><value><string>healthy</string></value>"},
		{"gosupervisor.getProcessHealth", str("nosuch"), "<string>BAD_NAME: nosuch</string>"},
		{"gosupervisor.getProcessDependencies", str("nolog"), "<name>waiting_for</name><value><array><data></data></array></value>"},
		{"gosupervisor.getReadiness", "", "<name>statename</name><value><string>STOPPED</string></value>"},
		{"system.listMethods", "", "<string>gosupervisor.getReadiness</string>"},
	} {
		if got := call(c.method, c.params); !strings.Contains(got, c.want) {
			t.Errorf("%s(%s) = %s, lacks %s", c.method, c.params, got, c.want)
		}
	}
}
