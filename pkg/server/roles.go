package server

import (
	"context"
	"encoding/json"
	"net"
	"net/http"

	"github.com/gorilla/mux"

	"github.com/gosupervisor/gosupervisor/pkg/access"
	"github.com/gosupervisor/gosupervisor/pkg/config"
)

// Roles of the HTTP routes this package serves (EXTENSIONS.md §7). The
// XML-RPC methods have theirs in pkg/rpc (checked for each call, inside a
// multicall too), the console's routes in pkg/webui. Reads are readonly;
// the original's index.html?action= URLs need the role of the calls they
// make. A route missing here needs more than admin: nobody may use it, and
// TestRouteRoles fails first.

// routeRule is what one route of the router asks of a request.
type routeRule struct {
	role config.Role
	// action: the role is the one of the form's action (actionRoles).
	action bool
	// xmlrpc: a POST must say Content-Type: text/xml (csrf.go).
	xmlrpc bool
}

// routeRoles is keyed by mux path template.
var routeRoles = map[string]routeRule{
	"/RPC2":        {role: config.RoleReadonly, xmlrpc: true},
	"/logtail":     {role: config.RoleReadonly},
	"/mainlogtail": {role: config.RoleReadonly},
	pathHealthz:    {role: config.RoleReadonly},
	pathReadyz:     {role: config.RoleReadonly},
	pathMetrics:    {role: config.RoleReadonly},
	"/ok.html":     {role: config.RoleReadonly},
	"/tail.html":   {role: config.RoleReadonly},
	"/":            {action: true},
	"/index.html":  {action: true},
}

// actionRoles are the original web UI's actions (compat.go's action).
var actionRoles = map[string]config.Role{
	"refresh":    config.RoleReadonly,
	"start":      config.RoleOperator,
	"stop":       config.RoleOperator,
	"restart":    config.RoleOperator,
	"clearlog":   config.RoleOperator,
	"stopall":    config.RoleOperator,
	"restartall": config.RoleOperator,
}

// routeRule returns the rule of r's route, and the role it needs.
func ruleOf(r *http.Request) (routeRule, config.Role) {
	route := mux.CurrentRoute(r)
	if route == nil {
		return routeRule{}, config.RoleAdmin + 1
	}
	tpl, _ := route.GetPathTemplate()
	rule, ok := routeRoles[tpl]
	if !ok {
		return rule, config.RoleAdmin + 1
	}
	if !rule.action {
		return rule, rule.role
	}
	if role, ok := actionRoles[formValue(r, "action")]; ok {
		return rule, role
	}
	// An unknown action fails in the handler as in the original.
	return rule, config.RoleReadonly
}

// routeAccess is the router's middleware: the same-origin checks of the
// state-changing routes, then the caller's role.
func (rt *routes) routeAccess(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rule, need := ruleOf(r)
		if !rt.sameOrigin(w, r, rule, need) {
			return
		}
		if p := access.From(r.Context()); p != nil && !p.Allows(need) {
			f := p.Refuse(r.Method + " " + r.URL.Path)
			jsonError(w, http.StatusForbidden, f.Code.Name(), f.Error())
			return
		}
		next.ServeHTTP(w, r)
	})
}

// jsonError answers with /api/v1's error shape.
func jsonError(w http.ResponseWriter, status int, name, msg string) {
	code := 0
	if status == http.StatusForbidden && name == access.Unauthorized.Name() {
		code = int(access.Unauthorized)
	}
	type apiErr struct {
		Code    int    `json:"code"`
		Name    string `json:"name"`
		Message string `json:"message"`
	}
	body, _ := json.Marshal(map[string]apiErr{"error": {Code: code, Name: name, Message: msg}})
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}

// needsAuth reports whether sc asks for credentials: it has a
// username/password, or the config has [user:NAME] users, which are valid
// on every server. A server with neither is open, as in the original, and
// its callers are admins.
func (rt *routes) needsAuth(sc config.HTTPServer) bool {
	return sc.HasAuth || len(rt.opts.Users) > 0
}

// auditLog is where audit and refusal lines go: the main log for a config
// that uses [user:NAME] or allow_uids/allow_groups (Options.Audit), nowhere
// otherwise, so that a config without the §7 keys logs as the original.
func (rt *routes) auditLog() access.Logger {
	if !rt.opts.Audit {
		return nil
	}
	return rt.log
}

// secure wraps the router of sc in authentication (or the open server's
// admin caller), the peer-credential check of a unix server and the Host
// check of an open inet server, outermost last.
func (rt *routes) secure(sc config.HTTPServer, r http.Handler, public func(http.Handler) http.Handler) http.Handler {
	var h http.Handler
	if rt.needsAuth(sc) {
		h = &basicAuth{
			user: sc.Username, password: sc.Password, hasSection: sc.HasAuth,
			users: rt.opts.Users, audit: rt.auditLog(), delay: rt.opts.AuthFailDelay, next: r,
		}
		h = public(h)
	} else {
		h = openServer(rt.auditLog(), r)
	}
	if restrictsPeers(sc) {
		h = rt.checkPeers(sc, h)
	}
	if rt.checksHost(sc) {
		h = rt.checkHost(sc, h)
	}
	return h
}

// connContext is sc's http.Server.ConnContext: unix servers read each
// connection's peer credentials.
func connContext(sc config.HTTPServer) func(context.Context, net.Conn) context.Context {
	if !sc.Unix {
		return nil
	}
	return peerCredContext
}

// usesAccessKeys reports whether cfg has [user:NAME] sections or
// allow_uids/allow_groups: then audit lines and refusals are logged.
func usesAccessKeys(cfg *config.Config) bool {
	if len(cfg.Users) > 0 {
		return true
	}
	for _, sc := range cfg.HTTPServers {
		if restrictsPeers(sc) {
			return true
		}
	}
	return false
}
