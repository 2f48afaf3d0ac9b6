// Package webui is the web console: the page from web/, rendered on the
// server with the process table (page.go) and then kept live by its script,
// and the JSON API under /api/v1 that it uses (documented in docs/API.md).
// Authentication is the HTTP layer's job (pkg/server); this handler adds the
// same-origin check that state-changing requests need because browsers
// resend basic-auth credentials to cross-site requests.
package webui

import (
	"io/fs"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/gosupervisor/gosupervisor/pkg/rpc"
	"github.com/gosupervisor/gosupervisor/pkg/supervisor"
	"github.com/gosupervisor/gosupervisor/web"
)

// Options tune the handler; the zero value is ready for production.
type Options struct {
	// ProcRoot is where per-process statistics are read ("" = "/proc").
	ProcRoot string
	// Clock returns the current time (nil = time.Now).
	Clock func() time.Time
	// StatsEvery is how often the events stream sends CPU and memory figures
	// (0 = 2 s).
	StatsEvery time.Duration
	// Heartbeat is how often idle streams send a comment so that dead
	// clients are noticed and proxies keep the connection (0 = 15 s).
	Heartbeat time.Duration
	// Coalesce is how long the events stream gathers state changes before
	// sending one update (0 = 50 ms).
	Coalesce time.Duration
	// Fleet, for a config with [remote:NAME] sections, adds the fleet
	// view and its /api/v1/fleet routes (nil = none: the console is as
	// without it).
	Fleet FleetSource
	// NodeName is this daemon's name in the fleet view ("" = the host's).
	NodeName string
}

// handler serves the console and the API of one Supervisor.
type handler struct {
	sup   *supervisor.Supervisor
	ext   extBackend // sup's health checks and dependencies
	hist  historyBackend
	rpc   *rpc.Server
	opts  Options
	clock func() time.Time
	stats *sampler
	// nodeName is this daemon's name in the fleet view.
	nodeName string
}

// New returns the console's handler: "/", "/index.html", "/static/…" and
// "/api/v1/…". d must be an rpc.Server over sup, so that actions keep the
// original's semantics and faults.
func New(sup *supervisor.Supervisor, d *rpc.Server, opts Options) http.Handler {
	if opts.ProcRoot == "" {
		opts.ProcRoot = "/proc"
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.StatsEvery <= 0 {
		opts.StatsEvery = 2 * time.Second
	}
	if opts.Heartbeat <= 0 {
		opts.Heartbeat = 15 * time.Second
	}
	if opts.Coalesce <= 0 {
		opts.Coalesce = 50 * time.Millisecond
	}
	h := &handler{sup: sup, ext: sup, hist: sup, rpc: d, opts: opts, clock: opts.Clock, stats: newSampler(opts.ProcRoot, opts.Clock)}
	if opts.Fleet != nil {
		h.nodeName = localName(opts)
	}

	r := mux.NewRouter()
	r.Use(securityHeaders, sameOrigin, checkRole)
	r.HandleFunc("/", h.page).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/index.html", h.page).Methods(http.MethodGet, http.MethodHead)
	static, _ := fs.Sub(web.Assets, "static")
	r.PathPrefix("/static/").Handler(http.StripPrefix("/static/", noDirs(h.fleetAssets(http.FileServerFS(static))))).
		Methods(http.MethodGet, http.MethodHead)
	h.api(r.PathPrefix("/api/v1").Subrouter())
	r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, errNotFound(r.URL.Path))
	})
	r.MethodNotAllowedHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusMethodNotAllowed, apiErr{Name: "METHOD_NOT_ALLOWED", Message: r.Method + " not allowed on " + r.URL.Path})
	})
	return r
}

// securityHeaders keeps the page self-contained: no inline scripts, nothing
// from other origins, no framing.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("X-Frame-Options", "DENY")
		next.ServeHTTP(w, r)
	})
}

// fleetAssets hides the fleet view's script and style when there is no
// fleet, so that such a console serves what it served before.
func (h *handler) fleetAssets(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h.opts.Fleet == nil && strings.HasPrefix(r.URL.Path, "fleet.") {
			http.NotFound(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// noDirs hides directory listings of the static tree.
func noDirs(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "" || r.URL.Path[len(r.URL.Path)-1] == '/' {
			http.NotFound(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// extBackend is what the console asks of the engine's extensions: every
// process's at once, one call on the loop per snapshot.
type extBackend interface {
	ProcessExtensions() map[string]rpc.ProcessExt
}
