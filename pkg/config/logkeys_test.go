package config

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/gosupervisor/gosupervisor/pkg/shlex"
)

// Keys of EXTENSIONS.md §4–§5: environment_file, *_forward, *_log_format,
// [supervisord] logformat.

func TestLogKeyDefaultsAreZero(t *testing.T) {
	c := mustLoad(t, sd+"environment=A=1\n[program:a]\ncommand=x\nenvironment=B=2\n[eventlistener:e]\ncommand=x\nevents=TICK_5\n[fcgi-program:f]\ncommand=x\nsocket=tcp://h:1\n")
	if c.Supervisord.EnvironmentFile != (EnvFile{}) || c.Supervisord.LogFormat != MainLogText {
		t.Errorf("supervisord: %+v %v", c.Supervisord.EnvironmentFile, c.Supervisord.LogFormat)
	}
	for _, g := range c.Groups {
		for _, p := range g.Processes {
			if !reflect.DeepEqual(p.Extensions, Extensions{}) {
				t.Errorf("%s: %+v", p.Name, p.Extensions)
			}
		}
	}
	if c.UsesExtensions() {
		t.Error("UsesExtensions")
	}
	var b bytes.Buffer
	_ = c.Describe(&b)
	for _, s := range []string{"environment file", "forward", "log format", "logformat"} {
		if strings.Contains(b.String(), s) {
			t.Errorf("Describe names %q:\n%s", s, b.String())
		}
	}
}

func TestLogKeyValues(t *testing.T) {
	tests := []struct {
		keys  string
		check func(p *Process) bool
	}{
		{"stdout_forward=true", func(p *Process) bool { return p.StdoutForward && !p.StderrForward }},
		{"stderr_forward=ON", func(p *Process) bool { return p.StderrForward && !p.StdoutForward }},
		{"stdout_forward=false\nstderr_forward=0", func(p *Process) bool { return !p.StdoutForward && !p.StderrForward }},
		{"stdout_log_format=timestamped", func(p *Process) bool { return p.StdoutLogFormat == LogTimestamped && p.StderrLogFormat == LogRaw }},
		{"stderr_log_format= JSON ", func(p *Process) bool { return p.StderrLogFormat == LogJSON }},
		{"stdout_log_format=Raw", func(p *Process) bool { return p.StdoutLogFormat == LogRaw }},
		{"environment_file=", func(p *Process) bool { return p.EnvironmentFile == EnvFile{} }},
		{"environment_file=%(here)s/%(program_name)s.env", func(p *Process) bool {
			return strings.HasSuffix(p.EnvironmentFile.Path, "/a.env") && filepath.IsAbs(p.EnvironmentFile.Path) &&
				!p.EnvironmentFile.Optional && p.EnvironmentFile.Digest != ""
		}},
		{"environment_file=-%(here)s/missing.env", func(p *Process) bool {
			return strings.HasSuffix(p.EnvironmentFile.Path, "/missing.env") && p.EnvironmentFile.Optional && p.EnvironmentFile.Digest == ""
		}},
		{"environment_file= - %(here)s/./sub/../a.env ", func(p *Process) bool {
			return strings.HasSuffix(p.EnvironmentFile.Path, "/a.env") && !strings.Contains(p.EnvironmentFile.Path, "..") && p.EnvironmentFile.Optional
		}},
		{"environment_file=%(ENV_HOME)s/empty.env", func(p *Process) bool { return p.EnvironmentFile.Path != "" && p.EnvironmentFile.Digest == "" }},
		{"environment_file=~/a.env", func(p *Process) bool {
			return strings.HasSuffix(p.EnvironmentFile.Path, "/a.env") && filepath.IsAbs(p.EnvironmentFile.Path)
		}},
	}
	for _, tt := range tests {
		c, err := load(t, sd+"[program:a]\ncommand=x\n"+tt.keys+"\n", map[string]string{"a.env": "K=v\n", "empty.env": "# nothing\n"})
		if err != nil {
			t.Errorf("%q: %v", tt.keys, err)
			continue
		}
		p := firstProc(t, c)
		if !tt.check(p) {
			t.Errorf("%q gave %+v", tt.keys, p.Extensions)
		}
		if tt.keys != "environment_file=" && tt.keys != "stdout_forward=false\nstderr_forward=0" && tt.keys != "stdout_log_format=Raw" && !c.UsesExtensions() {
			t.Errorf("%q: UsesExtensions() = false", tt.keys)
		}
	}
	// Every process kind takes them.
	c, err := load(t, sd+"environment_file=%(here)s/a.env\nlogformat=JSON\n[eventlistener:e]\ncommand=x\nevents=TICK_5\nenvironment_file=%(here)s/a.env\nstderr_forward=true\nstderr_log_format=json\n[fcgi-program:f]\ncommand=x\nsocket=tcp://h:1\nstdout_forward=yes\nstdout_log_format=timestamped\n",
		map[string]string{"a.env": "K=v\n"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Supervisord.LogFormat != MainLogJSON || !strings.HasSuffix(c.Supervisord.EnvironmentFile.Path, "/a.env") {
		t.Errorf("supervisord: %+v", c.Supervisord)
	}
	for _, g := range c.Groups {
		p := g.Processes[0]
		if p.DaemonEnvironmentFile != c.Supervisord.EnvironmentFile {
			t.Errorf("%s: DaemonEnvironmentFile %+v", p.Name, p.DaemonEnvironmentFile)
		}
		switch g.Name {
		case "e":
			if !p.StderrForward || p.StderrLogFormat != LogJSON || p.EnvironmentFile.Path == "" {
				t.Errorf("e: %+v", p.Extensions)
			}
		case "f":
			if !p.StdoutForward || p.StdoutLogFormat != LogTimestamped {
				t.Errorf("f: %+v", p.Extensions)
			}
		}
	}
	if o := ours(t, c); len(o) != 0 {
		t.Errorf("warnings %q", o)
	}
	if c := mustLoad(t, sd+"logformat=text\n"); c.UsesExtensions() || c.Supervisord.LogFormat != MainLogText {
		t.Error("logformat=text is the default")
	}
}

func TestLogKeyErrors(t *testing.T) {
	const in = " in section 'program:a' (file: '%s')"
	tests := []struct{ keys, want string }{
		{"stdout_forward=maybe", "invalid 'stdout_forward' value 'maybe': not a valid boolean value"},
		{"stderr_forward=", "invalid 'stderr_forward' value '': not a valid boolean value"},
		{"stdout_log_format=xml", "invalid 'stdout_log_format' value 'xml': not raw, timestamped or json"},
		{"stderr_log_format=", "invalid 'stderr_log_format' value '': not raw, timestamped or json"},
		{"environment_file=-", "invalid 'environment_file' value '-': no path after '-'"},
		{"environment_file=%(DIR)s/missing.env", "environment_file '%(DIR)s/missing.env' cannot be read: open %(DIR)s/missing.env: no such file or directory"},
		{"environment_file=%(DIR)s", "environment_file '%(DIR)s' cannot be read: read %(DIR)s: is a directory"},
		{"environment_file=-%(DIR)s", "environment_file '%(DIR)s' cannot be read: read %(DIR)s: is a directory"},
		{"environment_file=%(DIR)s/bad.env", "environment_file '%(DIR)s/bad.env' is not valid: %(DIR)s/bad.env:3: expected '=' after NOEQUALS, not \"\""},
		{"environment_file=-%(DIR)s/bad.env", "environment_file '%(DIR)s/bad.env' is not valid: %(DIR)s/bad.env:3: expected '=' after NOEQUALS, not \"\""},
		{"environment_file=%(nope)s", "Format string '%(nope)s' for 'program:a.environment_file' contains names ('nope') which cannot be expanded. Available names: ENV_HOME, ENV_LC_CTYPE, ENV_PATH, ENV_PCT, ENV_RUN_MODE, ENV_TMPDIR, group_name, here, host_node_name, numprocs, process_num, program_name"},
		// The original's errors come first.
		{"stdout_forward=maybe\nautostart=maybe", "not a valid boolean value: 'maybe'"},
	}
	for _, tt := range tests {
		dir := t.TempDir()
		writeTree(t, dir, map[string]string{"bad.env": "A=1\n\nNOEQUALS\n", "s.conf": sd + "[program:a]\ncommand=x\n" +
			strings.ReplaceAll(tt.keys, "%(DIR)s", dir) + "\n"})
		path := filepath.Join(dir, "s.conf")
		_, err := Load(path, Options{Env: testEnv(dir), Hostname: "node1"})
		want := strings.ReplaceAll(tt.want, "%(DIR)s", dir) + strings.Replace(in, "%s", path, 1)
		if err == nil || err.Error() != want {
			t.Errorf("%q:\n got %v\nwant %s", tt.keys, err, want)
		}
		if _, ok := err.(*Error); err != nil && !ok {
			t.Errorf("%q: error type %T", tt.keys, err)
		}
	}
	if os.Getuid() != 0 {
		dir := t.TempDir()
		writeTree(t, dir, map[string]string{"secret.env": "A=1\n", "s.conf": sd + "[program:a]\ncommand=x\nenvironment_file=-%(here)s/secret.env\n"})
		if err := os.Chmod(filepath.Join(dir, "secret.env"), 0); err != nil {
			t.Fatal(err)
		}
		_, err := Load(filepath.Join(dir, "s.conf"), Options{Env: testEnv(dir)})
		if err == nil || !strings.Contains(err.Error(), "cannot be read: open "+dir+"/secret.env: permission denied in section 'program:a'") {
			t.Errorf("unreadable optional file: %v", err)
		}
	}
	// [supervisord]'s.
	for _, tt := range []struct{ keys, want string }{
		{"logformat=yaml", "invalid 'logformat' value 'yaml': not text or json"},
		{"environment_file=%(here)s/none.env", "environment_file '%(DIR)s/none.env' cannot be read: open %(DIR)s/none.env: no such file or directory"},
		{"environment_file=%(here)s/bad.env", "environment_file '%(DIR)s/bad.env' is not valid: %(DIR)s/bad.env:3: expected '=' after NOEQUALS, not \"\""},
	} {
		dir := t.TempDir()
		writeTree(t, dir, map[string]string{"bad.env": "A=1\n\nNOEQUALS\n", "s.conf": sd + tt.keys + "\n[program:a]\ncommand=x\n"})
		path := filepath.Join(dir, "s.conf")
		_, err := Load(path, Options{Env: testEnv(dir)})
		want := strings.ReplaceAll(tt.want, "%(DIR)s", dir) + " in section 'supervisord' (file: '" + path + "')"
		if err == nil || err.Error() != want {
			t.Errorf("%q:\n got %v\nwant %s", tt.keys, err, want)
		}
	}
}

func TestSpawnEnvironmentPrecedence(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"daemon.env": "ALL=daemon-file\nD_FILE=1\nD_ENV=daemon-file\nP_FILE=daemon-file\nP_ENV=daemon-file\n",
		"prog.env":   "P_FILE=prog-file\nP_ENV=prog-file\nALL=prog-file\n",
		"s.conf": sd + "environment_file=%(here)s/daemon.env\nenvironment=D_ENV=daemon-env,P_FILE=daemon-env,P_ENV=daemon-env,ALL=daemon-env\n" +
			"[program:a]\ncommand=x\nenvironment_file=%(here)s/prog.env\nenvironment=P_ENV=prog-env,ALL=prog-env\n" +
			"[program:b]\ncommand=x\nenvironment=OWN=b\n",
	})
	c, err := Load(filepath.Join(dir, "s.conf"), Options{Env: testEnv(dir)})
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]*Process{}
	for _, g := range c.Groups {
		byName[g.Name] = g.Processes[0]
	}
	env, err := byName["a"].SpawnEnvironment()
	if err != nil {
		t.Fatal(err)
	}
	want := []shlex.KV{{Key: "ALL", Value: "prog-env"}, {Key: "D_FILE", Value: "1"}, {Key: "D_ENV", Value: "daemon-env"},
		{Key: "P_FILE", Value: "prog-file"}, {Key: "P_ENV", Value: "prog-env"}}
	if !slices.Equal(env, want) {
		t.Errorf("a: %v\nwant %v", env, want)
	}
	env, _ = byName["b"].SpawnEnvironment()
	want = []shlex.KV{{Key: "ALL", Value: "daemon-env"}, {Key: "D_FILE", Value: "1"}, {Key: "D_ENV", Value: "daemon-env"},
		{Key: "P_FILE", Value: "daemon-env"}, {Key: "P_ENV", Value: "daemon-env"}, {Key: "OWN", Value: "b"}}
	if !slices.Equal(env, want) {
		t.Errorf("b: %v\nwant %v", env, want)
	}
	// Re-read at every call: a changed file is seen, a vanished one is an error.
	writeTree(t, dir, map[string]string{"prog.env": "P_FILE=rotated\n"})
	env, _ = byName["a"].SpawnEnvironment()
	if i := slices.IndexFunc(env, func(kv shlex.KV) bool { return kv.Key == "P_FILE" }); i < 0 || env[i].Value != "rotated" {
		t.Errorf("after the change: %v", env)
	}
	if err := os.Remove(filepath.Join(dir, "prog.env")); err != nil {
		t.Fatal(err)
	}
	if _, err := byName["a"].SpawnEnvironment(); err == nil || err.Error() != "environment_file '"+dir+"/prog.env' cannot be read: open "+dir+"/prog.env: no such file or directory" {
		t.Errorf("after removal: %v", err)
	}
	// Without environment files: Environment itself, no file read.
	c = mustLoad(t, sd+"environment=A=1\n[program:a]\ncommand=x\nenvironment=B=2\n")
	p := firstProc(t, c)
	if env, err := p.SpawnEnvironment(); err != nil || !slices.Equal(env, p.Environment) || len(env) != 2 {
		t.Errorf("no files: %v %v", env, err)
	}
}

func TestEnvironmentFileDiff(t *testing.T) {
	dir := t.TempDir()
	conf := sd + "[program:a]\ncommand=x\nenvironment_file=%(here)s/a.env\n[program:b]\ncommand=x\nenvironment_file=-%(here)s/b.env\n[program:c]\ncommand=x\n"
	writeTree(t, dir, map[string]string{"s.conf": conf, "a.env": "K=1\n"})
	path := filepath.Join(dir, "s.conf")
	loadGroups := func() []*Group {
		t.Helper()
		c, err := Load(path, Options{Env: testEnv(dir)})
		if err != nil {
			t.Fatal(err)
		}
		return c.Groups
	}
	old := loadGroups()
	steps := []struct {
		files   map[string]string
		changed []string
	}{
		{nil, nil},
		{map[string]string{"a.env": "# a comment now\nexport K='1'   # same value\n"}, nil},
		{map[string]string{"a.env": "K=2\n"}, []string{"a"}},
		{map[string]string{"b.env": ""}, nil}, // empty = missing optional
		{map[string]string{"b.env": "X=1\n"}, []string{"b"}},
		{map[string]string{"s.conf": conf + "environment=X=1\n"}, []string{"c"}},
		{map[string]string{"s.conf": strings.Replace(conf, "[supervisord]\n", "[supervisord]\nenvironment_file=%(here)s/a.env\n", 1)}, []string{"a", "b", "c"}},
	}
	for i, st := range steps {
		writeTree(t, dir, st.files)
		next := loadGroups()
		if _, changed, _ := Diff(old, next); !slices.Equal(changed, st.changed) {
			t.Errorf("step %d: changed %v, want %v", i, changed, st.changed)
		}
		old = next
	}
	// A changed [supervisord] file changes every program that reads it.
	writeTree(t, dir, map[string]string{"a.env": "K=3\n"})
	if _, changed, _ := Diff(old, loadGroups()); !slices.Equal(changed, []string{"a", "b", "c"}) {
		t.Errorf("daemon file changed: %v", changed)
	}
}

func TestDescribeLogKeys(t *testing.T) {
	c, err := load(t, sd+"environment_file=-%(here)s/d.env\nlogformat=json\n[program:a]\ncommand=x\nenvironment_file=%(here)s/a.env\nstdout_forward=true\nstderr_log_format=timestamped\nstdout_log_format=json\nstderr_forward=true\n", map[string]string{"a.env": "A=1\n"})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	_ = c.Describe(&b)
	out := b.String()
	dir := filepath.Dir(c.Path)
	for _, want := range []string{
		"config: " + c.Path + "\nsupervisord environment file: " + dir + "/d.env (optional)\nsupervisord logformat: json\n",
		"    environment file: " + dir + "/a.env\n    stdout forward: true\n    stdout log format: json\n    stderr forward: true\n    stderr log format: timestamped\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("Describe lacks %q:\n%s", want, out)
		}
	}
}
