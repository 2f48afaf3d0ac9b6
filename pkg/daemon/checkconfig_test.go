package daemon

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// checkConf writes conf and runs supervisord --check-config [--strict] on it.
func checkConf(t *testing.T, conf string, strict bool) (stdout, stderr, path string, status int) {
	t.Helper()
	dir := t.TempDir()
	path = filepath.Join(dir, "s.conf")
	conf = "[supervisord]\nlogfile=%(here)s/s.log\npidfile=%(here)s/s.pid\nchildlogdir=%(here)s\n" + conf
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	argv := []string{"supervisord", "--check-config", "-c", path}
	if strict {
		argv = append(argv, "--strict")
	}
	var out, errOut bytes.Buffer
	status = Main(argv, &out, &errOut, Deps{})
	return out.String(), errOut.String(), path, status
}

// TestCheckConfigExtensions: --check-config shows the resolved values of
// our keys, and only for the programs that use them.
func TestCheckConfigExtensions(t *testing.T) {
	stdout, stderr, _, status := checkConf(t, "[program:db]\ncommand=/bin/db\nhealthcheck=tcp://127.0.0.1:5432\n"+
		"[group:cache]\nprograms=redis\n[program:redis]\ncommand=/bin/redis\n"+
		"[program:web]\ncommand=/bin/web\ndepends_on=db, cache:*\nstartretries=unlimited\nbackoff=exponential\nbackoff_max=60\ncritical=true\n", false)
	if status != 0 || stderr != "" {
		t.Fatalf("status %d, stderr %q", status, stderr)
	}
	for _, want := range []string{
		"  db\n    command:     /bin/db\n    directory:   (inherited)\n    stdout log:  AUTO (in childlogdir)\n    stderr log:  AUTO (in childlogdir)\n    autostart:   true\n    autorestart: unexpected\n" +
			"    healthcheck: tcp 127.0.0.1:5432 (interval 10s, timeout 3s, retries 3, start period 0s, on_unhealthy restart)\n",
		"    autorestart: unexpected\n    depends on:  db (program), cache:* (group)\n    startretries: unlimited\n    backoff:     exponential, max 60s\n    critical:    true\n",
		"  cache:redis\n    command:     /bin/redis\n    directory:   (inherited)\n    stdout log:  AUTO (in childlogdir)\n    stderr log:  AUTO (in childlogdir)\n    autostart:   true\n    autorestart: unexpected\ngroup db",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks\n%s\nin\n%s", want, stdout)
		}
	}
}

// TestCheckConfigWithoutExtensions: a config without our keys prints the
// lines it always printed, no more.
func TestCheckConfigWithoutExtensions(t *testing.T) {
	stdout, _, path, status := checkConf(t, "[program:a]\ncommand=/bin/a\n", false)
	want := "config: " + path + "\ngroup a (priority 999)\n  a\n    command:     /bin/a\n    directory:   (inherited)\n" +
		"    stdout log:  AUTO (in childlogdir)\n    stderr log:  AUTO (in childlogdir)\n    autostart:   true\n    autorestart: unexpected\n"
	if status != 0 || stdout != want {
		t.Errorf("status %d, output:\n%s\nwant:\n%s", status, stdout, want)
	}
}

func TestCheckConfigExtensionErrors(t *testing.T) {
	for _, tc := range []struct{ conf, msg string }{
		{"[program:a]\ncommand=x\ndepends_on=b\n[program:b]\ncommand=x\ndepends_on=a\n", "depends_on cycle: a -> b -> a in section 'program:a'"},
		{"[program:a]\ncommand=x\ndepends_on=nosuch\n", "depends_on names 'nosuch', which is no program, group or process in section 'program:a'"},
		{"[program:a]\ncommand=x\nbackoff=fast\n", "invalid 'backoff' value 'fast': not linear or exponential in section 'program:a'"},
	} {
		stdout, stderr, path, status := checkConf(t, tc.conf, false)
		want := "Error: " + tc.msg + " (file: '" + path + "')\nFor help, use supervisord -h\n"
		if status != 2 || stdout != "" || stderr != want {
			t.Errorf("status %d, stdout %q, stderr %q; want 2 and %q", status, stdout, stderr, want)
		}
	}
	// Our warning for healthcheck_* without healthcheck fails --strict.
	stdout, _, _, status := checkConf(t, "[program:a]\ncommand=x\nhealthcheck_interval=5\n", true)
	if status != 1 || !strings.Contains(stdout, "WARN For [program:a], healthcheck_interval is set but healthcheck is not; it has no effect\n") {
		t.Errorf("--strict: status %d, output:\n%s", status, stdout)
	}
}
