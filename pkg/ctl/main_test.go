package ctl

import (
	"os"
	"testing"
)

// TestMain lets the test binary act as supervisorctl when re-executed.
func TestMain(m *testing.M) {
	if os.Getenv("GOSUPERVISORCTL_AS_MAIN") == "1" {
		os.Exit(Main(os.Args, ConfigFiles{}, IO{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr}))
	}
	os.Exit(setupAndRun(m))
}
