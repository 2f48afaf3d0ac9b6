package server

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/gorilla/mux"

	"github.com/gosupervisor/gosupervisor/pkg/rpc"
)

// Probes for container orchestrators and load balancers (EXTENSIONS.md
// §6). The original has neither path (it answers 404); they are GET and
// HEAD only, so any other method falls through to the console as before.
//
//	GET /healthz  200 {"status":"ok"}                  while the daemon serves
//	GET /readyz   200 {"ready":true,"not_ready":[]}    every autostart process RUNNING (and healthy)
//	              503 {"ready":false,"not_ready":[{"name":"web","group":"web","statename":"STARTING","health":null}]}
//
// While supervisord shuts down or restarts /readyz is 503 whatever the
// processes do, with the daemon's state added ("statename":"SHUTDOWN"),
// so that a load balancer drains it before the processes go. /readyz
// exists only when the engine reports readiness (rpc.ExtBackend).

const (
	pathHealthz = "/healthz"
	pathReadyz  = "/readyz"
)

// probeRoutes registers the probes on r.
func (rt *routes) probeRoutes(r *mux.Router) {
	r.Path(pathHealthz).MatcherFunc(getOrHead).HandlerFunc(rt.serveHealthz)
	if rt.ext != nil {
		r.Path(pathReadyz).MatcherFunc(getOrHead).HandlerFunc(rt.serveReadyz)
	}
}

func getOrHead(r *http.Request, _ *mux.RouteMatch) bool {
	return r.Method == http.MethodGet || r.Method == http.MethodHead
}

// isProbe reports whether r is a probe this server answers (for the
// probes_public exemption from authentication).
func (rt *routes) isProbe(r *http.Request) bool {
	if !getOrHead(r, nil) {
		return false
	}
	return r.URL.Path == pathHealthz || (r.URL.Path == pathReadyz && rt.ext != nil)
}

func (rt *routes) serveHealthz(w http.ResponseWriter, r *http.Request) {
	writeProbe(w, r, http.StatusOK, map[string]string{"status": "ok"})
}

// readyJSON is /readyz's body.
type readyJSON struct {
	Ready bool `json:"ready"`
	// State is supervisord's state name, given only when it is not
	// RUNNING (shutting down or restarting).
	State    string         `json:"statename,omitempty"`
	NotReady []notReadyJSON `json:"not_ready"`
}

// notReadyJSON is one process that keeps the daemon from being ready;
// Health is null for a process without a health check.
type notReadyJSON struct {
	Name      string  `json:"name"`
	Group     string  `json:"group"`
	StateName string  `json:"statename"`
	Health    *string `json:"health"`
}

func (rt *routes) serveReadyz(w http.ResponseWriter, r *http.Request) {
	body := readyJSON{NotReady: []notReadyJSON{}}
	for _, n := range rt.ext.Readiness() {
		j := notReadyJSON{Name: n.Name, Group: n.Group, StateName: n.State}
		if n.Health != "" {
			j.Health = &n.Health
		}
		body.NotReady = append(body.NotReady, j)
	}
	code, name := rt.sup.State()
	if code < rpc.StateRunning {
		body.State = name
	}
	body.Ready = len(body.NotReady) == 0 && body.State == ""
	status := http.StatusOK
	if !body.Ready {
		status = http.StatusServiceUnavailable
	}
	writeProbe(w, r, status, body)
}

// writeProbe writes a probe's JSON answer, never cached.
func writeProbe(w http.ResponseWriter, r *http.Request, status int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		Error(w, http.StatusInternalServerError)
		return
	}
	data = append(data, '\n')
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(len(data)))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(data)
	}
}

// publicProbes serves the probes (probes_public) and /metrics
// (metrics_public) without authentication and everything else through next.
type publicProbes struct {
	rt     *routes
	probes http.Handler
	next   http.Handler
	// withProbes and withMetrics say which paths are public.
	withProbes, withMetrics bool
}

func (p *publicProbes) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if (p.withProbes && p.rt.isProbe(r)) || (p.withMetrics && isMetrics(r)) {
		p.probes.ServeHTTP(w, r)
		return
	}
	p.next.ServeHTTP(w, r)
}
