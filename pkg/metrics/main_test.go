package metrics

import (
	"os"
	"testing"

	"github.com/gosupervisor/gosupervisor/pkg/spawn"
)

// TestMain lets this binary serve as the spawn shim: a child spawned by a
// test's in-process engine re-executes it, and must not run the tests.
func TestMain(m *testing.M) {
	spawn.ShimMain()
	os.Exit(m.Run())
}
