package config

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
)

var (
	supervisordKeys = []string{"minfds", "minprocs", "directory", "user", "umask", "logfile",
		"logfile_maxbytes", "logfile_backups", "loglevel", "pidfile", "identifier", "nodaemon",
		"silent", "childlogdir", "nocleanup", "strip_ansi", "environment", "environment_file", "logformat", "history"}
	programKeys = []string{"command", "process_name", "numprocs", "numprocs_start", "priority",
		"autostart", "startsecs", "startretries", "autorestart", "exitcodes", "stopsignal",
		"stopwaitsecs", "stopasgroup", "killasgroup", "user", "redirect_stderr", "environment",
		"directory", "umask", "serverurl",
		"stdout_logfile", "stdout_logfile_maxbytes", "stdout_logfile_backups", "stdout_capture_maxbytes",
		"stdout_events_enabled", "stdout_syslog",
		"stderr_logfile", "stderr_logfile_maxbytes", "stderr_logfile_backups", "stderr_capture_maxbytes",
		"stderr_events_enabled", "stderr_syslog"}
	sectionKeys = map[string][]string{
		"supervisord":      supervisordKeys,
		"program":          slices.Concat(programKeys, processExtKeys, healthKeys, processLogKeys),
		"eventlistener":    slices.Concat(programKeys, []string{"events", "buffer_size", "result_handler"}, processExtKeys, processLogKeys),
		"fcgi-program":     slices.Concat(programKeys, []string{"socket", "socket_backlog", "socket_owner", "socket_mode"}, processExtKeys, healthKeys, processLogKeys),
		"group":            slices.Concat([]string{"programs", "priority"}, groupExtKeys),
		"include":          {"files"},
		"unix_http_server": slices.Concat([]string{"file", "chmod", "chown", "username", "password", "probes_public", "metrics_public"}, unixSecurityKeys),
		"inet_http_server": slices.Concat([]string{"port", "username", "password", "probes_public", "metrics_public"}, inetSecurityKeys),
		"supervisorctl":    slices.Concat([]string{"serverurl", "username", "password", "prompt", "history_file"}, ctlTLSKeys),
		"user":             userKeys,
		"remote":           remoteKeys,
	}
)

// sectionKind maps a section name to the key list that applies to it;
// ok=false for sections the original ignores altogether.
func sectionKind(sec string) (kind string, ok bool) {
	switch {
	case sec == "supervisord", sec == "include", sec == "supervisorctl":
		return sec, true
	case strings.HasPrefix(sec, "unix_http_server"):
		return "unix_http_server", true
	case strings.HasPrefix(sec, "inet_http_server"):
		return "inet_http_server", true
	case strings.HasPrefix(sec, "rpcinterface:"), strings.HasPrefix(sec, "ctlplugin:"):
		return "", true // any key is a factory argument
	}
	for _, prefix := range []string{"program", "eventlistener", "fcgi-program", "group", "user", "remote"} {
		if strings.HasPrefix(sec, prefix+":") {
			return prefix, true
		}
	}
	return "", false
}

// duplicateSections adds our own warning for each section whose header
// appears more than once, in the main file or across included files. The
// original merges them silently, key by key, the later value winning, and
// so do we: only the warning is ours. Files are named relative to the main
// file's directory (the main file by its name), so that start-up and a
// reread, which loads the main file by its absolute path, say the same.
func (l *loader) duplicateSections() {
	dir := ""
	if abs, err := filepath.Abs(l.configfile); err == nil {
		dir = filepath.Dir(abs)
	}
	for _, sec := range l.p.headerOrder {
		at := l.p.headers[sec]
		if len(at) < 2 {
			continue
		}
		places := make([]string, len(at))
		for i, h := range at {
			places[i] = fmt.Sprintf("%s line %d", displayName(h.file, dir), h.line)
		}
		times := "twice"
		if len(at) > 2 {
			times = fmt.Sprintf("%d times", len(at))
		}
		effect := "later keys win"
		if sec == "include" {
			// Only the main file's [include] is read, before any included file.
			effect = "includes do not nest, only the main file's files= is used"
		}
		l.extra = append(l.extra, fmt.Sprintf("section '%s' appears %s (%s); %s", sec, times, strings.Join(places, ", "), effect))
	}
}

// displayName names file in a warning: relative to dir when inside it,
// else by its absolute path.
func displayName(file, dir string) string {
	abs, err := filepath.Abs(file)
	if err != nil || dir == "" {
		return file
	}
	if rel, err := filepath.Rel(dir, abs); err == nil && rel != ".." && !strings.HasPrefix(rel, "../") {
		return rel
	}
	return abs
}

// unknownKeys adds our own warnings (not the original's): keys and sections
// the original silently ignores, which are nearly always typos.
func (l *loader) unknownKeys() {
	for _, sec := range l.p.sections() {
		where := ""
		if f, ok := l.p.sectionFile[sec]; ok {
			where = fmt.Sprintf(" (file: '%s')", f)
		}
		kind, ok := sectionKind(sec)
		if !ok {
			l.extra = append(l.extra, fmt.Sprintf("Ignored unknown section [%s]%s", sec, where))
			continue
		}
		known := sectionKeys[kind]
		if known == nil {
			continue
		}
		for _, k := range l.p.ownKeys[sec] {
			if !slices.Contains(known, k) {
				l.extra = append(l.extra, fmt.Sprintf("Ignored unknown key '%s' in section [%s]%s", k, sec, where))
			}
		}
	}
}
