package server

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/gorilla/mux"

	"github.com/gosupervisor/gosupervisor/pkg/config"
	"github.com/gosupervisor/gosupervisor/pkg/metrics"
	"github.com/gosupervisor/gosupervisor/pkg/rpc"
	"github.com/gosupervisor/gosupervisor/pkg/supervisor"
)

// serverHeader is what every response of the original says it is.
const serverHeader = "Medusa/1.12"

// routes are the handlers shared by every server of a daemon generation;
// only authentication differs between servers.
type routes struct {
	sup  *supervisor.Supervisor
	log  Logger
	opts Options
	// rpc serves /RPC2: without the supervisor.* namespace when the config
	// has no [rpcinterface:supervisor].
	rpc *rpc.Server
	// full always has supervisor.*: the original's web UI calls its
	// rpcinterface directly, whatever the config says.
	full *rpc.Server
	ui   http.Handler
	// ext is the engine's extensions (health, dependencies, readiness),
	// nil when it has none: then /readyz is not served.
	ext rpc.ExtBackend
	// snapshots shares getAllProcessInfo answers between concurrent callers.
	snapshots snapshotCache
	// answers recycles the buffers answers are encoded into.
	answers answerBuffers
	// metrics is /metrics, and counts the XML-RPC calls.
	metrics *metrics.Metrics
}

func newRoutes(sup *supervisor.Supervisor, log Logger, opts Options) *routes {
	rt := &routes{sup: sup, log: log, opts: opts, metrics: metrics.New(sup, metrics.Options{})}
	var b rpc.Backend = sup
	if opts.Ext != nil {
		b = withExt{sup, opts.Ext}
	}
	rt.full = rpc.New(b, rpc.Options{ListExtensions: opts.ListExtensions})
	rt.ext = rt.full.Ext()
	rt.rpc = rt.full
	if !sup.RPCEnabled() {
		rt.rpc = rpc.New(sup, rpc.Options{WithoutSupervisor: true})
	}
	if opts.UI != nil {
		rt.ui = opts.UI(rt.full)
	}
	if rt.ui == nil {
		// TODO(lead): wire pkg/webui (webui.New) through Options.UI in
		// cmd/supervisord/http.go once it exists; until then a bare page.
		rt.ui = http.HandlerFunc(rt.placeholder)
	}
	return rt
}

// Handler returns the HTTP handler of one server (sc gives its
// authentication). Start uses the same handler; tests can mount it on
// httptest.
func Handler(sup *supervisor.Supervisor, log Logger, sc config.HTTPServer, opts Options) http.Handler {
	return newRoutes(sup, log, opts.withDefaults()).handler(sc)
}

// handler is the router behind sc's authentication.
func (rt *routes) handler(sc config.HTTPServer) http.Handler {
	r := rt.router()
	// Bodies are bounded once the client is known (guard.go).
	h := rt.secure(sc, rt.guardBodies(r), func(h http.Handler) http.Handler {
		if sc.ProbesPublic || sc.MetricsPublic {
			h = &publicProbes{rt: rt, probes: r, next: h, withProbes: sc.ProbesPublic, withMetrics: sc.MetricsPublic}
		}
		return h
	})
	return withServerHeader(h)
}

// router routes in the original's dispatch order: /RPC2*, /logtail*,
// /mainlogtail*, the UI views, then everything else.
func (rt *routes) router() *mux.Router {
	r := mux.NewRouter()
	r.SkipClean(true) // the original never rewrites paths
	r.PathPrefix("/RPC2").HandlerFunc(rt.serveRPC)
	r.PathPrefix("/logtail").HandlerFunc(rt.serveLogtail)
	r.PathPrefix("/mainlogtail").HandlerFunc(rt.serveMainLogtail)
	// Before the views: their subrouter answers every GET it has no
	// route for (with the console).
	rt.probeRoutes(r)
	rt.metricsRoute(r)
	views := r.MatcherFunc(func(req *http.Request, _ *mux.RouteMatch) bool {
		return req.Method == http.MethodGet || req.Method == http.MethodPost
	}).Subrouter()
	views.Path("/ok.html").HandlerFunc(serveOK)
	views.Path("/tail.html").HandlerFunc(rt.serveTail)
	views.Path("/").MatcherFunc(hasAction).HandlerFunc(rt.serveAction)
	views.Path("/index.html").MatcherFunc(hasAction).HandlerFunc(rt.serveAction)
	r.NotFoundHandler = rt.ui
	views.NotFoundHandler = rt.ui
	// Roles and same-origin checks of every route (roles.go, csrf.go).
	r.Use(rt.routeAccess)
	return r
}

// withExt is the engine with Options.Ext in place of its own extensions.
// The methods are spelled out (not embedded) so that they win over the
// engine's own once it has them.
type withExt struct {
	*supervisor.Supervisor
	ext rpc.ExtBackend
}

func (w withExt) ProcessHealth(ns string) (rpc.Health, error)   { return w.ext.ProcessHealth(ns) }
func (w withExt) ProcessWaiting(ns string) (rpc.Waiting, error) { return w.ext.ProcessWaiting(ns) }
func (w withExt) Readiness() []rpc.NotReady                     { return w.ext.Readiness() }

// withServerHeader stamps the original's Server header on every response
// (net/http adds Date itself).
func withServerHeader(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Server", serverHeader)
		h.ServeHTTP(w, r)
	})
}

// reasons are medusa's reason phrases, which its error bodies quote.
var reasons = map[int]string{
	301: "Moved Permanently",
	400: "Bad Request",
	401: "Unauthorized",
	404: "Not Found",
	405: "Method Not Allowed",
	411: "Length Required",
	413: "Request Entity Too Large",
	500: "Internal Server Error",
}

// errorBody is medusa's error page for code.
func errorBody(code int) string {
	reason, ok := reasons[code]
	if !ok {
		reason = http.StatusText(code)
	}
	return strings.Join([]string{
		"<head>",
		"<title>Error response</title>",
		"</head>",
		"<body>",
		"<h1>Error response</h1>",
		fmt.Sprintf("<p>Error code %d.", code),
		fmt.Sprintf("<p>Message: %s.", reason),
		"</body>",
		"",
	}, "\r\n")
}

// Error writes the original's error response for code (an HTML page).
func Error(w http.ResponseWriter, code int) {
	body := errorBody(code)
	h := w.Header()
	h.Set("Content-Type", "text/html")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(code)
	_, _ = w.Write([]byte(body))
}

// placeholder stands in for the web console when none is configured.
func (rt *routes) placeholder(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		Error(w, http.StatusBadRequest)
		return
	}
	if r.URL.Path != "/" && r.URL.Path != "/index.html" {
		Error(w, http.StatusNotFound)
		return
	}
	var b strings.Builder
	b.WriteString("<!DOCTYPE html>\n<html><head><title>Supervisor Status</title></head><body>\n<table>\n")
	for _, p := range rt.sup.Processes() {
		fmt.Fprintf(&b, "<tr><td>%s</td><td>%s</td><td>%s</td></tr>\n",
			htmlText(p.Namespec()), htmlText(p.StateName), htmlText(p.Description))
	}
	b.WriteString("</table>\n</body></html>\n")
	w.Header().Set("Content-Type", "text/html;charset=utf-8")
	_, _ = w.Write([]byte(b.String()))
}
