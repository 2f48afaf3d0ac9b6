package server

import (
	"net/http"

	"github.com/gorilla/mux"
)

// GET /metrics (EXTENSIONS.md §6) is Prometheus's text format of
// pkg/metrics. The original has no such path (404 there); only GET and
// HEAD are ours, any other method falls through to the console as before.
const pathMetrics = "/metrics"

// metricsRoute registers /metrics on r.
func (rt *routes) metricsRoute(r *mux.Router) {
	r.Path(pathMetrics).MatcherFunc(getOrHead).Handler(rt.metrics)
}

// isMetrics reports whether r is a scrape (for the metrics_public
// exemption from authentication).
func isMetrics(r *http.Request) bool {
	return r.URL.Path == pathMetrics && getOrHead(r, nil)
}
