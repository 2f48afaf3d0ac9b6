// Command supervisorctl controls a running supervisord: see pkg/ctl.
package main

import (
	"os"

	"github.com/gosupervisor/gosupervisor/pkg/ctl"
)

func main() {
	os.Exit(ctl.Main(os.Args, ctl.ConfigFiles{}, ctl.IO{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr}))
}
