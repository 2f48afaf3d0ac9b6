package extensions_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gosupervisor/gosupervisor/internal/testutil"
)

// /healthz and /readyz on a real daemon whose inet server has a username
// and password: /readyz is 503 with what is not ready while a checked
// program starts, 200 once it is healthy; both need the credentials unless
// probes_public=true, which exempts nothing else.
func TestProbes(t *testing.T) {
	t.Parallel()
	for _, public := range []bool{false, true} {
		t.Run(fmt.Sprintf("probes_public=%v", public), func(t *testing.T) {
			t.Parallel()
			testProbes(t, public)
		})
	}
}

func testProbes(t *testing.T, public bool) {
	e := newEnv(t)
	port, dbPort := testutil.FreePort(t), testutil.FreePort(t)
	e.write("", fmt.Sprintf(`[inet_http_server]
port=127.0.0.1:%d
username=user
password=secret
probes_public=%v

[program:db]
%s
startsecs=0
healthcheck=tcp://127.0.0.1:%d
healthcheck_interval=1
healthcheck_timeout=1
healthcheck_start_period=10

[program:plain]
command=sleep 1000
startsecs=1

[program:manual]
command=sleep 1000
autostart=false
`, port, public, helperProgram("tcp", strconv.Itoa(dbPort), "2s"), dbPort))
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	d := e.startDaemon()

	get := func(path string, auth bool) (int, string, http.Header) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, base+path, nil)
		if auth {
			req.SetBasicAuth("user", "secret")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), resp.Header
	}

	// While db is RUNNING but not yet healthy (its listener comes up
	// after 2 s), and plain is STARTING, /readyz says so.
	type notReady struct {
		Name, Group, Statename string
		Health                 *string
	}
	var snapshots []string
	sawDBStarting := false
	if !waitUntil(20*time.Second, func() bool {
		code, body, h := get("/readyz", true)
		var r struct {
			Ready    bool       `json:"ready"`
			NotReady []notReady `json:"not_ready"`
		}
		if err := json.Unmarshal([]byte(body), &r); err != nil {
			t.Fatalf("/readyz: %d %q: %v", code, body, err)
		}
		if ct := h.Get("Content-Type"); ct != "application/json" {
			t.Errorf("/readyz Content-Type %q", ct)
		}
		if code == http.StatusOK {
			if body != `{"ready":true,"not_ready":[]}`+"\n" {
				t.Errorf("/readyz 200 body %q", body)
			}
			return true
		}
		if code != http.StatusServiceUnavailable || r.Ready || len(r.NotReady) == 0 {
			t.Errorf("/readyz: %d %q, want 503 naming what is not ready", code, body)
		}
		if len(snapshots) == 0 || snapshots[len(snapshots)-1] != body {
			snapshots = append(snapshots, body)
		}
		for _, n := range r.NotReady {
			switch n.Name {
			case "db":
				if n.Group != "db" || n.Health == nil || *n.Health != "starting" ||
					(n.Statename != "RUNNING" && n.Statename != "STARTING") {
					t.Errorf("/readyz lists db as %+v", n)
				}
				sawDBStarting = sawDBStarting || n.Statename == "RUNNING"
			case "plain":
				if n.Health != nil || n.Statename != "STARTING" {
					t.Errorf("/readyz lists plain as %+v", n)
				}
			default:
				t.Errorf("/readyz lists %+v (manual is not autostart)", n)
			}
		}
		return false
	}) {
		t.Fatalf("/readyz never 200; bodies seen: %q", snapshots)
	}
	if !sawDBStarting {
		t.Errorf("/readyz never listed db RUNNING with health starting; bodies seen: %q", snapshots)
	}
	if d.count(`INFO health: db is healthy`) != 1 {
		t.Errorf("/readyz was 200 before db was healthy")
	}

	if code, body, _ := get("/healthz", true); code != http.StatusOK || body != `{"status":"ok"}`+"\n" {
		t.Errorf("/healthz with credentials: %d %q", code, body)
	}
	for _, path := range []string{"/healthz", "/readyz"} {
		code, body, _ := get(path, false)
		switch {
		case public && code != http.StatusOK:
			t.Errorf("probes_public: %s without credentials: %d %q, want 200", path, code, body)
		case !public && code != http.StatusUnauthorized:
			t.Errorf("%s without credentials: %d %q, want 401", path, code, body)
		}
	}
	// probes_public exempts the probes only.
	if code, _, _ := get("/", false); code != http.StatusUnauthorized {
		t.Errorf("console without credentials: %d, want 401", code)
	}
	resp, err := http.Post(base+"/RPC2", "text/xml", strings.NewReader(
		`<?xml version="1.0"?><methodCall><methodName>supervisor.getState</methodName><params/></methodCall>`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("/RPC2 without credentials: %d, want 401", resp.StatusCode)
	}

	// A readiness lost is seen too: stopping db makes /readyz 503 again.
	if out, code := e.ctl(bins.Supervisorctl, "stop", "db"); code != 0 {
		t.Fatalf("stop db: %d %s", code, out)
	}
	if code, body, _ := get("/readyz", true); code != http.StatusServiceUnavailable ||
		body != `{"ready":false,"not_ready":[{"name":"db","group":"db","statename":"STOPPED","health":"starting"}]}`+"\n" {
		t.Errorf("/readyz with db stopped: %d %q", code, body)
	}
}
