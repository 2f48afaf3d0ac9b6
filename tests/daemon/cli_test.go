package daemon_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gosupervisor/gosupervisor/internal/testutil"
)

const pythonSupervisord = "/usr/bin/supervisord"

// runCmd runs bin with args in dir and returns stdout, stderr and status.
func runCmd(t *testing.T, dir string, env []string, bin string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var out, errb testutil.SyncBuffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	return out.String(), errb.String(), exitStatus(err)
}

// python returns the original's binary, failing the test when it is missing
// unless GOSUPERVISOR_NO_PYTHON=1 says the comparison is not wanted.
func python(t *testing.T) (string, bool) {
	t.Helper()
	if _, err := os.Stat(pythonSupervisord); err != nil {
		if os.Getenv("GOSUPERVISOR_NO_PYTHON") == "1" {
			return "", false
		}
		t.Fatalf("the Python original %s is needed as the oracle (set GOSUPERVISOR_NO_PYTHON=1 to skip the comparison): %v", pythonSupervisord, err)
	}
	return pythonSupervisord, true
}

// TestStartupErrors checks the usage and start-up error texts and exit status
// 2, in the foreground and when daemonizing, against the Python original run
// with the same arguments in the same directory.
func TestStartupErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	files := map[string]string{
		"ok.conf":   "[supervisord]\nlogfile=" + dir + "/ok.log\npidfile=" + dir + "/ok.pid\n",
		"nosd.conf": "[program:x]\ncommand=true\n",
		"nologdir.conf": "[supervisord]\nlogfile=" + dir + "/missing/main.log\npidfile=" + dir + "/p.pid\n" +
			"[program:x]\ncommand=sleep 1000\n",
		"nochildlogdir.conf": "[supervisord]\nlogfile=" + dir + "/m.log\npidfile=" + dir + "/p.pid\n" +
			"[program:x]\ncommand=sleep 1000\nstdout_logfile=" + dir + "/missing/x.log\n",
		"badbool.conf": "[supervisord]\nlogfile=" + dir + "/m.log\n[program:x]\ncommand=true\nautostart=maybe\n",
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name string
		args []string
		want string // the message after "Error: "
	}{
		{"unknown option", []string{"--badopt"}, "option --badopt not recognized"},
		{"positional", []string{"-c", "ok.conf", "extra"}, "positional arguments are not supported: ['extra']"},
		{"twice", []string{"-n", "-n", "-c", "ok.conf"}, "conflicting command line option '-n'"},
		{"bad level", []string{"-e", "foo", "-c", "ok.conf"}, "invalid value for -e 'foo': bad logging level name 'foo'"},
		{"bad directory", []string{"-d", "/nonexistent", "-c", "ok.conf"}, "invalid value for -d '/nonexistent': /nonexistent is not an existing directory"},
		{"bad directory daemonizing", []string{"-c", "ok.conf", "-d", "/nonexistent"}, "invalid value for -d '/nonexistent': /nonexistent is not an existing directory"},
		{"missing config", []string{"-c", "/x.conf"}, "could not find config file /x.conf"},
		{"no supervisord section", []string{"-n", "-c", "nosd.conf"}, ".ini file does not include supervisord section"},
		{"config error", []string{"-n", "-c", "badbool.conf"}, "not a valid boolean value: 'maybe' in section 'program:x' (file: 'badbool.conf')"},
		{"config error daemonizing", []string{"-c", "badbool.conf"}, "not a valid boolean value: 'maybe' in section 'program:x' (file: 'badbool.conf')"},
		{"main log directory missing", []string{"-n", "-c", "nologdir.conf"}, "The directory named as part of the path " + dir + "/missing/main.log does not exist"},
		{"main log directory missing daemonizing", []string{"-c", "nologdir.conf"}, "The directory named as part of the path " + dir + "/missing/main.log does not exist"},
		{"child log directory missing", []string{"-n", "-c", "nochildlogdir.conf"}, "The directory named as part of the path " + dir + "/missing/x.log does not exist in section 'program:x' (file: 'nochildlogdir.conf')"},
	}
	py, withPython := python(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, status := runCmd(t, dir, nil, supervisordBin, tc.args...)
			want := "Error: " + tc.want + "\nFor help, use " + supervisordBin + " -h\n"
			if status != 2 || stderr != want || stdout != "" {
				t.Errorf("supervisord %q: status %d, stdout %q, stderr\n%q\nwant status 2, stderr\n%q", tc.args, status, stdout, stderr, want)
			}
			if !withPython {
				return
			}
			pyOut, pyErr, pyStatus := runCmd(t, dir, nil, py, tc.args...)
			pyErr = strings.ReplaceAll(pyErr, py, supervisordBin)
			if pyStatus != status || pyErr != stderr || pyOut != stdout {
				t.Errorf("differs from the original for %q:\n go: %d %q %q\n py: %d %q %q", tc.args, status, stdout, stderr, pyStatus, pyOut, pyErr)
			}
		})
	}
}

func TestVersionAndHelp(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	stdout, stderr, status := runCmd(t, dir, nil, supervisordBin, "-v")
	if status != 0 || stderr != "" || strings.Count(stdout, "\n") != 1 || strings.TrimSpace(stdout) == "" {
		t.Errorf("-v: status %d, stdout %q, stderr %q; want one version line, status 0", status, stdout, stderr)
	}
	for _, flag := range []string{"-h", "--help", "-?"} {
		stdout, stderr, status = runCmd(t, dir, nil, supervisordBin, flag)
		if status != 0 || stderr != "" || !strings.Contains(stdout, "Usage: "+supervisordBin+" [options]") ||
			!strings.Contains(stdout, "-c/--configuration") {
			t.Errorf("%s: status %d, stderr %q, stdout %q", flag, status, stderr, truncate(stdout, 300))
		}
	}
}

func TestCheckConfig(t *testing.T) {
	t.Parallel()
	conf := filepath.Join(repoRoot, "examples/monitor/supervisord.conf")
	stdout, stderr, status := runCmd(t, t.TempDir(), []string{"RUN_MODE=dev"}, supervisordBin, "--check-config", "-c", conf)
	wantCmd := filepath.Join(repoRoot, "examples/monitor/micro/monitor/monitor")
	if status != 0 || stderr != "" || !strings.Contains(stdout, "monitor") || !strings.Contains(stdout, wantCmd) {
		t.Errorf("--check-config on the example: status %d, stderr %q, stdout:\n%s", status, stderr, stdout)
	}

	// Without RUN_MODE the example's %(ENV_RUN_MODE)s cannot expand.
	dir := t.TempDir()
	env := []string{}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "RUN_MODE=") {
			env = append(env, kv)
		}
	}
	cmd := exec.Command(supervisordBin, "--check-config", "-c", conf)
	cmd.Dir, cmd.Env = dir, env
	out, err := cmd.CombinedOutput()
	if st := exitStatus(err); st != 2 || !strings.HasPrefix(string(out), "Error: ") || !strings.Contains(string(out), "ENV_RUN_MODE") {
		t.Errorf("--check-config without RUN_MODE: status %d, output %q; want status 2 and an Error naming ENV_RUN_MODE", st, out)
	}

	bad := filepath.Join(dir, "bad.conf")
	if err := os.WriteFile(bad, []byte("[supervisord]\n[program:x]\ncommand=true\nautorestart=sometimes\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, status = runCmd(t, dir, nil, supervisordBin, "--check-config", "-c", "bad.conf")
	want := "Error: invalid 'autorestart' value 'sometimes' in section 'program:x' (file: 'bad.conf')\nFor help, use " + supervisordBin + " -h\n"
	if status != 2 || stdout != "" || stderr != want {
		t.Errorf("--check-config on a broken config: status %d, stdout %q, stderr %q; want 2 and %q", status, stdout, stderr, want)
	}
	if py, ok := python(t); ok {
		_, pyErr, pyStatus := runCmd(t, dir, nil, py, "-c", "bad.conf")
		if pyStatus != 2 || strings.ReplaceAll(pyErr, py, supervisordBin) != want {
			t.Errorf("the original says %d %q for the broken config, the expectation is %q", pyStatus, pyErr, want)
		}
	}
}
