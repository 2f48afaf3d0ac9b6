package top

import (
	"slices"
	"strings"
	"testing"
	"time"
)

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func newTestModel() (*Model, *fakeClock) {
	c := &fakeClock{t: time.Unix(1_767_225_600, 0)}
	m := NewModel(80, 24, c.now)
	m.SetConn(Conn{Up: true, Kind: "polling", Daemon: "supervisor 4.2.5"})
	return m, c
}

func proc(group, name, state string, pid int, start int64) Proc {
	codes := map[string]int{"RUNNING": 20, "STARTING": 10, "BACKOFF": 30, "STOPPING": 40, "STOPPED": 0,
		"EXITED": 100, "FATAL": 200}
	return Proc{Name: name, Group: group, Statename: state, State: codes[state], PID: pid, Start: start,
		Spawns: -1, Recent: -1}
}

func keys(m *Model, ks ...Key) (effects []Effect) {
	for _, k := range ks {
		effects = append(effects, m.HandleKey(k)...)
	}
	return effects
}

func typed(s string) []Key {
	var out []Key
	for _, r := range s {
		out = append(out, R(r))
	}
	return out
}

func sample() []Proc {
	now := int64(1_767_225_600)
	a := proc("web", "web", "RUNNING", 100, now-50)
	a.HasCPU, a.CPU, a.HasRSS, a.RSS = true, 3.5, true, 5<<20
	b := proc("pool", "w1", "RUNNING", 101, now-500)
	b.HasCPU, b.CPU, b.HasRSS, b.RSS = true, 12, true, 1<<20
	c := proc("pool", "w2", "FATAL", 0, now-900)
	c.Description = "Exited too quickly (process log may have details)"
	d := proc("db", "db", "STOPPED", 0, 0)
	return []Proc{a, b, c, d}
}

func TestSortKeys(t *testing.T) {
	m, _ := newTestModel()
	m.SetProcs(sample(), true)
	if got := m.View(); !slices.Equal(got, []string{"db", "pool:w1", "pool:w2", "web"}) {
		t.Fatalf("by name: %v", got)
	}
	keys(m, R('5')) // CPU, descending first; no pid last
	if got := m.View(); !slices.Equal(got, []string{"pool:w1", "web", "db", "pool:w2"}) {
		t.Fatalf("by cpu: %v", got)
	}
	keys(m, R('5')) // again: reversed
	if got := m.View(); got[0] != "db" || got[3] != "pool:w1" {
		t.Fatalf("by cpu ascending: %v", got)
	}
	keys(m, R('2')) // state: RUNNING first, then the console's order
	if got := m.View(); !slices.Equal(got, []string{"pool:w1", "web", "db", "pool:w2"}) {
		t.Fatalf("by state: %v", got)
	}
	keys(m, R('4')) // uptime ascending
	if got := m.View(); !slices.Equal(got, []string{"db", "pool:w2", "web", "pool:w1"}) {
		t.Fatalf("by uptime: %v", got)
	}
	keys(m, R('i'))
	if got := m.View(); got[0] != "pool:w1" {
		t.Fatalf("reversed uptime: %v", got)
	}
	keys(m, R('>'))
	if m.Sort != ColCPU || !m.Desc {
		t.Fatalf("> moves to CPU descending: %v %v", m.Sort, m.Desc)
	}
	if h := m.Render()[2].Text(); !strings.Contains(h, "CPU%↓") {
		t.Errorf("header marks the sort: %q", h)
	}
}

func TestFilters(t *testing.T) {
	m, _ := newTestModel()
	m.SetProcs(sample(), true)
	keys(m, append(append([]Key{R('/')}, typed("POOL")...), Key{Code: KeyEnter})...)
	if got := m.View(); !slices.Equal(got, []string{"pool:w1", "pool:w2"}) {
		t.Fatalf("filter pool: %v", got)
	}
	if m.Mode != ModeTable || m.Filter != "POOL" {
		t.Fatalf("Enter keeps the filter: %v %q", m.Mode, m.Filter)
	}
	// description matches too
	keys(m, R('/'), Key{Code: KeyBackspace}, Key{Code: KeyBackspace}, Key{Code: KeyBackspace}, Key{Code: KeyBackspace})
	keys(m, typed("quickly")...)
	if got := m.View(); !slices.Equal(got, []string{"pool:w2"}) {
		t.Fatalf("filter by description while typing: %v", got)
	}
	keys(m, Key{Code: KeyEsc})
	if m.Filter != "" || len(m.View()) != 4 {
		t.Fatalf("Esc clears: %q %v", m.Filter, m.View())
	}
	keys(m, R('f')) // not RUNNING
	if got := m.View(); !slices.Equal(got, []string{"db", "pool:w2"}) {
		t.Fatalf("not running: %v", got)
	}
	keys(m, R('f')) // RUNNING
	if got := m.View(); !slices.Equal(got, []string{"pool:w1", "web"}) {
		t.Fatalf("running: %v", got)
	}
	if s := m.Render()[1].Text(); !strings.Contains(s, "state RUNNING") || !strings.Contains(s, "2 shown") {
		t.Errorf("status line: %q", s)
	}
	keys(m, Key{Code: KeyEsc})
	if len(m.View()) != 4 {
		t.Fatalf("Esc clears the state filter")
	}
	keys(m, R('/'), R('z'), R('z'), Key{Code: KeyEnter})
	if !strings.Contains(m.Render()[3].Text(), "No process matches the filter.") {
		t.Errorf("empty view: %q", m.Render()[3].Text())
	}
}

func TestActionsAndConfirmation(t *testing.T) {
	m, _ := newTestModel()
	m.SetProcs(sample(), true)
	keys(m, Key{Code: KeyDown}) // pool:w1
	if m.Selected() != "pool:w1" {
		t.Fatalf("selected %q", m.Selected())
	}
	eff := keys(m, R('s'))
	if len(eff) != 1 || eff[0].(Action).What() != "start pool:w1" || eff[0].(Action).Group {
		t.Fatalf("start runs at once: %#v", eff)
	}
	if eff := keys(m, R('x')); len(eff) != 0 || m.Mode != ModeConfirm {
		t.Fatalf("stop asks first: %v %v", eff, m.Mode)
	}
	if f := m.Render()[23].Text(); !strings.HasPrefix(f, "Really stop pool:w1? [y/N]") {
		t.Errorf("confirmation: %q", f)
	}
	if eff := keys(m, R('n')); len(eff) != 0 || m.Mode != ModeTable {
		t.Fatalf("n cancels: %v", eff)
	}
	eff = keys(m, R('x'), R('y'))
	if len(eff) != 1 || eff[0].(Action).Verb != "stop" {
		t.Fatalf("y confirms: %#v", eff)
	}
	// group mode: restart the whole group
	eff = keys(m, R('g'), R('r'), R('y'))
	a := eff[0].(Action)
	if !a.Group || a.Target != "pool" || a.Verb != "restart" || !slices.Equal(a.Members, []string{"pool:w1", "pool:w2"}) {
		t.Fatalf("group restart: %#v", a)
	}
	keys(m, R('g'))
	// signal: name, then confirmation
	eff = keys(m, append(append([]Key{R('K')}, typed("hup")...), Key{Code: KeyEnter})...)
	if len(eff) != 0 || m.Mode != ModeConfirm {
		t.Fatalf("signal asks: %v", m.Mode)
	}
	eff = keys(m, R('y'))
	if a := eff[0].(Action); a.Signal != "HUP" || a.What() != "signal HUP pool:w1" {
		t.Fatalf("signal: %#v", a)
	}
	eff = keys(m, R('K'), Key{Code: KeyEnter}, R('y'))
	if a := eff[0].(Action); a.Signal != "TERM" {
		t.Fatalf("default signal: %#v", a)
	}
	eff = keys(m, R('c'), R('y'))
	if a := eff[0].(Action); a.Verb != "clear" {
		t.Fatalf("clear: %#v", a)
	}
	m.ActionDone(eff[0].(Action), nil)
	if !strings.Contains(m.Render()[1].Text(), "clear pool:w1: done") {
		t.Errorf("status: %q", m.Render()[1].Text())
	}
	if eff := keys(m, R('q')); len(eff) != 1 {
		t.Fatalf("q quits")
	}
	if eff := keys(m, R('/'), Key{Code: KeyCtrlC}); len(eff) != 1 {
		t.Fatalf("Ctrl-C quits while typing")
	}
}

func TestSelectionFollowsProcess(t *testing.T) {
	m, _ := newTestModel()
	m.SetProcs(sample(), true)
	keys(m, Key{Code: KeyEnd})
	if m.Selected() != "web" {
		t.Fatalf("End: %q", m.Selected())
	}
	keys(m, R('5')) // re-sorted: web is now second
	if m.Selected() != "web" {
		t.Fatalf("selection kept across a sort: %q", m.Selected())
	}
	// web goes away: selection falls back to the first row
	m.SetProcs(sample()[1:], true)
	if m.Selected() != "pool:w1" {
		t.Fatalf("after removal: %q", m.Selected())
	}
}

func TestScrollAndSmallScreens(t *testing.T) {
	m, _ := newTestModel()
	var ps []Proc
	for i := range 100 {
		ps = append(ps, proc("g", "p"+string(rune('a'+i/26))+string(rune('a'+i%26)), "RUNNING", 1000+i, 1_767_225_000))
	}
	m.SetProcs(ps, true)
	for _, size := range [][2]int{{80, 24}, {132, 50}, {40, 10}} {
		m.Resize(size[0], size[1])
		lines := m.Render()
		if len(lines) != size[1] {
			t.Fatalf("%v: %d lines", size, len(lines))
		}
		for i, l := range lines {
			if w := len([]rune(l.Text())); w > size[0] {
				t.Errorf("%v line %d is %d wide: %q", size, i, w, l.Text())
			}
		}
	}
	m.Resize(80, 24)
	keys(m, Key{Code: KeyPgDn}, Key{Code: KeyPgDn})
	lines := m.Render()
	found := false
	for _, l := range lines[3:23] {
		if strings.HasPrefix(l.Text(), "g:"+m.Selected()[2:]) && l[0].Style == StSelected {
			found = true
		}
	}
	if !found {
		t.Errorf("selected %q not shown", m.Selected())
	}
}

func TestRestartCounting(t *testing.T) {
	m, c := newTestModel()
	p := proc("crash", "crash", "STARTING", 10, 1000)
	m.SetProcs([]Proc{p}, true)
	// crash loop as polling sees it: start changes at each spawn
	for i := range 4 {
		c.t = c.t.Add(2 * time.Second)
		p.State, p.Statename, p.Start = StateBackoff, "BACKOFF", 1000+int64(i)*2+2
		m.SetProcs([]Proc{p}, true)
	}
	if n := m.Restarts(m.procs["crash"]); n != 4 {
		t.Fatalf("restarts seen: %d", n)
	}
	if l := m.Render()[3]; l[6].Style != StSelected || !strings.Contains(l.Text(), " 4 ") {
		t.Errorf("row: %q", l.Text())
	}
	keys(m, Key{Code: KeyDown}) // nothing below; stays selected
	// a manual start from STOPPED is not a restart
	p.State, p.Statename = StateStopped, "STOPPED"
	m.SetProcs([]Proc{p}, true)
	p.State, p.Statename, p.Start = StateRunning, "RUNNING", 5000
	m.SetProcs([]Proc{p}, true)
	if n := m.Restarts(m.procs["crash"]); n != 4 {
		t.Fatalf("start after STOPPED counted: %d", n)
	}
	c.t = c.t.Add(FlapWindow)
	if n := m.Restarts(m.procs["crash"]); n != 0 {
		t.Fatalf("restarts age out: %d", n)
	}
	// our daemon: spawn counts
	m2, _ := newTestModel()
	q := proc("w", "w", "RUNNING", 1, 1)
	q.Spawns = 1
	m2.SetProcs([]Proc{q}, true)
	q.Spawns = 4
	m2.SetProcs([]Proc{q}, false)
	if n := m2.Restarts(m2.procs["w"]); n != 3 {
		t.Fatalf("spawns: %d", n)
	}
	// a daemon that counts: its number wins
	m2.SetConn(Conn{Up: true, Counts: true})
	q.Recent = 7
	m2.SetProcs([]Proc{q}, false)
	if n := m2.Restarts(m2.procs["w"]); n != 7 {
		t.Fatalf("daemon's count: %d", n)
	}
}

func TestConnectionBanner(t *testing.T) {
	m, _ := newTestModel()
	m.SetProcs(sample(), true)
	m.SetConn(Conn{Up: false, Err: "connect: connection refused", Daemon: "supervisor 4.2.5"})
	if s := m.Render()[1].Text(); !strings.HasPrefix(s, "connection lost, reconnecting: connect: connection refused") {
		t.Errorf("banner: %q", s)
	}
	if len(m.View()) != 4 {
		t.Errorf("the last table stays")
	}
}

func TestUptimeTicks(t *testing.T) {
	m, c := newTestModel()
	p := proc("web", "web", "RUNNING", 42, c.t.Unix()-59)
	p.Description, p.Now = "pid 42, uptime 0:00:59", c.t.Unix()
	m.SetProcs([]Proc{p}, true)
	m.Resize(120, 24)
	c.t = c.t.Add(86400*time.Second + time.Second)
	l := m.Render()[3].Text()
	if !strings.Contains(l, "1d 00:01") || !strings.Contains(l, "pid 42, uptime 1 day, 0:01:00") {
		t.Errorf("row: %q", l)
	}
}

func TestHelp(t *testing.T) {
	m, _ := newTestModel()
	keys(m, R('?'))
	lines := m.Render()
	if !strings.HasPrefix(lines[2].Text(), "Table") {
		t.Fatalf("help: %q", lines[2].Text())
	}
	keys(m, R('x'))
	if m.Mode != ModeTable {
		t.Fatalf("any key closes help")
	}
}

func TestLogView(t *testing.T) {
	m, _ := newTestModel()
	m.SetProcs(sample(), true)
	eff := keys(m, R('l'))
	if len(eff) != 1 || eff[0] != (OpenLog{Name: "db", Channel: "stdout"}) {
		t.Fatalf("l: %#v", eff)
	}
	m.Log.Append("one\ntwo\nthree ERROR x\nfour")
	lines := m.Render()
	if !strings.HasPrefix(lines[2].Text(), "db stdout · following") || lines[6].Text()[:4] != "four" {
		t.Fatalf("log screen: %q %q", lines[2].Text(), lines[6].Text())
	}
	m.Log.Append(" more\nfive\n")
	if got := m.Log.all(); !slices.Equal(got, []string{"one", "two", "three ERROR x", "four more", "five"}) {
		t.Fatalf("lines: %q", got)
	}
	keys(m, R(' '))
	if m.Log.Follow {
		t.Fatalf("space pauses")
	}
	m.Log.Append("six\n")
	if w, _ := m.Log.window(3); w[len(w)-1] != "five" {
		t.Fatalf("paused window moved: %q", w)
	}
	keys(m, R('f'))
	if w, _ := m.Log.window(3); w[len(w)-1] != "six" {
		t.Fatalf("follow again: %q", w)
	}
	keys(m, append(append([]Key{R('/')}, typed("error")...), Key{Code: KeyEnter})...)
	if m.Log.match != 2 || m.Log.Follow {
		t.Fatalf("search: match %d follow %v", m.Log.match, m.Log.Follow)
	}
	found := false
	for _, l := range m.Render() {
		if strings.HasPrefix(l.Text(), "three ERROR x") && l[0].Style == StMatch {
			found = true
		}
	}
	if !found {
		t.Errorf("match not marked")
	}
	eff = keys(m, Key{Code: KeyTab})
	if eff[0] != (OpenLog{Name: "db", Channel: "stderr"}) || m.Log.Channel != "stderr" || len(m.Log.all()) != 0 {
		t.Fatalf("tab: %#v", eff)
	}
	eff = keys(m, R('q'))
	if eff[0] != (CloseLog{}) || m.Mode != ModeTable || m.Log != nil {
		t.Fatalf("q closes the log: %#v", eff)
	}
}

func TestTailStep(t *testing.T) {
	off, m, ok := tailStep(-1, []any{"abc\n", int64(4), false})
	if !ok || off != 4 || m.text != "abc\n" || !m.reset {
		t.Fatalf("first: %v %+v", off, m)
	}
	// the original returns the last bytes up to the size: only the new part counts
	off, m, _ = tailStep(4, []any{"abc\ndef\n", int64(8), false})
	if off != 8 || m.text != "def\n" || m.reset {
		t.Fatalf("more: %v %+v", off, m)
	}
	off, m, _ = tailStep(8, []any{"", int64(8), false})
	if off != 8 || m.text != "" {
		t.Fatalf("nothing: %+v", m)
	}
	off, m, _ = tailStep(8, []any{"x\n", int64(2), false})
	if off != 2 || !m.reset || m.text != "x\n" {
		t.Fatalf("cleared: %+v", m)
	}
	_, m, _ = tailStep(2, []any{"zz", int64(100000), true})
	if !m.gap || m.text != "zz" {
		t.Fatalf("overflow: %+v", m)
	}
}

func TestDecodeEvent(t *testing.T) {
	msg, err := decodeEvent("sync", []byte(`{"supervisor":{"statename":"RUNNING"},"processes":[{"namespec":"p:a","name":"a","group":"p","state":20,"statename":"RUNNING","pid":5,"start":10,"spawns":3,"cpu":1.5,"rss":2048,"recent_restarts":2}]}`), true)
	if err != nil {
		t.Fatal(err)
	}
	mp := msg.(msgProcs)
	p := mp.procs[0]
	if !mp.full || mp.state != "RUNNING" || p.Namespec() != "p:a" || p.Spawns != 3 || !p.HasCPU || p.RSS != 2048 || p.Recent != 2 {
		t.Fatalf("%+v", mp)
	}
	msg, _ = decodeEvent("stats", []byte(`{"p:a":{"cpu":0.4,"rss":5341184}}`), true)
	if u := msg.(msgUsage); u["p:a"].RSS != 5341184 {
		t.Fatalf("%+v", u)
	}
}
