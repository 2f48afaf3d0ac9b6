package ctl

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/gosupervisor/gosupervisor/pkg/xmlrpc"
)

// fakeDaemon answers the few XML-RPC calls status makes, with or without
// our gosupervisor.* methods.
type fakeDaemon struct {
	ext         bool // has gosupervisor.getProcessHealth/getProcessDependencies
	noMulticall bool // system.multicall is unknown
	mu          sync.Mutex
	calls       []string
}

func (d *fakeDaemon) called() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return strings.Join(d.calls, " ")
}

func (d *fakeDaemon) info(name, group string, state int, statename, desc string) xmlrpc.Struct {
	return xmlrpc.Struct{{Name: "name", Value: name}, {Name: "group", Value: group}, {Name: "start", Value: 0},
		{Name: "stop", Value: 0}, {Name: "now", Value: 1700000000}, {Name: "state", Value: state},
		{Name: "statename", Value: statename}, {Name: "spawnerr", Value: ""}, {Name: "exitstatus", Value: 0},
		{Name: "logfile", Value: ""}, {Name: "stdout_logfile", Value: ""}, {Name: "stderr_logfile", Value: ""},
		{Name: "pid", Value: 0}, {Name: "description", Value: desc}}
}

func (d *fakeDaemon) dispatch(method string, params []any) (any, *xmlrpc.Fault) {
	d.mu.Lock()
	d.calls = append(d.calls, method)
	d.mu.Unlock()
	name := ""
	if len(params) > 0 {
		name, _ = params[0].(string)
	}
	switch method {
	case "supervisor.getVersion":
		return "3.0", nil
	case "supervisor.getAllProcessInfo":
		return []any{
			d.info("web", "web", 20, "RUNNING", "pid 42, uptime 0:01:00, unhealthy (3 failures: connection refused)"),
			d.info("w_0", "app", 0, "STOPPED", "waiting for web"),
		}, nil
	case "system.multicall":
		if d.noMulticall {
			break
		}
		var out []any
		for _, c := range params[0].([]any) {
			call := c.(map[string]any)
			v, f := d.dispatch(call["methodName"].(string), call["params"].([]any))
			if f != nil {
				v = xmlrpc.Struct{{Name: "faultCode", Value: f.Code}, {Name: "faultString", Value: f.String}}
			}
			out = append(out, v)
		}
		return out, nil
	case "gosupervisor.getProcessHealth":
		if !d.ext {
			break
		}
		switch name {
		case "web":
			return xmlrpc.Struct{{Name: "name", Value: "web"}, {Name: "group", Value: "web"}, {Name: "checked", Value: true},
				{Name: "kind", Value: "tcp"}, {Name: "target", Value: "127.0.0.1:5432"}, {Name: "status", Value: "unhealthy"},
				{Name: "failures", Value: 3}, {Name: "output", Value: ""}, {Name: "last_error", Value: "connection refused"},
				{Name: "last_check", Value: 1700000123}}, nil
		case "app:w_0":
			return xmlrpc.Struct{{Name: "name", Value: "w_0"}, {Name: "group", Value: "app"}, {Name: "checked", Value: false},
				{Name: "kind", Value: ""}, {Name: "target", Value: ""}, {Name: "status", Value: ""}, {Name: "failures", Value: 0},
				{Name: "output", Value: ""}, {Name: "last_error", Value: ""}, {Name: "last_check", Value: 0}}, nil
		}
		return nil, &xmlrpc.Fault{Code: faultBadName, String: "BAD_NAME: " + name}
	case "gosupervisor.getProcessDependencies":
		if !d.ext {
			break
		}
		switch name {
		case "web":
			return xmlrpc.Struct{{Name: "name", Value: "web"}, {Name: "group", Value: "web"},
				{Name: "depends_on", Value: []any{}}, {Name: "waiting_for", Value: []any{}}}, nil
		case "app:w_0":
			return xmlrpc.Struct{{Name: "name", Value: "w_0"}, {Name: "group", Value: "app"},
				{Name: "depends_on", Value: []any{"web", "cache:*"}}, {Name: "waiting_for", Value: []any{"web"}}}, nil
		}
		return nil, &xmlrpc.Fault{Code: faultBadName, String: "BAD_NAME: " + name}
	}
	return nil, &xmlrpc.Fault{Code: faultUnknownMethod, String: "UNKNOWN_METHOD"}
}

func (d *fakeDaemon) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	method, params, err := xmlrpc.DecodeCall(r.Body, xmlrpc.Limits{})
	if err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	var b bytes.Buffer
	if v, f := d.dispatch(method, params); f != nil {
		_ = xmlrpc.EncodeFault(&b, f.Code, f.String)
	} else if err := xmlrpc.EncodeResponse(&b, v); err != nil {
		http.Error(w, err.Error(), 500)
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	_, _ = w.Write(b.Bytes())
}

// status --json adds health, depends_on and waiting_for from our daemon,
// in one multicall; the plain status is the daemon's text, unchanged.
func TestStatusJSONExtensions(t *testing.T) {
	t.Parallel()
	d := &fakeDaemon{ext: true}
	srv := httptest.NewServer(d)
	defer srv.Close()
	r := runCtl(t, false, "", "-s", srv.URL, "status", "--json")
	var got []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil || len(got) != 2 {
		t.Fatalf("not JSON (%v): %s%s", err, r.stdout, r.stderr)
	}
	wantWeb := map[string]any{"kind": "tcp", "target": "127.0.0.1:5432", "status": "unhealthy", "failures": 3.0,
		"output": "", "last_error": "connection refused", "last_check": 1700000123.0}
	if !reflect.DeepEqual(got[0]["health"], wantWeb) || !reflect.DeepEqual(got[0]["depends_on"], []any{}) ||
		!reflect.DeepEqual(got[0]["waiting_for"], []any{}) {
		t.Errorf("web: %v", got[0])
	}
	if h, ok := got[1]["health"]; !ok || h != nil {
		t.Errorf("w_0 (not checked): health %v (present %v), want null", h, ok)
	}
	if !reflect.DeepEqual(got[1]["depends_on"], []any{"web", "cache:*"}) || !reflect.DeepEqual(got[1]["waiting_for"], []any{"web"}) {
		t.Errorf("w_0: %v", got[1])
	}
	// The original's members come first, in their order.
	if i, j := strings.Index(r.stdout, `"description"`), strings.Index(r.stdout, `"health"`); i < 0 || j < i {
		t.Errorf("member order: %s", r.stdout)
	}
	if r.code != statusNotRunning {
		t.Errorf("exit %d, want %d (w_0 is stopped)", r.code, statusNotRunning)
	}
	if n := strings.Count(d.called(), "system.multicall"); n != 1 {
		t.Errorf("calls %s: want one multicall", d.called())
	}

	// A selection asks only for the selected processes.
	d.mu.Lock()
	d.calls = nil
	d.mu.Unlock()
	r = runCtl(t, false, "", "-s", srv.URL, "status", "--json", "app:*")
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil || len(got) != 1 || got[0]["name"] != "w_0" {
		t.Fatalf("status --json app:*: %v %s", err, r.stdout)
	}
	if n := strings.Count(d.called(), "gosupervisor.getProcessHealth"); n != 1 {
		t.Errorf("calls %s: want health asked for w_0 alone", d.called())
	}

	// The plain status prints the daemon's descriptions, adding nothing.
	plain := runCtl(t, false, "", "-s", srv.URL, "status")
	without := &fakeDaemon{}
	srv2 := httptest.NewServer(without)
	defer srv2.Close()
	plain2 := runCtl(t, false, "", "-s", srv2.URL, "status")
	if plain.stdout != plain2.stdout || !strings.Contains(plain.stdout, "unhealthy (3 failures: connection refused)") ||
		strings.Count(plain.stdout, "\n") != 2 {
		t.Errorf("plain status with extensions:\n%s\nwithout:\n%s", plain.stdout, plain2.stdout)
	}
}

// Against a daemon without our methods (the Python original: each call
// in the multicall is UNKNOWN_METHOD) or without multicall at all, the
// added members are left out and nothing is printed about it.
func TestStatusJSONWithoutExtensions(t *testing.T) {
	t.Parallel()
	for _, d := range []*fakeDaemon{{}, {noMulticall: true}} {
		srv := httptest.NewServer(d)
		r := runCtl(t, false, "", "-s", srv.URL, "status", "--json")
		srv.Close()
		var got []map[string]any
		if err := json.Unmarshal([]byte(r.stdout), &got); err != nil || len(got) != 2 {
			t.Fatalf("not JSON (%v): %s", err, r.stdout)
		}
		for _, p := range got {
			for _, k := range []string{"health", "depends_on", "waiting_for"} {
				if _, ok := p[k]; ok {
					t.Errorf("noMulticall=%v: %v has %q", d.noMulticall, p["name"], k)
				}
			}
			if len(p) != 14 {
				t.Errorf("%v: %d members, want getProcessInfo's 14", p["name"], len(p))
			}
		}
		if r.stderr != "" || r.code != statusNotRunning {
			t.Errorf("noMulticall=%v: stderr %q exit %d", d.noMulticall, r.stderr, r.code)
		}
	}
}
