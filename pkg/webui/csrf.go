package webui

import (
	"net/http"

	"github.com/gosupervisor/gosupervisor/pkg/access"
)

// sameOrigin rejects state-changing requests that a browser sends on behalf
// of another site. Browsers resend basic-auth credentials with cross-site
// requests, so authentication alone does not stop CSRF. Requests without
// Origin and Sec-Fetch-Site (curl, scripts) are not from a browser page and
// pass.
func sameOrigin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			next.ServeHTTP(w, r)
			return
		}
		if reason := crossSite(r); reason != "" {
			writeError(w, http.StatusForbidden, apiErr{Name: "FORBIDDEN", Message: "cross-site request refused: " + reason})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// crossSite explains why r is not a same-origin request ("" when it is, or
// when it carries no browser provenance at all): access.CrossSite, shared
// with the XML-RPC endpoint and the original's action URLs.
func crossSite(r *http.Request) string { return access.CrossSite(r) }
