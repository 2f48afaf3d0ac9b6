package extensions_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gosupervisor/gosupervisor/internal/testutil"
	"github.com/gosupervisor/gosupervisor/tests/compat/harness"
)

// allKeysConf is a config that uses every key of ours (EXTENSIONS.md
// §1–§3, §6), for port (inet server), dbPort (tcp check) and webPort
// (http check).
func allKeysConf(e *env, port, dbPort, webPort int) (supervisordExtra, sections string) {
	return "", fmt.Sprintf(`[inet_http_server]
port=127.0.0.1:%[1]d
probes_public=true

[program:db]
%[4]s
startsecs=0
healthcheck=tcp://127.0.0.1:%[2]d
healthcheck_interval=1
healthcheck_timeout=1
healthcheck_retries=3
healthcheck_start_period=2
on_unhealthy=restart
backoff=exponential
backoff_max=10
startretries=unlimited
critical=true

[program:web]
%[5]s
startsecs=0
depends_on=db
healthcheck=http://127.0.0.1:%[3]d/health
healthcheck_interval=1
on_unhealthy=ignore

[group:svc]
programs=worker
depends_on=db

[program:worker]
command=/bin/sh -c 'echo worker-out; echo worker-err >&2; exec sleep 1000'
startsecs=0
depends_on=web
healthcheck=exec:/bin/true
healthcheck_interval=1
on_unhealthy=shutdown

[program:plain]
command=/bin/sh -c 'echo hello-plain; exec sleep 1000'
startsecs=0
`, port, dbPort, webPort, helperProgram("tcp", strconv.Itoa(dbPort)), helperProgram("http", strconv.Itoa(webPort), e.dir))
}

// waitReady waits until getReadiness is empty (everything RUNNING and
// healthy).
func (d *daemon) waitReady(timeout time.Duration) {
	d.e.t.Helper()
	var last any
	if !waitUntil(timeout, func() bool {
		v, err := d.rpc.Value("gosupervisor.getReadiness")
		last = v
		s, _ := v.([]any)
		return err == nil && s != nil && len(s) == 0
	}) {
		d.e.t.Fatalf("never ready within %v; getReadiness: %v", timeout, last)
	}
}

// The original's supervisorctl works unchanged against a config that uses
// every key of ours: status, start, stop, restart, avail and tail.
func TestPythonCtlAllKeys(t *testing.T) {
	t.Parallel()
	requirePython(t)
	e := newEnv(t)
	e.write(allKeysConf(e, testutil.FreePort(t), testutil.FreePort(t), testutil.FreePort(t)))
	d := e.startDaemon()
	d.waitReady(20 * time.Second)

	// status: the original's columns, the health appended to checked
	// programs only; ours prints the same.
	out, code := e.ctl(pyCtl, "status")
	if code != 0 {
		t.Errorf("python status: exit %d\n%s", code, out)
	}
	lines := statusLines(out)
	for name, suffix := range map[string]string{"db": ", healthy", "web": ", healthy", "svc:worker": ", healthy", "plain": ""} {
		re := regexp.MustCompile(`^` + regexp.QuoteMeta(originalLine(name, "RUNNING", "pid ")) + `\d+, uptime \d+:\d\d:\d\d` + regexp.QuoteMeta(suffix) + `$`)
		if !re.MatchString(lines[name]) {
			t.Errorf("python status: line of %s is %q, want %s", name, lines[name], re)
		}
	}
	if len(lines) != 4 {
		t.Errorf("python status: %d lines, want 4:\n%s", len(lines), out)
	}
	ours, _ := e.ctl(bins.Supervisorctl, "status")
	if maskUptime(ours) != maskUptime(out) {
		t.Errorf("status differs:\nours:\n%s\noriginal's:\n%s", ours, out)
	}

	// avail: the original's lines from getAllConfigInfo.
	out, code = e.ctl(pyCtl, "avail")
	if code != 0 || strings.Count(out, "\n") != 4 {
		t.Errorf("python avail: exit %d\n%s", code, out)
	}
	for _, name := range []string{"db", "web", "svc:worker", "plain"} {
		if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + ` +in use +auto +999:999$`).MatchString(out) {
			t.Errorf("python avail: no line for %s:\n%s", name, out)
		}
	}
	if ours, _ := e.ctl(bins.Supervisorctl, "avail"); ours != out {
		t.Errorf("avail differs:\nours:\n%s\noriginal's:\n%s", ours, out)
	}

	// tail: the child's logs (and the newline the original's output()
	// adds).
	for _, c := range []struct{ args, want string }{
		{"tail plain", "hello-plain\n\n"},
		{"tail svc:worker", "worker-out\n\n"},
		{"tail svc:worker stderr", "worker-err\n\n"},
	} {
		out, code := e.ctl(pyCtl, strings.Fields(c.args)...)
		if code != 0 || out != c.want {
			t.Errorf("python %s: exit %d, %q, want %q", c.args, code, out, c.want)
		}
	}

	// stop, start, restart: the original's answers.
	step := func(want string, args ...string) {
		t.Helper()
		out, code := e.ctl(pyCtl, args...)
		if code != 0 || out != want {
			t.Errorf("python %s: exit %d, %q, want %q", strings.Join(args, " "), code, out, want)
		}
	}
	step("plain: stopped\n", "stop", "plain")
	step("plain: started\n", "start", "plain")
	step("web: stopped\nweb: started\n", "restart", "web")
	if st := d.info("web")["statename"]; st != "RUNNING" {
		t.Errorf("web after restart: %v", st)
	}
	// Stopping a dependency alone leaves its dependents running; starting
	// a dependent starts its stopped dependency first.
	step("db: stopped\n", "stop", "db")
	step("web: stopped\n", "stop", "web")
	if st := d.info("svc:worker")["statename"]; st != "RUNNING" {
		t.Errorf("svc:worker after stopping its dependencies: %v", st)
	}
	step("web: started\n", "start", "web")
	if db := d.info("db"); db["statename"] != "RUNNING" {
		t.Errorf("start web did not start db: %v", db["statename"])
	}
	if h := d.health("db"); h["status"] != "healthy" {
		t.Errorf("web was started before db was healthy: %v", h)
	}
	step("svc:worker: stopped\n", "stop", "svc:*")
	step("svc:worker: started\n", "start", "svc:worker")
	if d.hasExited() {
		t.Fatalf("supervisord exited (status %d)", d.status)
	}
}

// python3's xmlrpc.client, as node_exporter's supervisord collector uses
// the API: getAllProcessInfo's structs have exactly the original's keys
// and types; system.listMethods names gosupervisor.* only for a config
// that uses a key of ours.
func TestPlainXMLRPCClient(t *testing.T) {
	t.Parallel()
	requirePython(t)
	// The original's answers, for their keys: Python's supervisord on a
	// config without our keys.
	pe := newEnv(t)
	pe.write("", "[program:plain]\ncommand=sleep 1000\nstartsecs=0\n")
	py := harness.StartDaemon(t, "python", harness.PySupervisord, pe.conf, pe.sock, nil)
	if _, err := py.RPC.WaitState("plain", "RUNNING", 10*time.Second, nil); err != nil {
		t.Fatal(err)
	}
	origInfo := keysOf(t, py.RPC, "supervisor.getAllProcessInfo")
	origConfig := keysOf(t, py.RPC, "supervisor.getAllConfigInfo")
	origMethods := methodsOf(t, py.RPC)

	t.Run("all keys", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		port := testutil.FreePort(t)
		e.write(allKeysConf(e, port, testutil.FreePort(t), testutil.FreePort(t)))
		d := e.startDaemon()
		d.waitReady(20 * time.Second)
		r := pyXMLRPC(t, fmt.Sprintf("http://127.0.0.1:%d/RPC2", port))
		wantTypes := map[string]string{
			"name": "str", "group": "str", "description": "str", "start": "int", "stop": "int",
			"now": "int", "state": "int", "statename": "str", "spawnerr": "str", "exitstatus": "int",
			"logfile": "str", "stdout_logfile": "str", "stderr_logfile": "str", "pid": "int",
		}
		if len(r.Infos) != 4 {
			t.Errorf("getAllProcessInfo: %d structs, want 4", len(r.Infos))
		}
		for i, types := range r.Infos {
			if !reflect.DeepEqual(types, wantTypes) {
				t.Errorf("getAllProcessInfo()[%d] (%s) has keys and types %v, want %v", i, r.Names[i], types, wantTypes)
			}
			if got := sortedKeys(types); !slices.Equal(got, origInfo) {
				t.Errorf("getAllProcessInfo()[%d] keys %v, the original's %v", i, got, origInfo)
			}
		}
		for i, types := range r.Configs {
			if got := sortedKeys(types); !slices.Equal(got, origConfig) {
				t.Errorf("getAllConfigInfo()[%d] keys %v, the original's %v", i, got, origConfig)
			}
			if types["startretries"] != "int" {
				t.Errorf("getAllConfigInfo()[%d] startretries is a %s", i, types["startretries"])
			}
		}
		var ext []string
		for _, m := range r.Methods {
			if strings.HasPrefix(m, "gosupervisor.") {
				ext = append(ext, m)
			} else if !slices.Contains(origMethods, m) {
				t.Errorf("listMethods names %s, which the original has not", m)
			}
		}
		for _, m := range []string{"gosupervisor.getProcessHealth", "gosupervisor.getProcessDependencies", "gosupervisor.getReadiness"} {
			if !slices.Contains(ext, m) {
				t.Errorf("listMethods lacks %s: %v", m, ext)
			}
		}
		for _, m := range origMethods {
			if !slices.Contains(r.Methods, m) {
				t.Errorf("listMethods lacks the original's %s", m)
			}
		}
		if r.Health["status"] != "healthy" {
			t.Errorf("gosupervisor.getProcessHealth('db') = %v", r.Health)
		}
	})

	t.Run("no keys of ours", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		port := testutil.FreePort(t)
		e.write("", fmt.Sprintf("[inet_http_server]\nport=127.0.0.1:%d\n\n[program:plain]\ncommand=sleep 1000\nstartsecs=0\n", port))
		d := e.startDaemon()
		d.waitState("plain", "RUNNING", 10*time.Second, nil)
		r := pyXMLRPC(t, fmt.Sprintf("http://127.0.0.1:%d/RPC2", port))
		if !slices.Equal(r.Methods, origMethods) {
			t.Errorf("listMethods = %v, the original's %v", r.Methods, origMethods)
		}
		if len(r.Infos) != 1 || !slices.Equal(sortedKeys(r.Infos[0]), origInfo) {
			t.Errorf("getAllProcessInfo keys %v, the original's %v", r.Infos, origInfo)
		}
	})
}

// pyAnswer is what pyXMLRPCScript prints.
type pyAnswer struct {
	Infos   []map[string]string `json:"infos"`   // key → Python type name
	Configs []map[string]string `json:"configs"` // likewise, getAllConfigInfo
	Names   []string            `json:"names"`
	Methods []string            `json:"methods"`
	Health  map[string]any      `json:"health"` // getProcessHealth('db'), if listed
}

const pyXMLRPCScript = `
import json, sys, xmlrpc.client
s = xmlrpc.client.ServerProxy(sys.argv[1])
infos = s.supervisor.getAllProcessInfo()
configs = s.supervisor.getAllConfigInfo()
methods = s.system.listMethods()
health = None
if "gosupervisor.getProcessHealth" in methods and "db" in [i["name"] for i in infos]:
    health = s.gosupervisor.getProcessHealth("db")
print(json.dumps({
    "infos": [{k: type(v).__name__ for k, v in i.items()} for i in infos],
    "configs": [{k: type(v).__name__ for k, v in i.items()} for i in configs],
    "names": [i["name"] for i in infos],
    "methods": methods,
    "health": health,
}))
`

// pyXMLRPC runs python3's xmlrpc.client against url.
func pyXMLRPC(t *testing.T, url string) pyAnswer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "/usr/bin/python3", "-c", pyXMLRPCScript, url).CombinedOutput()
	if err != nil {
		t.Fatalf("python3 xmlrpc.client on %s: %v\n%s", url, err, out)
	}
	var r pyAnswer
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("python3 xmlrpc.client: %v\n%s", err, out)
	}
	return r
}

func keysOf(t *testing.T, c *harness.Client, method string) []string {
	t.Helper()
	v, err := c.Value(method)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := v.([]any)
	if len(s) == 0 {
		t.Fatalf("%s: %v", method, v)
	}
	m, _ := s[0].(map[string]any)
	return sortedKeys(m)
}

func methodsOf(t *testing.T, c *harness.Client) []string {
	t.Helper()
	v, err := c.Value("system.listMethods")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range v.([]any) {
		out = append(out, m.(string))
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	var k []string
	for key := range m {
		k = append(k, key)
	}
	sort.Strings(k)
	return k
}
