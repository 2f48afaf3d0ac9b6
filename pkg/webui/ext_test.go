package webui

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gosupervisor/gosupervisor/pkg/config"
	"github.com/gosupervisor/gosupervisor/pkg/health"
	"github.com/gosupervisor/gosupervisor/pkg/supervisor"
)

// legacyProcJSON is procJSON as it was before our extensions: a process
// without our keys must still be exactly this.
type legacyProcJSON struct {
	Namespec      string   `json:"namespec"`
	Name          string   `json:"name"`
	Group         string   `json:"group"`
	State         int      `json:"state"`
	StateName     string   `json:"statename"`
	Description   string   `json:"description"`
	PID           int      `json:"pid"`
	Start         int64    `json:"start"`
	Stop          int64    `json:"stop"`
	Now           int64    `json:"now"`
	Uptime        int64    `json:"uptime"`
	ExitStatus    int      `json:"exitstatus"`
	SpawnErr      string   `json:"spawnerr"`
	StdoutLogfile string   `json:"stdout_logfile"`
	StderrLogfile string   `json:"stderr_logfile"`
	Spawns        int      `json:"spawns"`
	Restarts      int      `json:"restarts"`
	CPU           *float64 `json:"cpu"`
	RSS           *int64   `json:"rss"`
}

// getRaw is GET path's body.
func (e *env) getRaw(path string) []byte {
	e.t.Helper()
	resp, err := http.Get(e.srv.URL + path)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		e.t.Fatalf("GET %s: %d %s", path, resp.StatusCode, body)
	}
	return body
}

// sameAsLegacy reports whether body, one process object as writeJSON sent
// it, is byte for byte what the API wrote before our extensions.
func sameAsLegacy(t *testing.T, body []byte) {
	t.Helper()
	var old legacyProcJSON
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&old); err != nil {
		t.Fatalf("%s: %v", body, err)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(old); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b.Bytes(), body) {
		t.Errorf("process JSON changed:\n got %s\nwant %s", body, b.Bytes())
	}
}

// TestProcessJSONWithoutExtensions: processes without our keys produce the
// same JSON and page as before, in configs with and without them.
func TestProcessJSONWithoutExtensions(t *testing.T) {
	for _, tt := range []struct{ name, conf string }{
		{"plain config", programs},
		{"beside checked programs", programs + extPrograms},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnvWith(t, tt.conf, (&checks{}).tune)
			e.waitState("sleeper", "RUNNING")
			for _, ns := range []string{"sleeper", "idle", "pool:worker_1"} {
				sameAsLegacy(t, e.getRaw("/api/v1/processes/"+ns))
			}
			var list struct {
				Processes []json.RawMessage `json:"processes"`
			}
			if err := json.Unmarshal(e.getRaw("/api/v1/processes"), &list); err != nil {
				t.Fatal(err)
			}
			for _, raw := range list.Processes {
				var p procJSON
				_ = json.Unmarshal(raw, &p)
				if p.Health == nil && p.DependsOn == nil {
					// json.RawMessage keeps the bytes; Encode adds the newline.
					sameAsLegacy(t, append(raw, '\n'))
				}
			}
			if tt.conf == programs {
				page := string(e.getRaw("/"))
				for _, s := range []string{"has-health", `class="health`, "waiting", "depends on"} {
					if strings.Contains(page, s) {
						t.Errorf("page without our keys contains %q", s)
					}
				}
			}
		})
	}
}

const extPrograms = `
[program:web]
command=/bin/sleep 1000
startsecs=0
healthcheck=tcp://127.0.0.1:5432
healthcheck_interval=1

[program:sick]
command=/bin/sleep 1000
startsecs=0
healthcheck=exec:/bin/false --quick
healthcheck_interval=1
healthcheck_retries=1
on_unhealthy=ignore

[program:sick2]
command=/bin/sleep 1000
startsecs=0
healthcheck=http://127.0.0.1:9/health
healthcheck_interval=1
healthcheck_retries=1
on_unhealthy=ignore

[program:needy]
command=/bin/sleep 1000
startsecs=0
depends_on=sick, sick2
`

// checks is the fake health checks' outcomes by namespec (default: pass).
type checks struct {
	mu  sync.Mutex
	bad map[string]string // namespec → error
}

func (c *checks) fail(ns, why string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.bad == nil {
		c.bad = map[string]string{}
	}
	c.bad[ns] = why
}

func (c *checks) pass(ns string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.bad, ns)
}

func (c *checks) tune(o *supervisor.Options) {
	o.Check = func(_ context.Context, ns string, _ *config.HealthCheck) health.Result {
		c.mu.Lock()
		defer c.mu.Unlock()
		if why, ok := c.bad[ns]; ok {
			return health.Result{Err: why, Output: "check said: " + why}
		}
		return health.Result{OK: true, Output: "ok"}
	}
}

// waitProc polls the API until ok accepts ns's object.
func (e *env) waitProc(ns, what string, ok func(procJSON) bool) procJSON {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		p := e.proc(ns)
		if ok(p) {
			return p
		}
		if time.Now().After(deadline) {
			raw, _ := json.Marshal(p)
			e.t.Fatalf("%s: not %s within 10s: %s", ns, what, raw)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func healthIs(status string) func(procJSON) bool {
	return func(p procJSON) bool { return p.Health != nil && p.Health.Status == status }
}

func TestHealthAndDependencies(t *testing.T) {
	c := &checks{}
	c.fail("sick", "exit status 1")
	c.fail("sick2", "connection refused")
	e := newEnvWith(t, extPrograms+"\n[program:plain]\ncommand=/bin/sleep 1000\nstartsecs=0\n", c.tune)

	// The description and the health are read one after the other: wait
	// until both have seen the verdict.
	web := e.waitProc("web", "healthy", func(p procJSON) bool {
		return healthIs("healthy")(p) && strings.HasSuffix(p.Description, ", healthy")
	})
	if h := web.Health; h.Kind != "tcp" || !strings.Contains(h.Target, "127.0.0.1:5432") || h.Failures != 0 ||
		h.LastError != "" || h.LastCheck == 0 || h.Output != "ok" || web.DependsOn != nil || web.WaitingFor != nil {
		t.Errorf("web %+v health %+v", web, h)
	}
	sick := e.waitProc("sick", "unhealthy", healthIs("unhealthy"))
	if h := sick.Health; h.Kind != "exec" || h.Target != "/bin/false --quick" || h.Failures < 1 ||
		h.LastError != "exit status 1" || h.Output != "check said: exit status 1" || sick.StateName != "RUNNING" {
		t.Errorf("sick %+v health %+v", sick, h)
	}
	e.waitProc("sick2", "unhealthy", healthIs("unhealthy"))
	needy := e.proc("needy")
	if needy.StateName != "STOPPED" || needy.Health != nil ||
		!slices.Equal(needy.DependsOn, []string{"sick", "sick2"}) || !slices.Equal(needy.WaitingFor, []string{"sick", "sick2"}) ||
		needy.Description != "waiting for sick, sick2" {
		t.Errorf("needy %+v", needy)
	}
	// The members are there only when in use.
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(e.getRaw("/api/v1/processes/plain"), &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"health", "depends_on", "waiting_for"} {
		if _, ok := raw[k]; ok {
			t.Errorf("plain has %q", k)
		}
	}
	if err := json.Unmarshal(e.getRaw("/api/v1/processes/web"), &raw); err != nil {
		t.Fatal(err)
	}
	var hraw map[string]any
	if err := json.Unmarshal(raw["health"], &hraw); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range hraw {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if got := strings.Join(keys, " "); got != "failures kind last_check last_error output status target" {
		t.Errorf("health members %s", got)
	}

	// The page renders the badges and the wait as app.js does.
	page := string(e.getRaw("/"))
	for _, want := range []string{
		`<table class="procs has-health" id="procs">`,
		"<span class=\"health healthy\" data-health=\"healthy\" title=\"tcp check 127.0.0.1:5432\nlast check passed\">healthy</span>",
		"<span class=\"health unhealthy\" data-health=\"unhealthy\" title=\"exec check /bin/false --quick\nexit status 1 (",
		`<td class="desc waiting" title="waiting for sick, sick2">waiting for sick, sick2</td>`,
		"<td class=\"name\" title=\"needy\ndepends on sick, sick2\">needy</td>",
		`<td class="name" title="plain">plain</td>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}

	// Live: a health transition reaches the stream, and with it the
	// dependent whose wait it shortens although the dependent itself did
	// not change state.
	st := e.stream("/api/v1/events", nil)
	first := st.until(t, 5*time.Second, func(ev sseEvent) bool { return ev.name == "sync" })
	if !strings.Contains(first.data, `"waiting_for":["sick","sick2"]`) {
		t.Errorf("sync without needy's wait: %s", first.data)
	}
	c.pass("sick")
	var sawSick, sawNeedy bool
	st.until(t, 10*time.Second, func(ev sseEvent) bool {
		if ev.name != "update" {
			return false
		}
		var d listJSON
		if err := json.Unmarshal([]byte(ev.data), &d); err != nil {
			t.Errorf("update %s: %v", ev.data, err)
			return true
		}
		for _, p := range d.Processes {
			switch {
			case p.Namespec == "sick" && p.Health != nil && p.Health.Status == "healthy":
				sawSick = true
			case p.Namespec == "needy" && slices.Equal(p.WaitingFor, []string{"sick2"}) && p.Description == "waiting for sick2":
				sawNeedy = true
			}
		}
		return sawSick && sawNeedy
	})
	c.pass("sick2")
	st.until(t, 10*time.Second, func(ev sseEvent) bool {
		var d listJSON
		_ = json.Unmarshal([]byte(ev.data), &d)
		for _, p := range d.Processes {
			if p.Namespec == "needy" && p.StateName == "RUNNING" && p.WaitingFor == nil {
				return true
			}
		}
		return false
	})
	// An unhealthy turn reaches it too.
	c.fail("web", "connection refused")
	st.until(t, 10*time.Second, func(ev sseEvent) bool {
		var d listJSON
		_ = json.Unmarshal([]byte(ev.data), &d)
		for _, p := range d.Processes {
			if p.Namespec == "web" && p.Health != nil && p.Health.Status != "healthy" {
				return true
			}
		}
		return false
	})
}
