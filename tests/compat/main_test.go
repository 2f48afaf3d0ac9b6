// Package compat runs the same configs under our supervisord and Debian's
// Python supervisord 4.2.5 and compares what clients observe: XML-RPC answers
// field by field, and the Python supervisorctl's output and exit status.
//
// GOSUPERVISOR_COMPAT_SUBJECT=/usr/bin/supervisord runs the Python daemon on
// both sides: a self-check that the scenario and its masks are deterministic.
package compat

import (
	"os"
	"testing"

	"github.com/gosupervisor/gosupervisor/tests/compat/harness"
)

// bins is set once by TestMain before any test runs, then only read.
var bins harness.Binaries

func TestMain(m *testing.M) {
	os.Exit(harness.RunWithBinaries(m, "compat-bin-", &bins))
}

// subject is the supervisord under test (ours unless overridden).
func subject() string {
	if s := os.Getenv("GOSUPERVISOR_COMPAT_SUBJECT"); s != "" {
		return s
	}
	return bins.Supervisord
}

// requirePython fails the test when the oracle is missing, or skips it when
// the user opted out with GOSUPERVISOR_NO_PYTHON=1.
func requirePython(t *testing.T) {
	t.Helper()
	if harness.NoPython() {
		t.Skip(harness.ErrNoPython)
	}
	if err := harness.CheckPython(); err != nil {
		t.Fatal(err)
	}
}
