package config

import (
	"encoding/json"
	"github.com/gosupervisor/gosupervisor/pkg/loglevel"
	"github.com/gosupervisor/gosupervisor/pkg/shlex"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// python returns Debian's interpreter that has the original supervisor.
// A missing one fails the test unless GOSUPERVISOR_NO_PYTHON=1.
func python(t *testing.T) string {
	t.Helper()
	if os.Getenv("GOSUPERVISOR_NO_PYTHON") == "1" {
		t.Skip("GOSUPERVISOR_NO_PYTHON=1")
	}
	for _, p := range []string{"/usr/bin/python3", "python3"} {
		if path, err := exec.LookPath(p); err == nil {
			if exec.Command(path, "-c", "import supervisor.options").Run() == nil {
				return path
			}
		}
	}
	t.Fatal("python3 with the supervisor package not found (set GOSUPERVISOR_NO_PYTHON=1 to skip oracle tests)")
	return ""
}

// writeTree creates files (relative path → content) under dir.
func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(name, "/") {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func testEnv(dir string) []string {
	return []string{"PATH=/usr/bin:/bin", "HOME=" + dir, "RUN_MODE=production", "TMPDIR=" + dir, "PCT=50%", "LC_CTYPE=C.UTF-8"} // Python 3.11 would add LC_CTYPE itself (PEP 538)
}

// pyLoad runs testdata/pyconfig.py on paths and returns its decoded JSON.
func pyLoad(t *testing.T, paths []string, env []string) []map[string]any {
	t.Helper()
	script, _ := filepath.Abs("testdata/pyconfig.py")
	cmd := exec.Command(python(t), append([]string{script}, paths...)...)
	cmd.Env = env
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("pyconfig.py %v: %v", paths, err)
	}
	var m []map[string]any
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatalf("pyconfig.py output %q: %v", out, err)
	}
	return m
}

func none(s string) any {
	if s == "" {
		return "none"
	}
	return s
}

func envPairs(kvs []shlex.KV) [][2]string {
	out := make([][2]string, 0, len(kvs))
	for _, kv := range kvs {
		out = append(out, [2]string{kv.Key, kv.Value})
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	return out
}

// goView renders our Config in pyconfig.py's JSON shape.
func goView(c *Config) map[string]any {
	var info []map[string]any
	procs := map[string]*Process{}
	for _, g := range c.Groups {
		for _, p := range g.Processes {
			procs[p.Name] = p
		}
	}
	for _, ci := range c.ConfigInfo() {
		p := procs[ci.Name]
		var umask any = "none"
		if p.Umask >= 0 {
			umask = p.Umask
		}
		info = append(info, map[string]any{
			"autostart": ci.Autostart, "directory": ci.Directory, "uid": ci.UID, "command": ci.Command,
			"exitcodes": ci.Exitcodes, "group": ci.Group, "group_prio": ci.GroupPrio,
			"killasgroup": ci.Killasgroup, "name": ci.Name, "process_prio": ci.ProcessPrio,
			"redirect_stderr": ci.RedirectStderr, "startretries": ci.Startretries, "startsecs": ci.Startsecs,
			"stdout_capture_maxbytes": ci.StdoutCaptureMaxbytes, "stdout_events_enabled": ci.StdoutEventsEnabled,
			"stdout_logfile": ci.StdoutLogfile, "stdout_logfile_backups": ci.StdoutLogfileBackups,
			"stdout_logfile_maxbytes": ci.StdoutLogfileMaxbytes, "stdout_syslog": ci.StdoutSyslog,
			"stopsignal": ci.Stopsignal, "stopwaitsecs": ci.Stopwaitsecs,
			"stderr_capture_maxbytes": ci.StderrCaptureMaxbytes, "stderr_events_enabled": ci.StderrEventsEnabled,
			"stderr_logfile": ci.StderrLogfile, "stderr_logfile_backups": ci.StderrLogfileBackups,
			"stderr_logfile_maxbytes": ci.StderrLogfileMaxbytes, "stderr_syslog": ci.StderrSyslog,
			"serverurl": ci.Serverurl, "umask": umask, "autorestart": p.Autorestart.String(),
			"stopasgroup": p.Stopasgroup, "environment": envPairs(p.Environment),
		})
	}
	kinds := map[GroupKind]string{ProgramGroup: "ProcessGroupConfig", EventListenerPool: "EventListenerPoolConfig", FCGIGroup: "FastCGIGroupConfig"}
	var groups []map[string]any
	for _, g := range c.Groups {
		names := []string{}
		for _, p := range g.Processes {
			names = append(names, p.Name)
		}
		gd := map[string]any{"name": g.Name, "priority": g.Priority, "kind": kinds[g.Kind], "processes": names}
		if g.Kind == EventListenerPool {
			ev := append([]string(nil), g.Events...)
			sort.Strings(ev)
			gd["buffer_size"], gd["events"] = g.BufferSize, ev
		}
		if g.Socket != nil {
			gd["socket"] = g.Socket.URL
		}
		groups = append(groups, gd)
	}
	var servers []map[string]any
	for _, s := range c.HTTPServers {
		d := map[string]any{"section": s.Section, "username": "none", "password": "none"}
		if s.HasAuth {
			d["username"], d["password"] = s.Username, s.Password
		}
		if s.Unix {
			d["file"], d["chmod"], d["chown"] = s.File, s.Chmod, []int{s.ChownUID, s.ChownGID}
		} else {
			d["host"], d["port"] = s.Host, s.Port
		}
		servers = append(servers, d)
	}
	sd := c.Supervisord
	var rpc []string
	for _, r := range c.RPCInterfaces {
		rpc = append(rpc, r.Name)
	}
	var warnings, infos []string
	for _, m := range c.Messages {
		switch {
		case m.Ours: // not the original's
		case m.Level == loglevel.Warn:
			warnings = append(warnings, m.Text)
		default:
			infos = append(infos, m.Text)
		}
	}
	return map[string]any{
		"configinfo": info, "groups": groups, "servers": servers,
		"serverurl": none(c.DefaultServerURL()),
		"supervisord": map[string]any{
			"logfile": sd.Logfile, "pidfile": sd.Pidfile, "loglevel": int(sd.Loglevel), "umask": sd.Umask,
			"minfds": sd.Minfds, "minprocs": sd.Minprocs, "identifier": sd.Identifier,
			"childlogdir": sd.Childlogdir, "logfile_maxbytes": sd.LogfileMaxbytes,
			"logfile_backups": sd.LogfileBackups, "nodaemon": sd.Nodaemon, "nocleanup": sd.Nocleanup,
			"strip_ansi": sd.StripAnsi, "silent": sd.Silent, "directory": none(sd.Directory),
			"user": none(sd.User), "environment": envPairs(sd.Environment),
		},
		"rpcinterfaces": rpc, "warnings": warnings, "infos": infos,
	}
}

// normalize round-trips through JSON so both sides have the same types.
func normalize(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// compareField reports differences key by key (and entry by entry for lists).
func compareField(t *testing.T, path string, got, want any) {
	t.Helper()
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			t.Errorf("%s: got %v, want %v", path, got, want)
			return
		}
		keys := map[string]bool{}
		for k := range w {
			keys[k] = true
		}
		for k := range g {
			keys[k] = true
		}
		for k := range keys {
			compareField(t, path+"."+k, g[k], w[k])
		}
	case []any:
		g, ok := got.([]any)
		if got == nil && len(w) == 0 {
			return // nil slice vs Python's []
		}
		if !ok || len(g) != len(w) {
			t.Errorf("%s: got %v, want %v", path, got, want)
			return
		}
		for i := range w {
			compareField(t, path+"["+itoa(i)+"]", g[i], w[i])
		}
	default:
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %#v, want %#v", path, got, want)
		}
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

var goldenCases = []struct {
	name  string
	main  string
	files map[string]string
}{
	{"debian", "etc/supervisor/supervisord.conf", map[string]string{
		"var/run/": "", "var/log/supervisor/": "",
		"etc/supervisor/supervisord.conf": `; supervisor config file

[unix_http_server]
file=%(here)s/../../var/run/supervisor.sock   ; (the path to the socket file)
chmod=0700                       ; sockef file mode (default 0700)

[supervisord]
logfile=%(here)s/../../var/log/supervisor/supervisord.log ; (main log file;default $CWD/supervisord.log)
pidfile=%(here)s/../../var/run/supervisord.pid ; (supervisord pidfile;default supervisord.pid)
childlogdir=%(here)s/../../var/log/supervisor            ; ('AUTO' child log dir, default $TEMP)

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=unix://%(here)s/../../var/run/supervisor.sock ; use a unix:// URL  for a unix socket

[include]
files = conf.d/*.conf missing/*.conf
`,
		"etc/supervisor/conf.d/web.conf": `[program:web]
command=/usr/bin/python3 -m http.server 8000
directory=%(here)s
stdout_logfile=%(here)s/web.log
autorestart=true
user=root
environment=A="1",B=%(ENV_RUN_MODE)s
`,
		"etc/supervisor/conf.d/worker.conf":  "[program:worker]\ncommand=/bin/sleep 100\nnumprocs=2\nprocess_name=%(program_name)s_%(process_num)02d\nstdout_logfile_maxbytes=0\n",
		"etc/supervisor/conf.d/.hidden.conf": "[program:hidden]\ncommand=/bin/true\n",
		"etc/supervisor/conf.d/notes.txt":    "[program:notes]\ncommand=/bin/true\n",
	}},
	{"seed002", "supervisord.conf", map[string]string{
		"micro/monitor/logs/": "",
		"supervisord.conf": `[supervisord]
logfile=%(here)s/supervisord.log
[program:monitor]
directory=%(here)s/micro/%(program_name)s
environment=RUN_MODE=%(ENV_RUN_MODE)s
command=%(here)s/micro/%(program_name)s/%(program_name)s
process_name=%(program_name)s
autorestart = true
startretries = 3
redirect_stderr=true
stdout_logfile_maxbytes = 20MB
stdout_logfile_backups = 20
stdout_logfile=%(here)s/micro/%(program_name)s/logs/%(program_name)s.log
`}},
	{"numprocs", "s.conf", map[string]string{"s.conf": `[supervisord]
logfile=%(here)s/s.log
environment=GLOBAL=g,SHARED=from_supervisord
[program:w]
command=/bin/echo %(process_num)d of %(numprocs)d in %(group_name)s on %(host_node_name)s %(ENV_GLOBAL)s
numprocs=3
numprocs_start=8
process_name=%(program_name)s-%(process_num)d
environment=N="%(process_num)03d",SHARED=mine,PCT="%(ENV_PCT)s"
stdout_logfile=%(here)s/w-%(process_num)02d-%(ENV_N)s.log
stderr_logfile=%(here)s/w-%(process_num)02d.err
[program:zero]
command=/bin/true
numprocs=0
`}},
	{"groups", "s.conf", map[string]string{"s.conf": `[supervisord]
logfile=%(here)s/s.log
[group:g]
programs=b, a
priority=5
[program:a]
command=/bin/true
priority=10
[program:b]
command=/bin/true
priority=2
numprocs=2
process_name=b%(process_num)s
[program:c]
command=/bin/true
priority=5
[program:d]
command=/bin/true
priority=5
`}},
	{"eventlisteners", "s.conf", map[string]string{"s.conf": `[supervisord]
logfile=%(here)s/s.log
[eventlistener:listener]
command=/usr/bin/python3 listener.py
events=PROCESS_STATE,tick_60, PROCESS_STATE
buffer_size=5
numprocs=2
process_name=%(program_name)s_%(process_num)s
[eventlistener:one]
command=/bin/cat
events=TICK_5
priority=3
stderr_logfile=NONE
[fcgi-program:f]
command=/usr/bin/php-cgi
socket=unix://%(here)s/%(program_name)s.sock
[fcgi-program:t]
command=/usr/bin/php-cgi
socket=tcp://LocalHost:9002
socket_backlog=10
`}},
	{"dialect", "s.conf", map[string]string{"s.conf": `[DEFAULT]
startsecs=7
[supervisord]
logfile=%(here)s/s.log ;comment
loglevel=debug;not a comment? no: whole value must be valid
LogLevel = warn # inline comment
[program:multi]
command=/bin/sh -c
  "echo continued"

  ; indented comment line
  "and more" ; trailing
stopsignal = hup
exitcodes=0,2
umask=077
STOPWAITSECS: 3
[program:multi]
autostart=false
[program:app.v2]
command=/bin/app2
[program:app]
command=/bin/app
startretries=9
[inet_http_server]
port=*:9001
username=u
password={SHA}abc
[inet_http_server:second]
port=127.0.0.1:9002
[unix_http_server]
file=~/sock
chown=root:root
chmod=0o755
`}},
	{"everything", "s.conf", map[string]string{"s.conf": `[supervisord]
logfile=syslog
logfile_maxbytes=1KB
logfile_backups=0
loglevel=blather
pidfile=%(here)s/pid
umask=027
nodaemon=true
silent=on
minfds=2048
minprocs=300
nocleanup=yes
childlogdir=%(here)s
user=root
directory=/
strip_ansi=1
identifier=ident
environment=X="a,b",Y='%(here)s'
[program:all]
command=/bin/cat
process_name=%(program_name)s
numprocs=1
numprocs_start=4
priority=-5
autostart=off
startsecs=0
startretries=0
autorestart=false
exitcodes=
stopsignal=SIGUSR2
stopwaitsecs=1
stopasgroup=true
user=0
redirect_stderr=true
stdout_logfile=AUTO
stdout_logfile_maxbytes=0
stdout_logfile_backups=1
stdout_capture_maxbytes=1MB
stdout_events_enabled=true
stdout_syslog=true
stderr_logfile=%(here)s/err.log
stderr_logfile_maxbytes=1GB
stderr_capture_maxbytes=2kb
stderr_events_enabled=true
stderr_syslog=true
environment=HOME=/x
directory=/tmp/%(ENV_X)s
umask=0o002
serverurl=http://127.0.0.1:1
[program:sys]
command=/bin/cat
stdout_logfile=syslog
stderr_logfile=Syslog
serverurl=auto
stopsignal=9
[program:pct]
command=/bin/echo 100%%
stdout_logfile=%(here)s/p%%%%.log
`}},
	// Repeated sections merge key by key over the main file and the
	// included ones, in reading order; the later value wins.
	{"duplicates", "s.conf", map[string]string{
		"s.conf": `[supervisord]
logfile=%(here)s/s.log
[program:dup]
command=/bin/sleep 100
priority=10
startsecs=3
[program:dup]
priority=20
startretries=7
[program:inc]
command=/bin/sleep 50
[include]
files=conf.d/*.conf
`,
		"conf.d/a.conf": "[program:dup]\npriority=30\nstopwaitsecs=33\n[program:inc]\nstartsecs=9\n",
		"conf.d/b.conf": "\n[program:dup]\npriority=40\ncommand=/bin/sleep 200\n[supervisord]\nloglevel=debug\n",
	}},
	// Every key that may be empty, empty: the original keeps '' where it
	// has None for an absent key (directory, serverurl, *_logfile), and a
	// pidfile= given empty is the current directory.
	{"empties", "s.conf", map[string]string{"s.conf": `[supervisord]
logfile=%(here)s/s.log
pidfile=
identifier=
environment=
[program:all]
command=
process_name=
exitcodes=
environment=
directory=
serverurl=
stdout_logfile=
stderr_logfile=
[program:redirected]
command=/bin/cat
redirect_stderr=true
stdout_logfile=
stderr_logfile=
[eventlistener:ev]
command=/bin/cat
events=TICK_5
directory=
stdout_logfile=
[fcgi-program:f]
command=/bin/cat
socket=unix://%(here)s/f.sock
directory=
stderr_logfile=
`}},
}

func TestGoldenAgainstPython(t *testing.T) {
	host, _ := os.Hostname()
	dir := t.TempDir()
	env := testEnv(dir)
	var mains []string
	for _, tc := range goldenCases {
		writeTree(t, filepath.Join(dir, tc.name), tc.files)
		mains = append(mains, filepath.Join(dir, tc.name, tc.main))
	}
	results := pyLoad(t, mains, env)
	for i, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			main, want := mains[i], results[i]
			if e, ok := want["error"]; ok {
				t.Fatalf("the original rejects this config: %v", e)
			}
			c, err := Load(main, Options{Env: env, Hostname: host})
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			compareField(t, tc.name, normalize(t, goView(c)), normalize(t, want))
		})
	}
}
