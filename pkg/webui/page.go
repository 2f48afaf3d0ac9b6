package webui

import (
	"bytes"
	"html/template"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/gosupervisor/gosupervisor/pkg/version"
	"github.com/gosupervisor/gosupervisor/web"
)

// The console's page is rendered on the server with the whole process
// table, so that scripts (curl | grep RUNNING), text browsers and browsers
// without JavaScript see what the original's status page shows, with action
// links that work without JavaScript (index.html?processname=X&action=Y,
// served by pkg/server as the original's views). The script then adopts the
// rows: the markup here is what app.js renders (same elements, classes and
// texts), and the same data goes along as JSON so that the script starts
// from it instead of from an empty table.

// pageTemplate is web/index.html. It is embedded, so a parse error is a
// build bug that every test of the page reports.
var pageTemplate = template.Must(template.ParseFS(web.Assets, "index.html"))

// stateOrder is the console's list of state filters (app.js STATES).
var stateOrder = []string{"RUNNING", "STARTING", "BACKOFF", "STOPPING", "STOPPED", "EXITED", "FATAL", "UNKNOWN"}

// pageData is what index.html renders.
type pageData struct {
	Title   string
	Sup     supervisorJSON
	Version string // the footer: version.String()
	Message string // ?message=, the outcome of a legacy action link
	Chips   []chipView
	Rows    []rowView
	// HasHealth widens the state column for health badges (app.js
	// render): only when some process has a health check.
	HasHealth bool
	Boot      listJSON // the same snapshot for the script
	// Fleet, with [remote:NAME] sections, adds the fleet view's tab.
	Fleet *fleetPage
}

// fleetPage is what the page says of the fleet before its script runs.
type fleetPage struct {
	Local string // this daemon's node name
	Nodes int    // how many nodes, this one included
}

type chipView struct {
	State, Label string
	Count        int
	All          bool
}

// rowView is one process row, its texts formatted as app.js formats them.
type rowView struct {
	NS, Group, Name string
	Grouped         bool // group differs from name: "group:" prefix
	State           string
	StatusClass     string // the original's statusrunning/statuserror/statusnominal
	PID, Uptime     string
	CPU, Mem        string
	Restarts        int
	Desc            string
	DescErr         bool
	NameTitle       string // the namespec, and what it depends on

	// Health is the health badge's status ("" = no check), HealthTitle
	// its tooltip (app.js healthTitle); Waiting marks a process held back
	// by depends_on.
	Health, HealthTitle string
	Waiting             bool

	// Flaps is the restarts of the last ten minutes when they make the
	// process flapping (flapMin or more), else 0 (app.js updateFlap).
	Flaps     int
	FlapTitle string
	// Head, on a group's first row, is the header of its section (groups
	// of processes named apart from the group: app.js sectioned).
	Head *groupHead

	Toggle, ToggleLabel string // start or stop, in one slot as the console
	ToggleHref          string // "" = disabled
	RestartHref         string // "" = disabled
	ClearHref           string
	TailHref, ErrHref   string
	TailPageHref        string
}

func (h *handler) page(w http.ResponseWriter, r *http.Request) {
	procs := h.snapshot()
	sup := withRole(r, h.supervisorInfo())
	d := pageData{
		Title:   sup.Identification + " · supervisor",
		Sup:     sup,
		Version: version.String(),
		Message: r.FormValue("message"),
		Boot:    listJSON{Supervisor: sup, Processes: procs},
		Rows:    make([]rowView, 0, len(procs)),
	}
	if h.opts.Fleet != nil {
		d.Fleet = &fleetPage{Local: h.nodeName, Nodes: 1 + len(h.opts.Fleet.Snapshot())}
	}
	counts := map[string]int{}
	heads := groupHeads(procs)
	for _, p := range procs {
		counts[p.StateName]++
		v := newRowView(p)
		if hd := heads[p.Group]; hd != nil && !hd.drawn {
			v.Head, hd.drawn = hd, true
		}
		d.Rows = append(d.Rows, v)
		d.HasHealth = d.HasHealth || p.Health != nil
	}
	d.Chips = append(d.Chips, chipView{State: "ALL", Label: "All", Count: len(procs), All: true})
	for _, s := range stateOrder {
		d.Chips = append(d.Chips, chipView{State: s, Label: s[:1] + lower(s[1:]), Count: counts[s]})
	}
	var b bytes.Buffer
	if err := pageTemplate.Execute(&b, d); err != nil {
		writeError(w, http.StatusInternalServerError, apiErr{Name: "INTERNAL", Message: "rendering the page: " + err.Error()})
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Cache-Control", "no-cache")
	hd.Set("Content-Length", strconv.Itoa(b.Len()))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(b.Bytes())
	}
}

func newRowView(p procJSON) rowView {
	q := pyQuote(p.Namespec)
	act := func(a string) string { return "index.html?processname=" + q + "&action=" + a }
	v := rowView{
		NS: p.Namespec, Group: p.Group, Name: p.Name, Grouped: p.Group != p.Name,
		State: p.StateName, StatusClass: statusClass(p.StateName),
		PID: "–", Uptime: "–", CPU: "–", Mem: "–",
		Restarts: p.Restarts, Desc: describe(p), NameTitle: nameTitle(p),
		Waiting:      len(p.WaitingFor) > 0,
		DescErr:      p.StateName == "FATAL" || p.StateName == "BACKOFF" || p.SpawnErr != "",
		ClearHref:    act("clearlog"),
		TailHref:     "logtail/" + q,
		ErrHref:      "logtail/" + q + "/stderr",
		TailPageHref: "tail.html?processname=" + q,
	}
	if p.PID != 0 {
		v.PID = strconv.Itoa(p.PID)
		if p.Start != 0 {
			v.Uptime = fmtUptime(p.Uptime)
		}
		if p.CPU != nil {
			v.CPU = toFixed(*p.CPU, 1) + "%"
			v.Mem = fmtBytes(*p.RSS)
		}
	}
	if p.Health != nil {
		v.Health, v.HealthTitle = p.Health.Status, healthTitle(p.Health)
	}
	if p.RecentRestarts >= flapMin {
		v.Flaps, v.FlapTitle = p.RecentRestarts, flapTitle(p.RecentRestarts)
	}
	switch p.StateName {
	case "STOPPED", "EXITED", "FATAL":
		v.Toggle, v.ToggleLabel = "start", "Start"
	default:
		v.Toggle, v.ToggleLabel = "stop", "Stop"
	}
	if p.StateName != "STOPPING" && p.StateName != "UNKNOWN" {
		v.ToggleHref = act(v.Toggle)
	}
	if p.StateName != "STOPPING" {
		v.RestartHref = act("restart")
	}
	return v
}

// describe is app.js describe: the description, which the engine makes
// "waiting for db" while depends_on holds the process back.
func describe(p procJSON) string {
	if len(p.WaitingFor) > 0 && !strings.HasPrefix(p.Description, "waiting for ") {
		return "waiting for " + strings.Join(p.WaitingFor, ", ")
	}
	return p.Description
}

// nameTitle is app.js nameTitle: the namespec, then depends_on.
func nameTitle(p procJSON) string {
	if len(p.DependsOn) == 0 {
		return p.Namespec
	}
	return p.Namespec + "\ndepends on " + strings.Join(p.DependsOn, ", ")
}

// healthTitle is app.js healthTitle: the check, then its last outcome.
func healthTitle(hl *healthJSON) string {
	t := hl.Kind + " check " + hl.Target + "\n"
	switch {
	case hl.LastError != "":
		n := strconv.Itoa(hl.Failures) + " failures"
		if hl.Failures == 1 {
			n = "1 failure"
		}
		t += hl.LastError + " (" + n + ")"
	case hl.LastCheck == 0:
		t += "not checked yet"
	default:
		t += "last check passed"
	}
	return t
}

// statusClass is the class the original's status page gives a state's
// label (web.py css_class_for_state); scripts written against that page
// look for them.
func statusClass(state string) string {
	switch state {
	case "RUNNING":
		return "statusrunning"
	case "FATAL", "BACKOFF":
		return "statuserror"
	}
	return "statusnominal"
}

// fmtUptime is app.js fmtUptime: "01:02:03", or "2d 01:02" past a day.
func fmtUptime(sec int64) string {
	sec = max(sec, 0)
	two := func(n int64) string {
		if n < 10 {
			return "0" + strconv.FormatInt(n, 10)
		}
		return strconv.FormatInt(n, 10)
	}
	d, h, m, s := sec/86400, sec/3600%24, sec/60%60, sec%60
	if d > 0 {
		return strconv.FormatInt(d, 10) + "d " + two(h) + ":" + two(m)
	}
	return two(h) + ":" + two(m) + ":" + two(s)
}

// fmtBytes is app.js fmtBytes: "512 B", "1.5 MB", "12 MB".
func fmtBytes(n int64) string {
	units := []string{"B", "KB", "MB", "GB", "TB"}
	x, i := float64(n), 0
	for x >= 1024 && i < len(units)-1 {
		x /= 1024
		i++
	}
	switch {
	case i == 0:
		return toFixed(x, 0) + " " + units[i]
	case x < 10:
		return toFixed(x, 1) + " " + units[i]
	}
	return toFixed(x, 0) + " " + units[i]
}

// toFixed rounds half up as JavaScript's Number.prototype.toFixed does for
// the figures shown here (strconv rounds half to even).
func toFixed(x float64, digits int) string {
	p := math.Pow(10, float64(digits))
	return strconv.FormatFloat(math.Floor(x*p+0.5)/p, 'f', digits, 64)
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// pyQuote is Python's urllib.parse.quote(s) (safe "/"), which the
// original's status page applies to namespecs in its links.
func pyQuote(s string) string {
	const hexdig = "0123456789ABCDEF"
	var b []byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9',
			c == '_', c == '.', c == '-', c == '~', c == '/':
			b = append(b, c)
		default:
			b = append(b, '%', hexdig[c>>4], hexdig[c&15])
		}
	}
	return string(b)
}

// flapMin is how many restarts in ten minutes make a process flapping
// (app.js FLAP_MIN).
const flapMin = 3

// flapTitle is app.js flapTitle.
func flapTitle(n int) string {
	return "flapping: " + strconv.Itoa(n) + " restarts in the last 10 minutes"
}

// groupHead is the header row of a group's section: its name, how many
// processes it has and how many of them run (app.js renderHead).
type groupHead struct {
	Name           string
	Count, Running int
	drawn          bool
}

// Meta is the header's summary, as app.js headMeta writes it.
func (g *groupHead) Meta() string {
	n := strconv.Itoa(g.Count) + " processes"
	if g.Count == 1 {
		n = "1 process"
	}
	return n + " · " + strconv.Itoa(g.Running) + " running"
}

// groupHeads are the sections of the table: the groups with a process
// named apart from the group ([group:x], numprocs), as app.js sectioned.
func groupHeads(procs []procJSON) map[string]*groupHead {
	out := map[string]*groupHead{}
	for _, p := range procs {
		if p.Name != p.Group && out[p.Group] == nil {
			out[p.Group] = &groupHead{Name: p.Group}
		}
	}
	for _, p := range procs {
		if hd := out[p.Group]; hd != nil {
			hd.Count++
			if p.StateName == "RUNNING" {
				hd.Running++
			}
		}
	}
	return out
}
