package webui

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

// postUpdate POSTs /api/v1/config/update with a JSON body ("" = none). It
// does not use t, so that it may run on another goroutine.
func (e *env) postUpdate(body string) (code int, log []string, err error) {
	req, err := http.NewRequest("POST", e.srv.URL+"/api/v1/config/update", strings.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, err
	}
	var out struct{ Log []string }
	if err := json.Unmarshal(data, &out); err != nil {
		return resp.StatusCode, nil, fmt.Errorf("%d %q: %w", resp.StatusCode, data, err)
	}
	return resp.StatusCode, out.Log, nil
}

const updateBefore = `[program:keep]
command=/bin/sleep 1000
startsecs=0

[program:gone]
command=/bin/sleep 1000
startsecs=0

[program:stay]
command=/bin/sleep 1000
startsecs=0

[group:pool]
programs=worker

[program:worker]
command=/bin/sleep 1000
numprocs=2
process_name=%(program_name)s_%(process_num)d
startsecs=0
`

// keep and pool change, gone goes, fresh, newpool and alpha are new.
const updateAfter = `[program:keep]
command=/bin/sleep 999
startsecs=0

[program:stay]
command=/bin/sleep 1000
startsecs=0

[program:fresh]
command=/bin/sleep 1000
startsecs=0

[group:pool]
programs=worker

[program:worker]
command=/bin/sleep 1000
numprocs=1
process_name=%(program_name)s_%(process_num)d
startsecs=0

[group:newpool]
programs=nw

[program:nw]
command=/bin/sleep 1000
startsecs=0

[program:alpha]
command=/bin/sleep 1000
startsecs=0
`

// TestConfigUpdateLines checks the console's update log against the lines
// Python supervisorctl 4.2.5 prints for the same edits and arguments
// ("supervisorctl update fresh nosuch newpool", "update all nosuch",
// "update").
func TestConfigUpdateLines(t *testing.T) {
	e := newEnv(t, updateBefore)
	for _, ns := range []string{"keep", "gone", "stay", "pool:worker_0", "pool:worker_1"} {
		e.waitState(ns, "RUNNING")
	}
	e.writeConf(updateAfter)
	steps := []struct {
		body string
		want []string
	}{
		{`{"groups":["fresh","nosuch","newpool"]}`, []string{
			"ERROR: no such group: nosuch",
			"fresh: added process group",
			"newpool: added process group",
		}},
		// "all" anywhere means every group, and no name is checked.
		{`{"groups":["all","nosuch"]}`, []string{
			"gone: stopped",
			"gone: removed process group",
			"keep: stopped",
			"keep: updated process group",
			"pool: stopped",
			"pool: updated process group",
			"alpha: added process group",
		}},
		{"", []string{}},
	}
	for _, st := range steps {
		code, log, err := e.postUpdate(st.body)
		if err != nil || code != 200 {
			t.Fatalf("update %s: %d %v", st.body, code, err)
		}
		if got, want := strings.Join(log, "\n"), strings.Join(st.want, "\n"); got != want || log == nil {
			t.Errorf("update %s: log\n%s\nwant\n%s", st.body, got, want)
		}
	}
	var list listJSON
	if code := e.do("GET", "/api/v1/processes", nil, &list); code != 200 {
		t.Fatalf("processes: %d", code)
	}
	var names []string
	for _, p := range list.Processes {
		names = append(names, p.Namespec)
	}
	if got, want := strings.Join(names, " "), "alpha fresh keep newpool:nw pool:worker_0 stay"; got != want {
		t.Errorf("processes after the update %q, want %q", got, want)
	}
	var diff diffJSON
	if code := e.do("GET", "/api/v1/config/diff", nil, &diff); code != 200 || len(diff.Added)+len(diff.Changed)+len(diff.Removed) != 0 {
		t.Errorf("diff after the update: %d %+v", code, diff)
	}
}

// TestConfigUpdateAlreadyActive: a new group that someone else adds while
// the console's update is under way is reported, and the update goes on
// (supervisorctl would stop at that fault).
func TestConfigUpdateAlreadyActive(t *testing.T) {
	e := newEnv(t, "[program:slow]\ncommand=/bin/sh -c \"trap '' TERM; while :; do sleep 0.1; done\"\nstartsecs=0\nstopwaitsecs=1\n")
	e.waitState("slow", "RUNNING")
	e.writeConf("[program:fresh]\ncommand=/bin/sleep 1000\nstartsecs=0\n\n[program:later]\ncommand=/bin/sleep 1000\nstartsecs=0\n")
	type answer struct {
		code int
		log  []string
		err  error
	}
	done := make(chan answer, 1)
	go func() {
		code, log, err := e.postUpdate("")
		done <- answer{code, log, err}
	}()
	// slow ignores SIGTERM: while it is STOPPING the update has reread
	// the file and waits; "supervisorctl add fresh" gets in first.
	e.waitState("slow", "STOPPING")
	if err := e.sup.AddGroup("fresh"); err != nil {
		t.Fatalf("add fresh: %v", err)
	}
	var a answer
	select {
	case a = <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("update did not finish")
	}
	if a.err != nil || a.code != 200 {
		t.Fatalf("update: %d %v", a.code, a.err)
	}
	want := "slow: stopped|slow: removed process group|ERROR: process group already active|later: added process group"
	if got := strings.Join(a.log, "|"); got != want {
		t.Errorf("update log %q, want %q", got, want)
	}
	e.waitState("later", "RUNNING")
}

// TestConfigFaults: reread faults keep their HTTP statuses on both the
// preview and the update.
func TestConfigFaults(t *testing.T) {
	e := newEnv(t, "[program:slow]\ncommand=/bin/sh -c \"trap '' TERM; while :; do sleep 0.1; done\"\nstartsecs=0\nstopwaitsecs=2\n")
	e.waitState("slow", "RUNNING")
	check := func(status int, name string, code int) {
		t.Helper()
		for _, tt := range []struct{ method, path string }{
			{"GET", "/api/v1/config/diff"},
			{"POST", "/api/v1/config/update"},
		} {
			var eb errBody
			if got := e.do(tt.method, tt.path, nil, &eb); got != status || eb.Error.Name != name || eb.Error.Code != code {
				t.Errorf("%s %s: %d %+v, want %d %s", tt.method, tt.path, got, eb, status, name)
			}
		}
	}
	if err := os.WriteFile(e.conf, []byte("[program:x]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	check(http.StatusUnprocessableEntity, "CANT_REREAD", 92)
	// slow keeps supervisord in SHUTDOWN for its stopwaitsecs.
	e.sup.Shutdown()
	check(http.StatusServiceUnavailable, "SHUTDOWN_STATE", 6)
}
