package config

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/gosupervisor/gosupervisor/pkg/loglevel"
	"github.com/gosupervisor/gosupervisor/pkg/shlex"
)

// load writes conf to a temp dir (plus extra files) and loads it.
func load(t *testing.T, conf string, extra map[string]string) (*Config, error) {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{"s.conf": conf}
	for k, v := range extra {
		files[k] = v
	}
	writeTree(t, dir, files)
	return Load(filepath.Join(dir, "s.conf"), Options{Env: testEnv(dir), Hostname: "node1"})
}

func mustLoad(t *testing.T, conf string) *Config {
	t.Helper()
	c, err := load(t, conf, nil)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return c
}

func firstProc(t *testing.T, c *Config) *Process {
	t.Helper()
	if len(c.Groups) == 0 || len(c.Groups[0].Processes) == 0 {
		t.Fatal("no process")
	}
	return c.Groups[0].Processes[0]
}

func TestProgramKeyDefaults(t *testing.T) {
	p := firstProc(t, mustLoad(t, sd+"[program:a]\ncommand=/bin/cat\n"))
	want := Process{Name: "a", Group: "a", Program: "a", Section: "program:a", Command: "/bin/cat",
		Umask: -1, Priority: 999, Autostart: true, Autorestart: AutorestartUnexpected, Startsecs: 1,
		Startretries: 3, Stopwaitsecs: 10, Exitcodes: []int{0}, Stopsignal: syscall.SIGTERM, UID: -1,
		Serverurl: "AUTO",
		Stdout:    LogConfig{Auto: true, MaxBytes: 50 << 20, Backups: 10},
		Stderr:    LogConfig{Auto: true, MaxBytes: 50 << 20, Backups: 10}}
	p.File = ""
	if !p.Equal(&want) || p.Stdout != want.Stdout || p.Stderr != want.Stderr || p.Section != want.Section {
		t.Errorf("defaults:\n got %+v\nwant %+v", *p, want)
	}
}

func TestProgramKeyValues(t *testing.T) {
	tests := []struct {
		key, value string
		check      func(p *Process) bool
	}{
		{"priority", "-3", func(p *Process) bool { return p.Priority == -3 }},
		{"autostart", "NO", func(p *Process) bool { return !p.Autostart }},
		{"autorestart", "true", func(p *Process) bool { return p.Autorestart == AutorestartAlways }},
		{"autorestart", "off", func(p *Process) bool { return p.Autorestart == AutorestartNever }},
		{"startsecs", " 0 ", func(p *Process) bool { return p.Startsecs == 0 }},
		{"startretries", "+7", func(p *Process) bool { return p.Startretries == 7 }},
		{"stopsignal", "usr1", func(p *Process) bool { return p.Stopsignal == syscall.SIGUSR1 }},
		{"stopsignal", "9", func(p *Process) bool { return p.Stopsignal == syscall.SIGKILL }},
		{"stopwaitsecs", "1_000", func(p *Process) bool { return p.Stopwaitsecs == 1000 }},
		{"stopasgroup", "true", func(p *Process) bool { return p.Stopasgroup && p.Killasgroup }},
		{"killasgroup", "yes", func(p *Process) bool { return p.Killasgroup && !p.Stopasgroup }},
		{"exitcodes", "0, 2,255", func(p *Process) bool { return slices.Equal(p.Exitcodes, []int{0, 2, 255}) }},
		{"exitcodes", "", func(p *Process) bool { return len(p.Exitcodes) == 0 }},
		{"redirect_stderr", "1", func(p *Process) bool { return p.RedirectStderr && p.Stderr.File == "" && !p.Stderr.Auto }},
		{"user", "root", func(p *Process) bool { return p.UID == 0 && p.User == "root" }},
		{"user", "0", func(p *Process) bool { return p.UID == 0 }},
		{"umask", "077", func(p *Process) bool { return p.Umask == 0o77 }},
		{"directory", "/nonexistent", func(p *Process) bool { return p.Directory == "/nonexistent" }},
		{"serverurl", "AUTO", func(p *Process) bool { return p.Serverurl == "AUTO" }},
		{"serverurl", "unix:///x", func(p *Process) bool { return p.Serverurl == "unix:///x" }},
		{"stdout_logfile", "NONE", func(p *Process) bool { return p.Stdout.File == "" && !p.Stdout.Auto }},
		{"stdout_logfile", "off", func(p *Process) bool { return p.Stdout.File == "" && !p.Stdout.Auto }},
		{"stdout_logfile", "auto", func(p *Process) bool { return p.Stdout.Auto }},
		{"stdout_logfile", "syslog", func(p *Process) bool { return p.Stdout.Syslog && p.Stdout.File == "" }},
		{"stdout_logfile", "/tmp/x.log", func(p *Process) bool { return p.Stdout.File == "/tmp/x.log" }},
		{"stdout_logfile_maxbytes", "1KB", func(p *Process) bool { return p.Stdout.MaxBytes == 1024 }},
		{"stdout_logfile_maxbytes", "1 MB", func(p *Process) bool { return p.Stdout.MaxBytes == 1<<20 }},
		{"stderr_logfile_maxbytes", "-1", func(p *Process) bool { return p.Stderr.MaxBytes == -1 }},
		{"stderr_logfile_backups", "0", func(p *Process) bool { return p.Stderr.Backups == 0 }},
		{"stdout_capture_maxbytes", "2gb", func(p *Process) bool { return p.Stdout.CaptureMaxBytes == 2<<30 }},
		{"stderr_events_enabled", "on", func(p *Process) bool { return p.Stderr.EventsEnabled }},
		{"stdout_syslog", "true", func(p *Process) bool { return p.Stdout.Syslog }},
		{"environment", `A="x,y",B='z'`, func(p *Process) bool {
			return slices.Equal(p.Environment, []shlex.KV{{Key: "A", Value: "x,y"}, {Key: "B", Value: "z"}})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.key+"="+tt.value, func(t *testing.T) {
			p := firstProc(t, mustLoad(t, sd+"[program:a]\ncommand=/bin/cat\n"+tt.key+"="+tt.value+"\n"))
			if !tt.check(p) {
				t.Errorf("%s=%s gave %+v", tt.key, tt.value, *p)
			}
		})
	}
}

func TestInvalidValues(t *testing.T) {
	tests := []struct{ conf, want string }{
		{"[supervisord]\nnodaemon=maybe\n", "not a valid boolean value: 'maybe'"},
		{"[supervisord]\nminfds=abc\n", "invalid literal for int() with base 10: 'abc'"},
		{"[supervisord]\nlogfile_maxbytes=10XB\n", "invalid literal for int() with base 10: '10xb'"},
		{"[supervisord]\numask=999\n", "999 can not be converted to an octal type"},
		{"[supervisord]\nloglevel=foo\n", "bad logging level name 'foo'"},
		{sd + "[program:a]\ncommand=x\nstopsignal=99\n", "value '99' is not a valid signal number in section 'program:a'"},
		{sd + "[program:a]\ncommand=x\nexitcodes=0,256\n", "not a valid list of exit codes: '0,256' in section"},
		{sd + "[program:a]\ncommand=x\nautorestart=sometimes\n", "invalid 'autorestart' value 'sometimes'"},
		{sd + "[program:a b]\ncommand=x\n", "Invalid name: 'a b' because of character: ' '"},
		{sd + "[inet_http_server]\nport=abc\n", "not a valid port number: 'abc' "},
		{sd + "[inet_http_server]\nport=:\n", "no port number specified in ''"},
		{sd + "[inet_http_server]\nport=0\n", "not a valid port number: '0' "},
		{sd + "[inet_http_server]\nport=*:0\n", "0 is below lower bound (1)"},
		{sd + "[inet_http_server]\nport=65536\n", "not a valid port number: '65536' "},
		{sd + "[inet_http_server]\nport=h:65536\n", "65536 is above upper bound (65535)"},
		{sd + "[eventlistener:e]\ncommand=x\nevents=tick_5,bogus\n", "Unknown event type BOGUS in [eventlistener:e] events"},
	}
	for _, tt := range tests {
		_, err := load(t, tt.conf, nil)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: err = %v, want containing %q", tt.conf, err, tt.want)
		}
	}
}

func TestExpansionScopes(t *testing.T) {
	c := mustLoad(t, `[supervisord]
logfile=%(here)s/s.log
environment=G="%(ENV_RUN_MODE)s-%%(host_node_name)s"
[program:p]
command=run %(program_name)s %(group_name)s %(host_node_name)s %(process_num)d/%(numprocs)d %(ENV_G)s %(ENV_OWN)s
environment=OWN=%(process_num)s,PN=%(program_name)s
process_name=%(program_name)s_%(process_num)s
numprocs=2
numprocs_start=1
directory=%(here)s/%(process_num)s
stdout_logfile=%(here)s/%(ENV_OWN)s.log
`)
	g := c.Groups[0]
	if len(g.Processes) != 2 {
		t.Fatalf("processes: %d", len(g.Processes))
	}
	p := g.Processes[1]
	if p.Name != "p_2" || p.Command != "run p p node1 2/2 production-node1 2" {
		t.Errorf("name %q command %q", p.Name, p.Command)
	}
	if !strings.HasSuffix(p.Directory, "/2") || !strings.HasSuffix(p.Stdout.File, "/2.log") {
		t.Errorf("directory %q stdout %q", p.Directory, p.Stdout.File)
	}
	wantEnv := []shlex.KV{{Key: "G", Value: "production-node1"}, {Key: "OWN", Value: "2"}, {Key: "PN", Value: "p"}}
	if !slices.Equal(p.Environment, wantEnv) {
		t.Errorf("environment %v, want %v", p.Environment, wantEnv)
	}
	for _, tt := range []struct{ conf, want string }{
		{sd + "[program:p]\ncommand=x\nautostart=%(process_num)s\n", "contains names ('process_num')"},
		{sd + "[program:p]\ncommand=x\npriority=%(program_name)s\n", "contains names ('program_name')"},
		{sd + "[unix_http_server]\nfile=%(host_node_name)s\n", "contains names ('host_node_name')"},
		{sd + "[inet_http_server]\nport=%(here)s\n", "contains names ('here')"},
		{sd + "[program:p]\ncommand=x\nstdout_logfile=/tmp/a%%\n", "is badly formatted: incomplete format"},
	} {
		if _, err := load(t, tt.conf, nil); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: err = %v, want %q", tt.conf, err, tt.want)
		}
	}
}

func TestIncludes(t *testing.T) {
	conf := sd + "[include]\nfiles=conf.d/*.conf /abs/none/*.ini\n"
	c, err := load(t, conf, map[string]string{
		"conf.d/b.conf":       "[program:b]\ncommand=%(here)s/b\n[include]\nfiles=../never.conf\n",
		"conf.d/a.conf":       "[program:a]\ncommand=x\nbogus_key=1\n",
		"conf.d/.hidden.conf": "[program:h]\ncommand=x\n",
		"never.conf":          "[program:never]\ncommand=x\n",
	})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, g := range c.Groups {
		names = append(names, g.Name)
	}
	if !slices.Equal(names, []string{"a", "b"}) {
		t.Errorf("groups %v", names)
	}
	dir := filepath.Dir(c.Path)
	if got := c.Groups[1].Processes[0].Command; got != dir+"/conf.d/b" {
		t.Errorf("here in included file: %q", got)
	}
	if f := c.Groups[0].Processes[0].File; f != dir+"/conf.d/a.conf" {
		t.Errorf("File = %q", f)
	}
	want := []Message{
		{loglevel.Warn, `No file matches via include "/abs/none/*.ini"`, false},
		{loglevel.Warn, "section 'include' appears twice (s.conf line 3, conf.d/b.conf line 3); includes do not nest, only the main file's files= is used", true},
		{loglevel.Warn, "Ignored unknown key 'bogus_key' in section [program:a] (file: '" + dir + "/conf.d/a.conf')", true},
		{loglevel.Info, `Included extra file "` + dir + `/conf.d/a.conf" during parsing`, false},
		{loglevel.Info, `Included extra file "` + dir + `/conf.d/b.conf" during parsing`, false},
	}
	if !slices.Equal(c.Messages, want) {
		t.Errorf("messages\n got %v\nwant %v", c.Messages, want)
	}
}

func TestDialect(t *testing.T) {
	c := mustLoad(t, `[DEFAULT]
startsecs = 4
[supervisord]
logfile=%(here)s/s.log
[program:x]
COMMAND = a;b # comment
  continued ;c
Autostart=false
[program:x]
autostart=true
[program:x.v2]
command=y
`)
	p := firstProc(t, c)
	if p.Command != "a;b\ncontinued" || !p.Autostart || p.Startsecs != 4 {
		t.Errorf("got command %q autostart %v startsecs %d", p.Command, p.Autostart, p.Startsecs)
	}
	if c.Groups[1].Processes[0].Startretries != 3 || c.Groups[1].Processes[0].Autostart != true {
		t.Errorf("[program:x.v2] inherited from [program:x]")
	}
}

func TestOverridesAndSupervisord(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"s.conf": "[supervisord]\nlogfile=s.log\nnodaemon=false\nloglevel=warn\n"})
	yes, lvl, umask := true, loglevel.Debug, 0o77
	logfile := filepath.Join(dir, "cli.log")
	c, err := Load(filepath.Join(dir, "s.conf"), Options{Env: testEnv(dir), Overrides: &SupervisordOverrides{
		Nodaemon: &yes, Loglevel: &lvl, Umask: &umask, Logfile: &logfile}})
	if err != nil {
		t.Fatal(err)
	}
	s := c.Supervisord
	if !s.Nodaemon || s.Loglevel != loglevel.Debug || s.Umask != 0o77 || s.Logfile != logfile || s.Identifier != "supervisor" ||
		s.Childlogdir != dir || s.UID != -1 || s.Minfds != 1024 {
		t.Errorf("supervisord %+v", s)
	}
	wd, _ := os.Getwd()
	if s.Pidfile != filepath.Join(wd, "supervisord.pid") {
		t.Errorf("pidfile %q", s.Pidfile)
	}
	bad := "nosuchuser_xyz"
	_, err = Load(filepath.Join(dir, "s.conf"), Options{Env: testEnv(dir), Overrides: &SupervisordOverrides{User: &bad}})
	if err == nil || err.Error() != "Invalid user name nosuchuser_xyz" {
		t.Errorf("bad user override: %v", err)
	}
}

func TestLoadCtl(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"ctl.conf":  "[supervisorctl]\nserverurl=unix://%(here)s/../x/./s.sock\nusername=u\npassword=p\nhistory_file=%(here)s/h\n",
		"bare.conf": "[supervisorctl]\n",
		"none.conf": "[supervisord]\n",
	})
	c, err := LoadCtl(filepath.Join(dir, "ctl.conf"), Options{Env: testEnv(dir)})
	if err != nil {
		t.Fatal(err)
	}
	want := Supervisorctl{Serverurl: "unix://" + filepath.Join(filepath.Dir(dir), "x/s.sock"), Username: "u", Password: "p",
		Prompt: "supervisor", HistoryFile: dir + "/h"}
	if *c != want {
		t.Errorf("got %+v want %+v", *c, want)
	}
	c, err = LoadCtl(filepath.Join(dir, "bare.conf"), Options{Env: testEnv(dir)})
	if err != nil || c.Serverurl != "http://localhost:9001" || c.Prompt != "supervisor" {
		t.Errorf("defaults: %+v %v", c, err)
	}
	if _, err = LoadCtl(filepath.Join(dir, "none.conf"), Options{}); err == nil || err.Error() != ".ini file does not include supervisorctl section" {
		t.Errorf("missing section: %v", err)
	}
	if _, err = LoadCtl(filepath.Join(dir, "nope.conf"), Options{}); err == nil || err.Error() != "could not find config file "+dir+"/nope.conf" {
		t.Errorf("missing file: %v", err)
	}
}

func TestFindConfig(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"etc/supervisord.conf": "[supervisord]\n"})
	got, err := FindConfig(filepath.Join(dir, "bin", "supervisord"))
	if err != nil || got != dir+"/etc/supervisord.conf" {
		t.Errorf("FindConfig = %q, %v", got, err)
	}
	if _, err := os.Stat("/etc/supervisord.conf"); err == nil {
		t.Skip("system config present")
	}
	if _, err := os.Stat("/etc/supervisor/supervisord.conf"); err == nil {
		return
	}
	empty := t.TempDir()
	_, err = FindConfig(filepath.Join(empty, "bin", "supervisord"))
	want := "No config file found at default paths (" + empty + "/etc/supervisord.conf, " + empty +
		"/supervisord.conf, supervisord.conf, etc/supervisord.conf, /etc/supervisord.conf, /etc/supervisor/supervisord.conf); use the -c option to specify a config file at a different path"
	if err == nil || err.Error() != want {
		t.Errorf("err = %v\nwant %s", err, want)
	}
}

func TestDiff(t *testing.T) {
	base := sd + "[program:a]\ncommand=x\n[program:b]\ncommand=y\n[eventlistener:e]\ncommand=z\nevents=TICK_5,TICK_60\n"
	old := mustLoad(t, base).Groups
	tests := []struct {
		conf                    string
		added, changed, removed []string
	}{
		{base, nil, nil, nil},
		{base + "stdout_logfile=/tmp/e.log\n", nil, nil, nil}, // AUTO on one side compares equal
		{base + "stdout_logfile_backups=3\n", nil, []string{"e"}, nil},
		{strings.Replace(base, "TICK_5,TICK_60", "TICK_60,TICK_5", 1), nil, nil, nil},
		{strings.Replace(base, "command=x", "command=x2", 1) + "[program:c]\ncommand=c\n", []string{"c"}, []string{"a"}, nil},
		{sd + "[program:b]\ncommand=y\nstdout_logfile=AUTO\n", nil, nil, []string{"e", "a"}},
		{strings.Replace(base, "[supervisord]\n", "[supervisord]\nenvironment=K=v\n", 1), nil, []string{"e", "a", "b"}, nil},
		// A key given empty is '' to the original, not None: a change.
		{strings.Replace(base, "command=x\n", "command=x\ndirectory=\n", 1), nil, []string{"a"}, nil},
		{strings.Replace(base, "command=x\n", "command=x\nserverurl=\n", 1), nil, []string{"a"}, nil},
		{strings.Replace(base, "command=x\n", "command=x\nserverurl=AUTO\n", 1), nil, nil, nil},
		{strings.Replace(base, "command=x\n", "command=x\nstdout_logfile=\n", 1), nil, nil, nil}, // against AUTO
	}
	for i, tt := range tests {
		added, changed, removed := Diff(old, mustLoad(t, tt.conf).Groups)
		if !slices.Equal(added, tt.added) || !slices.Equal(changed, tt.changed) || !slices.Equal(removed, tt.removed) {
			t.Errorf("case %d: got %v %v %v, want %v %v %v", i, added, changed, removed, tt.added, tt.changed, tt.removed)
		}
	}
	none := mustLoad(t, sd+"[program:a]\ncommand=x\nstdout_logfile=NONE\n").Groups
	empty := mustLoad(t, sd+"[program:a]\ncommand=x\nstdout_logfile=\n").Groups
	if _, changed, _ := Diff(none, empty); !slices.Equal(changed, []string{"a"}) {
		t.Errorf("stdout_logfile NONE → empty: changed %v, want [a]", changed)
	}
}

func TestDescribeAndConfigInfo(t *testing.T) {
	c := mustLoad(t, sd+"[program:web]\ncommand=/bin/web --port 80\nredirect_stderr=true\n[group:g]\nprograms=web\n")
	var b bytes.Buffer
	if err := c.Describe(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"g:web", "command:     /bin/web --port 80", "stdout log:  AUTO", "stderr log:  (redirected to stdout)", "autorestart: unexpected"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("Describe output lacks %q:\n%s", want, b.String())
		}
	}
	info := c.ConfigInfo()
	if len(info) != 1 || info[0].Group != "g" || info[0].StdoutLogfile != "auto" || info[0].StderrLogfile != "none" ||
		info[0].UID != "none" || info[0].Serverurl != "none" || info[0].Stopsignal != 15 {
		t.Errorf("ConfigInfo = %+v", info)
	}
}

func FuzzLoad(f *testing.F) {
	for _, tc := range goldenCases {
		for _, v := range tc.files {
			f.Add(v)
		}
	}
	for _, tc := range errorCases {
		f.Add(tc.conf)
	}
	dir := f.TempDir()
	path := filepath.Join(dir, "fuzz.conf")
	// numprocs=10000000 is valid and makes ten million processes, in the
	// original too: keep the fuzzer away from such slow but correct inputs.
	huge := regexp.MustCompile(`(?i)numprocs\s*[=:]\s*\+?[0-9_]{4,}`)
	f.Fuzz(func(t *testing.T, text string) {
		if huge.MatchString(text) {
			t.Skip()
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		c, err := Load(path, Options{Env: []string{"HOME=" + dir, "TMPDIR=" + dir}, Hostname: "h"})
		if err != nil {
			var ce *Error
			if !asError(err, &ce) {
				t.Fatalf("error %T is not *config.Error: %v", err, err)
			}
			return
		}
		_ = c.Describe(&bytes.Buffer{})
		_ = c.ConfigInfo()
		Diff(c.Groups, c.Groups)
	})
}

func asError(err error, target **Error) bool {
	e, ok := err.(*Error)
	if ok {
		*target = e
	}
	return ok
}
