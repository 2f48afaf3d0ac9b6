// Package export_test runs the real supervisord binary's `export systemd`
// on the example configs and on a config using every key, and checks
// every generated unit with systemd-analyze verify.
package export_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/gosupervisor/gosupervisor/tests/compat/harness"
)

// Set once by TestMain: the binaries built for this run.
var bins harness.Binaries

func TestMain(m *testing.M) {
	os.Exit(harness.RunWithBinaries(m, "gosupervisor-export-test-", &bins))
}

// repoRoot is the checkout's top directory (tests run in tests/export).
const repoRoot = "../.."

// run is one supervisord invocation.
type run struct {
	stdout, stderr string
	status         int
}

func supervisord(t *testing.T, env []string, args ...string) run {
	t.Helper()
	cmd := exec.Command(bins.Supervisord, args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := run{stdout: out.String(), stderr: errb.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.status = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running supervisord %v: %v", args, err)
	}
	return r
}

// exportAndVerify exports conf into a fresh directory and runs
// systemd-analyze verify on every unit, which must print nothing at all:
// any warning about our units fails the test. It returns the units.
func exportAndVerify(t *testing.T, conf string, env []string) map[string]string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "units")
	r := supervisord(t, env, "export", "systemd", "-c", conf, "-o", out)
	if r.status != 0 {
		t.Fatalf("export exited %d\nstdout:\n%s\nstderr:\n%s", r.status, r.stdout, r.stderr)
	}
	if r.stderr != "" {
		t.Errorf("export warned:\n%s", r.stderr)
	}
	units := readUnits(t, out)
	if len(units) == 0 {
		t.Fatal("no units written")
	}
	verify(t, out, units)
	return units
}

func readUnits(t *testing.T, dir string) map[string]string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	units := map[string]string{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		units[e.Name()] = string(b)
	}
	return units
}

// verify runs systemd-analyze verify on every unit of dir and fails the
// test on any output.
func verify(t *testing.T, dir string, units map[string]string) {
	t.Helper()
	var names []string
	for n := range units {
		names = append(names, n)
	}
	sort.Strings(names)
	out, err := verifyOutput(t, dir, names)
	if err != nil || out != "" {
		t.Errorf("systemd-analyze verify of %d units: %v\n%s", len(names), err, out)
		for _, n := range names {
			t.Logf("=== %s\n%s", n, units[n])
		}
		return
	}
	t.Logf("systemd-analyze verify: %d units, no warnings", len(names))
}

// verifyOutput is what systemd-analyze verify prints about names in dir,
// with dir first on the unit search path so that Requires= between our
// units resolve (the trailing ':' keeps the default path after it).
func verifyOutput(t *testing.T, dir string, names []string) (string, error) {
	t.Helper()
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Fatalf("systemd-analyze is needed (Debian's systemd package): %v", err)
	}
	args := []string{"verify", "--man=no"}
	for _, n := range names {
		args = append(args, filepath.Join(dir, n))
	}
	cmd := exec.Command(analyze, args...)
	cmd.Env = append(os.Environ(), "SYSTEMD_UNIT_PATH="+dir+":")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// stageExample copies an example's config into a temp dir with the
// replacements applied (install paths into that dir), and puts a copy of
// /bin/true at every command path it names: verify checks that the
// command is an executable file, not what it does.
func stageExample(t *testing.T, example string, repl map[string]string, commands, dirs []string, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	src, err := os.ReadFile(filepath.Join(repoRoot, "examples", example, "supervisord.conf"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(src)
	for old, rel := range repl {
		if !strings.Contains(text, old) {
			t.Fatalf("examples/%s/supervisord.conf no longer contains %q; update this test", example, old)
		}
		text = strings.ReplaceAll(text, old, filepath.Join(dir, rel))
	}
	conf := filepath.Join(dir, "supervisord.conf")
	writeFile(t, conf, text, 0o644)
	for _, d := range dirs {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	trueBin, err := os.ReadFile("/bin/true")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range commands {
		writeFile(t, filepath.Join(dir, c), string(trueBin), 0o755)
	}
	for dst, srcRel := range files {
		b, err := os.ReadFile(filepath.Join(repoRoot, "examples", example, srcRel))
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, dst), string(b), 0o644)
	}
	return conf
}

func writeFile(t *testing.T, path, body string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(body), mode); err != nil {
		t.Fatal(err)
	}
}

// examples lay out every example that has a supervisord config.
func examples() map[string]func(t *testing.T) (conf string, env []string) {
	return map[string]func(t *testing.T) (conf string, env []string){
		"monitor": func(t *testing.T) (string, []string) {
			conf := stageExample(t, "monitor", nil, []string{"micro/monitor/monitor"}, []string{"micro/monitor/logs"}, nil)
			return conf, []string{"RUN_MODE=dev"}
		},
		"services": func(t *testing.T) (string, []string) {
			return stageExample(t, "services", nil, []string{"demo/demo"}, nil, nil), nil
		},
		"fleet": func(t *testing.T) (string, []string) {
			// the hub; its edge and py nodes are programs of it
			return stageExample(t, "fleet", map[string]string{"%(here)s/../../bin/supervisord": "bin/supervisord"},
				[]string{"bin/supervisord"}, nil, nil), nil
		},
		"container": func(t *testing.T) (string, []string) {
			return stageExample(t, "container",
				map[string]string{"/usr/local/bin/demo": "usr/local/bin/demo", "/etc/supervisor/demo.env": "etc/supervisor/demo.env"},
				[]string{"usr/local/bin/demo"}, nil, map[string]string{"etc/supervisor/demo.env": "demo.env"}), nil
		},
	}
}

// TestEveryExampleIsCovered fails when an example with a supervisord
// config is added without a layout above (a .conf without [supervisord],
// such as examples/fleet/fleet.conf for supervisorctl, is not one).
func TestEveryExampleIsCovered(t *testing.T) {
	confs, err := filepath.Glob(filepath.Join(repoRoot, "examples", "*", "*.conf"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range confs {
		if b, err := os.ReadFile(c); err != nil || !strings.Contains(string(b), "\n[supervisord]\n") {
			continue
		}
		name := filepath.Base(filepath.Dir(c))
		if _, ok := examples()[name]; !ok || filepath.Base(c) != "supervisord.conf" {
			t.Errorf("%s is not exported by this test; add it to examples", c)
		}
	}
}

func TestExportExamples(t *testing.T) {
	for name, stage := range examples() {
		t.Run(name, func(t *testing.T) {
			conf, env := stage(t)
			exportAndVerify(t, conf, env)
		})
	}
}
