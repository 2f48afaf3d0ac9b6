// Command pidproxy runs a command that daemonizes itself and relays
// signals to the pid in its pidfile, exactly like supervisor 4.2.5's
// pidproxy (Debian's /usr/bin/pidproxy):
//
//	[program:app]
//	command=pidproxy /var/run/app.pid /usr/sbin/app args
//
// See package pidproxy for the behaviour, kept byte for byte.
package main

import (
	"os"

	"github.com/gosupervisor/gosupervisor/pkg/pidproxy"
)

func main() {
	os.Exit(pidproxy.Main(os.Args, os.Environ()))
}
