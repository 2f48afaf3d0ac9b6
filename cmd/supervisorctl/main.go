// Command supervisorctl controls a running supervisord: see pkg/ctl.
package main

import (
	"os"
	"runtime/debug"

	"github.com/gosupervisor/gosupervisor/pkg/ctl"
)

func main() {
	// A command lives for milliseconds and decodes answers of thousands of
	// processes (status, fleet status): collecting garbage at the default
	// 100 % growth was a fifth of fleet status's CPU. 400 % trades a few MB
	// of peak memory for it; a GOGC the user sets still wins.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	os.Exit(ctl.Main(os.Args, ctl.ConfigFiles{}, ctl.IO{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr}))
}
