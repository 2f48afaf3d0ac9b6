package server

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/gosupervisor/gosupervisor/pkg/config"
)

const progConf = rpcSection + `
[program:prog]
command=/bin/sleep 1000
autostart=false
stdout_logfile=%(dir)s/prog.out
stderr_logfile=%(dir)s/prog.err

[program:nolog]
command=/bin/sleep 1000
autostart=false
stdout_logfile=NONE
`

func basic(user, pass string) map[string]string {
	return map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))}
}

func TestAuth(t *testing.T) {
	e := newEngine(t, progConf)
	plain := e.handler(config.HTTPServer{Section: "inet_http_server", Username: "user", Password: "123", HasAuth: true})
	// {SHA} of "thepassword".
	sha := e.handler(config.HTTPServer{Section: "inet_http_server", Username: "user", Password: "{SHA}82ab876d1387bfafe46cc1c8a2ef074eae50cb1d", HasAuth: true})
	paths := []string{"/ok.html", "/RPC2", "/logtail/prog", "/mainlogtail", "/", "/index.html?action=refresh", "/tail.html", "/stylesheets/supervisor.css", "/nosuch"}
	for _, p := range paths {
		rec := do(plain, "GET", p, "", nil)
		if rec.Code != 401 {
			t.Errorf("GET %s without credentials: %d, want 401", p, rec.Code)
		}
	}
	tests := []struct {
		name string
		h    http.Handler
		hdr  map[string]string
		want int
	}{
		{"none", plain, nil, 401},
		{"right", plain, basic("user", "123"), 200},
		{"wrong password", plain, basic("user", "1234"), 401},
		{"wrong user", plain, basic("usr", "123"), 401},
		{"lower-case scheme", plain, map[string]string{"Authorization": "basic " + base64.StdEncoding.EncodeToString([]byte("user:123"))}, 200},
		{"digest", plain, map[string]string{"Authorization": `Digest username="user"`}, 401},
		{"scheme only", plain, map[string]string{"Authorization": "Basic"}, 401},
		{"no colon", plain, map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte("user123"))}, 500},
		{"bad base64", plain, map[string]string{"Authorization": "Basic dXNlcjoxMjM"}, 400},
		{"sha right", sha, basic("user", "thepassword"), 200},
		{"sha given as hash", sha, basic("user", "82ab876d1387bfafe46cc1c8a2ef074eae50cb1d"), 401},
		{"sha wrong", sha, basic("user", "nope"), 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := do(tt.h, "GET", "/ok.html", "", tt.hdr)
			if rec.Code != tt.want {
				t.Fatalf("status %d, want %d", rec.Code, tt.want)
			}
			if rec.Header().Get("Server") != "Medusa/1.12" {
				t.Errorf("Server header %q", rec.Header().Get("Server"))
			}
			if tt.want == 401 {
				if got := rec.Header().Get("WWW-Authenticate"); got != `Basic realm="default"` {
					t.Errorf("WWW-Authenticate %q", got)
				}
				if got := rec.Header().Get("Connection"); got != "close" {
					t.Errorf("Connection %q", got)
				}
				if rec.Body.String() != errorBody(401) {
					t.Errorf("body %q", rec.Body.String())
				}
			}
		})
	}
}

func TestErrorBody(t *testing.T) {
	want := "<head>\r\n<title>Error response</title>\r\n</head>\r\n<body>\r\n<h1>Error response</h1>\r\n<p>Error code 401.\r\n<p>Message: Unauthorized.\r\n</body>\r\n"
	if got := errorBody(401); got != want {
		t.Fatalf("errorBody(401) = %q", got)
	}
}

func TestRouting(t *testing.T) {
	e := newEngine(t, progConf)
	h := e.handler(config.HTTPServer{Section: "unix_http_server", Unix: true})
	xmlCall := func(body string) string {
		return "<?xml version='1.0'?>\n<methodCall>\n" + body + "</methodCall>\n"
	}
	deep := xmlCall("<methodName>system.listMethods</methodName><params><param>" +
		strings.Repeat("<value><array><data>", 200) + strings.Repeat("</data></array></value>", 200) + "</param></params>")
	tests := []struct {
		name, method, target, body string
		hdr                        map[string]string
		want                       int
		bodyHas                    string
	}{
		{"rpc get", "GET", "/RPC2", "", nil, 400, "Error code 400."},
		{"rpc no length", "POST", "/RPC2", "x", map[string]string{"Content-Length": ""}, 411, "Length Required"},
		{"rpc malformed", "POST", "/RPC2", "<methodCall><methodName>x", nil, 400, ""},
		{"rpc no method", "POST", "/RPC2", xmlCall("<params/>"), nil, 400, ""},
		{"rpc empty method", "POST", "/RPC2", xmlCall("<methodName></methodName>"), nil, 400, ""},
		{"rpc not utf-8", "POST", "/RPC2", xmlCall("<methodName>a\xff</methodName>"), nil, 400, ""},
		{"rpc too deep", "POST", "/RPC2", deep, nil, 400, ""},
		{"rpc too large", "POST", "/RPC2", "x", map[string]string{"Content-Length": strconv.Itoa(64 << 20)}, 413, ""},
		{"rpc prefix", "POST", "/RPC2/anything?x=1", xmlCall("<methodName>supervisor.getAPIVersion</methodName>"), nil, 200, "<string>3.0</string>"},
		{"rpc fault", "POST", "/RPC2", xmlCall("<methodName>supervisor.nosuch</methodName>"), nil, 200, "<name>faultCode</name>\n<value><int>1</int></value>"},
		// Python's AttributeError on 1.split(): an unexpected exception, 500.
		{"rpc wrong type", "POST", "/RPC2", xmlCall("<methodName>supervisor.getProcessInfo</methodName><params><param><value><int>1</int></value></param></params>"), nil, 500, ""},
		{"rpc wrong count", "POST", "/RPC2", xmlCall("<methodName>supervisor.getPID</methodName><params><param><value><int>1</int></value></param></params>"), nil, 200, "<string>INCORRECT_PARAMETERS</string>"},
		{"logtail post", "POST", "/logtail/prog", "", nil, 400, ""},
		{"logtail bare", "GET", "/logtail", "", nil, 500, ""},
		{"logtail empty name", "GET", "/logtail/", "", nil, 404, ""},
		{"logtail unknown", "GET", "/logtail/nosuch", "", nil, 404, "Error code 404."},
		{"logtail group wildcard", "GET", "/logtail/prog:*", "", nil, 404, ""},
		{"logtail not yet created", "GET", "/logtail/prog", "", nil, 404, ""},
		{"logtail no file", "GET", "/logtail/nolog", "", nil, 404, ""},
		{"logtail bad channel", "GET", "/logtail/prog/foo", "", nil, 404, ""},
		{"mainlogtail post", "POST", "/mainlogtail", "", nil, 400, ""},
		{"ok", "GET", "/ok.html", "", nil, 200, "OK"},
		{"ok post", "POST", "/ok.html", "a=b", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, 200, "OK"},
		{"ok put", "PUT", "/ok.html", "", nil, 400, ""},
		{"unknown", "GET", "/nosuch", "", nil, 404, "<p>Message: Not Found."},
		{"status page", "GET", "/", "", nil, 200, "prog"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hdr := map[string]string{"Content-Length": strconv.Itoa(len(tt.body))}
			for k, v := range tt.hdr {
				hdr[k] = v
			}
			rec := do(h, tt.method, tt.target, tt.body, hdr)
			if rec.Code != tt.want {
				t.Fatalf("status %d, want %d; body %q", rec.Code, tt.want, rec.Body.String())
			}
			if !strings.Contains(rec.Body.String(), tt.bodyHas) {
				t.Errorf("body %q lacks %q", rec.Body.String(), tt.bodyHas)
			}
			if rec.Header().Get("Server") != "Medusa/1.12" {
				t.Errorf("Server header %q", rec.Header().Get("Server"))
			}
			if rec.Code >= 400 && rec.Header().Get("Content-Type") != "text/html" {
				t.Errorf("error Content-Type %q", rec.Header().Get("Content-Type"))
			}
		})
	}
}

func TestRPCResponseBytes(t *testing.T) {
	e := newEngine(t, progConf)
	h := e.handler(config.HTTPServer{})
	body := "<?xml version='1.0'?>\n<methodCall>\n<methodName>supervisor.getAPIVersion</methodName>\n<params>\n</params>\n</methodCall>\n"
	rec := do(h, "POST", "/RPC2", body, map[string]string{"Content-Length": strconv.Itoa(len(body))})
	want := "<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n<value><string>3.0</string></value>\n</param>\n</params>\n</methodResponse>\n"
	if rec.Code != 200 || rec.Body.String() != want {
		t.Fatalf("got %d %q", rec.Code, rec.Body.String())
	}
	if rec.Header().Get("Content-Type") != "text/xml" || rec.Header().Get("Content-Length") != strconv.Itoa(len(want)) {
		t.Errorf("headers %v", rec.Header())
	}
}

func TestWithoutRPCInterface(t *testing.T) {
	e := newEngine(t, "[program:prog]\ncommand=/bin/sleep 1000\nautostart=false\n")
	h := e.handler(config.HTTPServer{})
	body := "<?xml version='1.0'?>\n<methodCall>\n<methodName>system.listMethods</methodName>\n</methodCall>\n"
	rec := do(h, "POST", "/RPC2", body, map[string]string{"Content-Length": strconv.Itoa(len(body))})
	if strings.Contains(rec.Body.String(), "supervisor.") || strings.Count(rec.Body.String(), "<string>system.") != 4 {
		t.Fatalf("listMethods without [rpcinterface:supervisor]: %s", rec.Body.String())
	}
	// The original's web UI does not depend on the rpcinterface section.
	rec = do(h, "GET", "/index.html?processname=prog&action=clearlog", "", nil)
	if rec.Code != 301 || !strings.HasSuffix(rec.Header().Get("Location"), "/?message=Log%20for%20prog%20cleared") {
		t.Fatalf("clearlog: %d %q", rec.Code, rec.Header().Get("Location"))
	}
}

func TestActions(t *testing.T) {
	e := newEngine(t, progConf+"\n[group:grp]\nprograms=ga\n[program:ga]\ncommand=/bin/sleep 1000\nautostart=false\n")
	h := e.handler(config.HTTPServer{})
	tests := []struct {
		target, host string
		want         int
		location     string
	}{
		{"/index.html?processname=nosuch&action=start", "127.0.0.1:9001", 301, "http://127.0.0.1:9001/?message=No%20such%20process%20named%20nosuch"},
		{"/index.html?processname=grp%3Anosuch&action=stop", "h", 301, "http://h/?message=No%20such%20process%20named%20grp%3Anosuch"},
		{"/?processname=grp:*&action=stop", "h", 301, "http://h/?message=No%20such%20process%20named%20grp%3A%2A"},
		{"/index.html?processname=nosuch&action=bogus", "h", 301, "http://h/?message=No%20such%20process%20named%20nosuch"},
		{"/index.html?processname=grp:ga&action=stop", "h:80", 301, "http://h/?message=unexpected%20rpc%20fault%20%5B70%5D%20NOT_RUNNING%3A%20grp%3Aga"},
		{"/index.html?processname=grp:ga&action=clearlog", "localhost", 301, "http://localhost/?message=Log%20for%20grp%3Aga%20cleared"},
		{"/index.html?processname=prog&action=bogus", "h", 500, ""},
		{"/index.html?action=start", "h", 500, ""},
		{"/index.html?processname=&action=start", "h", 500, ""},
		{"/index.html?action=refresh", "h:9001", 301, "http://h:9001/?message=Page%20refreshed%20at%20"},
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			req := map[string]string{"Host": tt.host}
			rec := do(h, "GET", tt.target, "", req)
			if rec.Code != tt.want {
				t.Fatalf("status %d, want %d", rec.Code, tt.want)
			}
			if !strings.HasPrefix(rec.Header().Get("Location"), tt.location) {
				t.Fatalf("Location %q, want %q", rec.Header().Get("Location"), tt.location)
			}
			if tt.want == 301 && (rec.Body.String() != errorBody(301) || rec.Header().Get("Pragma") != "no-cache") {
				t.Errorf("301 response: %v %q", rec.Header(), rec.Body.String())
			}
		})
	}
	// An action in a POST form body works like the query string.
	rec := do(h, "POST", "/index.html", "action=refresh", map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Host": "x"})
	if rec.Code != 301 {
		t.Fatalf("POST action: %d", rec.Code)
	}
}

func TestTailPage(t *testing.T) {
	e := newEngine(t, progConf)
	h := e.handler(config.HTTPServer{})
	if err := os.WriteFile(filepath.Join(e.dir, "prog.out"), []byte(strings.Repeat("x", 2000)+"a<b&c&amp;>\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	page := func(title, pre, anchor string) string {
		return fmt.Sprintf(tailPage, title, pre, anchor)
	}
	anchor := func(href string) string {
		return "<a href=\"" + href + "\">\n    <input name=\"refresh\" type=\"button\" value=\" Refresh \" />\n  </a>\n"
	}
	tests := []struct {
		target string
		want   string
	}{
		{"/tail.html", page("None", "No process name found", "")},
		{"/tail.html?processname=", page("None", "No process name found", "")},
		{"/tail.html?processname=nosuch", page("nosuch", "ERROR: unexpected rpc fault [10] BAD_NAME: nosuch", anchor("tail.html?processname=nosuch&amp;limit=1024"))},
		{"/tail.html?processname=a%3Cb%26", page("a&lt;b&amp;", "ERROR: unexpected rpc fault [10] BAD_NAME: a&lt;b&amp;", anchor("tail.html?processname=a%3Cb%26&amp;limit=1024"))},
		{"/tail.html?processname=nolog", page("nolog", "No file for nolog", anchor("tail.html?processname=nolog&amp;limit=1024"))},
		{"/tail.html?processname=prog&limit=5", page("prog", strings.Repeat("x", 1024-12)+"a&lt;b&amp;c&amp;>\n", anchor("tail.html?processname=prog&amp;limit=1024"))},
		{"/tail.html?processname=prog&limit=x", page("prog", strings.Repeat("x", 1024-12)+"a&lt;b&amp;c&amp;>\n", anchor("tail.html?processname=prog&amp;limit=1024"))},
		{"/tail.html?processname=prog&limit=1030", page("prog", strings.Repeat("x", 1030-12)+"a&lt;b&amp;c&amp;>\n", anchor("tail.html?processname=prog&amp;limit=1030"))},
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			rec := do(h, "GET", tt.target, "", nil)
			if rec.Code != 200 || rec.Body.String() != tt.want {
				t.Fatalf("got %d\n%s\nwant\n%s", rec.Code, rec.Body.String(), tt.want)
			}
			if rec.Header().Get("Content-Type") != "text/html;charset=utf-8" || rec.Header().Get("Expires") == "" {
				t.Errorf("headers %v", rec.Header())
			}
		})
	}
	// Golden from the original (4.2.5) for a short log.
	if err := os.WriteFile(filepath.Join(e.dir, "prog.out"), []byte("hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	golden := "<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Transitional//EN\" \"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd\">\n<html>\n<head>\n  <title>Supervisor tail of process prog</title>\n</head>\n<body>\n\n<div>\n\n<pre>hello\n</pre>\n\n<form action=\"index.html\" method=\"POST\">\n\n<div style=\"margin-top: 10px;\">\n  <a href=\"tail.html?processname=prog&amp;limit=1024\">\n    <input name=\"refresh\" type=\"button\" value=\" Refresh \" />\n  </a>\n</div>\n\n</form>\n\n</div>\n\n</body>\n</html>"
	if rec := do(h, "GET", "/tail.html?processname=prog", "", nil); rec.Body.String() != golden {
		t.Fatalf("tail.html:\n%s", rec.Body.String())
	}
	// A slice that is not UTF-8 fails as in the original.
	if err := os.WriteFile(filepath.Join(e.dir, "prog.out"), []byte("\xff\xfe"), 0o644); err != nil {
		t.Fatal(err)
	}
	if rec := do(h, "GET", "/tail.html?processname=prog", "", nil); rec.Code != 500 {
		t.Fatalf("invalid UTF-8 tail: %d", rec.Code)
	}
}

func TestHelpers(t *testing.T) {
	quotes := map[string]string{
		"Process grp:ga started": "Process%20grp%3Aga%20started",
		"a/b_c.d-e~f":            "a/b_c.d-e~f",
		"é[1]&?=":                "%C3%A9%5B1%5D%26%3F%3D",
	}
	for in, want := range quotes {
		if got := pyQuote(in); got != want {
			t.Errorf("pyQuote(%q) = %q, want %q", in, got, want)
		}
	}
	texts := map[string]string{
		"a<b>c":         "a&lt;b>c",
		"x & y":         "x &amp; y",
		"&amp; &#39; &": "&amp; &#39; &amp;",
		"&x_1;":         "&x_1;",
	}
	for in, want := range texts {
		if got := htmlText(in); got != want {
			t.Errorf("htmlText(%q) = %q, want %q", in, got, want)
		}
	}
	if got := htmlAttr(`a"b&`); got != "a&quot;b&amp;" {
		t.Errorf("htmlAttr = %q", got)
	}
}

// getAllProcessInfo answers are shared within a second, but never outlive
// a change: removing a group must show at once.
func TestProcessInfoSnapshotIsNeverStale(t *testing.T) {
	e := newEngine(t, progConf+"\n[program:other]\ncommand=/bin/sleep 1000\nautostart=false\n")
	h := e.handler(config.HTTPServer{})
	call := func() string {
		body := "<?xml version='1.0'?>\n<methodCall>\n<methodName>supervisor.getAllProcessInfo</methodName>\n</methodCall>\n"
		rec := do(h, "POST", "/RPC2", body, map[string]string{"Content-Length": strconv.Itoa(len(body))})
		if rec.Code != 200 {
			t.Fatalf("status %d", rec.Code)
		}
		return rec.Body.String()
	}
	first := call()
	if !strings.Contains(first, "<string>other</string>") {
		t.Fatalf("no 'other' in %s", first)
	}
	for range 20 {
		if got := call(); !strings.Contains(got, "<string>other</string>") {
			t.Fatalf("'other' vanished: %s", got)
		}
	}
	if err := e.sup.RemoveGroup("other"); err != nil {
		t.Fatal(err)
	}
	if got := call(); strings.Contains(got, "<string>other</string>") {
		t.Fatalf("a removed group is still listed: %s", got)
	}
}
