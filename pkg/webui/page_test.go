package webui

import (
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gosupervisor/gosupervisor/pkg/config"
	"github.com/gosupervisor/gosupervisor/pkg/rpc"
	"github.com/gosupervisor/gosupervisor/pkg/server"
	"github.com/gosupervisor/gosupervisor/pkg/version"
)

// hostile is a process name with every character that HTML or a URL treats
// specially and that a supervisor name may contain (not space, ':' or '/').
const hostile = `x<b>"'&amp;?#=%é`

const pagePrograms = programs + `
[program:x<b>"'&amp;?#=%é]
command=/bin/sleep 1000
startsecs=0
`

// withServer mounts the console behind pkg/server's handler, as the daemon
// serves it: the legacy action links (index.html?action=...) and /logtail
// are pkg/server's, everything else the console's.
func (e *env) withServer() string {
	e.t.Helper()
	h := server.Handler(e.sup, nopLog{}, config.HTTPServer{}, server.Options{
		UI: func(d *rpc.Server) http.Handler { return New(e.sup, d, Options{}) },
	})
	srv := httptest.NewServer(h)
	e.t.Cleanup(srv.Close)
	return srv.URL
}

// pageRow is one process row of the page as a program without JavaScript
// reads it.
type pageRow struct {
	ns, state, statusClass, name, desc string
	links                              map[string]string // link text → href
}

var (
	reRow   = regexp.MustCompile(`(?s)<tr data-ns="([^"]*)" data-state="([^"]*)">(.*?)</tr>`)
	reBadge = regexp.MustCompile(`<span class="badge ([a-z]+)" data-state="[^"]*">([^<]*)</span>`)
	reName  = regexp.MustCompile(`(?s)<td class="name"[^>]*>(.*?)</td>`)
	reDesc  = regexp.MustCompile(`(?s)<td class="desc[^"]*"[^>]*>(.*?)</td>`)
	reLink  = regexp.MustCompile(`(?s)<a [^>]*?href="([^"]*)"[^>]*>(.*?)</a>`)
	reTag   = regexp.MustCompile(`<[^>]*>`)
)

// text is what a text browser shows of an HTML fragment.
func text(s string) string { return html.UnescapeString(reTag.ReplaceAllString(s, "")) }

func getPage(t *testing.T, u string) (string, []pageRow) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET %s: %d %s\n%s", u, resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	page := string(body)
	var rows []pageRow
	for _, m := range reRow.FindAllStringSubmatch(page, -1) {
		r := pageRow{ns: html.UnescapeString(m[1]), state: m[2], links: map[string]string{}}
		if b := reBadge.FindStringSubmatch(m[3]); b != nil {
			r.statusClass, r.state = b[1], text(b[2])
		}
		if n := reName.FindStringSubmatch(m[3]); n != nil {
			r.name = text(n[1])
		}
		if d := reDesc.FindStringSubmatch(m[3]); d != nil {
			r.desc = text(d[1])
		}
		for _, l := range reLink.FindAllStringSubmatch(m[3], -1) {
			r.links[text(l[2])] = html.UnescapeString(l[1])
		}
		rows = append(rows, r)
	}
	return page, rows
}

func rowOf(t *testing.T, rows []pageRow, ns string) pageRow {
	t.Helper()
	for _, r := range rows {
		if r.ns == ns {
			return r
		}
	}
	t.Fatalf("no row for %q in the page", ns)
	return pageRow{}
}

// waitPage reloads the page until ok accepts it.
func waitPage(t *testing.T, u string, ok func(page string, rows []pageRow) bool) (string, []pageRow) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		page, rows := getPage(t, u)
		if ok(page, rows) {
			return page, rows
		}
		if time.Now().After(deadline) {
			t.Fatalf("page never matched; last:\n%s", page)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestPageWithoutJavaScript: the first HTML of "/" is the whole process
// table, as the original's status page, for curl, text browsers and
// browsers without JavaScript, and its links act without JavaScript.
func TestPageWithoutJavaScript(t *testing.T) {
	e := newEnv(t, pagePrograms)
	base := e.withServer()
	for _, ns := range []string{"sleeper", "ticker", "pool:worker_0", "pool:worker_1", hostile} {
		e.waitState(url.PathEscape(ns), "RUNNING")
	}
	running := func(_ string, rows []pageRow) bool {
		n := 0
		for _, r := range rows {
			if r.state == "RUNNING" && strings.HasPrefix(r.desc, "pid ") {
				n++
			}
		}
		return n == 5
	}
	page, rows := waitPage(t, base+"/", running)

	// Every process, in the console's order (group, then name), with the
	// original's state name and description.
	var order []string
	for _, r := range rows {
		order = append(order, r.ns)
	}
	if got, want := strings.Join(order, " "), "idle pool:worker_0 pool:worker_1 sleeper ticker "+hostile; got != want {
		t.Errorf("rows %q, want %q", got, want)
	}
	reDescRunning := regexp.MustCompile(`^pid \d+, uptime \d+:\d\d:\d\d$`)
	for _, r := range rows {
		p := e.proc(url.PathEscape(r.ns))
		wantState, wantClass := "RUNNING", "statusrunning"
		if r.ns == "idle" {
			wantState, wantClass = "STOPPED", "statusnominal"
		}
		if r.state != wantState || r.statusClass != wantClass {
			t.Errorf("%s: state %q (class %q), want %q (%q)", r.ns, r.state, r.statusClass, wantState, wantClass)
		}
		if r.name != r.ns {
			t.Errorf("%s: name cell %q", r.ns, r.name)
		}
		if wantState == "RUNNING" && !reDescRunning.MatchString(r.desc) {
			t.Errorf("%s: description %q", r.ns, r.desc)
		}
		if wantState == "RUNNING" && !strings.HasPrefix(r.desc, p.Description[:strings.Index(p.Description, ",")]) {
			t.Errorf("%s: description %q, API says %q", r.ns, r.desc, p.Description)
		}
		if r.ns == "idle" && r.desc != "Not started" {
			t.Errorf("idle: description %q", r.desc)
		}
		// The original's links: action by query string, tails by path,
		// the name quoted as urllib.parse.quote does.
		q := pyQuote(r.ns)
		toggle := "Stop"
		if wantState == "STOPPED" {
			toggle = "Start"
		}
		for text, want := range map[string]string{
			toggle:        "index.html?processname=" + q + "&action=" + strings.ToLower(toggle),
			"Restart":     "index.html?processname=" + q + "&action=restart",
			"Clear log":   "index.html?processname=" + q + "&action=clearlog",
			"Log":         "logtail/" + q,
			"Log: stderr": "logtail/" + q + "/stderr",
		} {
			if got := r.links[text]; got != want {
				t.Errorf("%s: link %q is %q, want %q", r.ns, text, got, want)
			}
		}
	}
	// What `curl / | grep RUNNING` and a text browser see.
	plain := text(page)
	for _, want := range []string{"sleeper", "RUNNING", "STOPPED", "Not started", version.String()} {
		if !strings.Contains(plain, want) {
			t.Errorf("page text lacks %q", want)
		}
	}
	// The hostile name is data everywhere: never markup, never a broken link.
	for _, bad := range []string{"<b>", `"'&amp;?#`} {
		if strings.Contains(page, bad) {
			t.Errorf("page contains %q unescaped", bad)
		}
	}
	if !strings.Contains(page, "x&lt;b&gt;&#34;&#39;&amp;amp;?#=%é") {
		t.Errorf("escaped hostile name not found")
	}

	// A tail link is served (the first bytes of a stream that never ends).
	h := rowOf(t, rows, hostile)
	resp, err := http.Get(base + "/" + h.links["Log"])
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("GET %s: %d", h.links["Log"], resp.StatusCode)
	}

	// Follow "Stop" of the hostile process as a browser without JavaScript:
	// the original's redirect back to the page, which says what happened
	// and shows the process stopped.
	stopURL := base + "/" + h.links["Stop"]
	page, rows = getPage(t, stopURL)
	if want := "Process " + hostile + " stopped"; !strings.Contains(text(page), want) {
		t.Errorf("after stop, page lacks the message %q", want)
	}
	if st := rowOf(t, rows, hostile).state; st != "STOPPED" {
		t.Errorf("after stop, %s is %s in the page", hostile, st)
	}
	if p := e.proc(url.PathEscape(hostile)); p.StateName != "STOPPED" {
		t.Errorf("after stop, the engine has %s %s", hostile, p.StateName)
	}
	if got := rowOf(t, rows, hostile).links["Start"]; got != "index.html?processname="+pyQuote(hostile)+"&action=start" {
		t.Errorf("stopped process's Start link %q", got)
	}
	// ... and Start from that page brings it back.
	_, rows = getPage(t, base+"/"+rowOf(t, rows, hostile).links["Start"])
	if st := rowOf(t, rows, hostile).state; st != "RUNNING" {
		t.Errorf("after start, %s is %s in the page", hostile, st)
	}
	// The other rows were untouched.
	if st := rowOf(t, rows, "sleeper").state; st != "RUNNING" {
		t.Errorf("sleeper is %s", st)
	}
}

func TestPageEmptyAndHead(t *testing.T) {
	e := newEnv(t, "")
	page, rows := getPage(t, e.srv.URL+"/")
	if len(rows) != 0 || !strings.Contains(page, `<p class="empty" id="empty">No programs to manage.</p>`) {
		t.Errorf("empty page: %d rows, empty notice shown: %v", len(rows), strings.Contains(page, `id="empty">`))
	}
	resp, err := http.Head(e.srv.URL + "/index.html")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || len(body) != 0 || resp.Header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Errorf("HEAD: %d, %d bytes, %s", resp.StatusCode, len(body), resp.Header.Get("Content-Type"))
	}
}

// The page's data for the script is the API's snapshot, as JSON that the
// HTML parser cannot end early (a name with "</script>" in it).
func TestPageBootData(t *testing.T) {
	e := newEnv(t, pagePrograms)
	e.waitState(url.PathEscape(hostile), "RUNNING")
	page, _ := getPage(t, e.srv.URL+"/?message=%3C%2Fscript%3E%3Cb%3Ehi")
	m := regexp.MustCompile(`(?s)<script type="application/json" id="boot">(.*?)</script>`).FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no boot data")
	}
	if strings.Contains(m[1], "<") {
		t.Errorf("boot data has a raw '<': %s", m[1])
	}
	var boot listJSON
	if err := json.Unmarshal([]byte(m[1]), &boot); err != nil {
		t.Fatalf("boot data: %v\n%s", err, m[1])
	}
	if len(boot.Processes) != 6 || boot.Supervisor.Version != version.Release() || boot.Supervisor.SupervisorVersion != version.Compat {
		t.Errorf("boot data: %d processes, supervisor %+v", len(boot.Processes), boot.Supervisor)
	}
	if !strings.Contains(page, `<p class="msg" id="msg" role="status">&lt;/script&gt;&lt;b&gt;hi</p>`) {
		t.Errorf("message not shown escaped")
	}
}

// The API reports our release and, separately, the supervisor version we
// are compatible with; the page's footer is the --version line.
func TestVersionInAPIAndFooter(t *testing.T) {
	old := version.Version
	version.Version = "v0.2.0" // as the Makefile stamps a tagged build
	t.Cleanup(func() { version.Version = old })
	e := newEnv(t, "")
	var sup map[string]any
	if code := e.do("GET", "/api/v1/supervisor", nil, &sup); code != 200 {
		t.Fatalf("GET /api/v1/supervisor: %d", code)
	}
	if sup["version"] != "0.2.0" || sup["supervisor_version"] != "4.2.5" || sup["api_version"] != "3.0" {
		t.Errorf("/api/v1/supervisor: %v", sup)
	}
	page, _ := getPage(t, e.srv.URL+"/")
	if want := `<span id="foot-version">gosupervisor 0.2.0 (supervisor 4.2.5 compatible)</span>`; !strings.Contains(page, want) {
		t.Errorf("page lacks the footer %s", want)
	}
}
