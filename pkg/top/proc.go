// Package top is `supervisorctl top`: a full-screen live table of a
// supervisord's processes with actions and a log tail. The model (this
// file, model.go, restarts.go, render.go) is pure: it takes data and keys
// and gives back lines to draw and effects to run, so that it is tested
// without a terminal; tui.go draws it with tcell, source.go feeds it from
// our daemon's event stream or by polling the original's getAllProcessInfo.
package top

import (
	"fmt"
	"strings"
	"time"
)

// The original's process state codes.
const (
	StateStopped  = 0
	StateStarting = 10
	StateRunning  = 20
	StateBackoff  = 30
	StateStopping = 40
	StateExited   = 100
	StateFatal    = 200
	StateUnknown  = 1000
)

// StateNames are the original's state names in the web console's order
// (the order of the state sort and of the state filter).
var StateNames = []string{"RUNNING", "STARTING", "BACKOFF", "STOPPING", "STOPPED", "EXITED", "FATAL", "UNKNOWN"}

func stateRank(name string) int {
	for i, n := range StateNames {
		if n == name {
			return i
		}
	}
	return len(StateNames)
}

// Proc is one process as a source reports it: getProcessInfo's members,
// plus what our daemon adds (CPU, RSS, spawns, recent restarts).
type Proc struct {
	Name, Group string
	State       int
	Statename   string
	PID         int
	Start, Stop int64 // Unix seconds, 0: never
	Now         int64 // the daemon's clock when it answered
	Description string
	Spawnerr    string
	Exitstatus  int

	HasCPU bool
	CPU    float64 // percent of one CPU
	HasRSS bool
	RSS    int64 // bytes

	Spawns int // spawns since the daemon started; -1: not known (the original)
	// Recent is the daemon's count of automatic restarts in the last ten
	// minutes; -1 when the daemon does not count them.
	Recent int
}

// Namespec is name, or group:name when they differ (the original's rule).
func (p *Proc) Namespec() string {
	if p.Name == p.Group {
		return p.Name
	}
	return p.Group + ":" + p.Name
}

// Usage is a CPU/RSS reading of one process.
type Usage struct {
	CPU float64
	RSS int64
}

// fmtUptime is the console's uptime: HH:MM:SS, or Nd HH:MM past a day.
func fmtUptime(sec int64) string {
	if sec < 0 {
		sec = 0
	}
	d, h, m, s := sec/86400, sec/3600%24, sec/60%60, sec%60
	if d > 0 {
		return fmt.Sprintf("%dd %02d:%02d", d, h, m)
	}
	return fmt.Sprintf("%02d:%02d:%02d", h, m, s)
}

// fmtBytes is the console's size: B, KB, MB, GB, TB (powers of 1024).
func fmtBytes(n int64) string {
	units := []string{"B", "KB", "MB", "GB", "TB"}
	v := float64(n)
	i := 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	switch {
	case i == 0:
		return fmt.Sprintf("%.0f %s", v, units[i])
	case v < 10:
		return fmt.Sprintf("%.1f %s", v, units[i])
	default:
		return fmt.Sprintf("%.0f %s", v, units[i])
	}
}

// pyUptime is str(datetime.timedelta(seconds=sec)) as the original's
// description shows it: H:MM:SS, "N day(s), H:MM:SS" past a day.
func pyUptime(sec int64) string {
	if sec < 0 {
		sec = 0
	}
	d, rest := sec/86400, sec%86400
	hms := fmt.Sprintf("%d:%02d:%02d", rest/3600, rest/60%60, rest%60)
	switch d {
	case 0:
		return hms
	case 1:
		return "1 day, " + hms
	default:
		return fmt.Sprintf("%d days, %s", d, hms)
	}
}

// liveDescription refreshes a RUNNING process's "pid N, uptime H:MM:SS" to
// now (the daemon's clock), so that it ticks as getProcessInfo's would.
func liveDescription(p *Proc, now int64) string {
	prefix := fmt.Sprintf("pid %d, uptime ", p.PID)
	if p.State == StateRunning && p.Start > 0 && strings.HasPrefix(p.Description, prefix) {
		return prefix + pyUptime(now-p.Start)
	}
	return p.Description
}

// clock lets tests set the time.
type clock func() time.Time
