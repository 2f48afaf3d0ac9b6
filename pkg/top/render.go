package top

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/mattn/go-runewidth"
)

// Style is a span's look; the terminal layer maps it to colours, or to
// bold/reverse only without colour.
type Style int

const (
	StNormal Style = iota
	StTitle        // the first line
	StHeader       // column titles
	StSelected
	StRunning
	StStarting // STARTING, STOPPING
	StBackoff
	StStopped // STOPPED, EXITED
	StFatal   // FATAL, UNKNOWN
	StDim
	StError // banners: connection lost, failed actions
	StFlap  // a restart count that marks a crash loop
	StMatch // a search match in the log
	StKey   // key names in the footer
)

func stateStyle(name string) Style {
	switch name {
	case "RUNNING":
		return StRunning
	case "STARTING", "STOPPING":
		return StStarting
	case "BACKOFF":
		return StBackoff
	case "STOPPED", "EXITED":
		return StStopped
	default:
		return StFatal
	}
}

// Span is text in one style.
type Span struct {
	Text  string
	Style Style
}

// Line is one screen line.
type Line []Span

// Text is the line without styles.
func (l Line) Text() string {
	var b strings.Builder
	for _, s := range l {
		b.WriteString(s.Text)
	}
	return b.String()
}

// fit cuts or pads s to exactly w cells.
func fit(s string, w int) string {
	if w <= 0 {
		return ""
	}
	sw := runewidth.StringWidth(s)
	if sw <= w {
		return s + strings.Repeat(" ", w-sw)
	}
	return runewidth.Truncate(s, w, "…")
}

func fitRight(s string, w int) string {
	sw := runewidth.StringWidth(s)
	if sw >= w {
		return fit(s, w)
	}
	return strings.Repeat(" ", w-sw) + s
}

// Render draws the whole screen as H lines of at most W cells.
func (m *Model) Render() []Line {
	var lines []Line
	lines = append(lines, m.titleLine(), m.statusLine())
	switch {
	case m.Mode == ModeHelp:
		lines = append(lines, m.helpLines()...)
	case m.Log != nil && (m.Mode == ModeLog || m.Mode == ModeSearch || m.prev == ModeLog && m.Mode == ModeHelp):
		lines = append(lines, m.logLines()...)
	default:
		lines = append(lines, m.tableLines()...)
	}
	for len(lines) < m.H-1 {
		lines = append(lines, Line{{Text: fit("", m.W)}})
	}
	lines = append(lines[:max(m.H-1, 0)], m.footer())
	return lines
}

func (m *Model) titleLine() Line {
	counts := map[string]int{}
	for _, r := range m.procs {
		counts[r.Statename]++
	}
	var b strings.Builder
	b.WriteString("top")
	if m.Conn.Daemon != "" {
		b.WriteString(" · " + m.Conn.Daemon)
	}
	switch {
	case !m.Conn.Up:
		b.WriteString(" · disconnected")
	case m.Conn.Kind != "":
		b.WriteString(" · " + m.Conn.Kind)
	}
	if m.Conn.State != "" && m.Conn.State != "RUNNING" {
		b.WriteString(" · " + m.Conn.State)
	}
	fmt.Fprintf(&b, " · %d procs", len(m.procs))
	for _, n := range StateNames {
		if c := counts[n]; c > 0 {
			fmt.Fprintf(&b, " %s %d", n, c)
		}
	}
	return Line{{Text: fit(b.String(), m.W), Style: StTitle}}
}

func (m *Model) statusLine() Line {
	switch {
	case !m.Conn.Up && m.Conn.Err != "":
		return Line{{Text: fit("connection lost, reconnecting: "+m.Conn.Err, m.W), Style: StError}}
	case !m.Conn.Up:
		return Line{{Text: fit("connecting…", m.W), Style: StError}}
	case m.Msg != "" && m.MsgErr:
		return Line{{Text: fit(m.Msg, m.W), Style: StError}}
	}
	var parts []string
	dir := "↑"
	if m.Desc {
		dir = "↓"
	}
	parts = append(parts, "sort "+strings.ToLower(colTitles[m.Sort])+dir)
	if sf := stateFilters[m.State]; sf != "" {
		parts = append(parts, "state "+strings.Replace(sf, "!", "not ", 1))
	}
	if m.Filter != "" {
		parts = append(parts, "filter "+strconv.Quote(m.Filter))
	}
	if m.Group {
		parts = append(parts, "actions on GROUP")
	}
	m.rebuild()
	parts = append(parts, fmt.Sprintf("%d shown", len(m.view)))
	if m.Msg != "" {
		parts = append(parts, m.Msg)
	}
	return Line{{Text: fit(strings.Join(parts, " · "), m.W), Style: StDim}}
}

// widths lays out the columns for the screen's width: the name column as
// wide as the longest name (8 to 32), the description takes the rest.
func (m *Model) widths() [numCols]int {
	name := 8
	for _, r := range m.view {
		name = max(name, utf8.RuneCountInString(r.Namespec()))
	}
	name = min(name, 32)
	w := [numCols]int{name, 8, 7, 9, 6, 8, 3, 0}
	used := len(w) - 1 // separators
	for _, x := range w {
		used += x
	}
	if rest := m.W - used; rest >= 10 {
		w[ColDescription] = rest
	} else {
		// narrow: give the name what is left and drop the description
		w[ColName] = max(name+rest-1, 6)
		w[ColDescription] = 0
	}
	return w
}

func (m *Model) tableLines() []Line {
	m.rebuild()
	w := m.widths()
	var head strings.Builder
	for c := range numCols {
		if w[c] == 0 {
			continue
		}
		t := colTitles[c]
		if c == m.Sort {
			if m.Desc {
				t += "↓"
			} else {
				t += "↑"
			}
		}
		if c >= ColPID && c <= ColRestarts {
			head.WriteString(fitRight(t, w[c]))
		} else {
			head.WriteString(fit(t, w[c]))
		}
		head.WriteString(" ")
	}
	lines := []Line{{{Text: fit(strings.TrimRight(head.String(), " "), m.W), Style: StHeader}}}
	if len(m.view) == 0 {
		msg := "No programs to manage."
		if len(m.procs) > 0 {
			msg = "No process matches the filter."
		}
		return append(lines, Line{{Text: fit(msg, m.W), Style: StDim}})
	}
	top := m.scroll()
	sel := m.selIndex()
	now := m.now().Unix()
	for i := top; i < len(m.view) && i < top+m.bodyRows(); i++ {
		r := m.view[i]
		up := "–"
		if u := m.uptime(r); u >= 0 {
			up = fmtUptime(u)
		}
		pid, cpu, rss := "–", "–", "–"
		if r.PID != 0 {
			pid = strconv.Itoa(r.PID)
		}
		if r.HasCPU {
			cpu = strconv.FormatFloat(r.CPU, 'f', 1, 64)
		}
		if r.HasRSS {
			rss = fmtBytes(r.RSS)
		}
		n := m.Restarts(r)
		rst := strconv.Itoa(n)
		rstStyle := StNormal
		if n >= FlapMin {
			rstStyle = StFlap
		}
		cells := []Span{
			{fit(r.Namespec(), w[ColName]) + " ", StNormal},
			{fit(r.Statename, w[ColState]) + " ", stateStyle(r.Statename)},
			{fitRight(pid, w[ColPID]) + " ", StNormal},
			{fitRight(up, w[ColUptime]) + " ", StNormal},
			{fitRight(cpu, w[ColCPU]) + " ", StNormal},
			{fitRight(rss, w[ColRSS]) + " ", StNormal},
			{fitRight(rst, w[ColRestarts]) + " ", rstStyle},
		}
		if w[ColDescription] > 0 {
			cells = append(cells, Span{fit(liveDescription(&r.Proc, now+r.skew), w[ColDescription]), StDim})
		}
		line := clip(Line(cells), m.W)
		if used := runewidth.StringWidth(line.Text()); used < m.W {
			line = append(line, Span{strings.Repeat(" ", m.W-used), StNormal})
		}
		if i == sel {
			for j := range line {
				line[j].Style = StSelected
			}
		}
		lines = append(lines, line)
	}
	return lines
}

func (m *Model) logLines() []Line {
	l := m.Log
	state := "following"
	if !l.Follow {
		state = "paused"
	}
	head := fmt.Sprintf("%s %s · %s", l.Name, l.Channel, state)
	if l.Search != "" {
		head += " · search " + strconv.Quote(l.Search)
	}
	if l.Gap {
		head += " · output came faster than it was read: some is not shown"
	}
	lines := []Line{{{Text: fit(head, m.W), Style: StHeader}}}
	if l.Err != "" {
		return append(lines, Line{{Text: fit(l.Err, m.W), Style: StError}})
	}
	n := m.logRows() - 1
	win, first := l.window(n)
	if len(win) == 0 {
		lines = append(lines, Line{{Text: fit("(no output yet)", m.W), Style: StDim}})
	}
	s := strings.ToLower(l.Search)
	for i, text := range win {
		text = strings.ReplaceAll(text, "\t", "    ")
		st := StNormal
		if s != "" && strings.Contains(strings.ToLower(text), s) {
			st = StMatch
			if first+i != l.match {
				st = StNormal
				// other matches: only the matched text is marked
				lines = append(lines, markMatches(text, s, m.W))
				continue
			}
		}
		lines = append(lines, Line{{Text: fit(text, m.W), Style: st}})
	}
	return lines
}

// markMatches styles every occurrence of s (lower case) in text.
func markMatches(text, s string, w int) Line {
	text = fit(text, w)
	low := strings.ToLower(text)
	var out Line
	for {
		i := strings.Index(low, s)
		if i < 0 || len(low) != len(text) {
			return append(out, Span{text, StNormal})
		}
		out = append(out, Span{text[:i], StNormal}, Span{text[i : i+len(s)], StMatch})
		text, low = text[i+len(s):], low[i+len(s):]
	}
}

var helpText = []string{
	"Table",
	"  ↑ ↓ j k PgUp PgDn Home End   select a process",
	"  1-8  sort by that column (again: reverse)   < >  previous/next column   i  reverse",
	"  /    filter by name or description (Enter keeps it, Esc clears)",
	"  f F  state filter: all, not RUNNING, then each state   Esc  clear filters",
	"  g    actions on the selected process's whole group (toggle)",
	"  s    start          x  stop (asks)       r  restart (asks)",
	"  K    send a signal (asks for its name, then confirms)   c  clear its logs (asks)",
	"  l    tail stdout    e  tail stderr       q  quit   Ctrl-C  quit from anywhere",
	"Log tail",
	"  Tab e o  stdout/stderr   Space p f  pause/follow   ↑ ↓ PgUp PgDn Home End  scroll",
	"  /    search (Enter)   n  earlier match   N  later match   Esc  clear search   q l  back",
	"RST is restarts in the last 10 minutes; " + strconv.Itoa(FlapMin) + " or more is a crash loop.",
	"Press any key to go back.",
}

func (m *Model) helpLines() []Line {
	var out []Line
	for _, t := range helpText {
		st := StNormal
		if !strings.HasPrefix(t, " ") {
			st = StHeader
		}
		out = append(out, Line{{Text: fit(t, m.W), Style: st}})
	}
	return out
}

func (m *Model) footer() Line {
	var text string
	st := StKey
	switch m.Mode {
	case ModeFilter:
		text, st = "filter: "+m.input+"▏  (Enter keep · Esc clear)", StNormal
	case ModeSignal:
		text, st = "signal to send to "+m.action.Target+" (Enter: TERM): "+m.input+"▏", StNormal
	case ModeSearch:
		text, st = "search: "+m.input+"▏  (Enter find · Esc cancel)", StNormal
	case ModeConfirm:
		text, st = "Really "+m.action.What()+"? [y/N]", StError
	case ModeHelp:
		text = "any key: back"
	case ModeLog:
		text = "Tab stdout/stderr · Space pause/follow · / search · n N match · q back · ? help"
	default:
		text = "?help /filter f state 1-8 sort s start x stop r restart K signal c clear l log q"
	}
	return Line{{Text: fit(text, m.W), Style: st}}
}

// clip cuts a line to w cells.
func clip(l Line, w int) Line {
	used := 0
	for i, sp := range l {
		sw := runewidth.StringWidth(sp.Text)
		if used+sw > w {
			l[i].Text = runewidth.Truncate(sp.Text, w-used, "")
			return l[:i+1]
		}
		used += sw
	}
	return l
}
