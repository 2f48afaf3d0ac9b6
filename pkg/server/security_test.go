package server

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gosupervisor/gosupervisor/internal/testutil"
	"github.com/gosupervisor/gosupervisor/pkg/config"
	"github.com/gosupervisor/gosupervisor/pkg/rpc"
	"github.com/gosupervisor/gosupervisor/pkg/webui"
)

const auditConf = rpcSection + `
[program:web]
command=/bin/sleep 1000
autostart=false
stdout_logfile=NONE
`

// TestAuditLines: each state-changing call is one INFO line naming the
// user, the peer and the call, over /RPC2, inside a multicall, through the
// console's API and the original's action URLs; reads have none.
func TestAuditLines(t *testing.T) {
	e := newEngine(t, auditConf)
	h, _ := e.rolesHandler(config.HTTPServer{Section: "inet_http_server"})
	stop := roleCall("<methodName>supervisor.stopProcess</methodName><params><param><value><string>web</string></value></param></params>")
	if rec := asRole(h, config.RoleOperator, "POST", "/RPC2", stop, nil); rec.Code != 200 || !strings.Contains(rec.Body.String(), "NOT_RUNNING") {
		t.Fatalf("stopProcess: %d %s", rec.Code, rec.Body)
	}
	multi := roleCall(`<methodName>system.multicall</methodName><params><param><value><array><data>
<value><struct><member><name>methodName</name><value><string>supervisor.getState</string></value></member></struct></value>
<value><struct><member><name>methodName</name><value><string>supervisor.signalProcess</string></value></member>
<member><name>params</name><value><array><data><value><string>web</string></value><value><string>HUP</string></value></data></array></value></member></struct></value>
<value><struct><member><name>methodName</name><value><string>supervisor.shutdown</string></value></member></struct></value>
</data></array></value></param></params>`)
	if rec := asRole(h, config.RoleOperator, "POST", "/RPC2", multi, nil); rec.Code != 200 || !strings.Contains(rec.Body.String(), "UNAUTHORIZED: role &#x27;operator&#x27; may not call supervisor.shutdown") && !strings.Contains(rec.Body.String(), "UNAUTHORIZED: role 'operator' may not call supervisor.shutdown") {
		t.Fatalf("multicall: %d %s", rec.Code, rec.Body)
	}
	asRole(h, config.RoleAdmin, "POST", "/api/v1/processes/web/stop", "", nil)
	asRole(h, config.RoleAdmin, "GET", "/index.html?processname=web&action=clearlog", "", nil)
	asRole(h, config.RoleReadonly, "GET", "/api/v1/processes", "", nil)
	asRole(h, config.RoleReadonly, "POST", "/RPC2", roleCall("<methodName>supervisor.getAllProcessInfo</methodName>"), nil)
	asRole(h, config.RoleReadonly, "POST", "/api/v1/all/stop", "", nil)

	want := []string{
		"INFO audit: 'op' from 192.0.2.1:1234 supervisor.stopProcess('web')",
		"INFO audit: 'op' from 192.0.2.1:1234 supervisor.signalProcess('web', 'HUP')",
		"WARN refused: 'op' (operator) from 192.0.2.1:1234 may not call supervisor.shutdown",
		"INFO audit: 'adm' from 192.0.2.1:1234 supervisor.stopProcess('web', True)",
		"INFO audit: 'adm' from 192.0.2.1:1234 supervisor.clearProcessLogs('web')",
		"WARN refused: 'ro' (readonly) from 192.0.2.1:1234 may not call POST /api/v1/all/stop",
	}
	re := regexp.MustCompile(`(?m)^\S+ \S+ ((INFO|WARN) (audit|refused): .*)$`)
	var got []string
	for _, m := range re.FindAllStringSubmatch(e.logText(t), -1) {
		got = append(got, m[1])
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("audit lines:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestNoAuditWithoutTheKeys: a config without users or allow_* logs no
// audit line (its main log stays the original's).
func TestNoAuditWithoutTheKeys(t *testing.T) {
	e := newEngine(t, auditConf)
	h := e.handler(config.HTTPServer{Section: "inet_http_server", Username: "u", Password: "p", HasAuth: true})
	stop := roleCall("<methodName>supervisor.stopProcess</methodName><params><param><value><string>web</string></value></param></params>")
	if rec := do(h, "POST", "/RPC2", stop, map[string]string{"Content-Length": fmt.Sprint(len(stop)), "Authorization": basic("u", "p")["Authorization"]}); rec.Code != 200 {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	if text := e.logText(t); strings.Contains(text, "audit:") {
		t.Errorf("audit line without the §7 keys:\n%s", text)
	}
}

// TestCSRF reproduces issue 18's defect 3 and checks that the clients
// that are not browsers still pass.
func TestCSRF(t *testing.T) {
	e := newEngine(t, auditConf)
	open := e.consoleHandler(config.HTTPServer{Section: "inet_http_server", Host: "127.0.0.1", Port: 9001})
	authed := e.consoleHandler(config.HTTPServer{Section: "inet_http_server", Port: 9001, Username: "u", Password: "p", HasAuth: true})
	getState := roleCall("<methodName>supervisor.getState</methodName>")
	stop := roleCall("<methodName>supervisor.stopProcess</methodName><params><param><value><string>web</string></value></param></params>")
	auth := basic("u", "p")["Authorization"]
	for _, tt := range []struct {
		name         string
		h            http.Handler
		method, path string
		body         string
		hdr          map[string]string
		want         int
	}{
		// The reproductions.
		{"cross-site action link", open, "GET", "/index.html?processname=web&action=stop", "", map[string]string{"Host": "127.0.0.1:9001", "Sec-Fetch-Site": "cross-site"}, 403},
		{"same-site action link", open, "GET", "/index.html?processname=web&action=stop", "", map[string]string{"Host": "127.0.0.1:9001", "Sec-Fetch-Site": "same-site"}, 403},
		{"action with foreign Origin", authed, "POST", "/index.html", "processname=web&action=stop", map[string]string{"Host": "127.0.0.1:9001", "Authorization": auth, "Content-Type": "application/x-www-form-urlencoded", "Origin": "http://evil.example"}, 403},
		{"text/plain RPC2", open, "POST", "/RPC2", stop, map[string]string{"Host": "127.0.0.1:9001", "Content-Type": "text/plain"}, 415},
		{"form RPC2", authed, "POST", "/RPC2", stop, map[string]string{"Host": "127.0.0.1:9001", "Authorization": auth, "Content-Type": "application/x-www-form-urlencoded"}, 415},
		{"no Content-Type RPC2", open, "POST", "/RPC2", stop, map[string]string{"Host": "127.0.0.1:9001", "Content-Type": ""}, 415},
		{"cross-site text/xml RPC2", authed, "POST", "/RPC2", stop, map[string]string{"Host": "127.0.0.1:9001", "Authorization": auth, "Content-Type": "text/xml", "Sec-Fetch-Site": "cross-site"}, 403},
		{"DNS rebinding", open, "POST", "/api/v1/processes/web/stop", "", map[string]string{"Host": "evil.example:9001", "Origin": "http://evil.example:9001", "Sec-Fetch-Site": "same-origin"}, 403},
		{"DNS rebinding read", open, "GET", "/api/v1/processes", "", map[string]string{"Host": "evil.example:9001"}, 403},
		{"https Origin on http", open, "POST", "/api/v1/processes/web/stop", "", map[string]string{"Host": "127.0.0.1:9001", "Origin": "https://127.0.0.1:9001"}, 403},
		{"cross-site config diff", authed, "GET", "/api/v1/config/diff", "", map[string]string{"Host": "127.0.0.1:9001", "Authorization": auth, "Sec-Fetch-Site": "cross-site"}, 403},
		// What must keep working.
		{"supervisorctl RPC2", open, "POST", "/RPC2", getState, map[string]string{"Host": "localhost", "Content-Type": "text/xml"}, 200},
		{"charset RPC2", authed, "POST", "/RPC2", getState, map[string]string{"Host": "my.host.example:9001", "Authorization": auth, "Content-Type": "text/xml; charset=utf-8"}, 200},
		{"curl API", open, "GET", "/api/v1/processes", "", map[string]string{"Host": "127.0.0.1:9001"}, 200},
		{"curl API action", open, "POST", "/api/v1/processes/web/clear", "", map[string]string{"Host": "localhost:9001"}, 200},
		{"console action", open, "POST", "/api/v1/processes/web/clear", "", map[string]string{"Host": "127.0.0.1:9001", "Origin": "http://127.0.0.1:9001", "Sec-Fetch-Site": "same-origin"}, 200},
		{"console behind a TLS proxy", authed, "POST", "/api/v1/processes/web/clear", "", map[string]string{"Host": "sv.example", "Authorization": auth, "Origin": "https://sv.example", "X-Forwarded-Proto": "https", "Sec-Fetch-Site": "same-origin"}, 200},
		{"bookmarked action", open, "GET", "/index.html?processname=web&action=clearlog", "", map[string]string{"Host": "[::1]:9001", "Sec-Fetch-Site": "none"}, 301},
		{"console action link", open, "GET", "/index.html?action=refresh", "", map[string]string{"Host": "127.0.0.1:9001", "Sec-Fetch-Site": "same-origin"}, 301},
		{"script action", open, "GET", "/index.html?processname=web&action=clearlog", "", map[string]string{"Host": "127.0.0.1:9001"}, 301},
		{"machine name", open, "GET", "/api/v1/processes", "", map[string]string{"Host": hostname(t) + ":9001"}, 200},
		{"any name with auth", authed, "GET", "/api/v1/processes", "", map[string]string{"Host": "evil.example:9001", "Authorization": auth}, 200},
	} {
		if tt.body != "" {
			tt.hdr["Content-Length"] = fmt.Sprint(len(tt.body))
		}
		rec := do(tt.h, tt.method, tt.path, tt.body, tt.hdr)
		if rec.Code != tt.want {
			t.Errorf("%s: %d %s, want %d", tt.name, rec.Code, rec.Body, tt.want)
		}
	}
	if text := e.logText(t); strings.Contains(text, "stopped") {
		t.Errorf("a refused request stopped web:\n%s", text)
	}
}

func hostname(t *testing.T) string {
	h, err := os.Hostname()
	if err != nil {
		t.Skip(err)
	}
	return h
}

// TestFailedAuthDelay: wrong credentials wait Options.AuthFailDelay before
// their 401; right ones and none at all do not.
func TestFailedAuthDelay(t *testing.T) {
	e := newEngine(t, rpcSection)
	const delay = 150 * time.Millisecond
	h := e.handlerWith(config.HTTPServer{Section: "inet_http_server", Username: "u", Password: "p", HasAuth: true}, Options{AuthFailDelay: delay})
	timed := func(hdr map[string]string) (int, time.Duration) {
		start := time.Now()
		rec := do(h, "GET", "/ok.html", "", hdr)
		return rec.Code, time.Since(start)
	}
	if code, took := timed(basic("u", "wrong")); code != 401 || took < delay {
		t.Errorf("wrong password: %d after %v, want 401 after %v", code, took, delay)
	}
	if code, took := timed(basic("u", "p")); code != 200 || took >= delay {
		t.Errorf("right password: %d after %v", code, took)
	}
	if code, took := timed(nil); code != 401 || took >= delay {
		t.Errorf("no credentials: %d after %v", code, took)
	}
	if withDefaults := (Options{}).withDefaults(); withDefaults.AuthFailDelay != time.Second {
		t.Errorf("default delay %v", withDefaults.AuthFailDelay)
	}
}

// nobody runs a command as the unprivileged user nobody.
func asNobody(t *testing.T, name string, args ...string) (string, error) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to run a client as nobody")
	}
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Skip("setpriv (util-linux) is missing")
	}
	out, err := exec.Command(setpriv, append([]string{"--reuid=nobody", "--regid=nogroup", "--clear-groups", name}, args...)...).CombinedOutput()
	return string(out), err
}

// TestPeerCredentials: allow_uids admits root's supervisorctl and refuses
// nobody's with 403 and a log line before any authentication, on a socket
// everyone may open (chmod=0777); allow_groups admits nobody through
// nogroup. Audit lines name unix peers by uid.
func TestPeerCredentials(t *testing.T) {
	needPython(t)
	dir, err := os.MkdirTemp("", "peercred")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	body := rpcSection + `
[unix_http_server]
file={sock}
chmod=0777
allow_uids=0
allow_groups=%s

[supervisorctl]
serverurl=unix://{sock}

[program:web]
command=/bin/sleep 1000
autostart=false
`
	for _, tt := range []struct {
		groups     string
		nobodyOK   bool
		wantNobody string
	}{
		{"", false, "403"},
		{"nogroup", true, ""},
	} {
		t.Run("allow_groups="+tt.groups, func(t *testing.T) {
			sub := filepath.Join(dir, "g"+tt.groups)
			if err := os.Mkdir(sub, 0o755); err != nil {
				t.Fatal(err)
			}
			d := runDaemon(t, writeConf(t, sub, 0, fmt.Sprintf(body, tt.groups)))
			waitFor(t, "the socket", 10*time.Second, func() bool { _, err := os.Stat(d.sock); return err == nil })
			if err := os.Chmod(d.conf, 0o644); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "root's supervisorctl", 10*time.Second, func() bool {
				out, _ := d.ctl(t, "status")
				return strings.Contains(out, "web") && strings.Contains(out, "STOPPED")
			})
			if out, code := d.ctl(t, "start", "web"); code != 0 || !strings.Contains(out, "web: started") {
				t.Errorf("root: start web: %d %s", code, out)
			}
			out, err := asNobody(t, supervisorctl, "-c", d.conf, "status")
			if tt.nobodyOK {
				if !strings.Contains(out, "web") || !strings.Contains(out, "RUNNING") {
					t.Errorf("nobody in nogroup: %v %s", err, out)
				}
			} else if err == nil || !strings.Contains(out, tt.wantNobody) {
				t.Errorf("nobody: %v %q, want a refusal mentioning %s", err, out, tt.wantNobody)
			}
			// A raw request as nobody sees the 403 itself.
			raw, _ := asNobody(t, python3, "-c", `
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(b"GET /ok.html HTTP/1.0\r\n\r\n")
print(s.recv(100).decode().split("\r\n")[0])`, d.sock)
			wantStatus := "HTTP/1.0 403"
			if tt.nobodyOK {
				wantStatus = "HTTP/1.0 200"
			}
			if !strings.HasPrefix(strings.TrimSpace(raw), wantStatus) {
				t.Errorf("nobody's raw request: %q, want %s", raw, wantStatus)
			}
			log, _ := os.ReadFile(filepath.Join(sub, "sd.log"))
			if !strings.Contains(string(log), "INFO audit: None from uid 0 supervisor.startProcess('web')") {
				t.Errorf("no audit line for root's start:\n%s", log)
			}
			refused := regexp.MustCompile(`WARN refused: uid 65534 \(gid 65534, pid \d+\) on 'unix_http_server': not in allow_uids or allow_groups`)
			if refused.Match(log) == tt.nobodyOK {
				t.Errorf("refusal line for nobody: %v, want %v:\n%s", !tt.nobodyOK, !tt.nobodyOK, log)
			}
		})
	}
}

// consoleHandler is a server with the console and without users.
func (e *engine) consoleHandler(sc config.HTTPServer) http.Handler {
	return Handler(e.sup, e.log, sc, Options{
		Poll: 20 * time.Millisecond, AuthFailDelay: -1,
		UI: func(d *rpc.Server) http.Handler { return webui.New(e.sup, d, webui.Options{}) },
	})
}

// TestPythonClientsWithRoles: Python's xmlrpc.client and supervisorctl
// authenticate as [user:NAME] users over TCP; a refused call is the
// UNAUTHORIZED fault, and audit lines name the 127.0.0.1 peer.
func TestPythonClientsWithRoles(t *testing.T) {
	needPython(t)
	port := testutil.FreePort(t)
	d := startDaemon(t, port, rpcSection+`
[inet_http_server]
port=127.0.0.1:{port}

[user:alice]
password=secret
role=readonly

[user:bob]
password=builder
role=operator

[supervisorctl]
serverurl=http://127.0.0.1:{port}
username=bob
password=builder

[program:web]
command=/bin/sleep 1000
autostart=false
`)
	out := py(t, `
import sys, xmlrpc.client
url = "http://alice:secret@127.0.0.1:" + sys.argv[1] + "/RPC2"
s = xmlrpc.client.ServerProxy(url)
print(s.supervisor.getState()["statename"])
try:
    s.supervisor.stopProcess("web")
except xmlrpc.client.Fault as f:
    print(f.faultCode, f.faultString)
print(s.system.multicall([{"methodName": "supervisor.getPID"}, {"methodName": "supervisor.startProcess", "params": ["web"]}])[1])
try:
    xmlrpc.client.ServerProxy("http://alice:wrong@127.0.0.1:" + sys.argv[1] + "/RPC2").supervisor.getState()
except xmlrpc.client.ProtocolError as e:
    print(e.errcode)
`, fmt.Sprint(port))
	want := "RUNNING\n403 UNAUTHORIZED: role 'readonly' may not call supervisor.stopProcess\n" +
		"{'faultCode': 403, 'faultString': \"UNAUTHORIZED: role 'readonly' may not call supervisor.startProcess\"}\n401\n"
	if out != want {
		t.Errorf("xmlrpc.client:\n%s\nwant:\n%s", out, want)
	}
	if out, code := d.ctl(t, "start", "web"); code != 0 || !strings.Contains(out, "web: started") {
		t.Errorf("supervisorctl as bob: %d %s", code, out)
	}
	if out, _ := d.ctl(t, "shutdown"); !strings.Contains(out, "UNAUTHORIZED") {
		t.Errorf("supervisorctl shutdown as operator: %s", out)
	}
	log, _ := os.ReadFile(filepath.Join(d.dir, "sd.log"))
	if !regexp.MustCompile(`INFO audit: 'bob' from 127\.0\.0\.1:\d+ supervisor\.startProcess\('web'\)`).Match(log) {
		t.Errorf("no audit line for bob's start:\n%s", log)
	}
	if !strings.Contains(string(log), "WARN refused: 'alice' (readonly) from 127.0.0.1:") {
		t.Errorf("no refusal line for alice:\n%s", log)
	}
}

// TestConsoleRole: with users, /api/v1/supervisor and the page name the
// caller's role (the console hides what it may not do); without, neither.
func TestConsoleRole(t *testing.T) {
	e := newEngine(t, auditConf)
	h, _ := e.rolesHandler(config.HTTPServer{Section: "inet_http_server"})
	if rec := asRole(h, config.RoleOperator, "GET", "/api/v1/supervisor", "", nil); !strings.Contains(rec.Body.String(), `"role":"operator"`) {
		t.Errorf("/api/v1/supervisor as operator: %s", rec.Body)
	}
	if rec := asRole(h, config.RoleReadonly, "GET", "/", "", nil); !strings.Contains(rec.Body.String(), `<html lang="en" data-role="readonly">`) {
		t.Errorf("page as readonly: %.300s", rec.Body)
	}
	plain := e.consoleHandler(config.HTTPServer{Section: "unix_http_server", Unix: true})
	if rec := do(plain, "GET", "/api/v1/supervisor", "", nil); strings.Contains(rec.Body.String(), "role") {
		t.Errorf("/api/v1/supervisor without users: %s", rec.Body)
	}
	if rec := do(plain, "GET", "/", "", nil); !strings.Contains(rec.Body.String(), `<html lang="en">`) {
		t.Errorf("page without users: %.300s", rec.Body)
	}
}
