package webui

import (
	"net/http"

	"github.com/gorilla/mux"

	"github.com/gosupervisor/gosupervisor/pkg/access"
	"github.com/gosupervisor/gosupervisor/pkg/config"
)

// routeRoles is the least role that may use each of the console's routes
// (EXTENSIONS.md §7), by mux path template: reads are readonly, process
// actions operator (their XML-RPC calls need it too), config updates and
// clearing the main log, which holds the audit trail, admin. A route
// missing here needs more than admin, so nobody uses it, and
// TestRouteRoles fails first.
var routeRoles = map[string]config.Role{
	"/":           config.RoleReadonly,
	"/index.html": config.RoleReadonly,
	"/static/":    config.RoleReadonly,

	"/api/v1/supervisor":     config.RoleReadonly,
	"/api/v1/processes":      config.RoleReadonly,
	"/api/v1/processes/{ns}": config.RoleReadonly,
	"/api/v1/processes/{ns}/{action:start|stop|restart|signal|clear}": config.RoleOperator,
	"/api/v1/groups/{name}/{action:start|stop|restart|signal}":        config.RoleOperator,
	"/api/v1/all/{action:start|stop|restart|signal|clear}":            config.RoleOperator,
	// A diff rereads the config (supervisor.reloadConfig).
	"/api/v1/config/diff":                                config.RoleAdmin,
	"/api/v1/config/update":                              config.RoleAdmin,
	"/api/v1/logs/{ns}/{channel:stdout|stderr}":          config.RoleReadonly,
	"/api/v1/logs/{ns}/{channel:stdout|stderr}/download": config.RoleReadonly,
	"/api/v1/logs/{ns}/{channel:stdout|stderr}/stream":   config.RoleReadonly,
	"/api/v1/mainlog":                                    config.RoleReadonly,
	"/api/v1/mainlog/download":                           config.RoleReadonly,
	"/api/v1/mainlog/stream":                             config.RoleReadonly,
	"/api/v1/mainlog/clear":                              config.RoleAdmin,
	"/api/v1/events":                                     config.RoleReadonly,
	"/api/v1/processes/{ns}/history":                     config.RoleReadonly,
	"/api/v1/processes/{ns}/config":                      config.RoleReadonly,
	// The fleet view (only with [remote:NAME] sections): its actions
	// reach the nodes with the console's own credentials for them.
	"/api/v1/fleet":        config.RoleReadonly,
	"/api/v1/fleet/events": config.RoleReadonly,
	"/api/v1/fleet/{node}/processes/{ns}/{action:start|stop|restart}": config.RoleOperator,
	"/api/v1/fleet/{node}/groups/{name}/{action:start|stop|restart}":  config.RoleOperator,
}

// routeRole is the role r's route needs.
func routeRole(r *http.Request) config.Role {
	if route := mux.CurrentRoute(r); route != nil {
		if tpl, err := route.GetPathTemplate(); err == nil {
			if role, ok := routeRoles[tpl]; ok {
				return role
			}
		}
	}
	return config.RoleAdmin + 1
}

// checkRole refuses, with 403 and a main-log line, what the caller's role
// does not allow; a route that changes state is also refused when a browser
// sends it from another site, whatever its method (a config diff is a GET).
func checkRole(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		need := routeRole(r)
		if need > config.RoleReadonly {
			if reason := access.CrossSite(r); reason != "" {
				writeError(w, http.StatusForbidden, apiErr{Name: "FORBIDDEN", Message: "cross-site request refused: " + reason})
				return
			}
		}
		if p := access.From(r.Context()); p != nil && !p.Allows(need) {
			f := p.Refuse(r.Method + " " + r.URL.Path)
			writeError(w, http.StatusForbidden, apiErr{Code: int(f.Code), Name: f.Code.Name(), Message: f.Error()})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// withRole is s with the caller's role, when the config has users: the
// console hides what the role may not do.
func withRole(r *http.Request, s supervisorJSON) supervisorJSON {
	if p := access.From(r.Context()); p != nil && p.Roles {
		s.Role = p.Role.String()
	}
	return s
}
