package config

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/gosupervisor/gosupervisor/pkg/pyfmt"
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
		if g.DependsOn, err = l.groupDependsOn(sec, name); err != nil {
			return nil, err
		}
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
			for _, p := range procs {
				p.DependsOn = mergeDeps(g.DependsOn, p.DependsOn)
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
	if re, ok := overflow(err); ok && re.Neg {
		return nil, cfgErr("[%s] section sets invalid buffer_size (%s)", sec, pyIntString(re.Value))
	}
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
			if re, ok := overflow(err); ok {
				return nil, cfgErr("Invalid socket_backlog value %s", pyIntString(re.Value))
			}
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
		if mode, err = parseSocketMode(m); err != nil {
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

// groupDependsOn reads [group:x] depends_on (ours), expanded with here,
// ENV_*, group_name and host_node_name; it comes first in the depends_on
// of every process of the group's programs. Its errors name the section.
func (l *loader) groupDependsOn(sec, name string) ([]string, error) {
	exp := l.base()
	exp.set("group_name", name)
	exp.set("host_node_name", l.hostname)
	v, _, err := l.saneget(sec, "depends_on", exp)
	if err == nil {
		var deps []string
		if deps, err = parseDependsOn(v); err == nil {
			return deps, nil
		}
	}
	return nil, l.sectionErr(sec, err.Error())
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
