package config

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/gosupervisor/gosupervisor/pkg/shlex"
)

// programReader reads one program-like section. It keeps the first error
// of a run of reads and skips the reads after it, so the error reported is
// the one the original raises first. common is the section's expansion
// namespace; the per-process loop mutates it as the original does, so keys
// read after the first process see process_num and the program's ENV_*.
type programReader struct {
	l      *loader
	sec    string
	common *expansions
	err    error
}

func (r *programReader) get(key, def string) string {
	if r.err != nil {
		return ""
	}
	v, err := r.l.getOr(r.sec, key, def, r.common)
	r.err = err
	return v
}

// parsed reads key (def if absent) and converts it, unless an earlier read failed.
func parsed[T any](r *programReader, key, def string, parse func(string) (T, error)) T {
	var x T
	v := r.get(key, def)
	if r.err == nil {
		x, r.err = parse(v)
	}
	return x
}

// streamSettings are a stream's keys read once per section.
type streamSettings struct {
	captureMaxBytes int64
	eventsEnabled   bool
}

// programSettings are the section's keys that are not a Process field.
type programSettings struct {
	numprocs, numprocsStart int
	numprocsRange           error  // numprocs beyond 64 bits, reported after the original's check
	envRaw                  string // expanded per process
	nameTmpl                string // process_name, expanded per process
	stdout, stderr          streamSettings
}

func (l *loader) processesFromSection(sec, group string, kind GroupKind) ([]*Process, error) {
	program, err := ValidName(suffix(sec))
	if err != nil {
		return nil, err
	}
	common := l.base()
	common.set("program_name", program)
	common.set("host_node_name", l.hostname)
	common.set("group_name", group)
	r := &programReader{l: l, sec: sec, common: common}
	base := Process{Section: sec, Program: program, Group: group, Kind: kind, Umask: -1, UID: -1, Serverurl: "AUTO"}
	if f, ok := l.p.sectionFile[sec]; ok {
		base.File = f
	} else {
		base.File, _ = absPath(l.configfile)
	}
	set, err := r.settings(&base)
	if err != nil {
		return nil, err
	}
	var procs []*Process
	for num := set.numprocsStart; num < set.numprocsStart+set.numprocs; num++ {
		p, err := r.process(base, set, num)
		if err != nil {
			return nil, err
		}
		if err := r.extensions(p, kind, num == set.numprocsStart); err != nil {
			return nil, err
		}
		procs = append(procs, p)
	}
	sort.SliceStable(procs, func(i, j int) bool {
		if procs[i].Priority != procs[j].Priority {
			return procs[i].Priority < procs[j].Priority
		}
		return procs[i].Name < procs[j].Name
	})
	return procs, nil
}

// settings reads the keys common to every process of the section into
// base, in the original's order, and checks them together.
func (r *programReader) settings(base *Process) (*programSettings, error) {
	set := r.scalars(base)
	if r.err != nil {
		return nil, r.err
	}
	if err := r.identity(base); err != nil {
		return nil, err
	}
	nameRaw, ok := r.l.p.get(r.sec, "process_name")
	if !ok {
		nameRaw = "%(program_name)s"
	}
	nameTmpl, err := ValidName(nameRaw)
	if err != nil {
		return nil, err
	}
	if set.numprocs > 1 && !strings.Contains(nameTmpl, "%(process_num)") {
		return nil, fmt.Errorf("%%(process_num) must be present within process_name when numprocs > 1")
	}
	if set.numprocsRange != nil {
		return nil, set.numprocsRange
	}
	if base.Stopasgroup && !base.Killasgroup {
		return nil, fmt.Errorf("Cannot set stopasgroup=true and killasgroup=false")
	}
	set.nameTmpl = nameTmpl
	return set, nil
}

// scalars reads the keys that have a default; a failure is left in r.err.
func (r *programReader) scalars(base *Process) *programSettings {
	set := &programSettings{}
	base.Priority = parsed(r, "priority", "999", ParseInt)
	base.Autostart = parsed(r, "autostart", "true", ParseBool)
	base.Autorestart = parsed(r, "autorestart", "unexpected", parseAutorestart)
	base.Startsecs = parsed(r, "startsecs", "1", ParseInt)
	sr := parsed(r, "startretries", "3", parseStartretries)
	base.Startretries, base.StartretriesUnlimited = sr.n, sr.unlimited
	base.Stopsignal = parsed(r, "stopsignal", "TERM", parseSignal)
	base.Stopwaitsecs = parsed(r, "stopwaitsecs", "10", ParseInt)
	base.Stopasgroup = parsed(r, "stopasgroup", "false", ParseBool)
	r.killasgroup(base)
	base.Exitcodes = parsed(r, "exitcodes", "0", parseExitcodes)
	base.RedirectStderr = parsed(r, "redirect_stderr", "false", ParseBool)
	before := r.err
	set.numprocs = parsed(r, "numprocs", "1", ParseInt)
	if re, ok := overflow(r.err); ok && before == nil {
		// Python takes any size: its "numprocs > 1" check comes first.
		set.numprocsRange, r.err, set.numprocs = re, nil, 0
		if !re.Neg {
			set.numprocs = math.MaxInt
		}
	}
	set.numprocsStart = parsed(r, "numprocs_start", "0", ParseInt)
	set.envRaw, _ = r.l.p.get(r.sec, "environment")
	set.stdout.captureMaxBytes = parsed(r, "stdout_capture_maxbytes", "0", ParseByteSize)
	set.stdout.eventsEnabled = parsed(r, "stdout_events_enabled", "false", ParseBool)
	set.stderr.captureMaxBytes = parsed(r, "stderr_capture_maxbytes", "0", ParseByteSize)
	set.stderr.eventsEnabled = parsed(r, "stderr_events_enabled", "false", ParseBool)
	return set
}

// killasgroup defaults to stopasgroup's value.
func (r *programReader) killasgroup(base *Process) {
	if r.err != nil {
		return
	}
	v, ok, err := r.l.saneget(r.sec, "killasgroup", r.common)
	switch {
	case err != nil:
		r.err = err
	case ok:
		base.Killasgroup, r.err = ParseBool(v)
	default:
		base.Killasgroup = base.Stopasgroup
	}
}

// identity reads the optional serverurl, user and umask.
func (r *programReader) identity(base *Process) error {
	l, sec := r.l, r.sec
	if u, ok, err := l.saneget(sec, "serverurl", r.common); err != nil {
		return err
	} else if ok && strings.ToUpper(pyStrip(u)) != "AUTO" {
		base.Serverurl = u // "" too: the original keeps '', not None
	}
	if u, ok, err := l.saneget(sec, "user", r.common); err != nil {
		return err
	} else if ok {
		if base.UID, err = LookupUID(u); err != nil {
			return err
		}
		base.User = u
	}
	if m, ok, err := l.saneget(sec, "umask", r.common); err != nil {
		return err
	} else if ok {
		if base.Umask, err = ParseOctal(m); err != nil {
			return err
		}
	}
	return nil
}

// process builds process number num from base.
func (r *programReader) process(base Process, set *programSettings, num int) (*Process, error) {
	env, err := r.environment(set, num)
	if err != nil {
		return nil, err
	}
	p := base
	p.Exitcodes = slices.Clone(base.Exitcodes)
	p.Environment = env
	if d, ok, err := r.l.saneget(r.sec, "directory", r.common); err != nil {
		return nil, err
	} else if ok {
		p.Directory, p.DirectoryEmpty = d, d == ""
	}
	if err := r.logConfig(&p.Stdout, "stdout", set.stdout); err != nil {
		return nil, err
	}
	if err := r.logConfig(&p.Stderr, "stderr", set.stderr); err != nil {
		return nil, err
	}
	if p.RedirectStderr {
		r.redirectStderr(&p)
	}
	cmd, ok, err := r.l.saneget(r.sec, "command", r.common)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("program section %s does not specify a command", r.sec)
	}
	p.Command = cmd
	if p.Name, err = expand(set.nameTmpl, r.common, "process_name"); err != nil {
		return nil, err
	}
	return &p, nil
}

// environment sets process num's names in common and expands and parses
// its environment, whose entries become ENV_* names for the keys after it.
func (r *programReader) environment(set *programSettings, num int) ([]shlex.KV, error) {
	r.common.set("process_num", num)
	r.common.set("numprocs", set.numprocs)
	for _, k := range r.l.environ.keys {
		r.common.set(k, r.l.environ.vals[k])
	}
	envStr, err := expand(set.envRaw, r.common, "environment")
	if err != nil {
		return nil, err
	}
	env, err := shlex.ParseEnvironment(envStr)
	if err != nil {
		return nil, err
	}
	for _, kv := range env {
		r.common.set("ENV_"+kv.Key, kv.Value)
	}
	return env, nil
}

// logConfig reads stream name's log keys into lc, with the original's warnings.
func (r *programReader) logConfig(lc *LogConfig, name string, st streamSettings) error {
	lc.CaptureMaxBytes, lc.EventsEnabled = st.captureMaxBytes, st.eventsEnabled
	lfKey := name + "_logfile"
	isSyslog, err := r.logTarget(lc, lfKey)
	if err != nil {
		return err
	}
	if err := r.logRotation(lc, name); err != nil {
		return err
	}
	if isSyslog {
		r.l.warnings = append(r.l.warnings, fmt.Sprintf("For [%s], %s=syslog but this is deprecated and will be removed.  Use %s_syslog=true to enable syslog instead.", r.sec, lfKey, name))
		lc.Syslog = true
	}
	if lc.Auto && lc.MaxBytes == 0 {
		r.l.warnings = append(r.l.warnings, fmt.Sprintf("For [%s], AUTO logging used for %s without rollover, set maxbytes > 0 to avoid filling up filesystem unintentionally", r.sec, lfKey))
	}
	return nil
}

// logTarget reads *_logfile: absent or AUTO, none/off, the deprecated
// syslog (reported, not applied, so the warning keeps its place) or a file.
func (r *programReader) logTarget(lc *LogConfig, lfKey string) (isSyslog bool, err error) {
	lf, ok, err := r.l.saneget(r.sec, lfKey, r.common)
	if err != nil {
		return false, err
	}
	if !ok {
		lc.Auto = true
		return false, nil
	}
	// *_logfile values are expanded a second time.
	if lf, err = expand(lf, r.common, lfKey); err != nil {
		return false, err
	}
	switch strings.ToLower(lf) {
	case "":
		lc.Empty = true // the original's existing_dirpath('') is ''
	case "none", "off":
	case "auto":
		lc.Auto = true
	case "syslog":
		return true, nil
	default:
		if lc.File, err = existingDirpath(lf, r.l.home); err != nil {
			return false, err
		}
	}
	return false, nil
}

// logRotation reads a stream's backups, maxbytes and syslog keys.
func (r *programReader) logRotation(lc *LogConfig, name string) error {
	l, sec := r.l, r.sec
	if b, err := l.getOr(sec, name+"_logfile_backups", "10", r.common); err != nil {
		return err
	} else if lc.Backups, err = ParseInt(b); err != nil {
		return err
	}
	if m, err := l.getOr(sec, name+"_logfile_maxbytes", "50MB", r.common); err != nil {
		return err
	} else if lc.MaxBytes, err = ParseByteSize(m); err != nil {
		return err
	}
	if s, err := l.getOr(sec, name+"_syslog", "false", r.common); err != nil {
		return err
	} else if lc.Syslog, err = ParseBool(s); err != nil {
		return err
	}
	return nil
}

// redirectStderr drops the stderr log of a redirect_stderr program; the
// original warns for anything but AUTO and none, an empty value included.
func (r *programReader) redirectStderr(p *Process) {
	if (p.Stderr.File != "" || p.Stderr.Empty) && !p.Stderr.Auto {
		r.l.warnings = append(r.l.warnings, fmt.Sprintf("For [%s], redirect_stderr=true but stderr_logfile has also been set to a filename, the filename has been ignored", r.sec))
	}
	p.Stderr.File, p.Stderr.Auto, p.Stderr.Empty = "", false, false
}
