package server

import (
	"mime"
	"net/http"
	"os"
	"strings"

	"github.com/gosupervisor/gosupervisor/pkg/access"
	"github.com/gosupervisor/gosupervisor/pkg/config"
	"github.com/gosupervisor/gosupervisor/pkg/loglevel"
	"github.com/gosupervisor/gosupervisor/pkg/pyfmt"
)

// Cross-site request forgery and DNS rebinding (issue 18, defect 3). A
// browser resends basic-auth credentials with cross-site requests, and a
// server without authentication answers anyone, so every state-changing
// route refuses what a page of another site can make a browser send:
//
//   - POST /RPC2 must be Content-Type text/xml (what supervisorctl, Python's
//     xmlrpc.client, node_exporter and every XML-RPC library send): a
//     cross-site page can only send text/plain, form or multipart bodies
//     without a CORS preflight, which this server never grants;
//   - a request whose Sec-Fetch-Site or Origin says another site
//     (access.CrossSite) is refused on /RPC2 and on the original's
//     index.html?action= URLs that change state;
//   - an inet server without authentication answers only Host values that
//     name it (access.HostAllowed): an IP address, localhost, its configured
//     host or this machine's name. A page of evil.example whose DNS
//     answers 127.0.0.1 still says Host: evil.example. With
//     authentication the browser has no credentials for that name.
//
// Clients that are not browsers send neither Origin nor Sec-Fetch-Site and
// pass; the console's own requests are same-origin.

// sameOrigin applies the checks of rule to r; false means it answered.
func (rt *routes) sameOrigin(w http.ResponseWriter, r *http.Request, rule routeRule, need config.Role) bool {
	if rule.xmlrpc && r.Method == http.MethodPost {
		ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if ct != "text/xml" {
			rt.refuseCrossSite(w, r, http.StatusUnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE",
				"XML-RPC requests must be Content-Type text/xml, not "+pyfmt.Repr(r.Header.Get("Content-Type")))
			return false
		}
	}
	if (rule.xmlrpc && r.Method == http.MethodPost) || need > config.RoleReadonly {
		if reason := access.CrossSite(r); reason != "" {
			rt.refuseCrossSite(w, r, http.StatusForbidden, "FORBIDDEN", "cross-site request refused: "+reason)
			return false
		}
	}
	return true
}

func (rt *routes) refuseCrossSite(w http.ResponseWriter, r *http.Request, status int, name, msg string) {
	rt.log.Log(loglevel.Warn, "refused: "+r.Method+" "+pyfmt.Repr(r.URL.RequestURI())+" from "+peerName(r)+": "+msg)
	w.Header().Set("Connection", "close")
	jsonError(w, status, name, msg)
}

// checksHost reports whether sc is an inet server without authentication,
// whose Host header the DNS-rebinding check looks at.
func (rt *routes) checksHost(sc config.HTTPServer) bool {
	return !sc.Unix && sc.Port > 0 && !rt.needsAuth(sc)
}

// hostNames are the names besides IP addresses and localhost that sc
// answers to: its configured host and this machine's name.
func hostNames(sc config.HTTPServer) []string {
	names := []string{}
	if h := strings.Trim(sc.Host, "[]"); h != "" && h != "*" {
		names = append(names, h)
	}
	if h, err := os.Hostname(); err == nil && h != "" {
		names = append(names, h)
		if short, _, ok := strings.Cut(h, "."); ok {
			names = append(names, short)
		}
	}
	return names
}

// checkHost refuses requests whose Host does not name the server.
func (rt *routes) checkHost(sc config.HTTPServer, next http.Handler) http.Handler {
	names := hostNames(sc)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if access.HostAllowed(r, names) {
			next.ServeHTTP(w, r)
			return
		}
		rt.refuseCrossSite(w, r, http.StatusForbidden, "FORBIDDEN",
			"Host "+r.Host+" does not name this server (configure it as the host of "+sc.Section+", or require authentication)")
	})
}
