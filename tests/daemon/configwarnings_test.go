package daemon_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gosupervisor/gosupervisor/pkg/version"
	"github.com/gosupervisor/gosupervisor/tests/compat/harness"
)

// dupConfig writes a config into dir whose [program:dup] appears twice in
// the main file and twice in included files, and [program:inc] in two
// included files, with an RPC socket; it returns the main file's path and
// the warnings we must log, computed from where the headers are.
func dupConfig(t *testing.T, dir string) (string, []string) {
	t.Helper()
	rest := `[unix_http_server]
file=` + dir + `/sv.sock

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[program:dup]
command=/bin/sleep 100
priority=10
autostart=false

[program:dup]
priority=20

[include]
files=conf.d/*.conf
`
	conf := writeConf(t, dir, "", rest)
	files := map[string]string{
		"a.conf": "[program:dup]\nstopwaitsecs=33\n\n[program:inc]\ncommand=/bin/sleep 50\nautostart=false\n",
		"b.conf": "; the second one\n[program:dup]\ncommand=/bin/sleep 200\n[program:inc]\nstartsecs=9\n",
	}
	if err := os.Mkdir(filepath.Join(dir, "conf.d"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, "conf.d", name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	places := func(section string) []string {
		var out []string
		for _, f := range []string{conf, filepath.Join(dir, "conf.d/a.conf"), filepath.Join(dir, "conf.d/b.conf")} {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			name := strings.TrimPrefix(f, dir+"/")
			for i, line := range strings.Split(string(b), "\n") {
				if line == "["+section+"]" {
					out = append(out, fmt.Sprintf("%s line %d", name, i+1))
				}
			}
		}
		return out
	}
	dup, inc := places("program:dup"), places("program:inc")
	if len(dup) != 4 || len(inc) != 2 {
		t.Fatalf("headers found: %v %v", dup, inc)
	}
	return conf, []string{
		"section 'program:dup' appears 4 times (" + strings.Join(dup, ", ") + "); later keys win",
		"section 'program:inc' appears twice (" + strings.Join(inc, ", ") + "); later keys win",
	}
}

var logPrefix = regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} `)

// logLines is the main log without timestamps, pids and dir masked.
func logLines(d *daemon) []string {
	m := harness.Masker{Dirs: []string{d.dir}}
	var out []string
	for _, line := range strings.Split(strings.TrimRight(d.log(), "\n"), "\n") {
		if line != "" {
			out = append(out, m.Text(logPrefix.ReplaceAllString(line, "")))
		}
	}
	return out
}

// TestDuplicateSectionWarnings: repeated sections merge as in the original
// and are named in a WARN at start-up, after the original's own warnings
// and before its infos, and again at each reread. Apart from those lines
// the main log is the original's, at start-up and on reread (where the
// original logs nothing).
func TestDuplicateSectionWarnings(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	conf, warnings := dupConfig(t, dir)
	var want []string
	for _, w := range warnings {
		want = append(want, "WARN "+strings.ReplaceAll(w, dir, "<DIR>"))
	}
	d := startForeground(t, dir, conf)
	d.waitLog(`INFO supervisord started with pid`, 10*time.Second)
	rpc := harness.NewUnixClient(filepath.Join(dir, "sv.sock"))

	// The merged values are the original's (later keys win, across files).
	v, err := rpc.Value("supervisor.getAllConfigInfo")
	if err != nil {
		t.Fatal(err)
	}
	merged := map[string]string{}
	for _, e := range v.([]any) {
		m := e.(map[string]any)
		merged[m["name"].(string)] = fmt.Sprint(m["command"], " ", m["process_prio"], " ", m["stopwaitsecs"], " ", m["startsecs"])
	}
	if w := map[string]string{"dup": "/bin/sleep 200 20 33 1", "inc": "/bin/sleep 50 999 10 9"}; !equalMaps(merged, w) {
		t.Errorf("merged sections: %v, want %v", merged, w)
	}

	started := logLines(d)
	var ours, rest []string
	for _, l := range started {
		if slices.Contains(want, l) {
			ours = append(ours, l)
		} else {
			rest = append(rest, l)
		}
	}
	if !slices.Equal(ours, want) {
		t.Errorf("start-up warnings\n got %q\nwant %q", ours, want)
	}
	if i, j := slices.Index(started, want[0]), slices.IndexFunc(started, func(l string) bool {
		return strings.HasPrefix(l, "INFO Included extra file")
	}); i < 0 || j < i {
		t.Errorf("our warnings must come before the original's infos:\n%s", strings.Join(started, "\n"))
	}

	// A reread logs them again, and nothing else.
	if _, err := rpc.Value("supervisor.reloadConfig"); err != nil {
		t.Fatal(err)
	}
	d.waitCount(regexp.QuoteMeta(warnings[1]), 2, 10*time.Second)
	if reread := logLines(d)[len(started):]; !slices.Equal(reread, want) {
		t.Errorf("reread logged\n%q\nwant\n%q", reread, want)
	}

	py, ok := python(t)
	if !ok {
		return
	}
	pyDir := t.TempDir()
	pyConf, _ := dupConfig(t, pyDir)
	p := startBinary(t, py, pyDir, pyConf, nil)
	p.waitLog(`INFO supervisord started with pid`, 10*time.Second)
	pyStarted := logLines(p)
	if !slices.Equal(rest, pyStarted) {
		t.Errorf("start-up log without our warnings differs from the original's:\n ours:\n%s\n original:\n%s",
			strings.Join(rest, "\n"), strings.Join(pyStarted, "\n"))
	}
	pyRPC := harness.NewUnixClient(filepath.Join(pyDir, "sv.sock"))
	pv, err := pyRPC.Value("supervisor.getAllConfigInfo")
	if err != nil {
		t.Fatal(err)
	}
	pyMerged := map[string]string{}
	for _, e := range pv.([]any) {
		m := e.(map[string]any)
		pyMerged[m["name"].(string)] = fmt.Sprint(m["command"], " ", m["process_prio"], " ", m["stopwaitsecs"], " ", m["startsecs"])
	}
	if !equalMaps(merged, pyMerged) {
		t.Errorf("merged sections: ours %v, original %v", merged, pyMerged)
	}
	// The original answers reloadConfig after logging whatever it logs.
	if _, err := pyRPC.Value("supervisor.reloadConfig"); err != nil {
		t.Fatal(err)
	}
	if after := logLines(p); len(after) != len(pyStarted) {
		t.Errorf("the original logged on reread: %q", after[len(pyStarted):])
	}
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// TestCheckConfigWarnings: --check-config lists every warning, ours and the
// original's, and exits 0; with --strict any warning makes it exit 1, and
// a config without one still exits 0.
func TestCheckConfigWarnings(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	conf, warnings := dupConfig(t, dir)
	stdout, stderr, status := runCmd(t, dir, nil, supervisordBin, "--check-config", "-c", conf)
	if status != 0 || stderr != "" {
		t.Errorf("--check-config: status %d, stderr %q; want 0", status, stderr)
	}
	for _, w := range warnings {
		if !strings.Contains(stdout, "\nWARN "+w+"\n") {
			t.Errorf("--check-config output lacks %q:\n%s", w, stdout)
		}
	}
	if strings.Contains(stdout, "program:dup") && !strings.Contains(stdout, "    command:     /bin/sleep 200\n") {
		t.Errorf("--check-config shows dup unmerged:\n%s", stdout)
	}
	strictOut, stderr, status := runCmd(t, dir, nil, supervisordBin, "--check-config", "--strict", "-c", conf)
	if status != 1 || stderr != "" || strictOut != stdout {
		t.Errorf("--check-config --strict: status %d, stderr %q, output differs %v; want 1, the same output", status, stderr, strictOut != stdout)
	}

	sd := "[supervisord]\nlogfile=" + dir + "/m.log\npidfile=" + dir + "/p.pid\n"
	cases := []struct {
		name, text string
		strict     int
	}{
		{"clean", sd + "[program:a]\ncommand=/bin/true\n", 0},
		{"unknown key", sd + "[program:a]\ncommand=/bin/true\nautostrat=false\n", 1},
		{"unknown section", sd + "[porgram:a]\ncommand=/bin/true\n", 1},
		{"original's warning", sd + "[program:a]\ncommand=/bin/true\nstdout_logfile_maxbytes=0\n", 1},
		{"repeated in one file", sd + "[program:a]\ncommand=/bin/true\n[program:a]\nautostart=false\n", 1},
		{"include info only", sd + "[include]\nfiles=inc/*.conf\n", 0},
	}
	if err := os.Mkdir(filepath.Join(dir, "inc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "inc", "x.conf"), []byte("[program:x]\ncommand=/bin/true\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for i, tc := range cases {
		path := filepath.Join(dir, fmt.Sprintf("case%d.conf", i))
		if err := os.WriteFile(path, []byte(tc.text), 0o644); err != nil {
			t.Fatal(err)
		}
		out, stderr, status := runCmd(t, dir, nil, supervisordBin, "--check-config", "-c", path)
		hasWarn := strings.Contains(out, "\nWARN ")
		if status != 0 || stderr != "" || hasWarn != (tc.strict == 1) {
			t.Errorf("%s: --check-config status %d, stderr %q, output:\n%s", tc.name, status, stderr, out)
		}
		_, _, status = runCmd(t, dir, nil, supervisordBin, "-c", path, "--check-config", "--strict")
		if status != tc.strict {
			t.Errorf("%s: --check-config --strict status %d, want %d", tc.name, status, tc.strict)
		}
	}

	// A broken config is still status 2, strict or not.
	bad := filepath.Join(dir, "bad.conf")
	if err := os.WriteFile(bad, []byte(sd+"[program:x]\ncommand=true\nautostart=maybe\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, status := runCmd(t, dir, nil, supervisordBin, "--check-config", "--strict", "-c", bad); status != 2 {
		t.Errorf("--check-config --strict on a broken config: status %d, want 2", status)
	}
	// --strict alone is a usage error.
	if _, stderr, status := runCmd(t, dir, nil, supervisordBin, "--strict", "-c", bad); status != 2 ||
		stderr != "Error: --strict is only meaningful with --check-config\nFor help, use "+supervisordBin+" -h\n" {
		t.Errorf("--strict alone: status %d, stderr %q", status, stderr)
	}
}

// TestOurOptionsKeepTheOriginalsAbbreviations: our long options do not
// make an abbreviation the original accepts ambiguous (--ch is
// --childlogdir, --st --strip_ansi) or one it rejects valid.
func TestOurOptionsKeepTheOriginalsAbbreviations(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, args := range [][]string{
		{"--ch", "/nonexistent", "-c", "x.conf"},
		{"--st", "-c", "/nonexistent.conf"},
		{"--stri", "-c", "/nonexistent.conf"},
		{"--check", "-c", "/nonexistent.conf"},
		{"--c", "x.conf"},
		{"--s", "-c", "/nonexistent.conf"},
	} {
		stdout, stderr, status := runCmd(t, dir, nil, supervisordBin, args...)
		if status != 2 || stdout != "" || !strings.HasPrefix(stderr, "Error: ") {
			t.Errorf("%q: status %d, stdout %q, stderr %q; want a usage error", args, status, stdout, stderr)
		}
		py, ok := python(t)
		if !ok {
			continue
		}
		pyOut, pyErr, pyStatus := runCmd(t, dir, nil, py, args...)
		if pyStatus != status || pyOut != stdout || strings.ReplaceAll(pyErr, py, supervisordBin) != stderr {
			t.Errorf("%q differs from the original:\n ours: %d %q %q\n  py:  %d %q %q", args, status, stdout, stderr, pyStatus, pyOut, pyErr)
		}
	}
}

// TestVersionFlags: -v prints exactly what the original prints, with its
// status; --version (the original's -v) prints that line first and our
// release on a second line.
func TestVersionFlags(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	want := version.Compat + "\n"
	if py, ok := python(t); ok {
		for _, flag := range []string{"-v", "--version", "--vers"} {
			pyOut, pyErr, pyStatus := runCmd(t, dir, nil, py, flag)
			if pyOut != want || pyErr != "" || pyStatus != 0 {
				t.Fatalf("the original's %s: %q %q status %d; want %q status 0", flag, pyOut, pyErr, pyStatus, want)
			}
		}
	}
	for _, args := range [][]string{{"-v"}, {"-c", "/nonexistent.conf", "-v"}, {"-v", "-c", "/nonexistent.conf"}} {
		stdout, stderr, status := runCmd(t, dir, nil, supervisordBin, args...)
		if stdout != want || stderr != "" || status != 0 {
			t.Errorf("%q: %q %q status %d; want %q status 0", args, stdout, stderr, status, want)
		}
	}
	long := want + version.String() + "\n"
	for _, flag := range []string{"--version", "--vers"} {
		stdout, stderr, status := runCmd(t, dir, nil, supervisordBin, flag)
		if stdout != long || stderr != "" || status != 0 {
			t.Errorf("%s: %q %q status %d; want %q status 0", flag, stdout, stderr, status, long)
		}
	}
}
