package server

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/mux"

	"github.com/gosupervisor/gosupervisor/pkg/config"
	"github.com/gosupervisor/gosupervisor/pkg/fleet"
	"github.com/gosupervisor/gosupervisor/pkg/rpc"
	"github.com/gosupervisor/gosupervisor/pkg/webui"
)

// The users of the role tests: one per role, plus the section's own
// username/password (an admin).
var testUsers = []config.User{
	{Name: "ro", Password: "ro-pass", Role: config.RoleReadonly},
	// {SHA} of "thepassword".
	{Name: "op", Password: "{SHA}82ab876d1387bfafe46cc1c8a2ef074eae50cb1d", Role: config.RoleOperator},
	{Name: "adm", Password: "adm-pass", Role: config.RoleAdmin},
}

var testCreds = map[config.Role][2]string{
	config.RoleReadonly: {"ro", "ro-pass"},
	config.RoleOperator: {"op", "thepassword"},
	config.RoleAdmin:    {"adm", "adm-pass"},
}

var allRoles = []config.Role{config.RoleNone, config.RoleReadonly, config.RoleOperator, config.RoleAdmin}

// rolesHandler is a server with users and the console, as the daemon
// mounts it.
func (e *engine) rolesHandler(sc config.HTTPServer) (http.Handler, *webuiRouter) {
	wr := &webuiRouter{}
	h := Handler(e.sup, e.log, sc, Options{
		Poll: 20 * time.Millisecond, AuthFailDelay: -1, Users: testUsers, Audit: true,
		UI: func(d *rpc.Server) http.Handler {
			h := webui.New(e.sup, d, webui.Options{Fleet: noFleet{}})
			wr.r, _ = h.(*mux.Router)
			return h
		},
	})
	return h, wr
}

type webuiRouter struct{ r *mux.Router }

// noFleet is a fleet without remote nodes, so that the console has its
// fleet routes.
type noFleet struct{}

func (noFleet) Snapshot() []fleet.Node             { return nil }
func (noFleet) Changed() (<-chan struct{}, func()) { return make(chan struct{}), func() {} }
func (noFleet) Call(context.Context, string, string, ...any) (any, error) {
	return nil, fleet.ErrNoNode
}

// asRole runs one request as role (RoleNone: without credentials). Streams
// are cut once their headers are out.
func asRole(h http.Handler, role config.Role, method, target, body string, hdr http.Header) *httptest.ResponseRecorder {
	var rd *strings.Reader
	if body != "" {
		rd = strings.NewReader(body)
	} else {
		rd = strings.NewReader("")
	}
	req := httptest.NewRequest(method, target, rd)
	for k, v := range hdr {
		req.Header[k] = v
	}
	if method == http.MethodPost {
		req.Header.Set("Content-Length", strconv.Itoa(len(body)))
	}
	if method == http.MethodPost && req.Header.Get("Content-Type") == "" {
		if strings.HasPrefix(target, "/RPC2") {
			req.Header.Set("Content-Type", "text/xml")
		} else {
			req.Header.Set("Content-Type", "application/json")
		}
	}
	if c, ok := testCreds[role]; ok {
		req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(c[0]+":"+c[1])))
	}
	ctx, cancel := context.WithTimeout(req.Context(), 10*time.Second)
	defer cancel()
	rec := &cutRecorder{ResponseRecorder: httptest.NewRecorder(), cancel: cancel}
	h.ServeHTTP(rec, req.WithContext(ctx))
	return rec.ResponseRecorder
}

// cutRecorder ends a streaming response (SSE, /logtail) at its first flush.
type cutRecorder struct {
	*httptest.ResponseRecorder
	cancel func()
}

func (c *cutRecorder) Flush() { c.ResponseRecorder.Flush(); c.cancel() }

// routeCase is one request per route of the server and the console.
type routeCase struct {
	method, target, body string
	need                 config.Role
}

var routeCases = []routeCase{
	{"POST", "/RPC2", roleCall("<methodName>supervisor.getState</methodName>"), config.RoleReadonly},
	{"GET", "/logtail/nosuch", "", config.RoleReadonly},
	{"GET", "/mainlogtail", "", config.RoleReadonly},
	{"GET", "/healthz", "", config.RoleReadonly},
	{"GET", "/readyz", "", config.RoleReadonly},
	{"GET", "/metrics", "", config.RoleReadonly},
	{"GET", "/ok.html", "", config.RoleReadonly},
	{"GET", "/tail.html?processname=nosuch", "", config.RoleReadonly},
	{"GET", "/index.html?action=refresh", "", config.RoleReadonly},
	{"GET", "/?action=refresh", "", config.RoleReadonly},
	{"GET", "/index.html?action=stopall", "", config.RoleOperator},
	{"GET", "/index.html?action=restartall", "", config.RoleOperator},
	{"GET", "/index.html?processname=nosuch&action=start", "", config.RoleOperator},
	{"GET", "/index.html?processname=nosuch&action=stop", "", config.RoleOperator},
	{"GET", "/index.html?processname=nosuch&action=restart", "", config.RoleOperator},
	{"GET", "/?processname=nosuch&action=clearlog", "", config.RoleOperator},

	{"GET", "/", "", config.RoleReadonly},
	{"GET", "/index.html", "", config.RoleReadonly},
	{"GET", "/static/app.js", "", config.RoleReadonly},
	{"GET", "/api/v1/supervisor", "", config.RoleReadonly},
	{"GET", "/api/v1/processes", "", config.RoleReadonly},
	{"GET", "/api/v1/processes/nosuch", "", config.RoleReadonly},
	{"GET", "/api/v1/processes/nosuch/history", "", config.RoleReadonly},
	{"GET", "/api/v1/processes/nosuch/config", "", config.RoleReadonly},
	{"POST", "/api/v1/processes/nosuch/stop", "", config.RoleOperator},
	{"POST", "/api/v1/groups/nosuch/restart", "", config.RoleOperator},
	{"POST", "/api/v1/all/clear", "", config.RoleOperator},
	{"GET", "/api/v1/config/diff", "", config.RoleAdmin},
	{"POST", "/api/v1/config/update", "{}", config.RoleAdmin},
	{"GET", "/api/v1/logs/nosuch/stdout", "", config.RoleReadonly},
	{"GET", "/api/v1/logs/nosuch/stderr/download", "", config.RoleReadonly},
	{"GET", "/api/v1/logs/nosuch/stdout/stream", "", config.RoleReadonly},
	{"GET", "/api/v1/mainlog", "", config.RoleReadonly},
	{"GET", "/api/v1/mainlog/download", "", config.RoleReadonly},
	{"GET", "/api/v1/mainlog/stream", "", config.RoleReadonly},
	{"POST", "/api/v1/mainlog/clear", "", config.RoleAdmin},
	{"GET", "/api/v1/events", "", config.RoleReadonly},
	{"GET", "/api/v1/fleet", "", config.RoleReadonly},
	{"GET", "/api/v1/fleet/events", "", config.RoleReadonly},
	{"POST", "/api/v1/fleet/nosuch/processes/nosuch/stop", "", config.RoleOperator},
	{"POST", "/api/v1/fleet/nosuch/groups/nosuch/restart", "", config.RoleOperator},
}

// templates are the path templates of a router's routes.
func templates(t *testing.T, r *mux.Router) []string {
	t.Helper()
	var out []string
	err := r.Walk(func(route *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		tpl, err := route.GetPathTemplate()
		if err != nil || route.GetHandler() == nil {
			return nil // a subrouter's own route
		}
		out = append(out, tpl)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// templateOf finds the route template that serves req: the server's
// router's, else the console's.
func templateOf(server, console *mux.Router, req *http.Request) string {
	for _, r := range []*mux.Router{server, console} {
		var m mux.RouteMatch
		if r.Match(req, &m) && m.MatchErr == nil && m.Route != nil {
			if tpl, err := m.Route.GetPathTemplate(); err == nil {
				return tpl
			}
		}
	}
	return ""
}

// TestRouteRoles: every route of the server and of the console has a
// declared role and a case in routeCases, and each case answers as its
// role says for nobody and for each role: 401 without credentials, 403
// (with the JSON error shape) below the role, neither at or above it.
func TestRouteRoles(t *testing.T) {
	e := newEngine(t, rpcSection)
	sc := config.HTTPServer{Section: "inet_http_server", Username: "root", Password: "root-pass", HasAuth: true}
	h, wr := e.rolesHandler(sc)
	rt := newRoutes(e.sup, e.log, Options{Users: testUsers}.withDefaults())
	server := rt.router()
	if wr.r == nil {
		t.Fatal("the console is not a *mux.Router")
	}
	covered := map[string]bool{}
	for _, c := range routeCases {
		req := httptest.NewRequest(c.method, c.target, strings.NewReader(c.body))
		tpl := templateOf(server, wr.r, req)
		if tpl == "" {
			t.Errorf("%s %s matches no route", c.method, c.target)
		}
		covered[tpl] = true
	}
	for _, tpl := range templates(t, server) {
		if _, ok := routeRoles[tpl]; !ok {
			t.Errorf("server route %s has no declared role (routeRoles)", tpl)
		}
		if !covered[tpl] {
			t.Errorf("server route %s has no case in routeCases", tpl)
		}
	}
	for _, tpl := range templates(t, wr.r) {
		if !covered[tpl] {
			t.Errorf("console route %s has no case in routeCases", tpl)
		}
	}
	for _, c := range routeCases {
		for _, role := range allRoles {
			rec := asRole(h, role, c.method, c.target, c.body, nil)
			switch {
			case role == config.RoleNone:
				if rec.Code != http.StatusUnauthorized {
					t.Errorf("%s %s without credentials: %d, want 401", c.method, c.target, rec.Code)
				}
			case role < c.need:
				var body struct {
					Error struct {
						Code    int    `json:"code"`
						Name    string `json:"name"`
						Message string `json:"message"`
					} `json:"error"`
				}
				_ = json.Unmarshal(rec.Body.Bytes(), &body)
				want := fmt.Sprintf("UNAUTHORIZED: role '%s' may not call %s %s", role, c.method, strings.SplitN(c.target, "?", 2)[0])
				if rec.Code != http.StatusForbidden || body.Error.Code != 403 || body.Error.Name != "UNAUTHORIZED" || body.Error.Message != want {
					t.Errorf("%s %s as %s: %d %s, want 403 %q", c.method, c.target, role, rec.Code, rec.Body, want)
				}
			default:
				if rec.Code == http.StatusUnauthorized || rec.Code == http.StatusForbidden {
					t.Errorf("%s %s as %s: %d %s", c.method, c.target, role, rec.Code, rec.Body)
				}
			}
		}
		// The section's own username/password is an admin.
		req := httptest.NewRequest(c.method, c.target, strings.NewReader(c.body))
		if c.method == http.MethodPost {
			req.Header.Set("Content-Type", map[bool]string{true: "text/xml", false: "application/json"}[c.target == "/RPC2"])
		}
		req.Header.Set("Content-Length", strconv.Itoa(len(c.body)))
		req.SetBasicAuth("root", "root-pass")
		ctx, cancel := context.WithCancel(req.Context())
		rec := &cutRecorder{ResponseRecorder: httptest.NewRecorder(), cancel: cancel}
		h.ServeHTTP(rec, req.WithContext(ctx))
		cancel()
		if rec.Code == http.StatusUnauthorized || rec.Code == http.StatusForbidden {
			t.Errorf("%s %s as the section's user: %d", c.method, c.target, rec.Code)
		}
	}
}

// TestEveryMethodHasARole calls every XML-RPC method of the real engine
// (gosupervisor.* included) over /RPC2 as nobody and each role. The calls
// carry too many arguments, so that an allowed one fails with
// INCORRECT_PARAMETERS without running and a refused one is UNAUTHORIZED.
func TestEveryMethodHasARole(t *testing.T) {
	e := newEngine(t, rpcSection)
	h, _ := e.rolesHandler(config.HTTPServer{Section: "unix_http_server", Unix: true})
	methods := rpc.New(e.sup, rpc.Options{}).AllMethods()
	slices.Sort(methods)
	if len(methods) < 45 || !slices.Contains(methods, "gosupervisor.getProcessHistory") {
		t.Fatalf("methods: %v", methods)
	}
	args := strings.Repeat("<param><value><string>x</string></value></param>", 10)
	for _, m := range methods {
		need, ok := rpc.MethodRole(m)
		if !ok {
			t.Errorf("%s has no declared role (pkg/rpc methodRoles)", m)
			continue
		}
		body := roleCall("<methodName>" + m + "</methodName><params>" + args + "</params>")
		for _, role := range allRoles {
			rec := asRole(h, role, "POST", "/RPC2", body, nil)
			got := rec.Body.String()
			switch {
			case role == config.RoleNone:
				if rec.Code != 401 {
					t.Errorf("%s without credentials: %d", m, rec.Code)
				}
			case role < need:
				want := "<string>UNAUTHORIZED: role '" + role.String() + "' may not call " + m + "</string>"
				if rec.Code != 200 || !strings.Contains(got, "<int>403</int>") || !strings.Contains(got, want) {
					t.Errorf("%s as %s: %d %s", m, role, rec.Code, got)
				}
			default:
				if rec.Code != 200 || !strings.Contains(got, "INCORRECT_PARAMETERS") {
					t.Errorf("%s as %s: %d %s", m, role, rec.Code, got)
				}
			}
		}
	}
}

// logText reads the engine's main log.
func (e *engine) logText(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(e.logPath)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func roleCall(body string) string {
	return "<?xml version='1.0'?>\n<methodCall>\n" + body + "</methodCall>\n"
}
