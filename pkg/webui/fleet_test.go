package webui

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/mux"

	"github.com/gosupervisor/gosupervisor/pkg/access"
	"github.com/gosupervisor/gosupervisor/pkg/config"
	"github.com/gosupervisor/gosupervisor/pkg/fleet"
	"github.com/gosupervisor/gosupervisor/pkg/loglevel"
	"github.com/gosupervisor/gosupervisor/pkg/rpc"
)

// fakeFleet is a FleetSource whose nodes the test sets; Call records the
// calls and answers with answer.
type fakeFleet struct {
	mu     sync.Mutex
	nodes  []fleet.Node
	subs   map[chan struct{}]bool
	calls  []string
	answer func(node, method string) (any, error)
}

func (f *fakeFleet) Snapshot() []fleet.Node {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := slices.Clone(f.nodes)
	for i := range out {
		out[i].Processes = slices.Clone(out[i].Processes)
	}
	return out
}

func (f *fakeFleet) Changed() (<-chan struct{}, func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ch := make(chan struct{}, 1)
	f.subs[ch] = true
	return ch, func() { f.mu.Lock(); delete(f.subs, ch); f.mu.Unlock() }
}

func (f *fakeFleet) Call(_ context.Context, node, method string, args ...any) (any, error) {
	f.mu.Lock()
	f.calls = append(f.calls, fmt.Sprintf("%s %s %v", node, method, args))
	answer := f.answer
	f.mu.Unlock()
	if answer == nil {
		return true, nil
	}
	return answer(node, method)
}

// set changes node i and signals the subscribers.
func (f *fakeFleet) set(i int, change func(n *fleet.Node)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	change(&f.nodes[i])
	for ch := range f.subs {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

func (f *fakeFleet) takeCalls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := f.calls
	f.calls = nil
	return out
}

func newFakeFleet() *fakeFleet {
	return &fakeFleet{subs: map[chan struct{}]bool{}, nodes: []fleet.Node{
		{Name: "py", URL: "http://127.0.0.1:1", State: fleet.Up, Kind: fleet.KindSupervisor, Version: "4.2.5", Supervisor: "RUNNING",
			Processes: []fleet.Process{{Name: "web", Group: "web", Statename: "RUNNING", State: 20, PID: 7, Start: 100, Now: 160, Description: "pid 7, uptime 0:01:00"}}},
		{Name: "go", URL: "http://127.0.0.1:2", State: fleet.Connecting},
	}}
}

// newFleetEnv is newEnv with the console built over a fake fleet, the
// local node named "here".
func newFleetEnv(t *testing.T) (*env, *fakeFleet) {
	t.Helper()
	e := newEnv(t, programs)
	ff := newFakeFleet()
	srv := httptest.NewServer(New(e.sup, rpc.New(e.sup, rpc.Options{}), Options{Fleet: ff, NodeName: "here", Coalesce: 20 * time.Millisecond}))
	t.Cleanup(srv.Close)
	e.srv = srv
	return e, ff
}

func TestFleetAbsentWithoutRemotes(t *testing.T) {
	e := newEnv(t, programs)
	for _, path := range []string{"/api/v1/fleet", "/api/v1/fleet/events", "/static/fleet.js", "/static/fleet.css"} {
		if code := e.do("GET", path, nil, nil); code != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404 as before", path, code)
		}
	}
	if code := e.do("POST", "/api/v1/fleet/x/processes/sleeper/stop", nil, nil); code != http.StatusNotFound {
		t.Errorf("fleet action without a fleet: %d, want 404", code)
	}
	if page := e.body("/"); strings.Contains(page, "fleet") {
		t.Errorf("the page mentions the fleet without [remote:] sections")
	}
}

// body is the answer to GET path.
func (e *env) body(path string) string {
	e.t.Helper()
	resp, err := http.Get(e.srv.URL + path)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return string(b)
}

func TestFleetListAndPage(t *testing.T) {
	e, _ := newFleetEnv(t)
	e.waitState("sleeper", "RUNNING")
	var got fleetJSON
	if code := e.do("GET", "/api/v1/fleet", nil, &got); code != 200 {
		t.Fatalf("GET /api/v1/fleet: %d", code)
	}
	if len(got.Nodes) != 3 {
		t.Fatalf("%d nodes, want the local one and 2 remotes", len(got.Nodes))
	}
	local, py, gon := got.Nodes[0], got.Nodes[1], got.Nodes[2]
	if local.Name != "here" || !local.Local || local.State != fleet.Up || local.Kind != fleet.KindGosupervisor || local.Supervisor != "RUNNING" {
		t.Errorf("local node %+v", local.Node)
	}
	var names []string
	for _, p := range local.Processes {
		names = append(names, p.Group+":"+p.Name+"="+p.Statename)
	}
	if s := strings.Join(names, " "); !strings.Contains(s, "idle:idle=STOPPED") || !strings.Contains(s, "pool:worker_1=") || !strings.Contains(s, "sleeper:sleeper=RUNNING") {
		t.Errorf("local processes %s", s)
	}
	if py.Name != "py" || py.Local || py.Kind != fleet.KindSupervisor || len(py.Processes) != 1 || py.Processes[0].PID != 7 {
		t.Errorf("py node %+v", py)
	}
	if gon.State != fleet.Connecting || gon.Processes == nil {
		t.Errorf("go node %+v: want connecting with an empty list", gon)
	}
	page := e.body("/")
	for _, want := range []string{`id="tab-fleet"`, `<span class="vn">here</span>`, "3 nodes", `src="/static/fleet.js"`, `id="fleet-rows"`} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	if code := e.do("GET", "/static/fleet.js", nil, nil); code != 200 {
		t.Errorf("fleet.js: %d", code)
	}
}

func TestFleetActions(t *testing.T) {
	e, ff := newFleetEnv(t)
	post := func(path string, want int) map[string]any {
		t.Helper()
		var out map[string]any
		if code := e.do("POST", path, nil, &out); code != want {
			t.Fatalf("POST %s: %d %v, want %d", path, code, out, want)
		}
		return out
	}
	post("/api/v1/fleet/py/processes/web/stop", 200)
	post("/api/v1/fleet/py/processes/web/start?wait=false", 200)
	post("/api/v1/fleet/py/groups/pool/restart", 200)
	post("/api/v1/fleet/go/groups/pool/stop", 200)
	want := []string{
		"py supervisor.stopProcess [web true]", "py supervisor.startProcess [web false]",
		"py supervisor.stopProcessGroup [pool true]", "py supervisor.startProcessGroup [pool true]",
		"go supervisor.stopProcessGroup [pool true]",
	}
	if got := ff.takeCalls(); !slices.Equal(got, want) {
		t.Errorf("calls\n%q\nwant\n%q", got, want)
	}

	// restart: a process that is not running is started all the same.
	ff.answer = func(_, method string) (any, error) {
		if method == "supervisor.stopProcess" {
			return nil, &fleet.Fault{Code: 70, String: "NOT_RUNNING: web"}
		}
		return true, nil
	}
	post("/api/v1/fleet/py/processes/web/restart", 200)
	if got := ff.takeCalls(); len(got) != 2 || !strings.Contains(got[1], "startProcess") {
		t.Errorf("restart calls %q", got)
	}
	// A remote fault answers as a local one; stop's NOT_RUNNING is 409.
	var eb errBody
	if code := e.do("POST", "/api/v1/fleet/py/processes/web/stop", nil, &eb); code != 409 || eb.Error.Name != "NOT_RUNNING" || eb.Error.Message != "NOT_RUNNING: web" || eb.Error.Code != 70 {
		t.Errorf("remote fault: %d %+v", code, eb)
	}
	ff.answer = func(string, string) (any, error) { return nil, fmt.Errorf("calling py: %w", fleet.ErrNoNode) }
	if code := e.do("POST", "/api/v1/fleet/nosuch/processes/web/stop", nil, &eb); code != 404 || !strings.Contains(eb.Error.Message, "nosuch") {
		t.Errorf("unknown node: %d %+v", code, eb)
	}
	ff.answer = func(string, string) (any, error) { return nil, errors.New("dial tcp 127.0.0.1:1: connection refused") }
	if code := e.do("POST", "/api/v1/fleet/py/processes/web/stop", nil, &eb); code != 502 || eb.Error.Name != "NODE_FAILED" {
		t.Errorf("dead node: %d %+v", code, eb)
	}
	ff.takeCalls()

	// The local node is the engine, through the console's dispatcher.
	e.waitState("sleeper", "RUNNING")
	post("/api/v1/fleet/here/processes/sleeper/stop", 200)
	e.waitState("sleeper", "STOPPED")
	post("/api/v1/fleet/here/groups/pool/stop", 200)
	e.waitState("pool:worker_0", "STOPPED")
	if code := e.do("POST", "/api/v1/fleet/here/processes/nosuch/start", nil, &eb); code != 404 || eb.Error.Name != "BAD_NAME" {
		t.Errorf("local BAD_NAME: %d %+v", code, eb)
	}
	if got := ff.takeCalls(); len(got) != 0 {
		t.Errorf("local actions reached the fleet: %q", got)
	}
}

func TestFleetEvents(t *testing.T) {
	e, ff := newFleetEnv(t)
	e.waitState("sleeper", "RUNNING")
	st := e.stream("/api/v1/fleet/events", nil)
	nodesOf := func(ev sseEvent) []fleetNodeJSON {
		var f fleetJSON
		if err := json.Unmarshal([]byte(ev.data), &f); err != nil {
			t.Fatalf("%s: %v", ev.data, err)
		}
		return f.Nodes
	}
	sync := st.until(t, 5*time.Second, func(ev sseEvent) bool { return ev.name == "sync" })
	if n := nodesOf(sync); len(n) != 3 || n[0].Name != "here" || n[2].Name != "go" {
		t.Fatalf("sync %s", sync.data)
	}
	// A poll that changes only the times sends nothing; the next real
	// change is the next update, with that node alone.
	ff.set(0, func(n *fleet.Node) {
		n.Updated = time.Now()
		n.Processes[0].Now++
		n.Processes[0].Description = "pid 7, uptime 0:01:01"
	})
	ff.set(1, func(n *fleet.Node) {
		n.State, n.Kind, n.Version = fleet.Up, fleet.KindGosupervisor, "0.2.0"
		n.Processes = []fleet.Process{{Name: "api", Group: "api", Statename: "STOPPED"}}
	})
	up := st.until(t, 5*time.Second, func(ev sseEvent) bool { return ev.name == "update" })
	if n := nodesOf(up); len(n) != 1 || n[0].Name != "go" || n[0].State != fleet.Up || n[0].Processes[0].Name != "api" {
		t.Fatalf("update %s, want the go node alone", up.data)
	}
	ff.set(1, func(n *fleet.Node) { n.State, n.Error = fleet.Unreachable, "connection refused" })
	up = st.until(t, 5*time.Second, func(ev sseEvent) bool { return ev.name == "update" })
	if n := nodesOf(up); len(n) != 1 || n[0].State != fleet.Unreachable || len(n[0].Processes) != 1 {
		t.Fatalf("update %s, want go unreachable with its last processes", up.data)
	}
	// A local state change comes from the engine's events.
	e.do("POST", "/api/v1/processes/sleeper/stop", nil, nil)
	st.until(t, 5*time.Second, func(ev sseEvent) bool {
		if ev.name != "update" {
			return false
		}
		for _, n := range nodesOf(ev) {
			for _, p := range n.Processes {
				if n.Local && p.Name == "sleeper" && p.Statename == "STOPPED" {
					return true
				}
			}
		}
		return false
	})
}

// TestFleetRouteRoles: every route of a console with a fleet has a role,
// reads readonly and actions operator.
func TestFleetRouteRoles(t *testing.T) {
	e, _ := newFleetEnv(t)
	r, ok := New(e.sup, rpc.New(e.sup, rpc.Options{}), Options{Fleet: newFakeFleet()}).(*mux.Router)
	if !ok {
		t.Fatal("the console is not a *mux.Router")
	}
	var fleetRoutes int
	err := r.Walk(func(route *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		tpl, err := route.GetPathTemplate()
		if err != nil || route.GetHandler() == nil {
			return nil
		}
		role, ok := routeRoles[tpl]
		if !ok {
			t.Errorf("route %s has no role", tpl)
		}
		if strings.HasPrefix(tpl, "/api/v1/fleet") {
			fleetRoutes++
			want := routeRoles["/api/v1/fleet"]
			if strings.Contains(tpl, "{action") {
				want = routeRoles["/api/v1/processes/{ns}/{action:start|stop|restart|signal|clear}"]
			}
			if role != want {
				t.Errorf("route %s needs %s, want %s", tpl, role, want)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if fleetRoutes != 4 {
		t.Errorf("%d fleet routes, want 4", fleetRoutes)
	}
}

// TestFleetLocalNameClash: a remote named like the host leaves the local
// node a name of its own, so that actions reach the right daemon.
func TestFleetLocalNameClash(t *testing.T) {
	ff := newFakeFleet()
	if got := localName(Options{Fleet: ff, NodeName: "py"}); got != "py (local)" {
		t.Errorf("local name %q beside a remote py", got)
	}
	if got := localName(Options{Fleet: ff, NodeName: "here"}); got != "here" {
		t.Errorf("local name %q", got)
	}
}

// auditLog keeps the main-log lines the console writes.
type auditLog struct {
	mu    sync.Mutex
	lines []string
}

func (a *auditLog) Log(_ loglevel.Level, msg string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.lines = append(a.lines, msg)
}

// TestFleetActionsAudited: an action proxied to another node is an audit
// line here (the node itself sees only this daemon's credentials).
func TestFleetActionsAudited(t *testing.T) {
	e := newEnv(t, programs)
	ff := newFakeFleet()
	ui := New(e.sup, rpc.New(e.sup, rpc.Options{}), Options{Fleet: ff, NodeName: "here"})
	log := &auditLog{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := &access.Principal{User: "alice", Role: config.RoleOperator, Peer: "127.0.0.1:51234", Log: log}
		ui.ServeHTTP(w, r.WithContext(access.With(r.Context(), p)))
	}))
	t.Cleanup(srv.Close)
	e.srv = srv
	if code := e.do("POST", "/api/v1/fleet/py/processes/web/stop", nil, nil); code != 200 {
		t.Fatalf("stop on py: %d", code)
	}
	want := "audit: 'alice' from 127.0.0.1:51234 supervisor.stopProcess('web', True) on node 'py'"
	log.mu.Lock()
	defer log.mu.Unlock()
	if !slices.Contains(log.lines, want) {
		t.Errorf("main log %q, want a line %q", log.lines, want)
	}
}
