package top

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// Column is a sortable column of the table.
type Column int

const (
	ColName Column = iota
	ColState
	ColPID
	ColUptime
	ColCPU
	ColRSS
	ColRestarts
	ColDescription
	numCols
)

var colTitles = [numCols]string{"NAME", "STATE", "PID", "UPTIME", "CPU%", "RSS", "RST", "DESCRIPTION"}

// Mode is what the keys act on.
type Mode int

const (
	ModeTable   Mode = iota
	ModeFilter       // typing the / filter
	ModeSignal       // typing a signal name
	ModeConfirm      // y/N for a destructive action
	ModeHelp         // the key list
	ModeLog          // the log tail
	ModeSearch       // typing a log search
)

// KeyCode names the keys that are not runes.
type KeyCode int

const (
	KeyRune KeyCode = iota
	KeyUp
	KeyDown
	KeyPgUp
	KeyPgDn
	KeyHome
	KeyEnd
	KeyEnter
	KeyEsc
	KeyBackspace
	KeyTab
	KeyCtrlC
	KeyCtrlL
	KeyLeft
	KeyRight
)

// Key is one key press.
type Key struct {
	Code KeyCode
	Rune rune
}

// R is the key of a rune.
func R(r rune) Key { return Key{Code: KeyRune, Rune: r} }

// Effect is something the model asks its runner to do.
type Effect interface{ effect() }

// Quit ends top.
type Quit struct{}

// Action runs one supervisor command on a process or a group.
type Action struct {
	Verb   string // start, stop, restart, signal, clear
	Target string // namespec, or the group's name when Group
	Group  bool
	Signal string
	// Members are the group's namespecs (clear has no group call).
	Members []string
}

// OpenLog starts (or restarts) tailing a log; CloseLog stops it.
type OpenLog struct {
	Name    string
	Channel string // stdout or stderr
}
type CloseLog struct{}

func (Quit) effect()     {}
func (Action) effect()   {}
func (OpenLog) effect()  {}
func (CloseLog) effect() {}

// What describes the action for the status line and the confirmation.
func (a Action) What() string {
	t := a.Target
	if a.Group {
		t = "group " + a.Target
	}
	if a.Verb == "signal" {
		return "signal " + a.Signal + " " + t
	}
	return a.Verb + " " + t
}

// stateFilters are what `f` cycles through: all, the processes that are
// not RUNNING, then each state.
var stateFilters = append([]string{"", "!RUNNING"}, StateNames...)

type row struct {
	Proc
	seenAt time.Time // local time of the last report, for the daemon's clock
	skew   int64     // daemon clock - local clock, seconds
}

// Conn is the connection as the status line shows it.
type Conn struct {
	Up      bool
	Kind    string // "events" or "polling"
	Daemon  string // "gosupervisor 0.2.0" or "supervisor 4.2.5"
	State   string // supervisord's state (RUNNING, RESTARTING, SHUTDOWN)
	Err     string // why it is down
	Retries int
	Counts  bool // the daemon counts recent restarts (recent_restarts)
}

// Model is top's state. Its methods are not safe for concurrent use.
type Model struct {
	W, H int

	procs map[string]*row
	view  []*row // sorted, filtered
	dirty bool   // view needs rebuilding

	Sort   Column
	Desc   bool
	Filter string
	State  int // index into stateFilters

	sel    string // selected namespec, kept across re-sorts
	top    int    // first visible row
	Group  bool   // actions apply to the selected process's group
	Mode   Mode
	prev   Mode // mode to go back to from help
	input  string
	action Action // awaiting confirmation or a signal name

	Msg     string
	MsgErr  bool
	msgTime time.Time

	Conn Conn
	// CountsRestarts is true when the daemon reports recent restarts
	// itself (ours); otherwise they are counted from what is seen.
	CountsRestarts bool
	restarts       *restartTracker

	Log *LogView

	now clock
}

// NewModel returns an empty model of a w×h screen.
func NewModel(w, h int, now func() time.Time) *Model {
	if now == nil {
		now = time.Now
	}
	return &Model{W: w, H: h, procs: map[string]*row{}, restarts: newRestartTracker(), now: now, dirty: true}
}

// Resize sets the screen size.
func (m *Model) Resize(w, h int) { m.W, m.H = w, h }

// SetProcs applies a report: all processes when full (those missing are
// gone), else only those that changed.
func (m *Model) SetProcs(procs []Proc, full bool) {
	now := m.now()
	var keep map[string]*row
	if full {
		keep = map[string]*row{}
	}
	for i := range procs {
		p := procs[i]
		ns := p.Namespec()
		r := m.procs[ns]
		if r == nil {
			r = &row{}
			m.procs[ns] = r
		}
		if !p.HasCPU && r.HasCPU && p.PID == r.PID && p.PID != 0 {
			p.HasCPU, p.CPU, p.HasRSS, p.RSS = r.HasCPU, r.CPU, r.HasRSS, r.RSS
		}
		if p.PID == 0 {
			p.HasCPU, p.HasRSS = false, false
		}
		m.restarts.observe(ns, &p, now)
		r.Proc = p
		r.seenAt = now
		if p.Now != 0 {
			r.skew = p.Now - now.Unix()
		}
		if keep != nil {
			keep[ns] = r
		}
	}
	if keep != nil {
		m.procs = keep
		m.restarts.forget(keep)
	}
	m.dirty = true
}

// SetUsage applies CPU/RSS readings by namespec.
func (m *Model) SetUsage(u map[string]Usage) {
	for ns, v := range u {
		if r := m.procs[ns]; r != nil && r.PID != 0 {
			r.HasCPU, r.CPU, r.HasRSS, r.RSS = true, v.CPU, true, v.RSS
		}
	}
	if m.Sort == ColCPU || m.Sort == ColRSS {
		m.dirty = true
	}
}

// SetConn updates the connection line.
func (m *Model) SetConn(c Conn) {
	if !c.Up && c.Daemon == "" {
		c.Daemon = m.Conn.Daemon
	}
	if c.Up && !m.Conn.Up && m.Conn.Err != "" {
		m.Message("reconnected to "+c.Daemon, false)
	}
	m.Conn = c
	if c.Up {
		m.CountsRestarts = c.Counts
	}
}

// Message shows a status line.
func (m *Model) Message(s string, isErr bool) {
	m.Msg, m.MsgErr, m.msgTime = s, isErr, m.now()
}

// Tick is called every second: ages restarts and messages, re-sorts by
// uptime. It reports whether the screen changed.
func (m *Model) Tick() bool {
	if m.Msg != "" && !m.MsgErr && m.now().Sub(m.msgTime) > 5*time.Second {
		m.Msg = ""
	}
	if m.Sort == ColUptime || m.Sort == ColRestarts {
		m.dirty = true
	}
	return true
}

// Restarts is ns's restarts in the last ten minutes: the daemon's count
// when it keeps one, else those seen.
func (m *Model) Restarts(r *row) int {
	if m.CountsRestarts && r.Recent >= 0 {
		return r.Recent
	}
	return m.restarts.count(r.Namespec(), m.now())
}

func (m *Model) uptime(r *row) int64 {
	if r.PID == 0 || r.Start == 0 {
		return -1
	}
	return m.now().Unix() + r.skew - r.Start
}

func (m *Model) matches(r *row) bool {
	switch sf := stateFilters[m.State]; {
	case sf == "":
	case sf == "!RUNNING":
		if r.Statename == "RUNNING" {
			return false
		}
	case r.Statename != sf:
		return false
	}
	if m.Filter == "" {
		return true
	}
	f := strings.ToLower(m.Filter)
	return strings.Contains(strings.ToLower(r.Namespec()), f) ||
		strings.Contains(strings.ToLower(liveDescription(&r.Proc, m.now().Unix()+r.skew)), f)
}

// sortValue is the number r sorts by in a numeric column.
func (m *Model) sortValue(r *row) float64 {
	switch m.Sort {
	case ColState:
		return float64(stateRank(r.Statename))
	case ColPID:
		return float64(r.PID)
	case ColUptime:
		return float64(m.uptime(r))
	case ColCPU:
		if !r.HasCPU {
			return -1
		}
		return r.CPU
	case ColRSS:
		if !r.HasRSS {
			return -1
		}
		return float64(r.RSS)
	case ColRestarts:
		return float64(m.Restarts(r))
	}
	return 0
}

func byName(a, b *row) int {
	switch {
	case a.Group != b.Group:
		return strings.Compare(a.Group, b.Group)
	default:
		return strings.Compare(a.Name, b.Name)
	}
}

// View is the sorted, filtered list (as namespecs), rebuilt when needed.
func (m *Model) View() []string {
	m.rebuild()
	out := make([]string, len(m.view))
	for i, r := range m.view {
		out[i] = r.Namespec()
	}
	return out
}

func (m *Model) rebuild() {
	if !m.dirty {
		return
	}
	m.dirty = false
	m.view = m.view[:0]
	for _, r := range m.procs {
		if m.matches(r) {
			m.view = append(m.view, r)
		}
	}
	type keyed struct {
		r *row
		v float64
		s string
	}
	ks := make([]keyed, len(m.view))
	for i, r := range m.view {
		ks[i] = keyed{r: r}
		switch m.Sort {
		case ColName:
		case ColDescription:
			ks[i].s = liveDescription(&r.Proc, m.now().Unix()+r.skew)
		default:
			ks[i].v = m.sortValue(r)
		}
	}
	sort.SliceStable(ks, func(i, j int) bool {
		a, b := ks[i], ks[j]
		c := 0
		switch m.Sort {
		case ColName:
			c = byName(a.r, b.r)
		case ColDescription:
			c = strings.Compare(a.s, b.s)
		default:
			if a.v < b.v {
				c = -1
			} else if a.v > b.v {
				c = 1
			}
		}
		if c == 0 { // ties always by name, ascending
			return byName(a.r, b.r) < 0
		}
		if m.Desc {
			return c > 0
		}
		return c < 0
	})
	for i := range ks {
		m.view[i] = ks[i].r
	}
	m.clampSelection()
}

// Selected is the selected row's namespec ("" when the view is empty).
func (m *Model) Selected() string {
	m.rebuild()
	if i := m.selIndex(); i >= 0 {
		return m.view[i].Namespec()
	}
	return ""
}

func (m *Model) selIndex() int {
	for i, r := range m.view {
		if r.Namespec() == m.sel {
			return i
		}
	}
	if len(m.view) > 0 {
		return 0
	}
	return -1
}

func (m *Model) clampSelection() {
	i := m.selIndex()
	if i < 0 {
		m.sel = ""
		return
	}
	m.sel = m.view[i].Namespec()
}

// bodyRows is how many table rows fit: the screen less two header lines,
// the column titles and the footer.
func (m *Model) bodyRows() int { return max(m.H-4, 1) }

func (m *Model) move(d int) {
	m.rebuild()
	if len(m.view) == 0 {
		return
	}
	i := min(max(m.selIndex()+d, 0), len(m.view)-1)
	m.sel = m.view[i].Namespec()
}

// scroll returns the first visible row, keeping the selection in view.
func (m *Model) scroll() int {
	i := m.selIndex()
	n := m.bodyRows()
	if i < m.top {
		m.top = i
	}
	if i >= m.top+n {
		m.top = i - n + 1
	}
	m.top = max(min(m.top, len(m.view)-n), 0)
	return m.top
}

// target is the action target of the selection.
func (m *Model) target(verb string) (Action, bool) {
	ns := m.Selected()
	if ns == "" {
		return Action{}, false
	}
	r := m.procs[ns]
	a := Action{Verb: verb, Target: ns}
	if m.Group {
		a.Target, a.Group = r.Group, true
		for _, o := range m.procs {
			if o.Group == r.Group {
				a.Members = append(a.Members, o.Namespec())
			}
		}
		sort.Strings(a.Members)
	}
	return a, true
}

// HandleKey applies one key and returns what to do.
func (m *Model) HandleKey(k Key) []Effect {
	if k.Code == KeyCtrlC {
		return []Effect{Quit{}}
	}
	switch m.Mode {
	case ModeHelp:
		m.Mode = m.prev
		if k.Code == KeyRune && k.Rune == 'q' && m.prev == ModeTable {
			return []Effect{Quit{}}
		}
		return nil
	case ModeFilter, ModeSignal, ModeSearch:
		return m.typing(k)
	case ModeConfirm:
		m.Mode = ModeTable
		if k.Code == KeyRune && (k.Rune == 'y' || k.Rune == 'Y') {
			m.Message(m.action.What()+" …", false)
			return []Effect{m.action}
		}
		m.Message("cancelled", false)
		return nil
	case ModeLog:
		return m.logKey(k)
	}
	switch k.Code {
	case KeyUp:
		m.move(-1)
	case KeyDown:
		m.move(1)
	case KeyPgUp:
		m.move(-m.bodyRows())
	case KeyPgDn:
		m.move(m.bodyRows())
	case KeyHome:
		m.move(-1 << 30)
	case KeyEnd:
		m.move(1 << 30)
	case KeyEsc:
		if m.Filter != "" || m.State != 0 {
			m.Filter, m.State, m.dirty = "", 0, true
		}
	case KeyLeft:
		m.setSort((m.Sort + numCols - 1) % numCols)
	case KeyRight:
		m.setSort((m.Sort + 1) % numCols)
	case KeyRune:
		return m.tableRune(k.Rune)
	}
	return nil
}

func (m *Model) setSort(c Column) {
	m.Sort, m.Desc, m.dirty = c, c == ColCPU || c == ColRSS || c == ColRestarts, true
}

func (m *Model) tableRune(r rune) []Effect {
	switch r {
	case 'q':
		return []Effect{Quit{}}
	case '?', 'h':
		m.prev, m.Mode = m.Mode, ModeHelp
	case '/':
		m.Mode, m.input = ModeFilter, m.Filter
	case 'f':
		m.State, m.dirty = (m.State+1)%len(stateFilters), true
	case 'F':
		m.State, m.dirty = (m.State+len(stateFilters)-1)%len(stateFilters), true
	case '<':
		m.setSort((m.Sort + numCols - 1) % numCols)
	case '>':
		m.setSort((m.Sort + 1) % numCols)
	case 'i':
		m.Desc, m.dirty = !m.Desc, true
	case '1', '2', '3', '4', '5', '6', '7', '8':
		c := Column(r - '1')
		if c == m.Sort {
			m.Desc = !m.Desc
			m.dirty = true
		} else {
			m.setSort(c)
		}
	case 'g':
		m.Group = !m.Group
	case 'k', 'j':
		if r == 'j' {
			m.move(1)
		} else {
			m.move(-1)
		}
	case 's':
		if a, ok := m.target("start"); ok {
			m.Message(a.What()+" …", false)
			return []Effect{a}
		}
	case 'x', 'r', 'c':
		verb := map[rune]string{'x': "stop", 'r': "restart", 'c': "clear"}[r]
		if a, ok := m.target(verb); ok {
			m.action, m.Mode = a, ModeConfirm
		}
	case 'K':
		if a, ok := m.target("signal"); ok {
			m.action, m.Mode, m.input = a, ModeSignal, ""
		}
	case 'l', 'e':
		if ns := m.Selected(); ns != "" {
			ch := "stdout"
			if r == 'e' {
				ch = "stderr"
			}
			m.Log = newLogView(ns, ch)
			m.Mode = ModeLog
			return []Effect{OpenLog{Name: ns, Channel: ch}}
		}
	}
	return nil
}

// typing edits the line of the filter, signal or search prompt.
func (m *Model) typing(k Key) []Effect {
	switch k.Code {
	case KeyEsc:
		switch m.Mode {
		case ModeFilter:
			m.Filter, m.dirty, m.Mode = "", true, ModeTable
		case ModeSignal:
			m.Mode = ModeTable
			m.Message("cancelled", false)
		case ModeSearch:
			m.Log.Search, m.Mode = "", ModeLog
		}
		return nil
	case KeyEnter:
		switch m.Mode {
		case ModeFilter:
			m.Mode = ModeTable
		case ModeSignal:
			sig := strings.ToUpper(strings.TrimSpace(m.input))
			if sig == "" {
				sig = "TERM"
			}
			m.action.Signal = strings.TrimPrefix(sig, "SIG")
			m.Mode = ModeConfirm
		case ModeSearch:
			m.Log.Search, m.Mode = m.input, ModeLog
			m.Log.findNext(m.logRows(), true)
		}
		return nil
	case KeyBackspace:
		if r := []rune(m.input); len(r) > 0 {
			m.input = string(r[:len(r)-1])
		}
	case KeyRune:
		m.input += string(k.Rune)
	default:
		return nil
	}
	if m.Mode == ModeFilter {
		m.Filter, m.dirty = m.input, true
	}
	return nil
}

// Input is the line being typed at a prompt.
func (m *Model) Input() string { return m.input }

// ActionDone reports an action's outcome.
func (m *Model) ActionDone(a Action, err error) {
	if err != nil {
		m.Message(fmt.Sprintf("%s: %v", a.What(), err), true)
		return
	}
	m.Message(a.What()+": done", false)
}

// Visible lists the namespecs of the table rows on screen (top's polling
// of the original refreshes these every second and the rest less often).
func (m *Model) Visible() []string {
	m.rebuild()
	if len(m.view) == 0 {
		return nil
	}
	top := m.scroll()
	end := min(top+m.bodyRows(), len(m.view))
	out := make([]string, 0, end-top)
	for _, r := range m.view[top:end] {
		out = append(out, r.Namespec())
	}
	return out
}
