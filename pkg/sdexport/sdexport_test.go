package sdexport

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gosupervisor/gosupervisor/pkg/config"
)

// fakeResolve finds every name in /fake/bin, so that the mapping tests do
// not depend on this machine's files.
func fakeResolve(argv0, _ string) (string, error) {
	if strings.Contains(argv0, "/") {
		return argv0, nil
	}
	return "/fake/bin/" + argv0, nil
}

// loadConf loads conf, with env as supervisord's environment, from a
// temporary directory, which it returns too.
func loadConf(t *testing.T, conf string, env []string) (*config.Config, string) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "supervisord.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path, config.Options{Env: env, Hostname: "h"})
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	return cfg, dir
}

// exportConf loads body (after a [supervisord] section) from a temporary
// directory and exports it; %(here)s is that directory.
func exportConf(t *testing.T, supervisord, body string) (*Result, map[string]string, string) {
	t.Helper()
	cfg, dir := loadConf(t, "[supervisord]\n"+supervisord+"\n"+body, []string{"PATH=/bin:/usr/bin", "HOME=/root"})
	res, err := Export(cfg, Options{Dir: "/cwd", Resolve: fakeResolve})
	if err != nil {
		t.Fatalf("export: %v", err)
	}
	units := map[string]string{}
	for _, f := range res.Files {
		units[f.Name] = string(f.Data)
	}
	return res, units, dir
}

func lines(unit string) []string { return strings.Split(unit, "\n") }

// checkUnit asserts that unit has every line of want and none of unwanted.
func checkUnit(t *testing.T, units map[string]string, name string, want, unwanted []string) {
	t.Helper()
	u, ok := units[name]
	if !ok {
		t.Fatalf("no unit %s; have %v", name, keys(units))
	}
	ls := lines(u)
	for _, w := range want {
		if !slices.Contains(ls, w) {
			t.Errorf("%s: no line %q in\n%s", name, w, u)
		}
	}
	for _, w := range unwanted {
		if slices.Contains(ls, w) {
			t.Errorf("%s: unexpected line %q in\n%s", name, w, u)
		}
	}
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// hasNote asserts a "Not mapped" comment mentioning key.
func hasNote(t *testing.T, units map[string]string, name, key string) {
	t.Helper()
	for _, l := range lines(units[name]) {
		if strings.HasPrefix(l, "#   ") && strings.Contains(l, key) {
			return
		}
	}
	t.Errorf("%s: no unmapped note for %s in\n%s", name, key, units[name])
}

func TestMappingKeyByKey(t *testing.T) {
	cases := []struct {
		name, supervisord, body string
		unit                    string
		want, unwanted          []string
	}{
		{name: "defaults", body: "[program:a]\ncommand=/bin/sleep 10\n", unit: "a.service", want: []string{
			"Description=a (supervisord [program:a])", "PartOf=a.target", "Type=exec",
			"ExecStart=/bin/sleep 10", "UMask=0022", "Restart=on-failure",
			"RestartForceExitStatus=SIGHUP SIGINT SIGTERM SIGPIPE", "RestartSec=1",
			"StartLimitIntervalSec=7", "StartLimitBurst=4", "KillSignal=SIGTERM", "TimeoutStopSec=10",
			"KillMode=process", "StandardOutput=journal", "StandardError=journal", "WantedBy=a.target",
		}},
		{name: "command on PATH keeps argv0", body: "[program:a]\ncommand=sleep 10\n", unit: "a.service",
			want: []string{"ExecStart=@/fake/bin/sleep sleep 10"}},
		{name: "command quoting", body: "[program:a]\ncommand=/bin/echo 'a b' 50%% $HOME 'a;b' 'q\"\\\\'\n", unit: "a.service",
			want: []string{`ExecStart=/bin/echo "a b" "50%%" "$$HOME" "a;b" "q\"\\\\"`}},
		{name: "relative command", body: "[program:a]\ncommand=bin/app -x\n", unit: "a.service",
			want: []string{"ExecStart=@/cwd/bin/app bin/app -x"}},
		{name: "directory", body: "[program:a]\ncommand=/bin/true\ndirectory=/tmp\n", unit: "a.service",
			want: []string{"WorkingDirectory=/tmp"}},
		{name: "supervisord directory when daemonized", supervisord: "directory=/tmp\n", body: "[program:a]\ncommand=/bin/true\n",
			unit: "a.service", want: []string{"WorkingDirectory=/tmp"}},
		{name: "user", body: "[program:a]\ncommand=/bin/true\nuser=root\n", unit: "a.service", want: []string{"User=root"}},
		{name: "supervisord user", supervisord: "user=root\n", body: "[program:a]\ncommand=/bin/true\n", unit: "a.service",
			want: []string{"User=root"}},
		{name: "umask", body: "[program:a]\ncommand=/bin/true\numask=077\n", unit: "a.service", want: []string{"UMask=0077"}},
		{name: "supervisord umask", supervisord: "umask=027\n", body: "[program:a]\ncommand=/bin/true\n", unit: "a.service",
			want: []string{"UMask=0027"}},
		{name: "minfds", supervisord: "minfds=4096\n", body: "[program:a]\ncommand=/bin/true\n", unit: "a.service",
			want: []string{"LimitNOFILE=4096"}},
		{name: "environment", supervisord: "environment=G=1\n", body: "[program:a]\ncommand=/bin/true\nenvironment=A=\"x y\",B='q\"%%'\n",
			unit: "a.service", want: []string{`Environment="G=1"`, `Environment="A=x y"`, `Environment="B=q\"%%"`}},
		{name: "environment_file optional", body: "[program:a]\ncommand=/bin/true\nenvironment_file=-/nonexistent/app.env\n",
			unit: "a.service", want: []string{"EnvironmentFile=-/nonexistent/app.env"}},
		{name: "autorestart true", body: "[program:a]\ncommand=/bin/true\nautorestart=true\nexitcodes=0,2\n", unit: "a.service",
			want: []string{"Restart=always", "SuccessExitStatus=2"}, unwanted: []string{"RestartForceExitStatus=SIGHUP SIGINT SIGTERM SIGPIPE"}},
		{name: "autorestart false", body: "[program:a]\ncommand=/bin/true\nautorestart=false\n", unit: "a.service",
			want: []string{"Restart=no"}, unwanted: []string{"RestartSec=1", "StartLimitBurst=4"}},
		{name: "exitcodes without 0", body: "[program:a]\ncommand=/bin/true\nexitcodes=1,3\n", unit: "a.service",
			want: []string{"Restart=on-failure", "SuccessExitStatus=1 3", "RestartForceExitStatus=0 SIGHUP SIGINT SIGTERM SIGPIPE"}},
		{name: "startsecs startretries", body: "[program:a]\ncommand=/bin/true\nstartsecs=5\nstartretries=2\n", unit: "a.service",
			want: []string{"StartLimitIntervalSec=17", "StartLimitBurst=3"}},
		{name: "startretries unlimited", body: "[program:a]\ncommand=/bin/true\nstartretries=unlimited\n", unit: "a.service",
			want: []string{"StartLimitIntervalSec=0"}, unwanted: []string{"StartLimitBurst=4"}},
		{name: "startsecs 0", body: "[program:a]\ncommand=/bin/true\nstartsecs=0\n", unit: "a.service",
			want: []string{"StartLimitIntervalSec=0"}},
		{name: "stopsignal stopwaitsecs", body: "[program:a]\ncommand=/bin/true\nstopsignal=INT\nstopwaitsecs=30\n", unit: "a.service",
			want: []string{"KillSignal=SIGINT", "TimeoutStopSec=30"}},
		{name: "stopasgroup", body: "[program:a]\ncommand=/bin/true\nstopasgroup=true\n", unit: "a.service",
			want: []string{"KillMode=control-group"}},
		{name: "killasgroup", body: "[program:a]\ncommand=/bin/true\nkillasgroup=true\n", unit: "a.service",
			want: []string{"KillMode=mixed"}},
		{name: "log files", body: "[program:a]\ncommand=/bin/true\nstdout_logfile=/var/log/a.out\nstderr_logfile=/var/log/a.err\n",
			unit: "a.service", want: []string{"StandardOutput=append:/var/log/a.out", "StandardError=append:/var/log/a.err"}},
		{name: "redirect_stderr", body: "[program:a]\ncommand=/bin/true\nstdout_logfile=/var/log/a.out\nredirect_stderr=true\n",
			unit: "a.service", want: []string{"StandardOutput=append:/var/log/a.out", "StandardError=inherit"}},
		{name: "no logs", body: "[program:a]\ncommand=/bin/true\nstdout_logfile=NONE\nstderr_logfile=/dev/null\n",
			unit: "a.service", want: []string{"StandardOutput=null", "StandardError=null"}},
		{name: "syslog and own output", body: "[program:a]\ncommand=/bin/true\nstdout_logfile=NONE\nstdout_syslog=true\nstderr_logfile=/dev/stdout\nstderr_logfile_maxbytes=0\n",
			unit: "a.service", want: []string{"StandardOutput=journal", "StandardError=journal"}},
		{name: "log path with percent", body: "[program:a]\ncommand=/bin/true\nstdout_logfile=/tmp/a%%%%b.log\n",
			unit: "a.service", want: []string{"StandardOutput=append:/tmp/a%%b.log"}},
		{name: "autostart false", body: "[program:a]\ncommand=/bin/true\nautostart=false\n", unit: "a.service",
			unwanted: []string{"[Install]", "WantedBy=a.target"}},
		{name: "group target", body: "[program:a]\ncommand=/bin/true\n", unit: "a.target",
			want: []string{"Description=supervisord group a", "[Install]", "WantedBy=multi-user.target"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, units, _ := exportConf(t, c.supervisord, c.body)
			checkUnit(t, units, c.unit, c.want, c.unwanted)
		})
	}
}

func TestEnvironmentFile(t *testing.T) {
	dir := t.TempDir()
	env := filepath.Join(dir, "app.env")
	if err := os.WriteFile(env, []byte("A=1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, units, _ := exportConf(t, "environment_file="+env+"\n",
		"[program:a]\ncommand=/bin/true\nenvironment_file=-"+env+".missing\nenvironment=B=2\n")
	// [supervisord]'s file first: later files win in systemd too.
	checkUnit(t, units, "a.service", []string{"EnvironmentFile=" + env, "EnvironmentFile=-" + env + ".missing", `Environment="B=2"`}, nil)
	hasNote(t, units, "a.service", "environment over environment_file")
}

func TestNumprocsAndGroups(t *testing.T) {
	res, units, _ := exportConf(t, "", `
[program:worker]
command=/bin/sleep 100
process_name=%(program_name)s_%(process_num)02d
numprocs=2

[program:a]
command=/bin/true
[program:b]
command=/bin/true
autostart=false
[group:g]
programs=a,b
`)
	want := []string{"worker-worker_00.service", "worker-worker_01.service", "worker.target", "g-a.service", "g-b.service", "g.target"}
	if got := keys(units); !slices.Equal(got, sorted(want)) {
		t.Fatalf("units %v, want %v", got, sorted(want))
	}
	checkUnit(t, units, "worker-worker_01.service", []string{"Description=worker:worker_01 (supervisord [program:worker])", "PartOf=worker.target", "WantedBy=worker.target"}, nil)
	checkUnit(t, units, "g-a.service", []string{"PartOf=g.target", "WantedBy=g.target"}, nil)
	if slices.Contains(res.Enable, "g-b.service") || !slices.Contains(res.Enable, "g.target") {
		t.Errorf("Enable = %v: want the targets and autostart services only", res.Enable)
	}
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

func TestDependsOn(t *testing.T) {
	_, units, _ := exportConf(t, "", `
[program:db]
command=/bin/true
healthcheck=tcp://127.0.0.1:5432
[program:cache]
command=/bin/true
numprocs=2
process_name=cache%(process_num)d
[program:app]
command=/bin/true
depends_on=db, cache:*
`)
	checkUnit(t, units, "app.service", []string{
		"Requires=db.service", "After=db.service",
		"Requires=cache-cache0.service", "After=cache-cache0.service",
		"Requires=cache-cache1.service", "After=cache-cache1.service",
	}, nil)
	hasNote(t, units, "app.service", "health check")
	hasNote(t, units, "db.service", "healthcheck=tcp://127.0.0.1:5432")
}

func TestPriorityChain(t *testing.T) {
	_, units, _ := exportConf(t, "", `
[program:first]
command=/bin/true
priority=1
[program:second1]
command=/bin/true
priority=5
[program:second2]
command=/bin/true
priority=5
[program:last]
command=/bin/true
priority=9
[program:base]
command=/bin/true
priority=9
[program:dep]
command=/bin/true
priority=1
depends_on=base
`)
	checkUnit(t, units, "first.service", nil, []string{"After=second1.service"})
	checkUnit(t, units, "second1.service", []string{"After=first.service"}, []string{"After=second2.service"})
	checkUnit(t, units, "last.service", []string{"After=second1.service", "After=second2.service"}, []string{"After=first.service"})
	// dep's depends_on goes against priority: depends_on wins and no
	// priority edge may close a cycle.
	checkUnit(t, units, "dep.service", []string{"After=base.service"}, []string{"After=first.service"})
	checkUnit(t, units, "base.service", nil, []string{"After=dep.service", "After=second1.service"})
}

func TestUnmappedNotes(t *testing.T) {
	_, units, _ := exportConf(t, "", `
[program:a]
command=/bin/true
healthcheck=exec:/bin/true
critical=true
backoff=exponential
backoff_max=30
stdout_forward=true
stderr_forward=true
stdout_log_format=json
stderr_log_format=timestamped
stdout_logfile=/tmp/a.log
stdout_capture_maxbytes=1KB
stdout_events_enabled=true
serverurl=http://127.0.0.1:9001
environment=BAD-NAME=1
`)
	for _, k := range []string{"healthcheck=exec:/bin/true", "critical=true", "backoff=exponential", "stdout_forward", "stderr_forward",
		"stdout_log_format=json", "stderr_log_format=timestamped", "stdout_logfile_maxbytes", "stdout_capture_maxbytes",
		"stdout_events_enabled", "serverurl", "environment 'BAD-NAME'", "startsecs=1"} {
		hasNote(t, units, "a.service", k)
	}
	checkUnit(t, units, "a.service", nil, []string{`Environment="BAD-NAME=1"`})
}

func TestSkippedGroupsWarn(t *testing.T) {
	res, units, _ := exportConf(t, "", `
[eventlistener:l]
command=/bin/cat
events=PROCESS_STATE
[program:a]
command=/bin/true
depends_on=l
`)
	if _, ok := units["l.service"]; ok {
		t.Error("event listener exported")
	}
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "[eventlistener:l] not exported") {
		t.Errorf("warnings %q", res.Warnings)
	}
	hasNote(t, units, "a.service", "depends_on 'l'")
	checkUnit(t, units, "a.service", nil, []string{"Requires=l.service"})
}

func TestNameCollision(t *testing.T) {
	cfg, _ := loadConf(t, "[supervisord]\n[program:a-b]\ncommand=/bin/true\n[program:b]\ncommand=/bin/true\n[group:a]\nprograms=b\n", []string{})
	_, err := Export(cfg, Options{Resolve: fakeResolve})
	if err == nil || !strings.Contains(err.Error(), "unit name a-b.service would be used by both") {
		t.Fatalf("err = %v", err)
	}
}

func TestEscapeName(t *testing.T) {
	for in, want := range map[string]string{
		"web": "web", "my-app_2.x": "my-app_2.x", "a@b": `a\x40b`, ".hidden": `\x2ehidden`, "a b": `a\x20b`,
		`back\slash`: `back\x5cslash`, "é": `\xc3\xa9`,
	} {
		if got := escapeName(in); got != want {
			t.Errorf("escapeName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPrefix(t *testing.T) {
	cfg, _ := loadConf(t, "[supervisord]\n[program:ssh]\ncommand=/bin/true\n", []string{})
	res, err := Export(cfg, Options{Prefix: "sv-", Resolve: fakeResolve})
	if err != nil {
		t.Fatal(err)
	}
	if res.Files[0].Name != "sv-ssh.service" || res.Files[1].Name != "sv-ssh.target" {
		t.Errorf("names %s %s", res.Files[0].Name, res.Files[1].Name)
	}
	if !strings.Contains(string(res.Files[0].Data), "\nPartOf=sv-ssh.target\n") {
		t.Errorf("PartOf not prefixed:\n%s", res.Files[0].Data)
	}
}

func TestCommandNotFoundWarns(t *testing.T) {
	cfg, dir := loadConf(t, "[supervisord]\n[program:a]\ncommand=no-such-command-here x\n", []string{})
	res, err := Export(cfg, Options{PATH: dir})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "can't find command 'no-such-command-here'") {
		t.Errorf("warnings %q", res.Warnings)
	}
	if !strings.Contains(string(res.Files[0].Data), "\nExecStart=no-such-command-here x\n") {
		t.Errorf("ExecStart:\n%s", res.Files[0].Data)
	}
}

func TestBadCommand(t *testing.T) {
	cfg, _ := loadConf(t, "[supervisord]\n[program:a]\ncommand=/bin/echo 'open\n", []string{})
	_, err := Export(cfg, Options{Resolve: fakeResolve})
	if err == nil || err.Error() != `[program:a] process 'a': can't parse command "/bin/echo 'open": No closing quotation` {
		t.Fatalf("err = %v", err)
	}
}
