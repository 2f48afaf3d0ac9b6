package webui

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

const programs = `[program:sleeper]
command=/bin/sleep 1000
startsecs=0

[program:ticker]
command=/bin/sh -c "i=0; while :; do i=$((i+1)); echo tick $i; echo err $i >&2; sleep 0.1; done"
startsecs=0

[program:idle]
command=/bin/sleep 1000
autostart=false

[group:pool]
programs=worker

[program:worker]
command=/bin/sleep 1000
numprocs=2
process_name=%(program_name)s_%(process_num)d
startsecs=0
`

type errBody struct {
	Error apiErr `json:"error"`
}

func TestProcessListAndOne(t *testing.T) {
	e := newEnv(t, programs)
	e.waitState("sleeper", "RUNNING")
	var list listJSON
	if code := e.do("GET", "/api/v1/processes", nil, &list); code != 200 {
		t.Fatalf("status %d", code)
	}
	var names []string
	for _, p := range list.Processes {
		names = append(names, p.Namespec)
	}
	want := "idle pool:worker_0 pool:worker_1 sleeper ticker"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("processes %q, want %q", got, want)
	}
	if list.Supervisor.State != "RUNNING" || list.Supervisor.PID != os.Getpid() {
		t.Errorf("supervisor %+v", list.Supervisor)
	}
	p := e.waitState("sleeper", "RUNNING")
	if p.PID == 0 || p.Start == 0 || p.Spawns != 1 || p.Restarts != 0 || !strings.HasPrefix(p.Description, "pid ") {
		t.Errorf("sleeper %+v", p)
	}
	if p.RSS == nil || *p.RSS <= 0 || p.CPU == nil {
		t.Errorf("no resource figures for a running process: %+v", p)
	}
	if idle := e.proc("idle"); idle.StateName != "STOPPED" || idle.CPU != nil || idle.Description != "Not started" {
		t.Errorf("idle %+v", idle)
	}

	tests := []struct {
		path   string
		status int
		name   string
	}{
		{"/api/v1/processes/nosuch", 404, "BAD_NAME"},
		{"/api/v1/processes/pool:nosuch", 404, "BAD_NAME"},
		{"/api/v1/logs/nosuch/stdout", 404, "BAD_NAME"},
		{"/api/v1/nothing", 404, "NOT_FOUND"},
	}
	for _, tt := range tests {
		var eb errBody
		if code := e.do("GET", tt.path, nil, &eb); code != tt.status || eb.Error.Name != tt.name {
			t.Errorf("GET %s: %d %+v, want %d %s", tt.path, code, eb.Error, tt.status, tt.name)
		}
	}
	var eb errBody
	e.do("GET", "/api/v1/processes/nosuch", nil, &eb)
	if eb.Error.Code != 10 || eb.Error.Message != "BAD_NAME: nosuch" {
		t.Errorf("error body %+v", eb.Error)
	}
}

func TestActions(t *testing.T) {
	e := newEnv(t, programs)
	first := e.waitState("sleeper", "RUNNING")
	tests := []struct {
		name   string
		path   string
		status int
		fault  string
		state  string // sleeper's state afterwards ("" = don't check)
	}{
		{"stop", "/api/v1/processes/sleeper/stop", 200, "", "STOPPED"},
		{"stop again", "/api/v1/processes/sleeper/stop", 409, "NOT_RUNNING", "STOPPED"},
		{"signal stopped", "/api/v1/processes/sleeper/signal?signal=HUP", 409, "NOT_RUNNING", ""},
		{"start", "/api/v1/processes/sleeper/start", 200, "", "RUNNING"},
		{"start again", "/api/v1/processes/sleeper/start", 409, "ALREADY_STARTED", "RUNNING"},
		{"bad signal", "/api/v1/processes/sleeper/signal?signal=NOPE", 400, "BAD_SIGNAL", ""},
		{"no signal", "/api/v1/processes/sleeper/signal", 400, "BAD_REQUEST", ""},
		{"signal", "/api/v1/processes/sleeper/signal?signal=CONT", 200, "", "RUNNING"},
		{"restart", "/api/v1/processes/sleeper/restart", 200, "", "RUNNING"},
		{"clear", "/api/v1/processes/sleeper/clear", 200, "", ""},
		{"unknown", "/api/v1/processes/nosuch/start", 404, "BAD_NAME", ""},
		{"group spec", "/api/v1/processes/pool:*/start", 400, "BAD_REQUEST", ""},
		{"bad wait", "/api/v1/processes/sleeper/start?wait=maybe", 400, "BAD_REQUEST", ""},
		{"no such group", "/api/v1/groups/nosuch/stop", 404, "BAD_NAME", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body map[string]json.RawMessage
			code := e.do("POST", tt.path, nil, &body)
			if code != tt.status {
				t.Fatalf("status %d (%s), want %d", code, body["error"], tt.status)
			}
			if tt.fault != "" {
				var eb apiErr
				if err := json.Unmarshal(body["error"], &eb); err != nil || eb.Name != tt.fault {
					t.Fatalf("error %s, want %s", body["error"], tt.fault)
				}
			}
			if tt.state != "" {
				if p := e.proc("sleeper"); p.StateName != tt.state {
					t.Fatalf("sleeper is %s, want %s", p.StateName, tt.state)
				}
			}
		})
	}
	last := e.proc("sleeper")
	if last.PID == first.PID || last.Spawns != 3 || last.Restarts != 2 {
		t.Errorf("after start and restart: pid %d (first %d), spawns %d restarts %d", last.PID, first.PID, last.Spawns, last.Restarts)
	}
}

// results decodes a group/all answer's per-process entries.
type result struct {
	Name, Group, Description string
	Status                   int
}

func TestGroupAndAllActions(t *testing.T) {
	e := newEnv(t, programs)
	e.waitState("pool:worker_1", "RUNNING")
	var out struct{ Results []result }
	if code := e.do("POST", "/api/v1/groups/pool/stop", nil, &out); code != 200 || len(out.Results) != 2 {
		t.Fatalf("group stop: %d %+v", code, out)
	}
	for _, r := range out.Results {
		if r.Group != "pool" || r.Status != 80 || r.Description != "OK" {
			t.Errorf("result %+v", r)
		}
	}
	e.waitState("pool:worker_0", "STOPPED")
	var restart struct{ Stopped, Started []result }
	if code := e.do("POST", "/api/v1/groups/pool/restart", nil, &restart); code != 200 || len(restart.Started) != 2 || len(restart.Stopped) != 0 {
		t.Fatalf("group restart: %d %+v", code, restart)
	}
	e.waitState("pool:worker_0", "RUNNING")
	if code := e.do("POST", "/api/v1/all/stop", nil, &out); code != 200 || len(out.Results) != 4 {
		t.Fatalf("all stop: %d %+v", code, out)
	}
	for _, ns := range []string{"sleeper", "ticker", "pool:worker_0", "pool:worker_1", "idle"} {
		if p := e.proc(ns); p.StateName != "STOPPED" {
			t.Errorf("%s is %s after stop all", ns, p.StateName)
		}
	}
	if code := e.do("POST", "/api/v1/all/start", nil, &out); code != 200 || len(out.Results) != 5 {
		t.Fatalf("all start: %d %+v", code, out)
	}
	if p := e.proc("idle"); p.StateName != "RUNNING" {
		t.Errorf("idle is %s after start all", p.StateName)
	}
}

func TestSameOriginCheck(t *testing.T) {
	e := newEnv(t, "[program:sleeper]\ncommand=/bin/sleep 1000\nstartsecs=0\n")
	e.waitState("sleeper", "RUNNING")
	host := strings.TrimPrefix(e.srv.URL, "http://")
	tests := []struct {
		name   string
		hdr    http.Header
		status int
	}{
		{"curl", nil, 200},
		{"same origin", http.Header{"Origin": {"http://" + host}, "Sec-Fetch-Site": {"same-origin"}}, 200},
		{"origin only", http.Header{"Origin": {"http://" + host}}, 200},
		{"other origin", http.Header{"Origin": {"http://evil.example"}}, 403},
		{"null origin", http.Header{"Origin": {"null"}}, 403},
		{"cross-site fetch", http.Header{"Sec-Fetch-Site": {"cross-site"}}, 403},
		{"same-site fetch", http.Header{"Sec-Fetch-Site": {"same-site"}, "Origin": {"http://" + host}}, 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var eb errBody
			code := e.do("POST", "/api/v1/processes/sleeper/signal?signal=CONT", tt.hdr, &eb)
			if code != tt.status {
				t.Fatalf("status %d %+v, want %d", code, eb, tt.status)
			}
			if code == 403 && eb.Error.Name != "FORBIDDEN" {
				t.Errorf("error %+v", eb.Error)
			}
		})
	}
	// Reads are never refused: a cross-site page cannot see the answer anyway.
	if code := e.do("GET", "/api/v1/processes", http.Header{"Origin": {"http://evil.example"}}, nil); code != 200 {
		t.Errorf("GET with foreign Origin: %d", code)
	}
}

func TestLogReadDownloadAndStream(t *testing.T) {
	e := newEnv(t, programs)
	e.waitState("ticker", "RUNNING")
	var chunk logChunk
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(chunk.Data, "tick 3\n") {
		if time.Now().After(deadline) {
			t.Fatalf("no output: %+v", chunk)
		}
		time.Sleep(20 * time.Millisecond)
		if code := e.do("GET", "/api/v1/logs/ticker/stdout", nil, &chunk); code != 200 {
			t.Fatalf("read: %d", code)
		}
	}
	if !strings.HasPrefix(chunk.Data, "tick 1\n") || chunk.Offset != 0 || chunk.Next != chunk.End {
		t.Errorf("tail from start: %+v", chunk)
	}
	var part logChunk
	e.do("GET", "/api/v1/logs/ticker/stdout?offset=2&limit=5", nil, &part)
	if part.Data != "ck 1\n" || part.Offset != 2 || part.Next != 7 {
		t.Errorf("offset read: %+v", part)
	}
	var errs logChunk
	e.do("GET", "/api/v1/logs/ticker/stderr", nil, &errs)
	if !strings.HasPrefix(errs.Data, "err 1\n") {
		t.Errorf("stderr: %+v", errs)
	}

	// Download: the whole file from disk.
	resp, err := http.Get(e.srv.URL + "/api/v1/logs/ticker/stdout/download")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(string(body), "tick 1\ntick 2\n") ||
		resp.Header.Get("Content-Disposition") != `attachment; filename="ticker-stdout.log"` {
		t.Errorf("download: %d %q %q", resp.StatusCode, resp.Header.Get("Content-Disposition"), body)
	}

	// Stream: a line printed after connecting arrives; ids are offsets.
	s := e.stream("/api/v1/logs/ticker/stdout/stream?tail=0", nil)
	var lastID string
	ev := s.until(t, 5*time.Second, func(ev sseEvent) bool {
		lastID = ev.id
		var c logChunk
		_ = json.Unmarshal([]byte(ev.data), &c)
		return ev.name == "log" && strings.Contains(c.Data, "tick ")
	})
	var c logChunk
	if err := json.Unmarshal([]byte(ev.data), &c); err != nil || strconv.FormatInt(c.Next, 10) != ev.id || c.Offset < chunk.Next {
		t.Errorf("stream event %+v (%v), earlier read ended at %d", ev, err, chunk.Next)
	}

	// Resume with Last-Event-ID: the stream continues exactly there.
	id, _ := strconv.ParseInt(lastID, 10, 64)
	s2 := e.stream("/api/v1/logs/ticker/stdout/stream", http.Header{"Last-Event-ID": {lastID}})
	ev2 := s2.until(t, 5*time.Second, func(ev sseEvent) bool { return ev.name == "log" })
	var c2 logChunk
	if err := json.Unmarshal([]byte(ev2.data), &c2); err != nil || c2.Offset != id || c2.Truncated {
		t.Errorf("resumed at %d, want %d (%+v)", c2.Offset, id, c2)
	}

	// Clearing the log makes a stream from an old offset report truncation.
	if code := e.do("POST", "/api/v1/processes/ticker/clear", nil, nil); code != 200 {
		t.Fatalf("clear: %d", code)
	}
	s3 := e.stream("/api/v1/logs/ticker/stdout/stream?offset=0", nil)
	ev3 := s3.until(t, 5*time.Second, func(ev sseEvent) bool { return ev.name == "log" })
	var c3 logChunk
	if err := json.Unmarshal([]byte(ev3.data), &c3); err != nil || !c3.Truncated || c3.Offset <= id {
		t.Errorf("after clear: %+v", c3)
	}
}

func TestMainLog(t *testing.T) {
	e := newEnv(t, "[program:sleeper]\ncommand=/bin/sleep 1000\nautostart=false\n")
	fmt.Fprint(e.mainLog, "2026-01-01 00:00:00,000 INFO first\n")
	var c logChunk
	if code := e.do("GET", "/api/v1/mainlog", nil, &c); code != 200 || c.Data != "2026-01-01 00:00:00,000 INFO first\n" {
		t.Fatalf("main log: %d %+v", code, c)
	}
	s := e.stream("/api/v1/mainlog/stream", nil)
	s.until(t, 5*time.Second, func(ev sseEvent) bool { return strings.Contains(ev.data, "first") })
	fmt.Fprint(e.mainLog, "2026-01-01 00:00:01,000 INFO second\n")
	s.until(t, 5*time.Second, func(ev sseEvent) bool { return strings.Contains(ev.data, "second") })
	resp, err := http.Get(e.srv.URL + "/api/v1/mainlog/download")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "INFO first\n") || !strings.Contains(string(body), "INFO second\n") {
		t.Errorf("main log download %q", body)
	}
}

func TestEventsFollowStateChanges(t *testing.T) {
	e := newEnv(t, programs)
	e.waitState("sleeper", "RUNNING")
	s := e.stream("/api/v1/events", nil)
	first, err := s.next()
	if err != nil || first.name != "sync" {
		t.Fatalf("first event %+v %v", first, err)
	}
	var sync listJSON
	if err := json.Unmarshal([]byte(first.data), &sync); err != nil || len(sync.Processes) != 5 {
		t.Fatalf("sync %s: %v", first.data, err)
	}
	s.until(t, 5*time.Second, func(ev sseEvent) bool {
		return ev.name == "stats" && strings.Contains(ev.data, `"sleeper":{"cpu":`)
	})
	begin := time.Now()
	if code := e.do("POST", "/api/v1/processes/sleeper/stop?wait=false", nil, nil); code != 200 {
		t.Fatalf("stop: %d", code)
	}
	s.until(t, time.Second, func(ev sseEvent) bool {
		var u listJSON
		_ = json.Unmarshal([]byte(ev.data), &u)
		return ev.name == "update" && len(u.Processes) == 1 && u.Processes[0].Namespec == "sleeper" && u.Processes[0].StateName == "STOPPED"
	})
	if d := time.Since(begin); d > time.Second {
		t.Errorf("update after %s", d)
	}
}

func TestConfigDiffAndUpdate(t *testing.T) {
	e := newEnv(t, "[program:keep]\ncommand=/bin/sleep 1000\nstartsecs=0\n\n[program:gone]\ncommand=/bin/sleep 1000\nstartsecs=0\n")
	e.waitState("gone", "RUNNING")
	e.writeConf("[program:keep]\ncommand=/bin/sleep 999\nstartsecs=0\n\n[program:fresh]\ncommand=/bin/sleep 1000\nstartsecs=0\n")
	var diff diffJSON
	if code := e.do("GET", "/api/v1/config/diff", nil, &diff); code != 200 {
		t.Fatalf("diff: %d", code)
	}
	got, _ := json.Marshal(diff)
	want := `{"added":[{"group":"fresh","processes":[{"name":"fresh","command":"/bin/sleep 1000","change":"add"}]}],` +
		`"changed":[{"group":"keep","processes":[{"name":"keep","command":"/bin/sleep 999","change":"keep"}]}],` +
		`"removed":[{"group":"gone","processes":[{"name":"gone","change":"remove"}]}]}`
	if string(got) != want {
		t.Errorf("diff\n got %s\nwant %s", got, want)
	}
	// The preview changed nothing.
	if p := e.proc("gone"); p.StateName != "RUNNING" {
		t.Errorf("gone is %s after the preview", p.StateName)
	}
	var upd struct{ Log []string }
	if code := e.do("POST", "/api/v1/config/update", nil, &upd); code != 200 {
		t.Fatalf("update: %d", code)
	}
	wantLog := "gone: stopped|gone: removed process group|keep: stopped|keep: updated process group|fresh: added process group"
	if got := strings.Join(upd.Log, "|"); got != wantLog {
		t.Errorf("update log %q, want %q", got, wantLog)
	}
	e.waitState("fresh", "RUNNING")
	var eb errBody
	if code := e.do("GET", "/api/v1/processes/gone", nil, &eb); code != 404 {
		t.Errorf("gone still there: %d", code)
	}
	// A broken file is CANT_REREAD.
	if err := os.WriteFile(e.conf, []byte("[program:x]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code := e.do("GET", "/api/v1/config/diff", nil, &eb); code != 422 || eb.Error.Name != "CANT_REREAD" {
		t.Errorf("broken config: %d %+v", code, eb)
	}
}

func TestPageAndStatic(t *testing.T) {
	e := newEnv(t, "")
	tests := []struct {
		path, ctype, contains string
	}{
		{"/", "text/html", "<title>"},
		{"/index.html", "text/html", "/static/app.js"},
		{"/static/app.js", "text/javascript", "EventSource"},
		{"/static/app.css", "text/css", "--running"},
	}
	for _, tt := range tests {
		resp, err := http.Get(e.srv.URL + tt.path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), tt.ctype) || !strings.Contains(string(body), tt.contains) {
			t.Errorf("GET %s: %d %s, body has %q: %v", tt.path, resp.StatusCode, resp.Header.Get("Content-Type"), tt.contains, strings.Contains(string(body), tt.contains))
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
			t.Errorf("GET %s: CSP %q", tt.path, csp)
		}
	}
	for _, path := range []string{"/static/", "/static/nosuch.js"} {
		resp, err := http.Get(e.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 404 {
			t.Errorf("GET %s: %d", path, resp.StatusCode)
		}
	}
}

func TestSamplerParsesProc(t *testing.T) {
	root := t.TempDir()
	write := func(name, data string) {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// A command name with spaces and parentheses; utime 300 + stime 100
	// ticks = 4 s of CPU, started at 1000 ticks = 10 s after boot.
	stat := func(ticks int) string {
		return fmt.Sprintf("42 (a (b) c) S 1 42 42 0 -1 4194304 100 0 0 0 %d 100 0 0 20 0 1 0 1000 1000000 25 18446744073709551615\n", ticks-100)
	}
	write("42/stat", stat(400))
	write("42/statm", "1000 25 10 1 0 50 0\n")
	write("uptime", "20.00 30.00\n")
	now := time.Unix(1000, 0)
	s := newSampler(root, func() time.Time { return now })
	st, ok := s.get(42)
	if !ok || st.cpu != 40 || st.rss != 25*int64(os.Getpagesize()) {
		t.Fatalf("first sample %+v %v, want 40%% (4 s over 10 s)", st, ok)
	}
	// 1 s of CPU over 2 s.
	write("42/stat", stat(500))
	now = now.Add(2 * time.Second)
	if st, _ := s.get(42); st.cpu != 50 {
		t.Errorf("second sample %+v, want 50%%", st)
	}
	// Too soon for a new delta: the last figure stands.
	write("42/stat", stat(600))
	now = now.Add(100 * time.Millisecond)
	if st, _ := s.get(42); st.cpu != 50 {
		t.Errorf("early sample %+v, want 50%%", st)
	}
	s.prune(nil)
	if len(s.last) != 0 {
		t.Errorf("prune kept %v", s.last)
	}
	if _, ok := s.get(7); ok {
		t.Error("a missing pid has figures")
	}
	write("43/stat", "garbage")
	if _, ok := s.get(43); ok {
		t.Error("garbage parsed")
	}
}
