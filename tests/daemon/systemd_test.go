package daemon_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The shipped unit passes systemd-analyze verify (pointed at a copy of
// our binary: verify checks that ExecStart exists) without a warning, and
// says what it promises: Type=notify, Debian's config path, SIGHUP reload.
func TestSystemdUnitVerifies(t *testing.T) {
	t.Parallel()
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Fatalf("systemd-analyze is needed (Debian's systemd package; make test-deps installs it): %v", err)
	}
	src, err := os.ReadFile(filepath.Join(repoRoot, "examples/systemd/supervisord.service"))
	if err != nil {
		t.Fatal(err)
	}
	unit := string(src)
	for _, want := range []string{
		"\nType=notify\n",
		"\nExecStart=/usr/local/bin/supervisord -n -c /etc/supervisor/supervisord.conf\n",
		"\nExecReload=/bin/kill -HUP $MAINPID\n",
		"\nKillMode=mixed\n",
		"\nWantedBy=multi-user.target\n",
	} {
		if !strings.Contains(unit, want) {
			t.Errorf("unit lacks %q", strings.TrimSpace(want))
		}
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "supervisord")
	data, err := os.ReadFile(supervisordBin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "supervisord.service")
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(unit, "/usr/local/bin/supervisord", bin)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(analyze, "verify", path).CombinedOutput()
	if err != nil {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
	// verify only warns about unknown keys and bad values: any line about
	// our unit is a failure.
	for _, line := range strings.Split(string(out), "\n") {
		if strings.Contains(line, "supervisord.service") || strings.Contains(line, dir) {
			t.Errorf("systemd-analyze verify: %s", line)
		}
	}
	// The config path is the one Debian's supervisor package installs, and
	// what it includes is where Debian's unit expects programs.
	if deb, err := os.ReadFile("/lib/systemd/system/supervisor.service"); err == nil &&
		!strings.Contains(string(deb), "-c /etc/supervisor/supervisord.conf") {
		t.Errorf("Debian's unit no longer uses /etc/supervisor/supervisord.conf:\n%s", deb)
	}
	if _, err := os.Stat("/etc/supervisor/supervisord.conf"); err == nil {
		if out, err := exec.Command(bin, "--check-config", "-c", "/etc/supervisor/supervisord.conf").CombinedOutput(); err != nil {
			t.Errorf("our supervisord refuses Debian's config: %v\n%s", err, out)
		}
	}
}
