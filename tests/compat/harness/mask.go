package harness

import (
	"regexp"
	"strings"
)

// Masker hides what legitimately differs between two runs of the same
// scenario: the temp directory, pids, times, uptimes, random log suffixes.
type Masker struct {
	Dirs []string // replaced by <DIR>, longest first
}

var (
	reAuto    = regexp.MustCompile(`(---[^/\s'"]*-)[a-z0-9_]{8}\.log`)
	rePid     = regexp.MustCompile(`pid \d+`)
	reUptime  = regexp.MustCompile(`uptime (\d+ days?, )?\d+:\d\d:\d\d`)
	reDate    = regexp.MustCompile(`[A-Z][a-z]{2} \d\d \d\d:\d\d [AP]M`)
	reLogTime = regexp.MustCompile(`\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}`)
	reWithPid = regexp.MustCompile(`with pid \d+|\(PID \d+\)|pid:\d+`)
	reDigits  = regexp.MustCompile(`\d+`)
)

// Text masks a string (program output, log text, a description).
func (m Masker) Text(s string) string {
	for _, d := range m.Dirs {
		if d != "" {
			s = strings.ReplaceAll(s, d, "<DIR>")
		}
	}
	s = reAuto.ReplaceAllString(s, "${1}<RAND>.log")
	s = reWithPid.ReplaceAllStringFunc(s, func(x string) string {
		return reDigits.ReplaceAllString(x, "<PID>")
	})
	s = rePid.ReplaceAllString(s, "pid <PID>")
	s = reUptime.ReplaceAllString(s, "uptime <UP>")
	s = reDate.ReplaceAllString(s, "<DATE>")
	s = reLogTime.ReplaceAllString(s, "<TIME>")
	return s
}

// timeKeys are process-info fields holding pids and epoch seconds: only
// "zero or not" is compared.
var timeKeys = map[string]bool{"pid": true, "start": true, "stop": true, "now": true}

// Value masks a decoded XML-RPC value recursively.
func (m Masker) Value(v any) any {
	switch x := v.(type) {
	case string:
		return m.Text(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = m.Value(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			if n, ok := e.(int64); ok && timeKeys[k] {
				if n != 0 {
					out[k] = "<nonzero>"
				} else {
					out[k] = int64(0)
				}
				continue
			}
			out[k] = m.Value(e)
		}
		return out
	}
	return v
}
