package server

import (
	"bufio"
	"encoding/xml"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gosupervisor/gosupervisor/pkg/config"
	"github.com/gosupervisor/gosupervisor/pkg/rpc"
	"github.com/gosupervisor/gosupervisor/pkg/webui"
)

// No path traversal (issue 18, "what held"): hostile HTTP paths and
// odd process names on /RPC2 only ever reach the configured log files and
// the embedded console assets. Files the daemon can read but must never
// serve carry markers the answers are searched for: /etc/passwd, the
// repository's go.mod, the daemon's own config, and a secret placed next
// to the log files and one directory above them.

const (
	secretMarker = "SECRET-6f1c0b9e-not-a-log"
	upperMarker  = "UPPER-2d7a44c1-not-a-log"
	logMarker    = "LOGLINE-prog-stdout-marker"
)

// forbidden are texts no answer may contain, with where they come from.
func forbidden(t *testing.T) map[string]string {
	t.Helper()
	m := map[string]string{
		secretMarker:                             "secret.txt beside the logs",
		upperMarker:                              "upper.txt above the log dir",
		"module github.com/gosupervisor":         "go.mod",
		"supervisor.rpcinterface_factory":        "supervisord.conf",
		"nodaemon":                               "supervisord.conf",
		"childlogdir=":                           "supervisord.conf",
		"package server":                         "Go sources",
		"-----BEGIN":                             "key material",
		"HOSTNAME=":                              "/proc/self/environ",
		"Name:\tserver.test":                     "/proc/self/status",
		"root:x:0:0":                             "/etc/passwd",
		"daemon:x:1:1":                           "/etc/passwd",
		"[rpcinterface:supervisor]":              "supervisord.conf",
		"supervisor.rpcinterface:make_main_rpci": "supervisord.conf",
	}
	if b, err := os.ReadFile("/etc/passwd"); err != nil || !strings.Contains(string(b), "root:x:0:0") {
		t.Fatalf("/etc/passwd has no root:x:0:0 line to look for (%v)", err)
	}
	return m
}

// traversalEngine is an engine whose prog has a stdout log with logMarker
// in it, a secret beside the logs and one above them, and a console.
func traversalEngine(t *testing.T) (*engine, http.Handler) {
	t.Helper()
	e := newEngine(t, progConf)
	f, err := os.OpenFile(filepath.Join(e.dir, "prog.out"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(f, logMarker)
	f.Close()
	if err := os.WriteFile(filepath.Join(e.dir, "secret.txt"), []byte(secretMarker+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(filepath.Dir(e.dir), "upper.txt"), []byte(upperMarker+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	h := Handler(e.sup, e.log, config.HTTPServer{Section: "unix_http_server", Unix: true}, Options{
		Poll: 20 * time.Millisecond, AuthFailDelay: -1,
		UI: func(d *rpc.Server) http.Handler { return webui.New(e.sup, d, webui.Options{}) },
	})
	return e, h
}

// rawGet sends target as the request line's target, byte for byte, and
// returns whatever arrives within wait (a tail follows until then).
func rawGet(t *testing.T, addr, target string, wait time.Duration) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(wait))
	if _, err := fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", target); err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(bufio.NewReader(c)) // a deadline ends a follower
	return string(b)
}

// hostilePaths are request targets aimed outside the served files.
var hostilePaths = []string{
	"/logtail/../../etc/passwd",
	"/logtail/../../../../../../../../etc/passwd",
	"/logtail/%2e%2e/%2e%2e/etc/passwd",
	"/logtail/%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd",
	"/logtail/..%2f..%2f..%2f..%2fetc%2fpasswd",
	"/logtail/%252e%252e%252f%252e%252e%252fetc%252fpasswd",
	"/logtail/..%5c..%5c..%5cetc%5cpasswd",
	"/logtail/..\\..\\..\\etc\\passwd",
	"/logtail/prog/../secret.txt",
	"/logtail/prog/..%2fsecret.txt",
	"/logtail/prog/..%2f..%2fupper.txt",
	"/logtail/prog/stdout/../../secret.txt",
	"/logtail/prog%00/stdout",
	"/logtail/%00../../etc/passwd",
	"/logtail/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd",
	"/logtail/%c0%ae%c0%ae%c0%af%c0%ae%c0%ae%c0%afetc%c0%afpasswd",
	"/logtail//etc/passwd",
	"/logtail/%2fetc%2fpasswd",
	"/logtail/prog:../../secret.txt",
	"/logtail/..:prog/stdout",
	"/mainlogtail/../../etc/passwd",
	"/mainlogtail/..%2f..%2fsecret.txt",
	"/api/v1/logs/..%2f..%2fetc%2fpasswd/stdout",
	"/api/v1/logs/..%2f..%2f..%2f..%2fetc%2fpasswd/stdout/download",
	"/api/v1/logs/prog/..%2f..%2fsecret.txt",
	"/api/v1/logs/prog/stdout/../../secret.txt",
	"/api/v1/logs/%2e%2e%2fsecret.txt/stdout",
	"/api/v1/logs/prog%2f..%2f..%2fsecret.txt/stdout",
	"/api/v1/logs/%2fetc%2fpasswd/stdout/stream",
	"/api/v1/../../../etc/passwd",
	"/static/../../go.mod",
	"/static/../../../../../../etc/passwd",
	"/static/%2e%2e/%2e%2e/go.mod",
	"/static/..%2f..%2f..%2fgo.mod",
	"/static/%252e%252e%252fgo.mod",
	"/static/..%5c..%5cgo.mod",
	"/static/..\\..\\go.mod",
	"/static/%c0%ae%c0%ae/go.mod",
	"/static//etc/passwd",
	"/static/%00/../../go.mod",
	"/index.html/../RPC2",
	"/index.html/../../etc/passwd",
	"/tail.html?processname=../../etc/passwd",
	"/tail.html?processname=..%2f..%2fsecret.txt&limit=100000",
	"/index.html?processname=../secret.txt&action=tail",
	"//etc/passwd",
	"///../../etc/passwd",
	"/../../../../etc/passwd",
	"/..%2f..%2f..%2fetc%2fpasswd",
	"/%2e%2e/%2e%2e/etc/passwd",
	"/secret.txt",
	"/supervisord.conf",
	"/go.mod",
	"http://localhost/../../etc/passwd",
	"http://localhost/logtail/..%2f..%2fetc%2fpasswd",
	"http://evil.example/static/../../go.mod",
	"file:///etc/passwd",
	"/etc/passwd",
	"*",
}

func TestNoPathTraversal(t *testing.T) {
	e, h := traversalEngine(t)
	bad := forbidden(t)
	srv := httptest.NewServer(h)
	defer srv.Close()
	addr := srv.Listener.Addr().String()

	// The probe can see what it looks for: a real log and a real asset
	// come back through the same raw requests.
	if got := rawGet(t, addr, "/logtail/prog", 1500*time.Millisecond); !strings.Contains(got, logMarker) {
		t.Fatalf("/logtail/prog did not show the log's marker:\n%.500s", got)
	}
	if got := rawGet(t, addr, "/api/v1/logs/prog/stdout/download", 1500*time.Millisecond); !strings.Contains(got, logMarker) {
		t.Fatalf("/api/v1/logs/prog/stdout/download did not show the log's marker:\n%.500s", got)
	}
	_ = e

	location := regexp.MustCompile(`(?m)^Location: (\S+)\r$`)
	statuses, redirects := map[string]int{}, 0
	for _, target := range hostilePaths {
		got := rawGet(t, addr, target, 1500*time.Millisecond)
		status := strings.SplitN(got, "\r\n", 2)[0]
		if !strings.HasPrefix(status, "HTTP/1.1 ") {
			t.Errorf("%q: no HTTP answer: %.200q", target, got)
			continue
		}
		statuses[status]++
		// A cleaning redirect is followed once, as a browser would.
		if loc := location.FindStringSubmatch(got); loc != nil && strings.HasPrefix(loc[1], "/") {
			next := rawGet(t, addr, loc[1], 1500*time.Millisecond)
			got += "\n--- after the redirect to " + loc[1] + " ---\n" + next
			redirects++
		}
		for marker, from := range bad {
			if strings.Contains(got, marker) {
				t.Errorf("%q (%s) served %s (%q):\n%.600s", target, status, from, marker, got)
			}
		}
	}
	// Raw bytes net/http itself refuses in a request line still get an
	// answer and no file.
	for _, target := range []string{"/logtail/\x00../../etc/passwd", "/static/\x00/../../go.mod", "/logtail/prog\x7f/../../secret.txt"} {
		got := rawGet(t, addr, target, 1500*time.Millisecond)
		for marker, from := range bad {
			if strings.Contains(got, marker) {
				t.Errorf("%q served %s:\n%.600s", target, from, got)
			}
		}
	}
	t.Logf("%d hostile paths, answers %v, %d redirects followed", len(hostilePaths)+3, statuses, redirects)
}

// oddNames are process names aimed at files or at the name parser.
var oddNames = []string{
	"../x", "../../etc/passwd", "/etc/passwd", "etc/passwd", "a:../../b", "prog:../../secret.txt",
	"../secret.txt", "prog/../secret.txt", "prog/../../upper.txt", "%00", "prog%00", "..%2f..%2fetc%2fpasswd",
	"%2e%2e%2fsecret.txt", "..\\..\\etc\\passwd", ":prog", "::", ":", "..", ".", "./prog", "~/.ssh/id_rsa",
	"prog.out", "secret.txt", "supervisord.log", "supervisord.conf", "file:///etc/passwd", "prog\n../secret.txt",
	"prog\t", " prog", "nolog:../../etc/passwd", strings.Repeat("a", 5000), strings.Repeat("../", 2000) + "etc/passwd",
	strings.Repeat("a:", 2000), "\u00e9t\u00e9", "\u2025/\u2025/etc/passwd", "\uff0e\uff0e\uff0fsecret.txt",
	"\u202eprog", "prog\u200b", "\U0001F600", "\xc0\xae\xc0\xae/etc/passwd",
}

// nameMethods take a process name first; their other arguments are valid.
var nameMethods = []struct {
	method string
	extra  []string
}{
	{"supervisor.tailProcessStdoutLog", []string{"<int>0</int>", "<int>100000</int>"}},
	{"supervisor.tailProcessStderrLog", []string{"<int>0</int>", "<int>100000</int>"}},
	{"supervisor.readProcessStdoutLog", []string{"<int>0</int>", "<int>0</int>"}},
	{"supervisor.readProcessStderrLog", []string{"<int>0</int>", "<int>0</int>"}},
	{"supervisor.readProcessLog", []string{"<int>0</int>", "<int>0</int>"}},
	{"supervisor.clearProcessLogs", nil},
	{"supervisor.clearProcessLog", nil},
	{"supervisor.startProcess", []string{"<boolean>0</boolean>"}},
	{"supervisor.stopProcess", []string{"<boolean>0</boolean>"}},
	{"supervisor.getProcessInfo", nil},
	{"supervisor.signalProcess", []string{"<string>HUP</string>"}},
	{"supervisor.sendProcessStdin", []string{"<string>x</string>"}},
	{"supervisor.startProcessGroup", []string{"<boolean>0</boolean>"}},
	{"supervisor.stopProcessGroup", []string{"<boolean>0</boolean>"}},
	{"supervisor.removeProcessGroup", nil},
	{"supervisor.addProcessGroup", nil},
}

func TestOddProcessNames(t *testing.T) {
	_, h := traversalEngine(t)
	bad := forbidden(t)
	post := func(body string) (int, string) {
		rec := do(h, "POST", "/RPC2", body, map[string]string{"Content-Length": strconv.Itoa(len(body))})
		return rec.Code, rec.Body.String()
	}
	// The probe sees a log's contents when the name is right.
	if _, resp := post(rpcWith("supervisor.tailProcessStdoutLog", []string{"<string>prog</string>", "<int>0</int>", "<int>100000</int>"})); !strings.Contains(resp, logMarker) {
		t.Fatalf("tailProcessStdoutLog prog did not show the log's marker:\n%s", resp)
	}
	faultCode := regexp.MustCompile(`<name>faultCode</name>\s*<value><int>(\d+)</int>`)
	calls, faults := 0, map[string]int{}
	for _, m := range nameMethods {
		for _, name := range oddNames {
			var esc strings.Builder
			_ = xml.EscapeText(&esc, []byte(name))
			code, resp := post(rpcWith(m.method, append([]string{"<string>" + esc.String() + "</string>"}, m.extra...)))
			calls++
			for marker, from := range bad {
				if strings.Contains(resp, marker) {
					t.Errorf("%s(%.60q) answered %s:\n%.600s", m.method, name, from, resp)
				}
			}
			if strings.Contains(resp, logMarker) {
				t.Errorf("%s(%.60q) answered prog's log:\n%.600s", m.method, name, resp)
			}
			fc := faultCode.FindStringSubmatch(resp)
			if code != 200 || fc == nil {
				t.Errorf("%s(%.60q): %d, not a fault:\n%.400s", m.method, name, code, resp)
				continue
			}
			faults[fc[1]]++
		}
	}
	if calls < 250 {
		t.Fatalf("only %d calls", calls)
	}
	t.Logf("%d odd-name calls, fault codes %v", calls, faults)
	// The engine still answers, and prog was never started by a name.
	if _, resp := post(rpcWith("supervisor.getProcessInfo", []string{"<string>prog</string>"})); !strings.Contains(resp, "STOPPED") {
		t.Fatalf("prog after the odd names:\n%s", resp)
	}
}
