package server

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"go.uber.org/goleak"

	"github.com/gosupervisor/gosupervisor/pkg/spawn"
)

// daemonBin is cmd/supervisord built once for the daemon tests.
var daemonBin string

func TestMain(m *testing.M) {
	// A test that spawns a child through an in-process engine re-executes
	// this binary as the spawn shim: it must become the child, not run the
	// tests again (each copy spawning more, a fork bomb).
	spawn.ShimMain()
	dir, err := os.MkdirTemp("", "server-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	daemonBin = filepath.Join(dir, "supervisord")
	build := exec.Command("go", "build", "-o", daemonBin, "github.com/gosupervisor/gosupervisor/cmd/supervisord")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building supervisord: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goroutine leak:", err)
			code = 1
		}
	}
	os.Exit(code)
}
