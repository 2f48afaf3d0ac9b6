package server

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gosupervisor/gosupervisor/internal/testengine"
	"github.com/gosupervisor/gosupervisor/pkg/config"
	"github.com/gosupervisor/gosupervisor/pkg/loglevel"
	"github.com/gosupervisor/gosupervisor/pkg/mainlog"
	"github.com/gosupervisor/gosupervisor/pkg/supervisor"
)

// engine is a real supervisor engine for handler tests. Its programs are
// never started (autostart=false) and its reaper never runs, so the test
// binary can still use os/exec for the daemon tests.
type engine struct {
	dir     string
	cfg     *config.Config
	sup     *supervisor.Supervisor
	log     *mainlog.Logger
	logPath string
}

const rpcSection = `
[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface
`

// newEngine writes conf (with %(dir)s replaced by a temp dir) plus a
// [supervisord] section and runs an engine on it until the test ends.
func newEngine(t *testing.T, conf string) *engine {
	t.Helper()
	e := testengine.Start(t, conf, loglevel.Blather)
	return &engine{dir: e.Dir, cfg: e.Cfg, sup: e.Sup, log: e.Log, logPath: e.LogPath}
}

// handler mounts the engine's handler for one server config.
func (e *engine) handler(sc config.HTTPServer) http.Handler {
	return Handler(e.sup, e.log, sc, Options{Poll: 20 * time.Millisecond, AuthFailDelay: -1})
}

// do runs one request against h and returns the recorded response.
func do(h http.Handler, method, target string, body string, hdr map[string]string) *httptest.ResponseRecorder {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, target, rd)
	if method == http.MethodPost && strings.HasPrefix(target, "/RPC2") {
		req.Header.Set("Content-Type", "text/xml") // as every XML-RPC client (csrf.go)
	}
	for k, v := range hdr {
		switch k {
		case "Host":
			req.Host = v
		case "Content-Length":
			if n, err := strconv.ParseInt(v, 10, 64); err == nil {
				req.ContentLength = n
			}
		}
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
