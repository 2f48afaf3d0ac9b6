package server

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/gosupervisor/gosupervisor/pkg/config"
)

// rpcCall is an XML-RPC request body for method without parameters.
func rpcCall(method string) string {
	return "<?xml version='1.0'?><methodCall><methodName>" + method + "</methodName><params></params></methodCall>"
}

func TestMetrics(t *testing.T) {
	e := newEngine(t, progConf)
	h := e.handler(config.HTTPServer{Section: "unix_http_server", Unix: true})
	for _, m := range []string{"supervisor.getState", "supervisor.getState", "supervisor.getAllProcessInfo", "no.such.method"} {
		body := rpcCall(m)
		if rec := do(h, "POST", "/RPC2", body, map[string]string{"Content-Length": strconv.Itoa(len(body))}); rec.Code != 200 {
			t.Fatalf("%s: %d", m, rec.Code)
		}
	}
	body := "<?xml version='1.0'?><methodCall><methodName>supervisor.startProcess</methodName><params><param><value><string>nosuch</string></value></param></params></methodCall>"
	do(h, "POST", "/RPC2", body, map[string]string{"Content-Length": strconv.Itoa(len(body))})

	rec := do(h, "GET", "/metrics", "", nil)
	if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/plain; version=0.0.4") ||
		rec.Header().Get("Server") != "Medusa/1.12" {
		t.Fatalf("GET /metrics: %d %v", rec.Code, rec.Header())
	}
	text := rec.Body.String()
	for _, line := range []string{
		`node_supervisord_state{group="prog",name="prog"} 0`,
		`node_supervisord_up{group="prog",name="prog"} 0`,
		`supervisord_rpc_requests_total{code="0",method="supervisor.getState"} 2`,
		`supervisord_rpc_requests_total{code="0",method="supervisor.getAllProcessInfo"} 1`,
		`supervisord_rpc_requests_total{code="1",method="unknown"} 1`,
		`supervisord_rpc_requests_total{code="10",method="supervisor.startProcess"} 1`,
	} {
		if !strings.Contains(text, "\n"+line+"\n") {
			t.Errorf("missing %s", line)
		}
	}
	if rec := do(h, "HEAD", "/metrics", "", nil); rec.Code != 200 {
		t.Errorf("HEAD /metrics: %d", rec.Code)
	}
	// Other methods and neighbouring paths are the console's, as before.
	for _, c := range [][2]string{{"POST", "/metrics"}, {"GET", "/metrics/"}, {"GET", "/metricsx"}} {
		if got, want := do(h, c[0], c[1], "", nil), do(e.handler(config.HTTPServer{}), c[0], c[1], "", nil); got.Code == 200 || got.Code != want.Code {
			t.Errorf("%s %s: %d (console: %d)", c[0], c[1], got.Code, want.Code)
		}
	}
}

// /metrics is behind the server's authentication like every path, unless
// the section sets metrics_public; probes_public and metrics_public are
// independent.
func TestMetricsAuth(t *testing.T) {
	e := newEngine(t, progConf)
	authed := config.HTTPServer{Section: "inet_http_server", Username: "user", Password: "123", HasAuth: true}
	probes, metrics, both := authed, authed, authed
	probes.ProbesPublic = true
	metrics.MetricsPublic = true
	both.ProbesPublic, both.MetricsPublic = true, true
	code := func(sc config.HTTPServer, method, path string, hdr map[string]string) int {
		return do(e.handler(sc), method, path, "", hdr).Code
	}
	for _, c := range []struct {
		sc             config.HTTPServer
		metrics, probe int
	}{
		{authed, 401, 401}, {probes, 401, 200}, {metrics, 200, 401}, {both, 200, 200},
	} {
		if got := code(c.sc, "GET", "/metrics", nil); got != c.metrics {
			t.Errorf("%+v: GET /metrics without credentials: %d, want %d", c.sc, got, c.metrics)
		}
		if got := code(c.sc, "GET", "/healthz", nil); got != c.probe {
			t.Errorf("%+v: GET /healthz without credentials: %d, want %d", c.sc, got, c.probe)
		}
		if got := code(c.sc, "GET", "/metrics", basic("user", "123")); got != 200 {
			t.Errorf("%+v: GET /metrics with credentials: %d", c.sc, got)
		}
	}
	// Only /metrics: everything else still needs credentials.
	for _, c := range [][2]string{{"GET", "/"}, {"POST", "/RPC2"}, {"POST", "/metrics"}, {"GET", "/metrics/"}, {"GET", "/logtail/prog"}} {
		if got := code(metrics, c[0], c[1], nil); got != http.StatusUnauthorized {
			t.Errorf("metrics_public: %s %s without credentials: %d, want 401", c[0], c[1], got)
		}
	}
}
