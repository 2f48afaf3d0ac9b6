package compat

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"testing"

	"github.com/gosupervisor/gosupervisor/tests/compat/harness"
)

// emptyValuesConfig sets, empty, every program key the original accepts
// empty (command, process_name, exitcodes, environment, directory,
// serverurl, stdout_logfile, stderr_logfile; any other key empty is a
// config error in both). Nothing is started: the comparison is of the
// configuration as getAllConfigInfo reports it.
const emptyValuesConfig = `[unix_http_server]
file=%(here)s/sv.sock

[supervisord]
logfile=%(here)s/supervisord.log
pidfile=%(here)s/supervisord.pid
childlogdir=%(here)s
identifier=

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[program:allempty]
command=
exitcodes=
environment=
directory=
serverurl=
stdout_logfile=
stderr_logfile=
autostart=false

[program:noname]
command=/bin/sleep 100
process_name=
autostart=false

[program:redirected]
command=/bin/sleep 100
redirect_stderr=true
stdout_logfile=
stderr_logfile=
autostart=false

[program:absent]
command=/bin/sleep 100
stdout_logfile=NONE
autostart=false

[program:auto]
command=/bin/sleep 100
serverurl=AUTO
stdout_logfile=AUTO
autostart=false

[eventlistener:listener]
command=/bin/cat
events=TICK_60
directory=
serverurl=
stdout_logfile=
autostart=false

[fcgi-program:fcgi]
command=/bin/cat
socket=unix://%(here)s/fcgi.sock
directory=
stderr_logfile=
autostart=false
`

// TestEmptyValuesConfigInfo: getAllConfigInfo of a config with empty
// values, field by field against the original, before and after a reread.
func TestEmptyValuesConfigInfo(t *testing.T) {
	t.Parallel()
	requirePython(t)
	start := func(name, bin string) (*harness.Daemon, string) {
		dir := t.TempDir()
		conf := filepath.Join(dir, "supervisord.conf")
		if err := os.WriteFile(conf, []byte(emptyValuesConfig), 0o644); err != nil {
			t.Fatal(err)
		}
		return harness.StartDaemon(t, name, bin, conf, filepath.Join(dir, "sv.sock"), nil), dir
	}
	py, pyDir := start("python", harness.PySupervisord)
	ours, ourDir := start("go", subject())
	mask := func(dir string, r harness.Result) (any, []byte) {
		m := harness.Masker{Dirs: []string{dir}}
		return m.Value(r.Value), []byte(m.Text(string(r.Raw)))
	}
	for _, when := range []string{"start", "after reloadConfig"} {
		if when != "start" {
			for _, d := range []*harness.Daemon{py, ours} {
				if _, err := d.RPC.Value("supervisor.reloadConfig"); err != nil {
					t.Fatalf("%s: %v", d.Name, err)
				}
			}
		}
		want, err := py.RPC.Call("supervisor.getAllConfigInfo")
		if err != nil || want.Fault != nil {
			t.Fatalf("python getAllConfigInfo: %v %v", err, want.Fault)
		}
		got, err := ours.RPC.Call("supervisor.getAllConfigInfo")
		if err != nil || got.Fault != nil {
			t.Fatalf("our getAllConfigInfo: %v %v", err, got.Fault)
		}
		wantV, wantRaw := mask(pyDir, want)
		gotV, gotRaw := mask(ourDir, got)
		compareConfigInfo(t, when, wantV, gotV)
		// With every field equal, the answer must be the original's bytes.
		if !bytes.Equal(wantRaw, gotRaw) {
			t.Errorf("%s: getAllConfigInfo bytes differ; %s", when, harness.FirstDiff(string(wantRaw), string(gotRaw)))
		}
	}
}

// compareConfigInfo reports every differing field of two getAllConfigInfo
// answers.
func compareConfigInfo(t *testing.T, when string, want, got any) {
	t.Helper()
	w, _ := want.([]any)
	g, _ := got.([]any)
	if len(w) != len(g) || len(w) == 0 {
		t.Fatalf("%s: %d entries from the original, %d from ours:\n%s\n%s", when, len(w), len(g), harness.Show(want), harness.Show(got))
	}
	for i := range w {
		wm, _ := w[i].(map[string]any)
		gm, _ := g[i].(map[string]any)
		keys := map[string]bool{}
		for k := range wm {
			keys[k] = true
		}
		for k := range gm {
			keys[k] = true
		}
		sorted := make([]string, 0, len(keys))
		for k := range keys {
			sorted = append(sorted, k)
		}
		sort.Strings(sorted)
		for _, k := range sorted {
			wv, wok := wm[k]
			gv, gok := gm[k]
			// The client decodes <string></string> as nil.
			if wv == nil {
				wv = ""
			}
			if gv == nil {
				gv = ""
			}
			switch {
			case wok && gok && reflect.DeepEqual(wv, gv):
			default:
				t.Errorf("%s: %v.%s: original %s, ours %s", when, harness.Show(wm["name"]), k, harness.Show(wv), harness.Show(gv))
			}
		}
	}
}
