// Package harness runs supervisord daemons (ours and Debian's Python
// original) as subprocesses on temporary configs and talks to them, for the
// cross-implementation tests in tests/compat and tests/deploy.
package harness

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Python's supervisor 4.2.5, the oracle.
const (
	PySupervisord   = "/usr/bin/supervisord"
	PySupervisorctl = "/usr/bin/supervisorctl"
)

// Module is our module path; packages are built by import path so the
// tests work from any directory inside the module.
const Module = "github.com/gosupervisor/gosupervisor"

// Binaries are our freshly built commands.
type Binaries struct {
	Supervisord, Supervisorctl string
}

// Build compiles cmd/supervisord and cmd/supervisorctl into dir.
func Build(dir string) (Binaries, error) {
	b := Binaries{
		Supervisord:   filepath.Join(dir, "supervisord"),
		Supervisorctl: filepath.Join(dir, "supervisorctl"),
	}
	if err := GoBuild(b.Supervisord, Module+"/cmd/supervisord", ""); err != nil {
		return b, err
	}
	if err := GoBuild(b.Supervisorctl, Module+"/cmd/supervisorctl", ""); err != nil {
		return b, err
	}
	return b, nil
}

// GoBuild runs `go build -o out [-ldflags ldflags] pkg`.
func GoBuild(out, pkg, ldflags string) error {
	args := []string{"build", "-o", out}
	if ldflags != "" {
		args = append(args, "-ldflags", ldflags)
	}
	args = append(args, pkg)
	cmd := exec.Command("go", args...)
	if msg, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %w\n%s", pkg, err, msg)
	}
	return nil
}

// CheckPython reports whether the Python original is usable. The tests fail
// without it unless GOSUPERVISOR_NO_PYTHON=1 (then they skip the oracle).
func CheckPython() error {
	for _, p := range []string{PySupervisord, PySupervisorctl} {
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("python supervisor oracle %s: %w (install Debian's supervisor, or set GOSUPERVISOR_NO_PYTHON=1)", p, err)
		}
	}
	return nil
}

// NoPython is true when the user opted out of the Python oracle.
func NoPython() bool { return os.Getenv("GOSUPERVISOR_NO_PYTHON") == "1" }

// ErrNoPython is returned by helpers that need the oracle when it is disabled.
var ErrNoPython = errors.New("python oracle disabled by GOSUPERVISOR_NO_PYTHON=1")

// RunWithBinaries is a TestMain body: it builds the binaries into a fresh
// temp dir (named with prefix) into *bins, runs the tests, removes the dir
// and returns the exit code.
func RunWithBinaries(m *testing.M, prefix string, bins *Binaries) int {
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	if *bins, err = Build(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}
