// Command supervisord is the process control daemon, a drop-in replacement
// for the original's supervisord.
package main

import (
	"os"
	"os/signal"

	"github.com/gosupervisor/gosupervisor/pkg/daemon"
	"github.com/gosupervisor/gosupervisor/pkg/spawn"
)

func main() {
	// Children are started through a re-exec of this binary (umask, chdir,
	// setuid in the child); in that role it never returns.
	spawn.ShimMain()
	// The original ignores SIGPIPE and SIGXFSZ and its children inherit that;
	// with it in place spawn can fork/exec directly instead of via the shim.
	signal.Ignore(spawn.IgnoredSignals()...)
	os.Exit(daemon.Main(os.Args, os.Stdout, os.Stderr, daemon.Deps{HTTP: httpServers}))
}
