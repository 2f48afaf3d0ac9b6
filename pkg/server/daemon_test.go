package server

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gosupervisor/gosupervisor/internal/testutil"
)

const (
	python3       = "/usr/bin/python3"
	supervisorctl = "/usr/bin/supervisorctl"
)

// needPython fails the test when the Python oracle is missing, unless
// GOSUPERVISOR_NO_PYTHON=1 says to skip.
func needPython(t *testing.T) {
	t.Helper()
	if os.Getenv("GOSUPERVISOR_NO_PYTHON") == "1" {
		t.Skip("GOSUPERVISOR_NO_PYTHON=1")
	}
	for _, p := range []string{python3, supervisorctl} {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("%s is needed (Debian's supervisor package); set GOSUPERVISOR_NO_PYTHON=1 to skip: %v", p, err)
		}
	}
}

// testDaemon is our supervisord running on a temp config.
type testDaemon struct {
	dir, conf, sock string
	port            int
	cmd             *exec.Cmd
	stdout, stderr  *testutil.SyncBuffer
	exited          chan struct{}
	err             error
}

// writeConf writes a config: %(dir)s → a temp dir, {port} → a free port,
// {sock} → the unix socket path. It always adds [supervisord].
func writeConf(t *testing.T, dir string, port int, body string) string {
	t.Helper()
	sock := filepath.Join(dir, "sv.sock")
	r := strings.NewReplacer("%(dir)s", dir, "{port}", strconv.Itoa(port), "{sock}", sock)
	text := fmt.Sprintf("[supervisord]\nnodaemon=true\nlogfile=%s/sd.log\npidfile=%s/sd.pid\nchildlogdir=%s\n", dir, dir, dir) + r.Replace(body)
	conf := filepath.Join(dir, "supervisord.conf")
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return conf
}

// runDaemon starts the daemon on conf without waiting for it.
func runDaemon(t *testing.T, conf string) *testDaemon {
	t.Helper()
	d := &testDaemon{dir: filepath.Dir(conf), conf: conf, sock: filepath.Join(filepath.Dir(conf), "sv.sock"),
		stdout: &testutil.SyncBuffer{}, stderr: &testutil.SyncBuffer{}, exited: make(chan struct{})}
	d.cmd = exec.Command(daemonBin, "-n", "-c", conf)
	d.cmd.Stdout, d.cmd.Stderr = d.stdout, d.stderr
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { d.err = d.cmd.Wait(); close(d.exited) }()
	t.Cleanup(func() { d.stop(t) })
	return d
}

// startDaemon runs the daemon and waits until it answers on its unix socket
// (or on 127.0.0.1:port when it has no unix server).
func startDaemon(t *testing.T, port int, body string) *testDaemon {
	t.Helper()
	d := runDaemon(t, writeConf(t, t.TempDir(), port, body))
	d.port = port
	waitFor(t, "the daemon to answer", 10*time.Second, func() bool {
		select {
		case <-d.exited:
			t.Fatalf("daemon exited: %v\nstdout:\n%s\nstderr:\n%s", d.err, d.stdout, d.stderr)
		default:
		}
		resp, err := d.client().Get(d.url("/ok.html"))
		if err != nil {
			return false
		}
		resp.Body.Close()
		return true
	})
	return d
}

func (d *testDaemon) stop(t *testing.T) {
	select {
	case <-d.exited:
		return
	default:
	}
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.exited:
	case <-time.After(15 * time.Second):
		_ = d.cmd.Process.Kill()
		<-d.exited
		t.Errorf("daemon ignored SIGTERM\n%s", d.stdout)
	}
}

// client talks to the unix socket if there is one, else to the port.
func (d *testDaemon) client() *http.Client {
	tr := &http.Transport{DisableKeepAlives: true}
	if _, err := os.Stat(d.sock); err == nil || d.port == 0 {
		tr.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", d.sock)
		}
	}
	return &http.Client{Transport: tr, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func (d *testDaemon) url(path string) string {
	if d.port != 0 {
		return fmt.Sprintf("http://127.0.0.1:%d%s", d.port, path)
	}
	return "http://localhost" + path
}

func (d *testDaemon) inet() string { return fmt.Sprintf("127.0.0.1:%d", d.port) }

// ctl runs Python's supervisorctl against the daemon.
func (d *testDaemon) ctl(t *testing.T, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, supervisorctl, append([]string{"-c", d.conf}, args...)...).CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("supervisorctl %v: %v", args, err)
	}
	return string(out), code
}

// py runs a Python script with args and returns its output.
func py(t *testing.T, script string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, python3, append([]string{"-c", script}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	}
	return string(out)
}

// follow starts a long-running supervisorctl (tail -f, maintail -f), runs
// trigger (if any) once it has connected, waits for want in its output,
// then kills it by PID.
func (d *testDaemon) follow(t *testing.T, want string, trigger func(), args ...string) {
	t.Helper()
	out := &testutil.SyncBuffer{}
	cmd := exec.Command(supervisorctl, append([]string{"-c", d.conf}, args...)...)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}()
	if trigger != nil {
		waitFor(t, "supervisorctl to connect", 10*time.Second, func() bool { return out.String() != "" })
		trigger()
	}
	waitFor(t, fmt.Sprintf("%q in supervisorctl %v output", want, args), 10*time.Second, func() bool {
		return strings.Contains(out.String(), want)
	})
}

// waitState polls getProcessInfo(name) until its statename is state.
func (d *testDaemon) waitState(t *testing.T, name, state string) {
	t.Helper()
	body := "<?xml version='1.0'?><methodCall><methodName>supervisor.getProcessInfo</methodName><params><param><value><string>" +
		name + "</string></value></param></params></methodCall>"
	want := "<name>statename</name>\n<value><string>" + state + "</string>"
	waitFor(t, name+" to be "+state, 10*time.Second, func() bool {
		resp, err := d.client().Post(d.url("/RPC2"), "text/xml", strings.NewReader(body))
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		got, _ := io.ReadAll(resp.Body)
		return strings.Contains(string(got), want)
	})
}

// rpcScript calls methods through the original's own transport (which
// also speaks to unix sockets) over one kept-alive connection.
const rpcScript = `
import sys, xmlrpc.client
from supervisor.xmlrpc import SupervisorTransport
url, user, pw = sys.argv[1], sys.argv[2] or None, sys.argv[3] or None
t = SupervisorTransport(user, pw, url)
p = xmlrpc.client.ServerProxy('http://127.0.0.1', transport=t)
print(p.supervisor.getState()['statename'])
sock = t.connection.sock
print(p.supervisor.getAPIVersion())
print(sorted(i['name'] for i in p.supervisor.getAllProcessInfo()))
try:
    p.supervisor.getProcessInfo('nosuch')
except xmlrpc.client.Fault as f:
    print(f.faultCode, f.faultString)
print(len(p.system.listMethods()))
print('same connection', t.connection.sock is sock)
# SPEC item 49: a slice cutting a UTF-8 sequence is an HTTP 500.
try:
    p.supervisor.readProcessStdoutLog('utf', 0, 1)
except xmlrpc.client.ProtocolError as e:
    print('protocol', e.errcode)
print(repr(p.supervisor.readProcessStdoutLog('utf', 0, 2)))
`

const fullConf = rpcSection + `
[unix_http_server]
file={sock}

[inet_http_server]
port=127.0.0.1:{port}
username=user
password={SHA}82ab876d1387bfafe46cc1c8a2ef074eae50cb1d

[supervisorctl]
serverurl=unix://{sock}

[program:echo]
command=/bin/sh -c "echo hello; exec /bin/sleep 1000"
stdout_logfile=%(dir)s/echo.out
startsecs=0

[program:ticker]
command=/bin/sh -c "while :; do echo tick; sleep 0.2; done"
stdout_logfile=%(dir)s/ticker.out
startsecs=0

[program:devout]
command=/bin/sh -c "echo ringdata; exec /bin/sleep 1000"
stdout_logfile=/dev/stdout
startsecs=0

[program:utf]
command=/bin/sh -c "printf '\303\251'; exec /bin/sleep 1000"
stdout_logfile=%(dir)s/utf.out
startsecs=0

[program:slow]
command=/bin/sleep 1000
autostart=false
startsecs=3

[group:grp]
programs=ga

[program:ga]
command=/bin/sleep 1000
autostart=false
`

func TestDaemonPythonClients(t *testing.T) {
	t.Parallel()
	needPython(t)
	d := startDaemon(t, testutil.FreePort(t), fullConf)
	for _, name := range []string{"echo", "ticker", "utf", "devout"} {
		d.waitState(t, name, "RUNNING")
	}

	want := "RUNNING\n3.0\n['devout', 'echo', 'ga', 'slow', 'ticker', 'utf']\n10 BAD_NAME: nosuch\n41\nsame connection True\nprotocol 500\n'é'\n"
	if got := py(t, rpcScript, "unix://"+d.sock, "", ""); got != want {
		t.Errorf("XML-RPC over the unix socket:\n%s", got)
	}
	if got := py(t, rpcScript, "http://"+d.inet(), "user", "thepassword"); got != want {
		t.Errorf("XML-RPC over inet with auth:\n%s", got)
	}

	t.Run("supervisorctl", func(t *testing.T) {
		steps := []struct {
			args []string
			want string
			code int
		}{
			{[]string{"stop", "echo"}, "echo: stopped\n", 0},
			{[]string{"start", "echo"}, "echo: started\n", 0},
			{[]string{"restart", "echo"}, "echo: stopped\necho: started\n", 0},
			{[]string{"tail", "echo"}, "hello\n", 0},
			{[]string{"tail", "nosuch"}, "nosuch: ERROR (no such process name)\n", 1},
			{[]string{"-s", "http://" + d.inet(), "-u", "user", "-p", "thepassword", "start", "grp:ga"}, "grp:ga: started\n", 0},
			{[]string{"stop", "grp:ga"}, "grp:ga: stopped\n", 0},
			// (the client's own reaction to a 401)
			{[]string{"-s", "http://" + d.inet(), "-u", "user", "-p", "wrong", "status"}, "Server requires authentication\n", 1},
		}
		for _, st := range steps {
			out, code := d.ctl(t, st.args...)
			if !strings.Contains(out, st.want) || code != st.code {
				t.Errorf("supervisorctl %v: exit %d %q, want exit %d containing %q", st.args, code, out, st.code, st.want)
			}
		}
		d.follow(t, "tick\ntick\n", nil, "tail", "-f", "ticker")
		d.follow(t, "tick\ntick\n", nil, "-s", "http://"+d.inet(), "-u", "user", "-p", "thepassword", "tail", "-f", "ticker")
		d.follow(t, "spawned: 'echo'", func() { d.ctl(t, "restart", "echo") }, "maintail", "-f")
	})

	t.Run("auth", func(t *testing.T) { // SPEC §10 item 17
		c := &http.Client{Timeout: 10 * time.Second}
		resp, err := c.Get("http://" + d.inet() + "/RPC2")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") != `Basic realm="default"` ||
			resp.Header.Get("Server") != "Medusa/1.12" || resp.Header.Get("Date") == "" || string(body) != errorBody(401) {
			t.Errorf("no credentials: %d %v %q", resp.StatusCode, resp.Header, body)
		}
		req, _ := http.NewRequest("GET", "http://"+d.inet()+"/RPC2", nil)
		req.SetBasicAuth("user", "thepassword")
		resp, err = c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 400 {
			t.Errorf("GET /RPC2 with credentials: %d, want 400", resp.StatusCode)
		}
	})

	t.Run("logtail", func(t *testing.T) { // SPEC §10 item 18
		s := openStreamUnix(t, d.sock, "/logtail/echo")
		if s.status != "HTTP/1.1 200 OK" || s.header.Get("X-Accel-Buffering") != "no" || s.header.Get("Transfer-Encoding") != "chunked" {
			t.Fatalf("logtail: %s %v", s.status, s.header)
		}
		if _, data := s.chunk(t); !strings.HasPrefix(data, "hello\n") {
			t.Errorf("logtail first chunk %q", data)
		}
		s.conn.Close() // a client leaving mid-stream
		if s := openStreamUnix(t, d.sock, "/logtail/nosuch"); !strings.HasPrefix(s.status, "HTTP/1.1 404") {
			t.Errorf("/logtail/nosuch: %s", s.status)
		}
		waitFor(t, "the main log to exceed 1 KiB", 10*time.Second, func() bool {
			st, err := os.Stat(filepath.Join(d.dir, "sd.log"))
			return err == nil && st.Size() > 1024
		})
		s = openStreamUnix(t, d.sock, "/mainlogtail")
		if n, _ := s.chunk(t); n != 0x400 {
			t.Errorf("/mainlogtail first chunk is %x bytes, want 400", n)
		}
		// stdout_logfile=/dev/stdout: streamed from memory.
		s = openStreamUnix(t, d.sock, "/logtail/devout")
		if _, data := s.chunk(t); !strings.Contains(data, "ringdata") {
			t.Errorf("/logtail/devout first chunk %q", data)
		}
	})

	t.Run("actions", func(t *testing.T) { // SPEC §10 item 19
		c := &http.Client{Timeout: 30 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		for _, tt := range []struct{ query, message string }{
			{"processname=grp%3Aga&action=start", "Process%20grp%3Aga%20started"},
			{"processname=grp%3Aga&action=start", "ERROR%3A%20Process%20grp%3Aga%3A%20already%20started"},
			{"processname=grp%3Aga&action=restart", "Process%20grp%3Aga%20restarted"},
			{"processname=grp%3Aga&action=stop", "Process%20grp%3Aga%20stopped"},
			{"processname=nosuch&action=start", "No%20such%20process%20named%20nosuch"},
		} {
			req, _ := http.NewRequest("GET", "http://"+d.inet()+"/index.html?"+tt.query, nil)
			req.SetBasicAuth("user", "thepassword")
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			want := "http://" + d.inet() + "/?message=" + tt.message
			if resp.StatusCode != 301 || resp.Header.Get("Location") != want {
				t.Errorf("%s: %d %q, want 301 %q", tt.query, resp.StatusCode, resp.Header.Get("Location"), want)
			}
		}
		resp, err := d.client().Get(d.url("/ok.html"))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(body) != "OK" {
			t.Errorf("ok.html: %q", body)
		}
	})

	t.Run("bad input", func(t *testing.T) {
		deep := "<?xml version='1.0'?><methodCall><methodName>system.listMethods</methodName><params><param>" +
			strings.Repeat("<value><array><data>", 5000) + "</param></params></methodCall>"
		for _, tt := range []struct {
			name, req string
			want      string
		}{
			{"malformed", rawPost("<methodCall><methodName>x</methodCall"), "HTTP/1.1 400"},
			{"deep", rawPost(deep), "HTTP/1.1 400"},
			{"huge", "POST /RPC2 HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nContent-Length: 1000000000\r\n\r\n<methodCall>", "HTTP/1.1 413"},
			{"chunked", "POST /RPC2 HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "HTTP/1.1 411"},
			{"garbage", "\x00\x01 nonsense\r\n\r\n", "HTTP/1.1 400"},
		} {
			if got := rawExchange(t, d.sock, tt.req); !strings.HasPrefix(got, tt.want) {
				t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
			}
		}
	})

	t.Run("disconnect mid-wait", func(t *testing.T) {
		// startProcess('slow') waits startsecs=3; the client leaves at once.
		conn, err := net.Dial("unix", d.sock)
		if err != nil {
			t.Fatal(err)
		}
		body := "<?xml version='1.0'?><methodCall><methodName>supervisor.startProcess</methodName><params><param><value><string>slow</string></value></param></params></methodCall>"
		if _, err := io.WriteString(conn, rawPost(body)); err != nil {
			t.Fatal(err)
		}
		d.waitState(t, "slow", "STARTING")
		conn.Close()
		// The daemon keeps serving and the process still comes up.
		d.waitState(t, "slow", "RUNNING")
	})

	// The daemon removes its socket file when it stops.
	d.stop(t)
	if _, err := os.Stat(d.sock); !os.IsNotExist(err) {
		t.Errorf("socket file left behind: %v", err)
	}
}

func rawPost(body string) string {
	return fmt.Sprintf("POST /RPC2 HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/xml\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
}

// rawExchange sends req on a new unix connection and returns the status line.
func rawExchange(t *testing.T, sock, req string) string {
	t.Helper()
	conn, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, req); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	n, _ := io.ReadAtLeast(conn, buf, 12)
	return string(buf[:n])
}

func openStreamUnix(t *testing.T, sock, path string) *rawStream {
	t.Helper()
	return openStreamOn(t, "unix", sock, path)
}

func TestDaemonAddrInUse(t *testing.T) { // SPEC §10 item 41
	t.Parallel()
	confs := map[string]string{
		"unix": "[unix_http_server]\nfile={sock}\n",
		"inet": "[inet_http_server]\nport=127.0.0.1:{port}\n",
	}
	for name, body := range confs {
		t.Run(name, func(t *testing.T) {
			port := testutil.FreePort(t)
			first := startDaemon(t, map[string]int{"unix": 0, "inet": port}[name], body)
			second := runDaemon(t, first.conf)
			select {
			case <-second.exited:
			case <-time.After(10 * time.Second):
				t.Fatal("second daemon did not exit")
			}
			want := "Error: " + AddrInUseMessage + "\nFor help, use " + daemonBin + " -h\n"
			if code := second.cmd.ProcessState.ExitCode(); code != 2 || second.stderr.String() != want {
				t.Fatalf("second daemon: exit %d, stderr %q, want 2 and %q", code, second.stderr.String(), want)
			}
			// The first one is untouched.
			resp, err := first.client().Get(first.url("/ok.html"))
			if err != nil {
				t.Fatalf("first daemon after the second's attempt: %v", err)
			}
			resp.Body.Close()
		})
	}
}

func TestDaemonStaleSocket(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	sock := filepath.Join(dir, "sv.sock")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	ln.SetUnlinkOnClose(false)
	ln.Close() // the file stays, nobody listens: a stale socket
	d := runDaemon(t, writeConf(t, dir, 0, "[unix_http_server]\nfile={sock}\nchmod=0760\n"))
	waitFor(t, "the daemon to answer", 10*time.Second, func() bool {
		resp, err := d.client().Get(d.url("/ok.html"))
		if err == nil {
			resp.Body.Close()
		}
		return err == nil
	})
	if got := d.stderr.String(); got != "Unlinking stale socket "+sock+"\n" {
		t.Errorf("stderr %q", got)
	}
	st, err := os.Stat(sock)
	if err != nil || st.Mode().Perm() != 0o760 || st.Mode().Type() != os.ModeSocket {
		t.Errorf("socket file: %v %v", st.Mode(), err)
	}
	if _, err := os.Stat(fmt.Sprintf("%s.%d", sock, d.cmd.Process.Pid)); !os.IsNotExist(err) {
		t.Errorf("temporary socket name left behind: %v", err)
	}
	// The daemon may answer before its log line reaches the pipe.
	msg := "CRIT Server 'unix_http_server' running without any HTTP authentication checking"
	waitFor(t, "the log line "+msg, 5*time.Second, func() bool { return strings.Contains(d.stdout.String(), msg) })
	if strings.Contains(d.stdout.String(), "RPC interface") {
		t.Errorf("RPC interface logged without [rpcinterface:supervisor]:\n%s", d.stdout)
	}
}

func TestDaemonNoRPCInterface(t *testing.T) { // SPEC §10 item 46
	t.Parallel()
	needPython(t)
	d := startDaemon(t, 0, "[unix_http_server]\nfile={sock}\n[supervisorctl]\nserverurl=unix://{sock}\n[program:p]\ncommand=/bin/sleep 1000\nautostart=false\n")
	got := py(t, `
import sys, xmlrpc.client
from supervisor.xmlrpc import SupervisorTransport
p = xmlrpc.client.ServerProxy('http://127.0.0.1', transport=SupervisorTransport(None, None, sys.argv[1]))
print(p.system.listMethods())
`, "unix://"+d.sock)
	if got != "['system.listMethods', 'system.methodHelp', 'system.methodSignature', 'system.multicall']\n" {
		t.Errorf("listMethods: %q", got)
	}
	out, code := d.ctl(t, "status")
	if code != 4 || !strings.Contains(out, "Sorry, supervisord responded but did not recognize the supervisor namespace commands") {
		t.Errorf("status: exit %d %q", code, out)
	}
}
