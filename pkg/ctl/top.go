package ctl

import (
	"errors"
	"net"
	"os"
	"strings"

	"github.com/gosupervisor/gosupervisor/pkg/top"
)

// extraCommands are ours, not the original's: they run and have help
// (`help top`), but `help` does not list them, so that its output stays
// the original's (as `status --json` is not in `help status`).
func extraCommands() map[string]command {
	return map[string]command{
		"top":   {run: noStop(doTop), help: helpTop},
		"fleet": {run: noStop(doFleet), help: helpFleet},
	}
}

func helpTop(c *Controller) {
	helpLines(c,
		"top\t\t\tFull-screen live view of all processes (? for keys, q to quit)")
}

// doTop runs the full-screen view (pkg/top) on this controller's server.
func doTop(c *Controller, arg string) error {
	if arg != "" {
		c.output("Error: top accepts no arguments")
		helpTop(c)
		c.exitStatus = exitGeneric
		return nil
	}
	if f, ok := c.stdinFile(); !ok || !isTerminal(f) || !isTerminal(os.Stdout) {
		c.output("Error: top needs a terminal")
		c.exitStatus = exitGeneric
		return nil
	}
	if ok, err := c.upcheck(); !ok {
		return err
	}
	cl, err := c.rpc()
	if err != nil {
		return err
	}
	err = top.Run(c.ctx, top.Config{
		Client:    cl,
		ServerURL: c.opts.ServerURL,
		FaultCode: faultCode,
		Local:     isLocalServer(c.opts.ServerURL),
	})
	if err != nil {
		c.output("Error: " + err.Error())
		c.exitStatus = exitGeneric
	}
	return nil
}

func faultCode(err error) (int, string, bool) {
	var f *Fault
	if errors.As(err, &f) {
		return f.Code, f.String, true
	}
	return 0, "", false
}

// isLocalServer: a unix socket or a loopback address, whose processes'
// /proc this host can read.
func isLocalServer(url string) bool {
	if strings.HasPrefix(url, "unix://") {
		return true
	}
	rest, ok := strings.CutPrefix(url, "http://")
	if !ok {
		rest, ok = strings.CutPrefix(url, "https://")
	}
	if !ok {
		return false
	}
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	if i := strings.LastIndexByte(rest, '@'); i >= 0 {
		rest = rest[i+1:]
	}
	host, _, err := net.SplitHostPort(rest)
	if err != nil {
		host = strings.Trim(rest, "[]")
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
