package config

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/gosupervisor/gosupervisor/pkg/loglevel"
	"github.com/gosupervisor/gosupervisor/pkg/shlex"
)

// loader holds the state of one Load (the original keeps it on ServerOptions).
type loader struct {
	p          *rawConfig
	configfile string // as given: the original names it this way in messages
	here       string
	hostname   string
	environ    *expansions // ENV_*; grows with [supervisord] environment
	tempdir    string
	home       string // $HOME of Options.Env, for ~ expansion
	warnings   []string
	infos      []string
	extra      []string // our own warnings (unknown keys / sections)
}

func newLoader(path string, opts Options) *loader {
	env := opts.Env
	if env == nil {
		env = os.Environ()
	}
	l := &loader{configfile: path, environ: newExpansions(), hostname: opts.Hostname, tempdir: "/tmp"}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		l.environ.set("ENV_"+k, v)
	}
	// tempfile.gettempdir(): TMPDIR, TEMP, TMP, then /tmp.
	l.home, _ = l.environ.vals["ENV_HOME"].(string)
	for _, name := range []string{"ENV_TMPDIR", "ENV_TEMP", "ENV_TMP"} {
		if v, ok := l.environ.vals[name].(string); ok && v != "" {
			if st, err := os.Stat(v); err == nil && st.IsDir() {
				l.tempdir = normalizePath(v, l.home)
				break
			}
		}
	}
	if l.hostname == "" {
		// platform.node() is uname's nodename, which is what os.Hostname reads on Linux.
		if h, err := os.Hostname(); err == nil {
			l.hostname = h
		}
	}
	if abs, err := filepath.Abs(pyDirname(path)); err == nil {
		l.here = abs
	}
	return l
}

func cfgErr(format string, args ...any) error { return &Error{Msg: fmt.Sprintf(format, args...)} }

// wrap turns a conversion error into a *Error keeping the text.
func wrap(err error) error {
	if err == nil {
		return nil
	}
	var ce *Error
	if errors.As(err, &ce) {
		return err
	}
	return &Error{Msg: err.Error(), Err: err}
}

// readMain opens the main file the way read_config does, but only a
// regular file of at most MaxFileSize bytes (readfile.go).
func readMain(path string) (string, error) {
	if _, err := os.Stat(path); err != nil {
		return "", &Error{Msg: "could not find config file " + path, Err: err}
	}
	b, err := readRegularFile(path)
	if err != nil {
		msg := "could not read config file " + path
		if isFileError(err) {
			msg += ": " + err.Error()
		}
		return "", &Error{Msg: msg, Err: err}
	}
	return string(b), nil
}

// saneget is UnhosedConfigParser.saneget: the raw value (or ok=false when
// absent), %-expanded with the ENV_* names plus extra, named section.key.
func (l *loader) saneget(section, key string, extra *expansions) (string, bool, error) {
	v, ok := l.p.get(section, key)
	if !ok {
		return "", false, nil
	}
	out, err := l.expand(v, extra, section+"."+key)
	return out, true, wrap(err)
}

// expand expands s with the environment and extra. Most values contain no
// '%' at all, and then are what Python's % leaves them; that skips building
// the merged mapping for each of a program's forty-odd keys.
func (l *loader) expand(s string, extra *expansions, name string) (string, error) {
	if !strings.Contains(s, "%") {
		return s, nil
	}
	return expand(s, l.environ.with(extra), name)
}

// getOr is saneget with a string default that is expanded like a value.
func (l *loader) getOr(section, key, def string, extra *expansions) (string, error) {
	v, ok, err := l.saneget(section, key, extra)
	if err != nil || ok {
		return v, err
	}
	out, err := l.expand(def, extra, section+"."+key)
	return out, wrap(err)
}

func (l *loader) base() *expansions {
	e := newExpansions()
	e.set("here", l.here)
	return e
}

// parse reads the main file and the files it includes into a loader.
func parse(path string, opts Options) (*loader, error) {
	l := newLoader(path, opts)
	text, err := readMain(path)
	if err != nil {
		return nil, err
	}
	l.p = newRawConfig()
	if err := l.p.read(text, path); err != nil {
		return nil, &Error{Msg: err.Error(), Err: err}
	}
	if err := l.includes(path); err != nil {
		return nil, err
	}
	return l, nil
}

// Load reads the configuration supervisord would read from path.
func Load(path string, opts Options) (*Config, error) {
	l, err := parse(path, opts)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(l.p.sections(), "supervisord") {
		return nil, cfgErr(".ini file does not include supervisord section")
	}
	c := &Config{}
	c.Path, _ = filepath.Abs(path)
	if err := l.supervisord(&c.Supervisord); err != nil {
		return nil, err
	}
	if c.RPCInterfaces, err = l.rpcInterfaces(); err != nil {
		return nil, err
	}
	if c.Groups, err = l.groups(); err != nil {
		return nil, err
	}
	if err := l.dependencies(c.Groups); err != nil {
		return nil, err
	}
	for _, g := range c.Groups {
		for _, p := range g.Processes {
			own := p.Environment
			p.Environment = mergeEnv(c.Supervisord.Environment, own)
			splitEnvironments(&c.Supervisord, p, own)
		}
	}
	if c.HTTPServers, err = l.servers(); err != nil {
		return nil, err
	}
	for i := range c.HTTPServers {
		s := &c.HTTPServers[i]
		if s.Unix && c.UnixHTTP == nil {
			c.UnixHTTP = s
		}
		if !s.Unix && c.InetHTTP == nil {
			c.InetHTTP = s
		}
	}
	if c.Users, err = l.users(); err != nil {
		return nil, err
	}
	if c.Remotes, err = l.remotes(); err != nil {
		return nil, err
	}
	if l.p.hasSection("supervisorctl") {
		c.Ctl, _ = ctlFromParser(l.p, l.here, l.environ, l.home)
	}
	if err := applyOverrides(&c.Supervisord, opts.Overrides, l.home); err != nil {
		return nil, err
	}
	l.duplicateSections()
	l.unknownKeys()
	for _, w := range l.warnings {
		c.Messages = append(c.Messages, Message{Level: loglevel.Warn, Text: w})
	}
	for _, w := range l.extra {
		c.Messages = append(c.Messages, Message{Level: loglevel.Warn, Text: w, Ours: true})
	}
	for _, i := range l.infos {
		c.Messages = append(c.Messages, Message{Level: loglevel.Info, Text: i})
	}
	return c, nil
}

func mergeEnv(global, own []shlex.KV) []shlex.KV {
	out := append([]shlex.KV(nil), global...)
	for _, kv := range own {
		replaced := false
		for i := range out {
			if out[i].Key == kv.Key {
				out[i].Value, replaced = kv.Value, true
				break
			}
		}
		if !replaced {
			out = append(out, kv)
		}
	}
	return out
}

// includes processes [include] files= of the main file (not recursive).
func (l *loader) includes(mainPath string) error {
	if !l.p.hasSection("include") {
		return nil
	}
	l.p.expandHere(l.here)
	raw, ok := l.p.get("include", "files")
	if !ok {
		return cfgErr(".ini file has [include] section, but no files setting")
	}
	exp := l.base()
	exp.set("host_node_name", l.hostname)
	files, err := expand(raw, exp.with(l.environ), "include.files")
	if err != nil {
		return wrap(err)
	}
	absMain, _ := filepath.Abs(mainPath)
	base := pyDirname(absMain)
	for _, pattern := range strings.FieldsFunc(files, pyIsSpace) {
		if !strings.HasPrefix(pattern, "/") {
			pattern = strings.TrimSuffix(base, "/") + "/" + pattern
		}
		matches := pyGlob(pattern)
		if len(matches) == 0 {
			l.warnings = append(l.warnings, fmt.Sprintf("No file matches via include %q", pattern))
			continue
		}
		sort.Strings(matches)
		for _, name := range matches {
			l.infos = append(l.infos, fmt.Sprintf("Included extra file \"%s\" during parsing", name))
			b, err := readRegularFile(name)
			if isFileError(err) {
				// Not the original's: it reads a FIFO forever and /dev/zero
				// until memory runs out (readfile.go).
				return &Error{Msg: fmt.Sprintf("could not read included file \"%s\": %v", name, err), Err: err}
			}
			if err != nil {
				continue // RawConfigParser.read skips files it cannot open
			}
			before := l.p.sections()
			if err := l.p.read(string(b), name); err != nil {
				return &Error{Msg: err.Error(), Err: err}
			}
			for _, s := range l.p.sections() {
				if !slices.Contains(before, s) {
					l.p.sectionFile[s] = name
				}
			}
			abs, _ := filepath.Abs(pyDirname(name))
			l.p.expandHere(abs)
		}
	}
	return nil
}

// pyGlob is Python's glob.glob for the patterns include uses: '*' and '?'
// skip names starting with '.', '[!x]' negates, results keep the pattern's
// directory text as written.
func pyGlob(pattern string) []string {
	if !hasMagic(pattern) {
		if _, err := os.Lstat(pattern); err == nil {
			return []string{pattern}
		}
		return nil
	}
	dir, file := pyDirname(pattern), pattern[strings.LastIndexByte(pattern, '/')+1:]
	dirs := []string{dir}
	if hasMagic(dir) {
		dirs = pyGlob(dir)
	}
	var out []string
	for _, d := range dirs {
		if file == "" {
			if st, err := os.Stat(d); err == nil && st.IsDir() {
				out = append(out, d+"/")
			}
			continue
		}
		entries, err := os.ReadDir(orDot(d))
		if err != nil {
			continue
		}
		pat := pyPattern(file)
		for _, e := range entries {
			n := e.Name()
			if strings.HasPrefix(n, ".") && !strings.HasPrefix(file, ".") {
				continue
			}
			if ok, _ := path.Match(pat, n); ok {
				if d == "" {
					out = append(out, n)
				} else {
					out = append(out, strings.TrimSuffix(d, "/")+"/"+n)
				}
			}
		}
	}
	return out
}

func orDot(d string) string {
	if d == "" {
		return "."
	}
	return d
}

func hasMagic(s string) bool { return strings.ContainsAny(s, "*?[") }

// pyPattern turns an fnmatch pattern into a path.Match one: "[!" negation
// becomes "[^" and backslashes are literal.
func pyPattern(p string) string {
	p = strings.ReplaceAll(p, `\`, `\\`)
	return strings.ReplaceAll(p, "[!", "[^")
}

func (l *loader) supervisord(s *Supervisord) error {
	const sec = "supervisord"
	get := func(key, def string) (string, error) { return l.getOr(sec, key, def, l.base()) }
	var err error
	str := func(key, def string) string {
		if err != nil {
			return ""
		}
		var v string
		v, err = get(key, def)
		return v
	}
	conv := func(f func() error) {
		if err == nil {
			err = wrap(f())
		}
	}
	v := str("minfds", "1024")
	conv(func() (e error) { s.Minfds, e = ParseInt(v); return })
	v = str("minprocs", "200")
	conv(func() (e error) { s.Minprocs, e = ParseInt(v); return })
	if dir, ok, e := l.saneget(sec, "directory", l.base()); err == nil && (e != nil || ok) {
		err = e
		conv(func() (e error) { s.Directory, e = existingDirectory(dir, l.home); return })
	}
	if u, ok, e := l.saneget(sec, "user", l.base()); err == nil && (e != nil || ok) {
		err = wrap(e)
		s.User = u
	}
	v = str("umask", "022")
	conv(func() (e error) { s.Umask, e = ParseOctal(v); return })
	v = str("logfile", "supervisord.log")
	conv(func() (e error) { s.Logfile, e = existingDirpath(v, l.home); return })
	v = str("logfile_maxbytes", "50MB")
	conv(func() (e error) { s.LogfileMaxbytes, e = ParseByteSize(v); return })
	v = str("logfile_backups", "10")
	conv(func() (e error) { s.LogfileBackups, e = ParseInt(v); return })
	v = str("loglevel", "info")
	conv(func() (e error) { s.Loglevel, e = loglevel.Parse(v); return })
	v = str("pidfile", "supervisord.pid")
	conv(func() (e error) { s.Pidfile, e = existingDirpath(v, l.home); return })
	s.Identifier = str("identifier", "supervisor")
	v = str("nodaemon", "false")
	conv(func() (e error) { s.Nodaemon, e = ParseBool(v); return })
	v = str("silent", "false")
	conv(func() (e error) { s.Silent, e = ParseBool(v); return })
	v = str("childlogdir", l.tempdir)
	conv(func() (e error) { s.Childlogdir, e = existingDirectory(v, l.home); return })
	v = str("nocleanup", "false")
	conv(func() (e error) { s.Nocleanup, e = ParseBool(v); return })
	v = str("strip_ansi", "false")
	conv(func() (e error) { s.StripAnsi, e = ParseBool(v); return })
	v = str("environment", "")
	if err != nil {
		return err
	}
	// The environment is expanded a second time, now with host_node_name.
	exp := l.base()
	exp.set("host_node_name", l.hostname)
	if v, err = expand(v, exp.with(l.environ), "environment"); err != nil {
		return wrap(err)
	}
	if s.Environment, err = shlex.ParseEnvironment(v); err != nil {
		return wrap(err)
	}
	for _, kv := range s.Environment {
		l.environ.set("ENV_"+kv.Key, kv.Value)
	}
	s.UID, s.GID = -1, -1
	if err := l.historyKey(s); err != nil {
		return err
	}
	return l.supervisordExtensions(s)
}

// applyOverrides puts command-line values over the file's, then does what
// the original's realize() does afterwards: resolve user, absolutise paths.
func applyOverrides(s *Supervisord, o *SupervisordOverrides, home string) error {
	if o != nil {
		setIf(&s.Nodaemon, o.Nodaemon)
		setIf(&s.Silent, o.Silent)
		setIf(&s.Nocleanup, o.Nocleanup)
		setIf(&s.StripAnsi, o.StripAnsi)
		setIf(&s.User, o.User)
		setIf(&s.Umask, o.Umask)
		setIf(&s.Directory, o.Directory)
		setIf(&s.Logfile, o.Logfile)
		setIf(&s.LogfileMaxbytes, o.LogfileMaxbytes)
		setIf(&s.LogfileBackups, o.LogfileBackups)
		setIf(&s.Loglevel, o.Loglevel)
		setIf(&s.Pidfile, o.Pidfile)
		setIf(&s.Identifier, o.Identifier)
		setIf(&s.Childlogdir, o.Childlogdir)
		setIf(&s.Minfds, o.Minfds)
		setIf(&s.Minprocs, o.Minprocs)
	}
	if s.User != "" {
		uid, err := LookupUID(s.User)
		if err != nil {
			return wrap(err)
		}
		gid, err := GIDForUID(uid)
		if err != nil {
			return wrap(err)
		}
		s.UID, s.GID = uid, gid
	}
	if s.Logfile != "syslog" {
		s.Logfile = normalizePath(s.Logfile, home)
	}
	s.Pidfile = normalizePath(s.Pidfile, home)
	return nil
}

func setIf[T any](dst *T, src *T) {
	if src != nil {
		*dst = *src
	}
}

func (l *loader) rpcInterfaces() ([]RPCInterface, error) {
	const factoryKey = "supervisor.rpcinterface_factory"
	var out []RPCInterface
	for _, sec := range l.p.sections() {
		if !strings.HasPrefix(sec, "rpcinterface:") {
			continue
		}
		name := sec[len("rpcinterface:"):]
		factory, ok, err := l.saneget(sec, factoryKey, nil)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, cfgErr("section [%s] does not specify a %s", sec, factoryKey)
		}
		// Only the built-in interface exists here; Python plugins cannot be imported.
		if factory != MainRPCInterfaceFactory {
			return nil, cfgErr("%s cannot be resolved within [%s]", factory, sec)
		}
		ri := RPCInterface{Name: name, Factory: factory}
		for _, k := range l.p.options(sec) {
			if k == factoryKey {
				continue
			}
			v, _, err := l.saneget(sec, k, nil)
			if err != nil {
				return nil, err
			}
			ri.Extras = append(ri.Extras, shlex.KV{Key: k, Value: v})
		}
		out = append(out, ri)
	}
	return out, nil
}

func (l *loader) servers() ([]HTTPServer, error) {
	var out []HTTPServer
	sections := l.p.sections()
	for _, sec := range sections {
		if !strings.HasPrefix(sec, "inet_http_server") {
			continue
		}
		s := HTTPServer{Section: sec, Name: suffix(sec)}
		if err := l.auth(sec, &s); err != nil {
			return nil, err
		}
		port, ok, err := l.saneget(sec, "port", nil)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, cfgErr("section [%s] has no port value", sec)
		}
		if s.Host, s.Port, err = parseInetAddress(port); err != nil {
			return nil, wrap(err)
		}
		if err := l.security(sec, &s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	for _, sec := range sections {
		if !strings.HasPrefix(sec, "unix_http_server") {
			continue
		}
		s := HTTPServer{Section: sec, Name: suffix(sec), Unix: true, ChownUID: -1, ChownGID: -1, Chmod: 0o700}
		file, ok, err := l.saneget(sec, "file", l.base())
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, cfgErr("section [%s] has no file value", sec)
		}
		s.File = normalizePath(pyStrip(file), l.home)
		if err := l.auth(sec, &s); err != nil {
			return nil, err
		}
		if chown, ok, err := l.saneget(sec, "chown", nil); err != nil {
			return nil, err
		} else if ok {
			if s.ChownUID, s.ChownGID, err = parseUserGroup(chown); err != nil {
				return nil, cfgErr("Invalid sockchown value %s", chown)
			}
		}
		if chmod, ok, err := l.saneget(sec, "chmod", nil); err != nil {
			return nil, err
		} else if ok {
			if s.Chmod, err = parseSocketMode(chmod); err != nil {
				return nil, cfgErr("Invalid chmod value %s", chmod)
			}
		}
		if err := l.security(sec, &s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

func suffix(sec string) string {
	_, name, _ := strings.Cut(sec, ":")
	return name
}

func (l *loader) auth(sec string, s *HTTPServer) error {
	user, uok, err := l.saneget(sec, "username", nil)
	if err != nil {
		return err
	}
	pass, pok, err := l.saneget(sec, "password", nil)
	if err != nil {
		return err
	}
	if uok != pok {
		return cfgErr("Section [%s] contains incomplete authentication: If a username or a password is specified, both the username and password must be specified", sec)
	}
	s.Username, s.Password, s.HasAuth = user, pass, uok
	if err := l.probesPublic(sec, s); err != nil {
		return err
	}
	return l.metricsPublic(sec, s)
}

// DefaultServerURL is the SUPERVISOR_SERVER_URL children get when their
// program sets no serverurl: the first unix server, else the last inet one
// (host "" → localhost), else "".
func (c *Config) DefaultServerURL() string {
	url := ""
	for _, s := range c.HTTPServers {
		if s.Unix {
			return "unix://" + s.File
		}
	}
	for _, s := range c.HTTPServers {
		host := s.Host
		if host == "" {
			host = "localhost"
		}
		scheme := "http"
		if s.TLS() {
			scheme = "https"
		}
		url = fmt.Sprintf("%s://%s:%d", scheme, host, s.Port)
	}
	return url
}

// LoadCtl reads supervisorctl's view of a config file: [supervisorctl] only,
// no includes (as the original).
func LoadCtl(path string, opts Options) (*Supervisorctl, error) {
	l := newLoader(path, opts)
	l.here = filepath.Dir(normalizePath(path, l.home))
	text, err := readMain(path)
	if err != nil {
		return nil, err
	}
	p := newRawConfig()
	if err := p.read(text, path); err != nil {
		return nil, &Error{Msg: err.Error(), Err: err}
	}
	if !p.hasSection("supervisorctl") {
		return nil, cfgErr(".ini file does not include supervisorctl section")
	}
	return ctlFromParser(p, l.here, l.environ, l.home)
}

func ctlFromParser(p *rawConfig, here string, environ *expansions, home string) (*Supervisorctl, error) {
	l := &loader{p: p, here: here, environ: environ, home: home}
	const sec = "supervisorctl"
	c := &Supervisorctl{}
	var err error
	if c.Serverurl, err = l.getOr(sec, "serverurl", "http://localhost:9001", l.base()); err != nil {
		return nil, err
	}
	if strings.HasPrefix(c.Serverurl, "unix://") {
		c.Serverurl = "unix://" + normalizePath(c.Serverurl[len("unix://"):], l.home)
	}
	if c.Prompt, err = l.getOr(sec, "prompt", "supervisor", nil); err != nil {
		return nil, err
	}
	if c.Username, _, err = l.saneget(sec, "username", nil); err != nil {
		return nil, err
	}
	if c.Password, _, err = l.saneget(sec, "password", nil); err != nil {
		return nil, err
	}
	h, _, err := l.saneget(sec, "history_file", l.base())
	if err != nil {
		return nil, err
	}
	if h != "" {
		c.HistoryFile = normalizePath(h, l.home)
	}
	if err := l.ctlTLS(sec, &c.CtlTLS); err != nil {
		return nil, err
	}
	return c, nil
}

// FindConfig returns the first existing file of the original's search list
// (SPEC §1.1), or its usage error.
func FindConfig(argv0 string) (string, error) {
	here := pyDirname(pyDirname(argv0))
	join := func(parts ...string) string {
		if here == "" {
			return path.Join(parts...)
		}
		return strings.TrimSuffix(here, "/") + "/" + path.Join(parts...)
	}
	paths := []string{
		join("etc", "supervisord.conf"), join("supervisord.conf"),
		"supervisord.conf", "etc/supervisord.conf",
		"/etc/supervisord.conf", "/etc/supervisor/supervisord.conf",
	}
	for _, p := range paths {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", cfgErr("No config file found at default paths (%s); use the -c option to specify a config file at a different path",
		strings.Join(paths, ", "))
}
