package webui

import (
	"strings"
	"testing"
	"time"
)

const historyPrograms = `[program:flappy]
command=/bin/sh -c "exit 3"
startsecs=0
autorestart=true

[group:pool]
programs=worker

[program:worker]
command=/bin/sleep 1000
numprocs=2
process_name=%(program_name)s_%(process_num)d
startsecs=0
`

// A real crash loop: /history gives its changes with exit 3, the process
// list its restarts of the last ten minutes, /config its resolved config,
// and the server's page the flapping badge and the pool's section.
func TestHistoryAPI(t *testing.T) {
	e := newEnv(t, historyPrograms)
	p := e.waitProc("flappy", "3 recent restarts", func(p procJSON) bool { return p.RecentRestarts >= 3 })
	var h historyJSON
	if code := e.do("GET", "/api/v1/processes/flappy/history", nil, &h); code != 200 {
		t.Fatalf("history: %d", code)
	}
	if h.Namespec != "flappy" || h.SampleEvery != 5 || !h.Sampling || len(h.Transitions) < 9 {
		t.Fatalf("history %+v", h)
	}
	if tr := h.Transitions[0]; tr.From != "STOPPED" || tr.To != "STARTING" || tr.ExitStatus != nil {
		t.Errorf("first change %+v", tr)
	}
	exits := 0
	for _, tr := range h.Transitions {
		if tr.To == "EXITED" {
			exits++
			if tr.ExitStatus == nil || *tr.ExitStatus != 3 || tr.Expected || tr.SpawnErr != "Bad exit code 3" || tr.PID == 0 {
				t.Errorf("exit %+v", tr)
			}
		}
	}
	if exits < 3 || p.RecentRestarts < exits-1 {
		t.Errorf("%d exits, %d recent restarts", exits, p.RecentRestarts)
	}
	if now := float64(time.Now().UnixMilli()) / 1000; h.Now < now-5 || h.Now > now+1 {
		t.Errorf("now %v", h.Now)
	}
	if w := e.proc("pool:worker_0"); w.RecentRestarts != 0 {
		t.Errorf("worker restarts %d", w.RecentRestarts)
	}
	raw := string(e.getRaw("/api/v1/processes/pool:worker_0"))
	if strings.Contains(raw, "recent_restarts") {
		t.Errorf("recent_restarts in a quiet process's JSON: %s", raw)
	}

	var c configJSON
	if code := e.do("GET", "/api/v1/processes/flappy/config", nil, &c); code != 200 {
		t.Fatalf("config: %d", code)
	}
	if c.Config["command"] != `/bin/sh -c "exit 3"` || c.Config["autostart"] != true || len(c.Extensions) != 0 {
		t.Errorf("config %+v", c)
	}
	for _, path := range []string{"/api/v1/processes/nosuch/history", "/api/v1/processes/nosuch/config"} {
		var eb errBody
		if code := e.do("GET", path, nil, &eb); code != 404 || eb.Error.Name != "BAD_NAME" {
			t.Errorf("%s: %d %+v", path, code, eb)
		}
	}

	page := string(e.getRaw("/"))
	if !strings.Contains(page, `<tr class="ghead" data-group="pool">`) || !strings.Contains(page, `2 processes · `) {
		t.Errorf("no pool section in the page")
	}
	if !strings.Contains(page, `<span class="flap" data-flaps="`) || !strings.Contains(page, `restarts in the last 10 minutes">↻`) {
		t.Errorf("no flapping badge in the page")
	}
}
