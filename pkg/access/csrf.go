package access

import (
	"net"
	"net/http"
	"net/url"
	"strings"
)

// CrossSite explains why a browser sent r on behalf of another site ("" when
// it is same-origin, or when it carries no browser provenance at all:
// supervisorctl, xmlrpc.client, curl and node_exporter send neither
// Sec-Fetch-Site nor Origin). Browsers resend basic-auth credentials with
// cross-site requests, so authentication alone does not stop CSRF; every
// state-changing route asks this first.
//
// Sec-Fetch-Site must be same-origin or none (a typed URL or a bookmark):
// same-site is refused too, as another port of the same host is the same
// site. An Origin must be this server's scheme and Host: http, or https on
// a TLS server or behind a proxy that says X-Forwarded-Proto: https (a
// header no cross-site page can add without a preflight, which this server
// never grants).
func CrossSite(r *http.Request) string {
	switch site := r.Header.Get("Sec-Fetch-Site"); site {
	case "", "same-origin", "none":
	default:
		return "Sec-Fetch-Site " + site
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		return ""
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" || u.User != nil || (u.Path != "" && u.Path != "/") {
		return "Origin " + origin
	}
	if !strings.EqualFold(u.Host, r.Host) {
		return "Origin " + origin + " is not " + r.Host
	}
	if !strings.EqualFold(u.Scheme, scheme(r)) && !strings.EqualFold(u.Scheme, forwardedProto(r)) {
		return "Origin " + origin + " is not " + scheme(r) + "://" + r.Host
	}
	return ""
}

func scheme(r *http.Request) string {
	if r.TLS != nil {
		return "https"
	}
	return "http"
}

func forwardedProto(r *http.Request) string {
	p, _, _ := strings.Cut(r.Header.Get("X-Forwarded-Proto"), ",")
	return strings.TrimSpace(p)
}

// HostAllowed reports whether r's Host names this server rather than a
// name an attacker's DNS points at it (DNS rebinding): no Host at all (no
// browser sends that), an IP address literal, localhost or a name under
// .localhost, or one of names (the configured host and this machine's
// host name), with any port.
func HostAllowed(r *http.Request, names []string) bool {
	host := r.Host
	if host == "" {
		return true
	}
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSuffix(host, "]"), "["), ".")
	if net.ParseIP(host) != nil {
		return true
	}
	host = strings.ToLower(host)
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	for _, n := range names {
		if n != "" && strings.EqualFold(strings.TrimSuffix(n, "."), host) {
			return true
		}
	}
	return false
}
