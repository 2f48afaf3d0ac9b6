// Package pidproxy runs Debian's /usr/bin/pidproxy (supervisor 4.2.5 on
// Python 3.11) and our cmd/pidproxy side by side on the same daemonizing
// programs and compares what can be observed: output bytes, exit statuses,
// signals the daemon receives, when each exits, the daemon's argv,
// environment and signal dispositions; then both under both supervisords.
//
// The Python side is the oracle: its tests fail without it unless
// GOSUPERVISOR_NO_PYTHON=1, which keeps only the checks of ours.
package pidproxy

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/gosupervisor/gosupervisor/tests/compat/harness"
)

// debianPidproxy is the original.
const debianPidproxy = "/usr/bin/pidproxy"

// built are our binaries, set once by TestMain before any test runs.
var built struct {
	harness.Binaries
	Pidproxy string
}

func TestMain(m *testing.M) {
	os.Exit(buildAndRun(m))
}

func buildAndRun(m *testing.M) int {
	dir, err := os.MkdirTemp("", "pidproxy-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	built.Pidproxy = filepath.Join(dir, "pidproxy")
	if err := harness.GoBuild(built.Pidproxy, harness.Module+"/cmd/pidproxy", ""); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if built.Binaries, err = harness.Build(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}
