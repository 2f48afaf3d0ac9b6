package process

import (
	"fmt"
	"math"
	"time"
)

// Info is getProcessInfo's view of a process (SPEC §5.4). The log-file
// fields are the owner's business and are left empty here.
type Info struct {
	Name, Group   string
	Start, Stop   int64 // whole seconds since the epoch; 0 = never
	Now           int64
	State         State
	StateName     string
	Spawnerr      string
	ExitStatus    int
	Logfile       string // = StdoutLogfile (the original's b/c alias); filled by the owner
	StdoutLogfile string // filled by the owner
	StderrLogfile string // filled by the owner
	Pid           int
	Description   string
	Spawns        int // not in the RPC struct: restart count for the web console
}

// Info returns the process info at time now. The STOPPED/EXITED description
// renders the stop time in now's location (the original uses local time).
func (p *Proc) Info(now time.Time) Info {
	in := Info{
		Name:       p.name,
		Group:      p.group,
		Start:      cappedUnix(p.laststart),
		Stop:       cappedUnix(p.laststop),
		Now:        cappedUnix(now),
		State:      p.state,
		StateName:  p.state.String(),
		Spawnerr:   p.spawnerr,
		ExitStatus: p.exitstatus,
		Pid:        p.pid,
		Spawns:     p.spawns,
	}
	in.Description = describe(in, now.Location())
	return in
}

// cappedUnix is the original's capped_int(time): whole seconds clamped to
// XML-RPC's 32-bit range, 0 for "never".
func cappedUnix(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	s := t.Unix()
	if s > math.MaxInt32 {
		return math.MaxInt32
	}
	if s < math.MinInt32 {
		return math.MinInt32
	}
	return s
}

// describe is the original's _interpretProcessInfo.
func describe(in Info, loc *time.Location) string {
	switch in.State {
	case Running:
		return fmt.Sprintf("pid %d, uptime %s", in.Pid, Timedelta(in.Now-in.Start))
	case Fatal, Backoff:
		if in.Spawnerr != "" {
			return in.Spawnerr
		}
		return fmt.Sprintf("unknown error (try \"tail %s\")", in.Name)
	case Stopped, Exited:
		if in.Start != 0 {
			return time.Unix(in.Stop, 0).In(loc).Format("Jan 02 03:04 PM")
		}
		return "Not started"
	}
	return ""
}

// Timedelta formats whole seconds as Python's str(timedelta): "0:00:25",
// "1 day, 2:03:04", "3 days, 0:00:00". Negative values (clock set back)
// give "0:00:00", as the original clamps them.
func Timedelta(secs int64) string {
	if secs < 0 {
		secs = 0
	}
	days := secs / 86400
	rest := secs % 86400
	hms := fmt.Sprintf("%d:%02d:%02d", rest/3600, rest%3600/60, rest%60)
	switch days {
	case 0:
		return hms
	case 1:
		return "1 day, " + hms
	}
	return fmt.Sprintf("%d days, %s", days, hms)
}
