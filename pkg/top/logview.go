package top

import (
	"strings"
)

// maxLogLines is how many lines the tail keeps.
const maxLogLines = 5000

// LogView is the log tail's state: the lines received, whether it follows
// new ones, where it is scrolled to and what it searches.
type LogView struct {
	Name    string
	Channel string
	lines   []string
	partial string // the last line, while it has no newline yet
	Follow  bool
	bottom  int // lines hidden below the window when not following
	Search  string
	match   int // line index of the current match, -1 none
	Err     string
	Gap     bool // output was lost between two reads (it came too fast)
}

func newLogView(name, ch string) *LogView {
	return &LogView{Name: name, Channel: ch, Follow: true, match: -1}
}

// Append adds text read from the log.
func (l *LogView) Append(text string) {
	if text == "" {
		return
	}
	text = l.partial + text
	parts := strings.Split(text, "\n")
	l.partial = parts[len(parts)-1]
	added := parts[:len(parts)-1]
	l.lines = append(l.lines, added...)
	if !l.Follow {
		l.bottom += len(added)
	}
	if over := len(l.lines) - maxLogLines; over > 0 {
		l.lines = append(l.lines[:0:0], l.lines[over:]...)
		if l.match >= 0 {
			l.match -= over
		}
	}
}

// Reset drops the lines (the log was cleared, rotated or the channel changed).
func (l *LogView) Reset() {
	l.lines, l.partial, l.bottom, l.match = nil, "", 0, -1
}

// all is the lines with the partial last one.
func (l *LogView) all() []string {
	if l.partial == "" {
		return l.lines
	}
	return append(l.lines[:len(l.lines):len(l.lines)], l.partial)
}

// Lines returns the n lines of the window, last first-to-last.
func (l *LogView) window(n int) (lines []string, first int) {
	all := l.all()
	end := len(all) - l.bottom
	end = max(min(end, len(all)), 0)
	start := max(end-n, 0)
	return all[start:end], start
}

func (l *LogView) scroll(d, n int) {
	all := len(l.all())
	l.bottom = min(max(l.bottom-d, 0), max(all-n, 0))
	l.Follow = l.bottom == 0 && l.Follow
}

// findNext moves to the next (or previous) line containing Search,
// scrolling there and pausing.
func (l *LogView) findNext(n int, forward bool) bool {
	if l.Search == "" {
		return false
	}
	all := l.all()
	s := strings.ToLower(l.Search)
	from := l.match
	if from < 0 {
		from = len(all) - l.bottom // search up from the window's bottom
		forward = false
	}
	for k := 1; k <= len(all); k++ {
		i := from - k
		if forward {
			i = from + k
		}
		if i < 0 || i >= len(all) {
			break
		}
		if strings.Contains(strings.ToLower(all[i]), s) {
			l.match = i
			l.Follow = false
			// put the match in the window's middle
			l.bottom = min(max(len(all)-1-i-n/2, 0), max(len(all)-n, 0))
			return true
		}
	}
	return false
}

// logRows is the number of log lines on the screen.
func (m *Model) logRows() int { return max(m.H-3, 1) }

func (m *Model) logKey(k Key) []Effect {
	l := m.Log
	n := m.logRows()
	switch k.Code {
	case KeyEsc:
		if l.Search != "" {
			l.Search, l.match = "", -1
			return nil
		}
		return m.closeLog()
	case KeyUp:
		l.Follow = false
		l.scroll(-1, n)
	case KeyDown:
		l.scroll(1, n)
	case KeyPgUp:
		l.Follow = false
		l.scroll(-n, n)
	case KeyPgDn:
		l.scroll(n, n)
	case KeyHome:
		l.Follow = false
		l.scroll(-1<<30, n)
	case KeyEnd:
		l.bottom, l.Follow = 0, true
	case KeyTab:
		return m.switchChannel()
	case KeyRune:
		switch k.Rune {
		case 'q', 'l':
			return m.closeLog()
		case 'k':
			l.Follow = false
			l.scroll(-1, n)
		case 'j':
			l.scroll(1, n)
		case 'e', 'o':
			return m.switchChannel()
		case ' ', 'p', 'f':
			l.Follow = !l.Follow
			if l.Follow {
				l.bottom = 0
			}
		case 'G':
			l.bottom, l.Follow = 0, true
		case '/':
			m.Mode, m.input = ModeSearch, l.Search
		case 'n':
			if !l.findNext(n, false) {
				m.Message("no earlier match for "+l.Search, false)
			}
		case 'N':
			if !l.findNext(n, true) {
				m.Message("no later match for "+l.Search, false)
			}
		case '?':
			m.prev, m.Mode = ModeLog, ModeHelp
		}
	}
	return nil
}

func (m *Model) closeLog() []Effect {
	m.Mode, m.Log = ModeTable, nil
	return []Effect{CloseLog{}}
}

func (m *Model) switchChannel() []Effect {
	ch := "stderr"
	if m.Log.Channel == "stderr" {
		ch = "stdout"
	}
	m.Log = newLogView(m.Log.Name, ch)
	return []Effect{OpenLog{Name: m.Log.Name, Channel: ch}}
}
