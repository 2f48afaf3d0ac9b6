package config

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/gosupervisor/gosupervisor/pkg/pyfmt"
	"github.com/gosupervisor/gosupervisor/pkg/shlex"
)

// eventTypes are the names supervisor.events.EventTypes defines.
var eventTypes = []string{
	"EVENT", "PROCESS_COMMUNICATION", "PROCESS_COMMUNICATION_STDERR", "PROCESS_COMMUNICATION_STDOUT",
	"PROCESS_GROUP", "PROCESS_GROUP_ADDED", "PROCESS_GROUP_REMOVED", "PROCESS_LOG", "PROCESS_LOG_STDERR",
	"PROCESS_LOG_STDOUT", "PROCESS_STATE", "PROCESS_STATE_BACKOFF", "PROCESS_STATE_EXITED",
	"PROCESS_STATE_FATAL", "PROCESS_STATE_RUNNING", "PROCESS_STATE_STARTING", "PROCESS_STATE_STOPPED",
	"PROCESS_STATE_STOPPING", "PROCESS_STATE_UNKNOWN", "REMOTE_COMMUNICATION", "SUPERVISOR_STATE_CHANGE",
	"SUPERVISOR_STATE_CHANGE_RUNNING", "SUPERVISOR_STATE_CHANGE_STOPPING", "TICK", "TICK_3600", "TICK_5", "TICK_60",
}

// DefaultResultHandler is the only result_handler available (the original
// imports any Python callable; we cannot).
const DefaultResultHandler = "supervisor.dispatchers:default_handler"

// EventTypeNames lists the event type names accepted in events=.
func EventTypeNames() []string { return slices.Clone(eventTypes) }

// listOfStrings is datatypes.list_of_strings: comma-split and trimmed, "" → none.
func listOfStrings(s string) []string {
	if s == "" {
		return nil
	}
	parts := strings.Split(s, ",")
	for i := range parts {
		parts[i] = pyStrip(parts[i])
	}
	return parts
}

// groups is process_groups_from_parser: [group:] sections first, then
// [program:], [eventlistener:] and [fcgi-program:], then sorted.
func (l *loader) groups() ([]*Group, error) {
	all := l.p.sections()
	var groups []*Group
	var exclude []string
	intKey := func(sec, key, def string) (int, error) {
		v, err := l.getOr(sec, key, def, l.base())
		if err != nil {
			return 0, err
		}
		n, err := ParseInt(v)
		return n, wrap(err)
	}
	for _, sec := range all {
		if !strings.HasPrefix(sec, "group:") {
			continue
		}
		name, err := ValidName(suffix(sec))
		if err != nil {
			return nil, wrap(err)
		}
		programs, _, err := l.saneget(sec, "programs", l.base())
		if err != nil {
			return nil, err
		}
		prio, err := intKey(sec, "priority", "999")
		if err != nil {
			return nil, err
		}
		g := &Group{Name: name, Priority: prio, Kind: ProgramGroup}
		// The original reuses its loop variable: after the first member, its
		// error texts name that member's section instead of [group:x].
		errSec := sec
		for _, prog := range listOfStrings(programs) {
			ps, fs := "program:"+prog, "fcgi-program:"+prog
			hasP, hasF := slices.Contains(all, ps), slices.Contains(all, fs)
			if !hasP && !hasF {
				return nil, cfgErr("[%s] names unknown program or fcgi-program %s", errSec, prog)
			}
			if hasP && hasF {
				return nil, cfgErr("[%s] name %s is ambiguous (exists as program and fcgi-program)", errSec, prog)
			}
			psec := ps
			if !hasP {
				psec = fs
			}
			exclude = append(exclude, psec)
			errSec = psec
			procs, err := l.processes(psec, name, ProgramGroup)
			if err != nil {
				return nil, err
			}
			g.Processes = append(g.Processes, procs...)
		}
		groups = append(groups, g)
	}
	for _, sec := range all {
		if !strings.HasPrefix(sec, "program:") || slices.Contains(exclude, sec) {
			continue
		}
		name, err := ValidName(suffix(sec))
		if err != nil {
			return nil, wrap(err)
		}
		prio, err := intKey(sec, "priority", "999")
		if err != nil {
			return nil, err
		}
		procs, err := l.processes(sec, name, ProgramGroup)
		if err != nil {
			return nil, err
		}
		groups = append(groups, &Group{Name: name, Priority: prio, Kind: ProgramGroup, Processes: procs})
	}
	for _, sec := range all {
		if !strings.HasPrefix(sec, "eventlistener:") {
			continue
		}
		g, err := l.eventListenerPool(sec, intKey)
		if err != nil {
			return nil, err
		}
		groups = append(groups, g)
	}
	for _, sec := range all {
		if !strings.HasPrefix(sec, "fcgi-program:") || slices.Contains(exclude, sec) {
			continue
		}
		g, err := l.fcgiGroup(sec, intKey)
		if err != nil {
			return nil, err
		}
		groups = append(groups, g)
	}
	sort.SliceStable(groups, func(i, j int) bool { return groupLess(groups[i], groups[j]) })
	return groups, nil
}

func groupLess(a, b *Group) bool {
	if a.Priority != b.Priority {
		return a.Priority < b.Priority
	}
	return a.Name < b.Name
}

func (l *loader) eventListenerPool(sec string, intKey func(sec, key, def string) (int, error)) (*Group, error) {
	name := suffix(sec)
	prio, err := intKey(sec, "priority", "-1")
	if err != nil {
		return nil, err
	}
	bufsize, err := intKey(sec, "buffer_size", "10")
	if err != nil {
		return nil, err
	}
	if bufsize < 1 {
		return nil, cfgErr("[%s] section sets invalid buffer_size (%d)", sec, bufsize)
	}
	handler, err := l.getOr(sec, "result_handler", DefaultResultHandler, l.base())
	if err != nil {
		return nil, err
	}
	if handler != DefaultResultHandler {
		return nil, cfgErr("%s cannot be resolved within [%s]", handler, sec)
	}
	evs, _, err := l.saneget(sec, "events", l.base())
	if err != nil {
		return nil, err
	}
	var events []string
	for _, e := range listOfStrings(evs) {
		events = appendUnique(events, strings.ToUpper(e))
	}
	if len(events) == 0 {
		return nil, cfgErr("[%s] section requires an \"events\" line", sec)
	}
	for _, e := range events {
		if !slices.Contains(eventTypes, e) {
			return nil, cfgErr("Unknown event type %s in [%s] events", e, sec)
		}
	}
	rs, err := l.getOr(sec, "redirect_stderr", "false", l.base())
	if err != nil {
		return nil, err
	}
	redirect, err := ParseBool(rs)
	if err != nil {
		return nil, wrap(err)
	}
	if redirect {
		return nil, cfgErr("[%s] section sets redirect_stderr=true but this is not allowed because it will interfere with the eventlistener protocol", sec)
	}
	procs, err := l.processes(sec, name, EventListenerPool)
	if err != nil {
		return nil, err
	}
	return &Group{Name: name, Priority: prio, Kind: EventListenerPool, Processes: procs,
		Events: events, BufferSize: bufsize, ResultHandler: handler}, nil
}

var tcpSocketRE = regexp.MustCompile(`^tcp://([^\s:]+):(\d+)\n?$`)

func (l *loader) fcgiGroup(sec string, intKey func(sec, key, def string) (int, error)) (*Group, error) {
	name, err := ValidName(suffix(sec))
	if err != nil {
		return nil, wrap(err)
	}
	prio, err := intKey(sec, "priority", "999")
	if err != nil {
		return nil, err
	}
	procUID := -1
	if u, ok, err := l.saneget(sec, "user", l.base()); err != nil {
		return nil, err
	} else if ok {
		if procUID, err = LookupUID(u); err != nil {
			return nil, wrap(err)
		}
	}
	backlog := 0
	if b, ok, err := l.saneget(sec, "socket_backlog", l.base()); err != nil {
		return nil, err
	} else if ok {
		if backlog, err = ParseInt(b); err != nil {
			return nil, wrap(err)
		}
		if backlog < 1 || backlog > 65535 {
			return nil, cfgErr("Invalid socket_backlog value %d", backlog)
		}
	}
	ownerUID, ownerGID, hasOwner := -1, -1, false
	if o, ok, err := l.saneget(sec, "socket_owner", l.base()); err != nil {
		return nil, err
	} else if ok {
		if ownerUID, ownerGID, err = parseUserGroup(o); err != nil {
			return nil, cfgErr("Invalid socket_owner value %s", o)
		}
		hasOwner = true
	}
	mode, hasMode := 0o700, false
	if m, ok, err := l.saneget(sec, "socket_mode", l.base()); err != nil {
		return nil, err
	} else if ok {
		if mode, err = ParseOctal(m); err != nil {
			return nil, cfgErr("Invalid socket_mode value %s", m)
		}
		hasMode = true
	}
	exp := l.base()
	exp.set("program_name", name)
	sock, _, err := l.saneget(sec, "socket", exp)
	if err != nil {
		return nil, err
	}
	if sock == "" {
		return nil, cfgErr("[%s] section requires a \"socket\" line", sec)
	}
	// The original raises ValueError(fmt, arg) for two of these, so Python
	// prints the argument tuple.
	sockErr := func(msg string) error { return cfgErr("%s in [%s] socket", msg, sec) }
	s := &FCGISocket{Backlog: backlog, OwnerUID: ownerUID, OwnerGID: ownerGID, Mode: mode}
	switch {
	case strings.HasPrefix(sock, "unix://"):
		p := sock[len("unix://"):]
		if !strings.HasPrefix(p, "/") {
			return nil, sockErr(fmt.Sprintf("(%s, %s)", pyfmt.Repr("Unix socket path %s is not an absolute path"), pyfmt.Repr(p)))
		}
		s.Unix, s.Path = true, normalizePath(p, l.home)
		s.URL = "unix://" + s.Path
		if !hasOwner && procUID >= 0 && procUID != os.Getuid() {
			gid, err := GIDForUID(procUID)
			if err != nil {
				return nil, wrap(err)
			}
			s.OwnerUID, s.OwnerGID = procUID, gid
		}
	case hasOwner || hasMode:
		return nil, sockErr("socket_owner and socket_mode params should only be used with a Unix domain socket")
	default:
		m := tcpSocketRE.FindStringSubmatch(sock)
		if m == nil {
			return nil, sockErr(fmt.Sprintf("(%s, %s)", pyfmt.Repr("Bad socket format %s"), pyfmt.Repr(sock)))
		}
		port, err := portNumber(m[2])
		if err != nil {
			return nil, sockErr(err.Error())
		}
		s.Host, s.Port = strings.ToLower(m[1]), port
		s.URL = fmt.Sprintf("tcp://%s:%d", s.Host, s.Port)
	}
	procs, err := l.processes(sec, name, FCGIGroup)
	if err != nil {
		return nil, err
	}
	return &Group{Name: name, Priority: prio, Kind: FCGIGroup, Processes: procs, Socket: s}, nil
}

// processes is processes_from_section: errors get the section/file suffix.
func (l *loader) processes(sec, group string, kind GroupKind) ([]*Process, error) {
	procs, err := l.processesFromSection(sec, group, kind)
	if err != nil {
		file, ok := l.p.sectionFile[sec]
		if !ok {
			file = l.configfile
		}
		return nil, &Error{Msg: fmt.Sprintf("%s in section %s (file: %s)", err.Error(), pyfmt.Repr(sec), pyfmt.Repr(file)), Err: err}
	}
	return procs, nil
}

func (l *loader) processesFromSection(sec, group string, kind GroupKind) ([]*Process, error) {
	program, err := ValidName(suffix(sec))
	if err != nil {
		return nil, err
	}
	// common is mutated by the per-process loop below, as in the original:
	// keys read after the first process see process_num and the program's ENV_*.
	common := l.base()
	common.set("program_name", program)
	common.set("host_node_name", l.hostname)
	common.set("group_name", group)
	var firstErr error
	get := func(key, def string) string {
		if firstErr != nil {
			return ""
		}
		v, err := l.getOr(sec, key, def, common)
		firstErr = err
		return v
	}
	conv := func(f func() error) {
		if firstErr == nil {
			firstErr = f()
		}
	}
	base := Process{Section: sec, Program: program, Group: group, Kind: kind, Umask: -1, UID: -1, Serverurl: "AUTO"}
	if f, ok := l.p.sectionFile[sec]; ok {
		base.File = f
	} else {
		base.File, _ = absPath(l.configfile)
	}
	var numprocs, numprocsStart int
	var stdoutCap, stderrCap int64
	var stdoutEv, stderrEv bool
	v := get("priority", "999")
	conv(func() (e error) { base.Priority, e = ParseInt(v); return })
	v = get("autostart", "true")
	conv(func() (e error) { base.Autostart, e = ParseBool(v); return })
	v = get("autorestart", "unexpected")
	conv(func() (e error) { base.Autorestart, e = parseAutorestart(v); return })
	v = get("startsecs", "1")
	conv(func() (e error) { base.Startsecs, e = ParseInt(v); return })
	v = get("startretries", "3")
	conv(func() (e error) { base.Startretries, e = ParseInt(v); return })
	v = get("stopsignal", "TERM")
	conv(func() (e error) { base.Stopsignal, e = parseSignal(v); return })
	v = get("stopwaitsecs", "10")
	conv(func() (e error) { base.Stopwaitsecs, e = ParseInt(v); return })
	v = get("stopasgroup", "false")
	conv(func() (e error) { base.Stopasgroup, e = ParseBool(v); return })
	if firstErr == nil {
		if v, ok, err := l.saneget(sec, "killasgroup", common); err != nil {
			firstErr = err
		} else if ok {
			conv(func() (e error) { base.Killasgroup, e = ParseBool(v); return })
		} else {
			base.Killasgroup = base.Stopasgroup
		}
	}
	v = get("exitcodes", "0")
	conv(func() (e error) { base.Exitcodes, e = parseExitcodes(v); return })
	v = get("redirect_stderr", "false")
	conv(func() (e error) { base.RedirectStderr, e = ParseBool(v); return })
	v = get("numprocs", "1")
	conv(func() (e error) { numprocs, e = ParseInt(v); return })
	v = get("numprocs_start", "0")
	conv(func() (e error) { numprocsStart, e = ParseInt(v); return })
	envRaw, _ := l.p.get(sec, "environment")
	v = get("stdout_capture_maxbytes", "0")
	conv(func() (e error) { stdoutCap, e = ParseByteSize(v); return })
	v = get("stdout_events_enabled", "false")
	conv(func() (e error) { stdoutEv, e = ParseBool(v); return })
	v = get("stderr_capture_maxbytes", "0")
	conv(func() (e error) { stderrCap, e = ParseByteSize(v); return })
	v = get("stderr_events_enabled", "false")
	conv(func() (e error) { stderrEv, e = ParseBool(v); return })
	if firstErr != nil {
		return nil, firstErr
	}
	if u, ok, err := l.saneget(sec, "serverurl", common); err != nil {
		return nil, err
	} else if ok && u != "" && strings.ToUpper(pyStrip(u)) != "AUTO" {
		base.Serverurl = u
	}
	if u, ok, err := l.saneget(sec, "user", common); err != nil {
		return nil, err
	} else if ok {
		if base.UID, err = LookupUID(u); err != nil {
			return nil, err
		}
		base.User = u
	}
	if m, ok, err := l.saneget(sec, "umask", common); err != nil {
		return nil, err
	} else if ok {
		if base.Umask, err = ParseOctal(m); err != nil {
			return nil, err
		}
	}
	nameRaw, ok := l.p.get(sec, "process_name")
	if !ok {
		nameRaw = "%(program_name)s"
	}
	nameTmpl, err := ValidName(nameRaw)
	if err != nil {
		return nil, err
	}
	if numprocs > 1 && !strings.Contains(nameTmpl, "%(process_num)") {
		return nil, fmt.Errorf("%%(process_num) must be present within process_name when numprocs > 1")
	}
	if base.Stopasgroup && !base.Killasgroup {
		return nil, fmt.Errorf("Cannot set stopasgroup=true and killasgroup=false")
	}
	var procs []*Process
	for num := numprocsStart; num < numprocsStart+numprocs; num++ {
		common.set("process_num", num)
		common.set("numprocs", numprocs)
		for _, k := range l.environ.keys {
			common.set(k, l.environ.vals[k])
		}
		envStr, err := expand(envRaw, common, "environment")
		if err != nil {
			return nil, err
		}
		env, err := shlex.ParseEnvironment(envStr)
		if err != nil {
			return nil, err
		}
		for _, kv := range env {
			common.set("ENV_"+kv.Key, kv.Value)
		}
		p := base
		p.Exitcodes = slices.Clone(base.Exitcodes)
		p.Environment = env
		if d, ok, err := l.saneget(sec, "directory", common); err != nil {
			return nil, err
		} else if ok {
			p.Directory = d
		}
		for _, ch := range []struct {
			name string
			lc   *LogConfig
			cap  int64
			ev   bool
		}{{"stdout", &p.Stdout, stdoutCap, stdoutEv}, {"stderr", &p.Stderr, stderrCap, stderrEv}} {
			lc := ch.lc
			lc.CaptureMaxBytes, lc.EventsEnabled = ch.cap, ch.ev
			lfKey := ch.name + "_logfile"
			lf, ok, err := l.saneget(sec, lfKey, common)
			if err != nil {
				return nil, err
			}
			isSyslog := false
			if !ok {
				lc.Auto = true
			} else {
				// *_logfile values are expanded a second time.
				if lf, err = expand(lf, common, lfKey); err != nil {
					return nil, err
				}
				switch strings.ToLower(lf) {
				case "none", "off":
				case "auto":
					lc.Auto = true
				case "syslog":
					isSyslog = true
				default:
					if lc.File, err = existingDirpath(lf, l.home); err != nil {
						return nil, err
					}
				}
			}
			if b, err := l.getOr(sec, ch.name+"_logfile_backups", "10", common); err != nil {
				return nil, err
			} else if lc.Backups, err = ParseInt(b); err != nil {
				return nil, err
			}
			if m, err := l.getOr(sec, ch.name+"_logfile_maxbytes", "50MB", common); err != nil {
				return nil, err
			} else if lc.MaxBytes, err = ParseByteSize(m); err != nil {
				return nil, err
			}
			if s, err := l.getOr(sec, ch.name+"_syslog", "false", common); err != nil {
				return nil, err
			} else if lc.Syslog, err = ParseBool(s); err != nil {
				return nil, err
			}
			if isSyslog {
				l.warnings = append(l.warnings, fmt.Sprintf("For [%s], %s=syslog but this is deprecated and will be removed.  Use %s_syslog=true to enable syslog instead.", sec, lfKey, ch.name))
				lc.Syslog = true
			}
			if lc.Auto && lc.MaxBytes == 0 {
				l.warnings = append(l.warnings, fmt.Sprintf("For [%s], AUTO logging used for %s without rollover, set maxbytes > 0 to avoid filling up filesystem unintentionally", sec, lfKey))
			}
		}
		if p.RedirectStderr {
			if p.Stderr.Auto || p.Stderr.File != "" {
				// The original warns only for a real filename (not AUTO, not none).
				if !p.Stderr.Auto {
					l.warnings = append(l.warnings, fmt.Sprintf("For [%s], redirect_stderr=true but stderr_logfile has also been set to a filename, the filename has been ignored", sec))
				}
			}
			p.Stderr.File, p.Stderr.Auto = "", false
		}
		cmd, ok, err := l.saneget(sec, "command", common)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("program section %s does not specify a command", sec)
		}
		p.Command = cmd
		if p.Name, err = expand(nameTmpl, common, "process_name"); err != nil {
			return nil, err
		}
		procs = append(procs, &p)
	}
	sort.SliceStable(procs, func(i, j int) bool {
		if procs[i].Priority != procs[j].Priority {
			return procs[i].Priority < procs[j].Priority
		}
		return procs[i].Name < procs[j].Name
	})
	return procs, nil
}

func absPath(p string) (string, error) {
	if strings.HasPrefix(p, "/") {
		return p, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return p, err
	}
	return strings.TrimSuffix(wd, "/") + "/" + p, nil
}
