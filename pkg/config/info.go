package config

import (
	"fmt"
	"io"
	"sort"
	"strings"
)

// ConfigInfo is one entry of supervisor.getAllConfigInfo (SPEC §5.3). Fields
// the original reports as None hold "none" and AUTO log files hold "auto";
// a key given empty is "" as in the original. Callers fill InUse (whether
// the group is active).
type ConfigInfo struct {
	Autostart             bool
	Command               string
	Directory             string // "none" when unset, "" when given empty
	Exitcodes             []int
	Group                 string
	GroupPrio             int
	InUse                 bool
	Killasgroup           bool
	Name                  string
	ProcessPrio           int
	RedirectStderr        bool
	Serverurl             string // "none" for AUTO or unset, "" when given empty
	Startretries          int
	Startsecs             int
	StdoutCaptureMaxbytes int64
	StdoutEventsEnabled   bool
	StdoutLogfile         string // path, "auto", "none", or "" when given empty
	StdoutLogfileBackups  int
	StdoutLogfileMaxbytes int64
	StdoutSyslog          bool
	StderrCaptureMaxbytes int64
	StderrEventsEnabled   bool
	StderrLogfile         string
	StderrLogfileBackups  int
	StderrLogfileMaxbytes int64
	StderrSyslog          bool
	Stopsignal            int
	Stopwaitsecs          int
	UID                   any // int, or "none"
}

func (l LogConfig) infoName() string {
	switch {
	case l.Auto:
		return "auto"
	case l.Empty:
		return ""
	case l.File == "":
		return "none"
	}
	return l.File
}

// ConfigInfo lists every process of the config sorted by process name, as
// getAllConfigInfo does (InUse left false).
func (c *Config) ConfigInfo() []ConfigInfo {
	var out []ConfigInfo
	for _, g := range c.Groups {
		for _, p := range g.Processes {
			ci := ConfigInfo{
				Autostart: p.Autostart, Command: p.Command, Directory: p.Directory,
				Exitcodes: p.Exitcodes, Group: g.Name, GroupPrio: g.Priority,
				Killasgroup: p.Killasgroup, Name: p.Name, ProcessPrio: p.Priority,
				RedirectStderr: p.RedirectStderr, Serverurl: p.Serverurl,
				Startretries: p.Startretries, Startsecs: p.Startsecs,
				StdoutCaptureMaxbytes: p.Stdout.CaptureMaxBytes, StdoutEventsEnabled: p.Stdout.EventsEnabled,
				StdoutLogfile: p.Stdout.infoName(), StdoutLogfileBackups: p.Stdout.Backups,
				StdoutLogfileMaxbytes: p.Stdout.MaxBytes, StdoutSyslog: p.Stdout.Syslog,
				StderrCaptureMaxbytes: p.Stderr.CaptureMaxBytes, StderrEventsEnabled: p.Stderr.EventsEnabled,
				StderrLogfile: p.Stderr.infoName(), StderrLogfileBackups: p.Stderr.Backups,
				StderrLogfileMaxbytes: p.Stderr.MaxBytes, StderrSyslog: p.Stderr.Syslog,
				Stopsignal: int(p.Stopsignal), Stopwaitsecs: p.Stopwaitsecs, UID: p.UID,
			}
			if ci.Directory == "" && !p.DirectoryEmpty {
				ci.Directory = "none"
			}
			if ci.Serverurl == "AUTO" {
				ci.Serverurl = "none"
			}
			if p.UID < 0 {
				ci.UID = "none"
			}
			out = append(out, ci)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Describe writes a human-readable summary of every resolved process, for
// supervisord --check-config. Our keys add lines only to the processes
// that use them.
func (c *Config) Describe(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "config: %s\n", c.Path)
	c.describeSupervisord(&b)
	b.WriteString(c.describeHistory())
	for _, g := range c.Groups {
		kind := map[GroupKind]string{ProgramGroup: "group", EventListenerPool: "eventlistener pool", FCGIGroup: "fcgi group"}[g.Kind]
		fmt.Fprintf(&b, "%s %s (priority %d)\n", kind, g.Name, g.Priority)
		for _, p := range g.Processes {
			dir := p.Directory
			if dir == "" {
				dir = "(inherited)"
			}
			stdout, stderr := describeLog(p.Stdout), describeLog(p.Stderr)
			if p.RedirectStderr {
				stderr = "(redirected to stdout)"
			}
			fmt.Fprintf(&b, "  %s\n", namespec(g.Name, p.Name))
			fmt.Fprintf(&b, "    command:     %s\n", p.Command)
			fmt.Fprintf(&b, "    directory:   %s\n", dir)
			fmt.Fprintf(&b, "    stdout log:  %s\n", stdout)
			fmt.Fprintf(&b, "    stderr log:  %s\n", stderr)
			fmt.Fprintf(&b, "    autostart:   %t\n", p.Autostart)
			fmt.Fprintf(&b, "    autorestart: %s\n", p.Autorestart)
			c.describeExtensions(&b, p)
		}
	}
	for _, m := range c.Messages {
		fmt.Fprintf(&b, "%s %s\n", m.Level, m.Text)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func describeLog(l LogConfig) string {
	s := l.infoName()
	if l.Auto {
		s = "AUTO (in childlogdir)"
	} else if s == "none" || l.Empty {
		s = "NONE"
	}
	if l.Syslog {
		s += " + syslog"
	}
	return s
}

func namespec(group, name string) string {
	if group == name {
		return name
	}
	return group + ":" + name
}

// describeExtensions writes the lines of our keys that p sets.
func (c *Config) describeExtensions(b *strings.Builder, p *Process) {
	if len(p.DependsOn) > 0 {
		deps := make([]string, len(p.DependsOn))
		for i, spec := range p.DependsOn {
			_, kind := ResolveDependency(c.Groups, spec)
			deps[i] = fmt.Sprintf("%s (%s)", spec, kind)
		}
		fmt.Fprintf(b, "    depends on:  %s\n", strings.Join(deps, ", "))
	}
	if h := p.Health; h != nil {
		target := h.Target
		if h.Kind == HealthExec {
			target = quoteArgv(h.Argv)
		}
		fmt.Fprintf(b, "    healthcheck: %s %s (interval %ds, timeout %ds, retries %d, start period %ds, on_unhealthy %s)\n",
			h.Kind, target, h.Interval, h.Timeout, h.Retries, h.StartPeriod, h.OnUnhealthy)
	}
	if p.StartretriesUnlimited {
		fmt.Fprintf(b, "    startretries: %s\n", Unlimited)
	}
	if p.Backoff != BackoffLinear || p.BackoffMax > 0 {
		limit := "no max"
		if p.BackoffMax > 0 {
			limit = fmt.Sprintf("max %ds", p.BackoffMax)
		}
		fmt.Fprintf(b, "    backoff:     %s, %s\n", p.Backoff, limit)
	}
	if p.Critical {
		fmt.Fprintf(b, "    critical:    true\n")
	}
	describeOutput(b, p)
}

// quoteArgv joins argv so that shlex.Split gives it back.
func quoteArgv(argv []string) string {
	out := make([]string, len(argv))
	for i, a := range argv {
		if a != "" && !strings.ContainsAny(a, " \t\r\n'\"\\") {
			out[i] = a
			continue
		}
		out[i] = "'" + strings.ReplaceAll(a, "'", `'"'"'`) + "'"
	}
	return strings.Join(out, " ")
}
