package config

import (
	"bytes"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// loadAt is load that also returns the main file's path, which errors name.
func loadAt(t *testing.T, files map[string]string) (*Config, string, error) {
	t.Helper()
	dir := t.TempDir()
	writeTree(t, dir, files)
	path := filepath.Join(dir, "s.conf")
	c, err := Load(path, Options{Env: testEnv(dir), Hostname: "node1"})
	return c, path, err
}

func TestExtensionDefaultsAreZero(t *testing.T) {
	c := mustLoad(t, sd+"[group:g]\nprograms=a\n[program:a]\ncommand=x\n[fcgi-program:f]\ncommand=x\nsocket=tcp://h:1\n[eventlistener:e]\ncommand=x\nevents=TICK_5\n")
	for _, g := range c.Groups {
		if g.DependsOn != nil {
			t.Errorf("group %s: DependsOn %v, want nil", g.Name, g.DependsOn)
		}
		for _, p := range g.Processes {
			if !reflect.DeepEqual(p.Extensions, Extensions{}) {
				t.Errorf("%s: Extensions %+v, want the zero value", p.Name, p.Extensions)
			}
			if p.Startretries != 3 {
				t.Errorf("%s: Startretries %d", p.Name, p.Startretries)
			}
		}
	}
	if o := ours(t, c); len(o) != 0 {
		t.Errorf("warnings %q", o)
	}
	if c.UsesExtensions() {
		t.Error("UsesExtensions() = true for a config without our keys")
	}
	for _, key := range []string{"[program:a]\ncritical=true\n", "[group:g]\ndepends_on=e\n", "[eventlistener:e]\nstartretries=unlimited\n", "[fcgi-program:f]\nhealthcheck=tcp://h:1\n"} {
		c := mustLoad(t, sd+"[group:g]\nprograms=a\n[program:a]\ncommand=x\n[fcgi-program:f]\ncommand=x\nsocket=tcp://h:1\n[eventlistener:e]\ncommand=x\nevents=TICK_5\n"+key)
		if !c.UsesExtensions() {
			t.Errorf("%q: UsesExtensions() = false", key)
		}
	}
}

func TestExtensionKeyValues(t *testing.T) {
	hc := func(p *Process) HealthCheck {
		if p.Health == nil {
			return HealthCheck{}
		}
		return *p.Health
	}
	def := func(k HealthKind, target string, argv ...string) HealthCheck {
		return HealthCheck{Kind: k, Target: target, Argv: argv, Interval: 10, Timeout: 3, Retries: 3}
	}
	tests := []struct {
		keys  string // lines after command=x in [program:a]
		check func(p *Process) bool
	}{
		{"depends_on=db", func(p *Process) bool { return slices.Equal(p.DependsOn, []string{"db"}) }},
		{"depends_on = db, grp:* ,grp:db2  db", func(p *Process) bool { return slices.Equal(p.DependsOn, []string{"db", "grp:*", "grp:db2"}) }},
		{"depends_on=", func(p *Process) bool { return p.DependsOn == nil }},
		{"healthcheck=http://127.0.0.1:8080/health?x=1", func(p *Process) bool {
			return reflect.DeepEqual(hc(p), def(HealthHTTP, "http://127.0.0.1:8080/health?x=1"))
		}},
		{"healthcheck=HTTPS://example.com/", func(p *Process) bool { return reflect.DeepEqual(hc(p), def(HealthHTTP, "HTTPS://example.com/")) }},
		{"healthcheck=tcp://127.0.0.1:5432", func(p *Process) bool { return reflect.DeepEqual(hc(p), def(HealthTCP, "127.0.0.1:5432")) }},
		{"healthcheck=tcp://[::1]:05432", func(p *Process) bool { return reflect.DeepEqual(hc(p), def(HealthTCP, "[::1]:5432")) }},
		{"healthcheck=exec:/usr/local/bin/check --quick 'a b' \"c\\\"d\"", func(p *Process) bool {
			return reflect.DeepEqual(hc(p), def(HealthExec, "", "/usr/local/bin/check", "--quick", "a b", `c"d`))
		}},
		{"healthcheck=exec: check", func(p *Process) bool { return reflect.DeepEqual(hc(p), def(HealthExec, "", "check")) }},
		{"healthcheck=", func(p *Process) bool { return p.Health == nil }},
		{"healthcheck=tcp://h:1\nhealthcheck_interval=30\nhealthcheck_timeout= 1 \nhealthcheck_retries=+5\nhealthcheck_start_period=1_0\non_unhealthy=IGNORE", func(p *Process) bool {
			return reflect.DeepEqual(hc(p), HealthCheck{Kind: HealthTCP, Target: "h:1", Interval: 30, Timeout: 1, Retries: 5, StartPeriod: 10, OnUnhealthy: UnhealthyIgnore})
		}},
		{"healthcheck=tcp://h:1\non_unhealthy=shutdown", func(p *Process) bool { return hc(p).OnUnhealthy == UnhealthyShutdown }},
		{"healthcheck=tcp://h:1\non_unhealthy=restart", func(p *Process) bool { return hc(p).OnUnhealthy == UnhealthyRestart }},
		{"backoff=exponential", func(p *Process) bool { return p.Backoff == BackoffExponential }},
		{"backoff=Linear", func(p *Process) bool { return p.Backoff == BackoffLinear }},
		{"backoff_max=60", func(p *Process) bool { return p.BackoffMax == 60 }},
		{"backoff_max=0", func(p *Process) bool { return p.BackoffMax == 0 }},
		{"startretries=unlimited", func(p *Process) bool { return p.StartretriesUnlimited && p.Startretries == 0 }},
		{"startretries= UNLIMITED ", func(p *Process) bool { return p.StartretriesUnlimited }},
		{"startretries=7", func(p *Process) bool { return !p.StartretriesUnlimited && p.Startretries == 7 }},
		{"startretries=-1", func(p *Process) bool { return !p.StartretriesUnlimited && p.Startretries == -1 }},
		{"critical=true", func(p *Process) bool { return p.Critical }},
		{"critical=on", func(p *Process) bool { return p.Critical }},
		{"critical=0", func(p *Process) bool { return !p.Critical }},
	}
	for _, tt := range tests {
		c, _, err := loadAt(t, map[string]string{"s.conf": sd + "[program:a]\ncommand=x\n" + tt.keys + "\n" +
			"[program:db]\ncommand=x\n[group:grp]\nprograms=db2\n[program:db2]\ncommand=x\n"})
		if err != nil {
			t.Errorf("%q: %v", tt.keys, err)
			continue
		}
		var p *Process
		for _, g := range c.Groups {
			if g.Name == "a" {
				p = g.Processes[0]
			}
		}
		if !tt.check(p) {
			t.Errorf("%q gave %+v (health %+v)", tt.keys, p.Extensions, p.Health)
		}
	}
}

func TestExtensionKeyErrors(t *testing.T) {
	const in = " in section 'program:a' (file: '%s')"
	tests := []struct{ keys, want string }{
		{"depends_on=a:b:c", "invalid 'depends_on' value 'a:b:c': 'a:b:c' is not a namespec (name, group:* or group:name)"},
		{"depends_on=db, grp:", "invalid 'depends_on' value 'db, grp:': 'grp:' is not a namespec (name, group:* or group:name)"},
		{"depends_on=:x", "invalid 'depends_on' value ':x': ':x' is not a namespec (name, group:* or group:name)"},
		{"depends_on=*", "invalid 'depends_on' value '*': '*' is not a namespec (name, group:* or group:name)"},
		{"depends_on=a/b", "invalid 'depends_on' value 'a/b': 'a/b' is not a namespec (name, group:* or group:name)"},
		{"depends_on=%(nope)s", "Format string '%(nope)s' for 'program:a.depends_on' contains names ('nope') which cannot be expanded. Available names: ENV_HOME, ENV_LC_CTYPE, ENV_PATH, ENV_PCT, ENV_RUN_MODE, ENV_TMPDIR, group_name, here, host_node_name, numprocs, process_num, program_name"},
		{"healthcheck=ftp://x", "invalid 'healthcheck' value 'ftp://x': not http://URL, https://URL, tcp://HOST:PORT or exec:COMMAND"},
		{"healthcheck=/bin/check", "invalid 'healthcheck' value '/bin/check': not http://URL, https://URL, tcp://HOST:PORT or exec:COMMAND"},
		{"healthcheck=http://", "invalid 'healthcheck' value 'http://': no host in the URL"},
		{"healthcheck=http://:80/x", "invalid 'healthcheck' value 'http://:80/x': no host in the URL"},
		{"healthcheck=http://a b/", `invalid 'healthcheck' value 'http://a b/': not a valid URL: invalid character " " in host name`},
		{"healthcheck=https://h:99999/x", "invalid 'healthcheck' value 'https://h:99999/x': 99999 is above upper bound (65535)"},
		{"healthcheck=tcp://db", "invalid 'healthcheck' value 'tcp://db': not tcp://HOST:PORT"},
		{"healthcheck=tcp://:5432", "invalid 'healthcheck' value 'tcp://:5432': not tcp://HOST:PORT"},
		{"healthcheck=tcp://h:54/x", "invalid 'healthcheck' value 'tcp://h:54/x': not tcp://HOST:PORT"},
		{"healthcheck=tcp://h:+5", "invalid 'healthcheck' value 'tcp://h:+5': not tcp://HOST:PORT"},
		{"healthcheck=tcp://h:0", "invalid 'healthcheck' value 'tcp://h:0': 0 is below lower bound (1)"},
		{"healthcheck=tcp://h:65536", "invalid 'healthcheck' value 'tcp://h:65536': 65536 is above upper bound (65535)"},
		{"healthcheck=exec:", "invalid 'healthcheck' value 'exec:': no command after exec:"},
		{"healthcheck=exec:/bin/x 'a", "invalid 'healthcheck' value \"exec:/bin/x 'a\": No closing quotation"},
		{`healthcheck=exec:/bin/x a\`, `invalid 'healthcheck' value 'exec:/bin/x a\\': No escaped character`},
		{"healthcheck=tcp://h:%(port)s", "Format string 'tcp://h:%(port)s' for 'program:a.healthcheck' contains names ('port') which cannot be expanded. Available names: ENV_HOME, ENV_LC_CTYPE, ENV_PATH, ENV_PCT, ENV_RUN_MODE, ENV_TMPDIR, group_name, here, host_node_name, numprocs, process_num, program_name"},
		{"healthcheck_interval=abc", "invalid 'healthcheck_interval' value 'abc': not an integer"},
		{"healthcheck_interval=0", "invalid 'healthcheck_interval' value '0': 0 is below lower bound (1)"},
		{"healthcheck_interval=2147483648", "invalid 'healthcheck_interval' value '2147483648': 2147483648 is above upper bound (2147483647)"},
		{"healthcheck_timeout=0", "invalid 'healthcheck_timeout' value '0': 0 is below lower bound (1)"},
		{"healthcheck_timeout=1.5", "invalid 'healthcheck_timeout' value '1.5': not an integer"},
		{"healthcheck_retries=0", "invalid 'healthcheck_retries' value '0': 0 is below lower bound (1)"},
		{"healthcheck_start_period=-1", "invalid 'healthcheck_start_period' value '-1': -1 is below lower bound (0)"},
		{"healthcheck_start_period=10s", "invalid 'healthcheck_start_period' value '10s': not an integer"},
		{"on_unhealthy=never", "invalid 'on_unhealthy' value 'never': not restart, ignore or shutdown"},
		{"on_unhealthy=", "invalid 'on_unhealthy' value '': not restart, ignore or shutdown"},
		{"backoff=fast", "invalid 'backoff' value 'fast': not linear or exponential"},
		{"backoff_max=-1", "invalid 'backoff_max' value '-1': -1 is below lower bound (0)"},
		{"backoff_max=1m", "invalid 'backoff_max' value '1m': not an integer"},
		{"critical=maybe", "invalid 'critical' value 'maybe': not a valid boolean value"},
		// Not unlimited and not a number: the original's own error.
		{"startretries=forever", "invalid literal for int() with base 10: 'forever'"},
		// The original's errors come before ours.
		{"backoff=fast\nautostart=maybe", "not a valid boolean value: 'maybe'"},
		{"backoff=fast\nstdout_logfile=/nonexistent/dir/x.log", "The directory named as part of the path /nonexistent/dir/x.log does not exist"},
	}
	for _, tt := range tests {
		_, path, err := loadAt(t, map[string]string{"s.conf": sd + "[program:a]\ncommand=x\n" + tt.keys + "\n"})
		want := tt.want + strings.Replace(in, "%s", path, 1)
		if err == nil || err.Error() != want {
			t.Errorf("%q:\n got %v\nwant %s", tt.keys, err, want)
		}
		if _, ok := err.(*Error); err != nil && !ok {
			t.Errorf("%q: error type %T", tt.keys, err)
		}
	}
}

// probes_public is a boolean of either kind of server section.
func TestProbesPublic(t *testing.T) {
	c := mustLoad(t, sd+"[inet_http_server]\nport=127.0.0.1:9001\nprobes_public=true\n[unix_http_server]\nfile=/tmp/x.sock\n")
	if len(c.HTTPServers) != 2 || !c.HTTPServers[0].ProbesPublic || c.HTTPServers[1].ProbesPublic {
		t.Fatalf("servers %+v", c.HTTPServers)
	}
	if !c.UsesExtensions() {
		t.Error("UsesExtensions() = false with probes_public")
	}
	if o := ours(t, c); len(o) != 0 {
		t.Errorf("warnings %q", o)
	}
	_, _, err := loadAt(t, map[string]string{"s.conf": sd + "[unix_http_server]\nfile=/tmp/x.sock\nprobes_public=sometimes\n"})
	want := "invalid 'probes_public' value 'sometimes': not a valid boolean value in section 'unix_http_server'"
	if err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
}

// TestExtensionSections: which kinds of section take which of our keys.
func TestExtensionSections(t *testing.T) {
	c := mustLoad(t, sd+"[fcgi-program:f]\ncommand=x\nsocket=tcp://h:1\ndepends_on=e\nhealthcheck=tcp://h:1\nbackoff=exponential\ncritical=true\nstartretries=unlimited\n"+
		"[eventlistener:e]\ncommand=x\nevents=TICK_5\ndepends_on=g:*\nbackoff=exponential\nbackoff_max=9\ncritical=true\nstartretries=unlimited\n"+
		"[group:g]\nprograms=a\ndepends_on=h\n[program:a]\ncommand=x\n[program:h]\ncommand=x\n")
	if o := ours(t, c); len(o) != 0 {
		t.Errorf("our keys reported as unknown: %q", o)
	}
	for _, g := range c.Groups {
		p := g.Processes[0]
		switch g.Name {
		case "f":
			if p.Health == nil || p.Backoff != BackoffExponential || !p.Critical || !p.StartretriesUnlimited || !slices.Equal(p.DependsOn, []string{"e"}) {
				t.Errorf("fcgi-program: %+v", p.Extensions)
			}
		case "e":
			if p.Backoff != BackoffExponential || p.BackoffMax != 9 || !p.Critical || !p.StartretriesUnlimited || !slices.Equal(p.DependsOn, []string{"g:*"}) {
				t.Errorf("eventlistener: %+v", p.Extensions)
			}
		case "g":
			if !slices.Equal(g.DependsOn, []string{"h"}) || !slices.Equal(p.DependsOn, []string{"h"}) {
				t.Errorf("group: %v, process %v", g.DependsOn, p.DependsOn)
			}
		}
	}
	for _, key := range []string{"healthcheck=tcp://h:1", "healthcheck_interval=5", "on_unhealthy=ignore"} {
		_, path, err := loadAt(t, map[string]string{"s.conf": sd + "[eventlistener:e]\ncommand=x\nevents=TICK_5\n" + key + "\n"})
		k, _, _ := strings.Cut(key, "=")
		want := "key '" + k + "' is not allowed in an eventlistener section in section 'eventlistener:e' (file: '" + path + "')"
		if err == nil || err.Error() != want {
			t.Errorf("%s:\n got %v\nwant %s", key, err, want)
		}
	}
	// Still unknown where they do not belong.
	c = mustLoad(t, sd+"depends_on=x\n[group:g]\nprograms=\nhealthcheck=tcp://h:1\n")
	want := []string{"Ignored unknown key 'depends_on' in section [supervisord]", "Ignored unknown key 'healthcheck' in section [group:g]"}
	if o := ours(t, c); !slices.Equal(o, want) {
		t.Errorf("warnings %q, want %q", o, want)
	}
}

func TestHealthSettingsWithoutCheck(t *testing.T) {
	c := mustLoad(t, sd+"[program:a]\ncommand=x\nnumprocs=2\nprocess_name=a%(process_num)d\nhealthcheck_interval=5\non_unhealthy=ignore\n[program:b]\ncommand=x\nhealthcheck=\nhealthcheck_retries=5\n")
	want := []string{
		"For [program:a], healthcheck_interval is set but healthcheck is not; it has no effect",
		"For [program:a], on_unhealthy is set but healthcheck is not; it has no effect",
	}
	if o := ours(t, c); !slices.Equal(o, want) {
		t.Errorf("warnings %q, want %q", o, want)
	}
	for _, g := range c.Groups {
		for _, p := range g.Processes {
			if p.Health != nil {
				t.Errorf("%s: health %+v", p.Name, p.Health)
			}
		}
	}
}

func TestExtensionExpansion(t *testing.T) {
	c, path, err := loadAt(t, map[string]string{"s.conf": sd + "[program:w]\ncommand=x\nnumprocs=2\nnumprocs_start=1\nprocess_name=w%(process_num)d\n" +
		"environment=PORT=80%(process_num)d\n" +
		"healthcheck=exec:%(here)s/check %(program_name)s %(group_name)s %(process_num)02d %(ENV_PORT)s %(ENV_HOME)s %(host_node_name)s 100%%\n" +
		"depends_on=db%(process_num)d, %(program_name)s_cache\n" +
		"[program:t]\ncommand=x\nenvironment=PORT=5432\nhealthcheck=tcp://127.0.0.1:%(ENV_PORT)s\n" +
		"[program:h]\ncommand=x\nhealthcheck=http://localhost/%(program_name)s?q=%%20\n" +
		"[program:db1]\ncommand=x\n[program:db2]\ncommand=x\n[program:w_cache]\ncommand=x\n" +
		"[group:gg]\nprograms=gm\ndepends_on=%(group_name)s_dep, %(ENV_DEP)s\n[program:gm]\ncommand=x\n[program:gg_dep]\ncommand=x\n[program:envdep]\ncommand=x\n" +
		"[supervisord]\nenvironment=DEP=envdep\n"})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Dir(path)
	procs := map[string]*Process{}
	for _, g := range c.Groups {
		for _, p := range g.Processes {
			procs[p.Name] = p
		}
	}
	for i, name := range []string{"w1", "w2"} {
		p := procs[name]
		num := string(rune('1' + i))
		want := []string{dir + "/check", "w", "w", "0" + num, "80" + num, dir, "node1", "100%"}
		if p.Health == nil || !slices.Equal(p.Health.Argv, want) {
			t.Errorf("%s: health %+v, want argv %q", name, p.Health, want)
		}
		if !slices.Equal(p.DependsOn, []string{"db" + num, "w_cache"}) {
			t.Errorf("%s: depends_on %q", name, p.DependsOn)
		}
	}
	if h := procs["t"].Health; h == nil || h.Target != "127.0.0.1:5432" {
		t.Errorf("t: %+v", h)
	}
	if h := procs["h"].Health; h == nil || h.Target != "http://localhost/h?q=%20" {
		t.Errorf("h: %+v", h)
	}
	if d := procs["gm"].DependsOn; !slices.Equal(d, []string{"gg_dep", "envdep"}) {
		t.Errorf("gm: %q", d)
	}
}

func TestGroupDependsOnMerge(t *testing.T) {
	c := mustLoad(t, sd+"[group:g]\nprograms=a,b\ndepends_on=db, cache\n"+
		"[program:a]\ncommand=x\ndepends_on=q, db\n[program:b]\ncommand=x\nnumprocs=2\nprocess_name=b%(process_num)d\n"+
		"[program:db]\ncommand=x\n[program:cache]\ncommand=x\n[program:q]\ncommand=x\ndepends_on=db\n")
	got := map[string][]string{}
	for _, g := range c.Groups {
		for _, p := range g.Processes {
			got[p.Name] = p.DependsOn
		}
	}
	want := map[string][]string{
		"a": {"db", "cache", "q"}, "b0": {"db", "cache"}, "b1": {"db", "cache"},
		"db": nil, "cache": nil, "q": {"db"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("depends_on %q, want %q", got, want)
	}
}

func TestDependsOnErrors(t *testing.T) {
	other := "[program:db]\ncommand=x\n"
	tests := []struct {
		name, conf, sec, want string
		included              bool // the section comes from inc.conf
	}{
		{"unknown", "[program:a]\ncommand=x\ndepends_on=db, nosuch\n" + other, "program:a",
			"depends_on names 'nosuch', which is no program, group or process", false},
		{"unknowngroup", "[program:a]\ncommand=x\ndepends_on=nosuch:*\n" + other, "program:a",
			"depends_on names 'nosuch:*', which is no group", false},
		{"unknownprocess", "[program:a]\ncommand=x\ndepends_on=db:nosuch\n" + other, "program:a",
			"depends_on names 'db:nosuch', which is no process", false},
		{"unknownfromgroup", "[group:g]\nprograms=a\ndepends_on=nosuch\n[program:a]\ncommand=x\n", "group:g",
			"depends_on names 'nosuch', which is no program, group or process", false},
		{"unknownincluded", "[include]\nfiles=inc.conf\n", "program:i",
			"depends_on names 'nosuch', which is no program, group or process", true},
		{"self", "[program:a]\ncommand=x\ndepends_on=a\n", "program:a", "depends_on cycle: a -> a", false},
		{"selfprocess", "[program:a]\ncommand=x\nnumprocs=2\nprocess_name=a%(process_num)d\ndepends_on=a:a%(process_num)d\n", "program:a",
			"depends_on cycle: a:a0 -> a:a0", false},
		{"two", "[program:a]\ncommand=x\ndepends_on=b\n[program:b]\ncommand=x\ndepends_on=a\n", "program:a",
			"depends_on cycle: a -> b -> a", false},
		{"three", "[program:a]\ncommand=x\ndepends_on=b\n[program:b]\ncommand=x\ndepends_on=c\n[program:c]\ncommand=x\ndepends_on=a\n", "program:a",
			"depends_on cycle: a -> b -> c -> a", false},
		{"threelater", "[program:a]\ncommand=x\ndepends_on=b\n[program:b]\ncommand=x\ndepends_on=c\n[program:c]\ncommand=x\ndepends_on=d,b\n[program:d]\ncommand=x\n", "program:b",
			"depends_on cycle: b -> c -> b", false},
		{"wildcard", "[group:grp]\nprograms=m,n\n[program:m]\ncommand=x\n[program:n]\ncommand=x\ndepends_on=a\n[program:a]\ncommand=x\ndepends_on=grp:*\n", "program:a",
			"depends_on cycle: a -> grp:n -> a", false},
		{"groupself", "[group:grp]\nprograms=m\ndepends_on=grp:*\n[program:m]\ncommand=x\n", "group:grp",
			"depends_on cycle: grp:m -> grp:m", false},
		{"groupedge", "[group:grp]\nprograms=m\ndepends_on=a\n[program:m]\ncommand=x\n[program:a]\ncommand=x\ndepends_on=m\n", "program:a",
			"depends_on cycle: a -> grp:m -> a", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := map[string]string{"s.conf": sd + tt.conf,
				"inc.conf": "[program:i]\ncommand=x\ndepends_on=nosuch\n"}
			_, path, err := loadAt(t, files)
			file := path
			if tt.included {
				file = filepath.Join(filepath.Dir(path), "inc.conf")
			}
			want := tt.want + " in section '" + tt.sec + "' (file: '" + file + "')"
			if err == nil || err.Error() != want {
				t.Errorf("\n got %v\nwant %s", err, want)
			}
			if _, ok := err.(*Error); err != nil && !ok {
				t.Errorf("error type %T", err)
			}
		})
	}
}

func TestResolveDependency(t *testing.T) {
	c := mustLoad(t, sd+"[group:grp]\nprograms=m,n\n[program:m]\ncommand=x\nnumprocs=2\nprocess_name=m%(process_num)d\n[program:n]\ncommand=x\n"+
		"[program:solo]\ncommand=x\n[group:empty]\nprograms=\n[program:o]\ncommand=x\nprocess_name=p1\n")
	names := func(ps []*Process) []string {
		var out []string
		for _, p := range ps {
			out = append(out, p.Group+":"+p.Name)
		}
		return out
	}
	tests := []struct {
		spec string
		want []string
		kind DependencyKind
	}{
		{"solo", []string{"solo:solo"}, DependsProgram},
		{"m", []string{"grp:m0", "grp:m1"}, DependsProgram},
		{"grp", []string{"grp:m0", "grp:m1", "grp:n"}, DependsGroup},
		{"grp:*", []string{"grp:m0", "grp:m1", "grp:n"}, DependsGroup},
		{"grp:m1", []string{"grp:m1"}, DependsProcess},
		{"p1", []string{"o:p1"}, DependsProcess},
		{"m0", []string{"grp:m0"}, DependsProcess},
		{"empty", nil, DependsGroup},
		{"empty:*", nil, DependsGroup},
		{"grp:m", nil, DependsNothing},
		{"nosuch", nil, DependsNothing},
	}
	for _, tt := range tests {
		ps, kind := ResolveDependency(c.Groups, tt.spec)
		if !slices.Equal(names(ps), tt.want) || kind != tt.kind {
			t.Errorf("%s: %q %v, want %q %v", tt.spec, names(ps), kind, tt.want, tt.kind)
		}
	}
}

func TestDiffExtensions(t *testing.T) {
	base := sd + "[group:g]\nprograms=a\n[program:a]\ncommand=x\n[program:db]\ncommand=x\n"
	old := mustLoad(t, base).Groups
	for _, change := range []string{
		"[program:a]\ndepends_on=db\n",
		"[group:g]\ndepends_on=db\n",
		"[program:a]\nhealthcheck=tcp://h:1\n",
		"[program:a]\nbackoff=exponential\n",
		"[program:a]\nbackoff_max=5\n",
		"[program:a]\nstartretries=unlimited\n",
		"[program:a]\ncritical=true\n",
	} {
		_, changed, _ := Diff(old, mustLoad(t, base+change).Groups)
		if !slices.Equal(changed, []string{"g"}) {
			t.Errorf("%q: changed %v, want [g]", change, changed)
		}
	}
	// The same values explicitly: no change.
	_, changed, _ := Diff(old, mustLoad(t, base+"[program:a]\nbackoff=linear\nbackoff_max=0\ncritical=false\ndepends_on=\nhealthcheck=\n").Groups)
	if changed != nil {
		t.Errorf("defaults given explicitly: changed %v", changed)
	}
	withHC := base + "[program:a]\nhealthcheck=exec:/bin/check a\n"
	old = mustLoad(t, withHC).Groups
	for _, change := range []string{
		"healthcheck=exec:/bin/check b\n", "healthcheck_interval=11\n", "healthcheck_timeout=4\n",
		"healthcheck_retries=4\n", "healthcheck_start_period=1\n", "on_unhealthy=ignore\n",
	} {
		_, changed, _ := Diff(old, mustLoad(t, withHC+change).Groups)
		if !slices.Equal(changed, []string{"g"}) {
			t.Errorf("%q: changed %v, want [g]", change, changed)
		}
	}
	// An empty group's depends_on still counts.
	e1 := mustLoad(t, sd+"[group:e]\nprograms=\n[program:db]\ncommand=x\n").Groups
	e2 := mustLoad(t, sd+"[group:e]\nprograms=\ndepends_on=db\n[program:db]\ncommand=x\n").Groups
	if _, changed, _ := Diff(e1, e2); !slices.Equal(changed, []string{"e"}) {
		t.Errorf("empty group depends_on: changed %v", changed)
	}
}

func TestDescribeExtensions(t *testing.T) {
	conf := sd + "[group:cache]\nprograms=redis\n[program:redis]\ncommand=r\n" +
		"[program:db]\ncommand=d\n" +
		"[program:web]\ncommand=w\ndepends_on=db, cache:*, cache:redis, cache\n" +
		"healthcheck=exec:%(here)s/check --name 'a b' it's\nhealthcheck_interval=5\non_unhealthy=shutdown\n" +
		"startretries=unlimited\nbackoff=exponential\nbackoff_max=60\ncritical=true\n" +
		"[program:api]\ncommand=a\nhealthcheck=http://127.0.0.1:8080/health\nbackoff_max=30\n" +
		"[program:pg]\ncommand=p\nhealthcheck=tcp://127.0.0.1:5432\nhealthcheck_start_period=20\nbackoff=exponential\n"
	c, path, err := loadAt(t, map[string]string{"s.conf": strings.Replace(conf, "it's", `"it's"`, 1)})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := c.Describe(&b); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Dir(path)
	block := func(name, cmd string, extra ...string) string {
		lines := []string{"  " + name, "    command:     " + cmd, "    directory:   (inherited)",
			"    stdout log:  AUTO (in childlogdir)", "    stderr log:  AUTO (in childlogdir)",
			"    autostart:   true", "    autorestart: unexpected"}
		return strings.Join(append(lines, extra...), "\n") + "\n"
	}
	want := "config: " + path + "\n" +
		"group api (priority 999)\n" + block("api", "a",
		"    healthcheck: http http://127.0.0.1:8080/health (interval 10s, timeout 3s, retries 3, start period 0s, on_unhealthy restart)",
		"    backoff:     linear, max 30s") +
		"group cache (priority 999)\n" + block("cache:redis", "r") +
		"group db (priority 999)\n" + block("db", "d") +
		"group pg (priority 999)\n" + block("pg", "p",
		"    healthcheck: tcp 127.0.0.1:5432 (interval 10s, timeout 3s, retries 3, start period 20s, on_unhealthy restart)",
		"    backoff:     exponential, no max") +
		"group web (priority 999)\n" + block("web", "w",
		"    depends on:  db (program), cache:* (group), cache:redis (process), cache (group)",
		"    healthcheck: exec "+dir+"/check --name 'a b' 'it'\"'\"'s' (interval 5s, timeout 3s, retries 3, start period 0s, on_unhealthy shutdown)",
		"    startretries: unlimited",
		"    backoff:     exponential, max 60s",
		"    critical:    true")
	if b.String() != want {
		t.Errorf("Describe:\n%s\nwant:\n%s", b.String(), want)
	}
}
