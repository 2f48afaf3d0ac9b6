package ctl

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gosupervisor/gosupervisor/pkg/config"
	"github.com/gosupervisor/gosupervisor/pkg/fleet"
)

// `supervisorctl fleet` (EXTENSIONS §8): status, start, stop, restart and
// tail over every [remote:NAME] of the config file, nodes asked in
// parallel, lines in the original's formats prefixed with "node:".

// exitUnavailable (sysexits' EX_UNAVAILABLE) is fleet's exit status when a
// node is unreachable or refused our credentials, so that scripts tell
// "a process is down" (3) from "a host is down".
const exitUnavailable = 69

// fleetTimeout bounds each node's answer.
const fleetTimeout = 5 * time.Second

func helpFleet(c *Controller) {
	helpLines(c,
		"fleet status [NODE[:NAME] ...]\tStatus of every [remote:NAME] node's processes",
		"fleet start NODE:NAME ...\tStart processes on nodes (NODE:GROUP:*, NODE:all)",
		"fleet stop NODE:NAME ...\tStop processes on nodes",
		"fleet restart NODE:NAME ...\tRestart processes on nodes",
		"fleet tail [-f] [-BYTES] NODE:NAME [stdout|stderr]\tTail a process log on a node")
}

func doFleet(c *Controller, arg string) error {
	words := strings.Fields(arg)
	if len(words) == 0 {
		c.output("Error: fleet requires a command (status, start, stop, restart or tail)")
		helpFleet(c)
		c.exitStatus = exitInvalidArgs
		return nil
	}
	sub, args := words[0], words[1:]
	if sub != "status" && sub != "start" && sub != "stop" && sub != "restart" && sub != "tail" {
		c.output("Error: unknown fleet command " + sub)
		helpFleet(c)
		c.exitStatus = exitInvalidArgs
		return nil
	}
	targets, ok := c.fleetTargets()
	if !ok {
		return nil
	}
	switch sub {
	case "status":
		fleetStatus(c, targets, args)
	case "tail":
		fleetTail(c, targets, args)
	default:
		fleetAction(c, targets, sub, args)
	}
	return nil
}

// fleetTargets reads the [remote:NAME] sections of the config file.
func (c *Controller) fleetTargets() ([]fleet.Target, bool) {
	fail := func(msg string) ([]fleet.Target, bool) {
		c.output("Error: " + msg)
		c.exitStatus = exitInvalidArgs
		return nil, false
	}
	path := c.opts.ConfigPath
	if path == "" {
		return fail("fleet needs a config file with [remote:NAME] sections (-c FILE)")
	}
	rs, err := config.LoadRemotes(path, config.Options{})
	if err != nil {
		return fail(err.Error())
	}
	if len(rs) == 0 {
		return fail("no [remote:NAME] sections in " + path)
	}
	return fleet.Targets(rs), true
}

// selection maps each chosen node (in target order) to its namespecs.
type selection struct {
	targets []fleet.Target
	specs   [][]string
	errs    []string // arguments naming no node
}

// selectNodes groups NODE:NAME arguments by node, nodes in target (name)
// order; a bare NODE means NODE:all when bare is allowed, no arguments
// every node.
func selectNodes(targets []fleet.Target, args []string, bare bool) selection {
	var s selection
	specs := map[string][]string{}
	if len(args) == 0 && bare {
		for _, t := range targets {
			specs[t.Name] = []string{"all"}
		}
	}
	for _, a := range args {
		name, spec, found := strings.Cut(a, ":")
		_, ok := findTarget(targets, name)
		switch {
		case !ok:
			s.errs = append(s.errs, name+": ERROR (no such node)")
		case !found && !bare, found && spec == "":
			s.errs = append(s.errs, a+": ERROR (name a process as NODE:NAME)")
		case !found:
			specs[name] = append(specs[name], "all")
		default:
			specs[name] = append(specs[name], spec)
		}
	}
	for _, t := range targets {
		if sp, ok := specs[t.Name]; ok {
			s.targets = append(s.targets, t)
			s.specs = append(s.specs, sp)
		}
	}
	return s
}

func findTarget(targets []fleet.Target, name string) (fleet.Target, bool) {
	for _, t := range targets {
		if t.Name == name {
			return t, true
		}
	}
	return fleet.Target{}, false
}

// downLine is the one line of a node that did not answer.
func downLine(name string, st fleet.State, reason string) string {
	return fmt.Sprintf("%s: %s (%s)", name, strings.ToUpper(string(st)), reason)
}

// fleetStatus asks the chosen nodes at once and prints their processes
// with the original's status columns, nodes in name order.
func fleetStatus(c *Controller, targets []fleet.Target, args []string) {
	sel := selectNodes(targets, args, true)
	for _, e := range sel.errs {
		c.output(e)
		c.exitStatus = statusUnknown
	}
	nodes := fleet.Query(c.ctx, sel.targets, fleetTimeout)
	type row struct{ name, state, desc string }
	var lines [][]any // per node: error strings and rows, in order
	width := 30
	down, stopped := false, false
	for i, n := range nodes {
		var out []any
		if n.State != fleet.Up {
			out = append(out, downLine(n.Name, n.State, n.Error))
			down = true
		} else {
			errs, ps := matchProcesses(n.Processes, sel.specs[i])
			for _, e := range errs {
				out = append(out, n.Name+":"+e)
				c.exitStatus = statusUnknown
			}
			for _, p := range ps {
				r := row{n.Name + ":" + namespec(p.Group, p.Name), p.Statename, p.Description}
				width = max(width, utf8.RuneCountInString(r.name))
				out = append(out, r)
				stopped = stopped || stoppedState(int64(p.State))
			}
		}
		lines = append(lines, out)
	}
	for _, out := range lines {
		for _, l := range out {
			switch l := l.(type) {
			case string:
				c.output(l)
			case row:
				c.output(padRight(l.name, width+3) + padRight(l.state, 10) + l.desc)
			}
		}
	}
	switch {
	case down:
		c.exitStatus = exitUnavailable
	case stopped:
		c.exitStatus = statusNotRunning
	}
}

// matchProcesses is status's name matching on one node's list.
func matchProcesses(all []fleet.Process, specs []string) ([]string, []fleet.Process) {
	if contains(specs, "all") {
		return nil, all
	}
	var errs []string
	var out []fleet.Process
	for _, spec := range specs {
		group, process, isGroup := splitNamespec(spec)
		bad := true
		for _, p := range all {
			if p.Group == group && (isGroup || p.Name == process) {
				bad = false
				out = append(out, p)
			}
		}
		switch {
		case bad && isGroup:
			errs = append(errs, group+": ERROR (no such group)")
		case bad:
			errs = append(errs, spec+": ERROR (no such process)")
		}
	}
	return errs, out
}

// nodeController is a controller on one node whose output goes to w.
func (c *Controller) nodeController(t fleet.Target, w io.Writer, errw io.Writer) *Controller {
	opts := *c.opts
	opts.ServerURL, opts.Username, opts.Password, opts.TLS = t.Serverurl, t.Username, t.Password, t.TLS
	opts.Interactive = false
	return &Controller{opts: &opts, io: IO{Stdin: c.io.Stdin, Stdout: w, Stderr: errw},
		out: &lockedWriter{w: w}, in: c.in, ctx: c.ctx}
}

// reach checks that a node answers; when it does not, it prints the
// node's one line and sets exit 69.
func (c *Controller) reach(node *Controller, name string, w io.Writer) bool {
	var api string
	err := node.call("supervisor.getVersion", &api)
	if _, isFault := faultOf(err); err == nil || isFault {
		return true // a fault is an answer: the command's upcheck reports it
	}
	st, reason := fleet.Failure(err)
	io.WriteString(w, downLine(name, st, reason)+"\n")
	node.exitStatus = exitUnavailable
	return false
}

// runOnNode runs one of the original's commands on a node, rendering an
// unexpected error as the original's catch-all line.
func runOnNode(node *Controller, run func(*Controller, string) error, arg string) {
	if err := run(node, arg); err != nil {
		node.output(genericErrorLine(err, node.opts.ServerURL))
		node.exitStatus = exitGeneric
	}
}

// fleetAction runs start, stop or restart on every chosen node at once,
// each node's lines prefixed with "node:", printed in name order. The
// exit status is 69 when a node did not answer, else the worst node's.
func fleetAction(c *Controller, targets []fleet.Target, verb string, args []string) {
	if len(args) == 0 {
		c.output("Error: fleet " + verb + " requires NODE:NAME (NODE:GROUP:*, NODE:all)")
		helpFleet(c)
		c.exitStatus = exitInvalidArgs
		return
	}
	run := map[string]func(*Controller, string) error{"start": doStart, "stop": doStop, "restart": doRestart}[verb]
	sel := selectNodes(targets, args, false)
	for _, e := range sel.errs {
		c.output(e)
		c.exitStatus = exitInvalidArgs
	}
	bufs := make([]bytes.Buffer, len(sel.targets))
	exits := make([]int, len(sel.targets))
	var wg sync.WaitGroup
	for i, t := range sel.targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pw := &prefixWriter{prefix: t.Name + ":", w: &bufs[i]}
			node := c.nodeController(t, pw, pw)
			defer node.close()
			if c.reach(node, t.Name, &bufs[i]) {
				runOnNode(node, run, strings.Join(sel.specs[i], " "))
			}
			exits[i] = node.exitStatus
		}()
	}
	wg.Wait()
	for i := range bufs {
		c.out.Write(bufs[i].Bytes())
		c.exitStatus = worseExit(c.exitStatus, exits[i])
	}
}

// worseExit combines two nodes' exit statuses: 69 wins, else the higher.
func worseExit(a, b int) int {
	if a == exitUnavailable || b == exitUnavailable {
		return exitUnavailable
	}
	return max(a, b)
}

// fleetTail is the original's tail on one node: [-f] [-BYTES] NODE:NAME
// [stdout|stderr], the log's bytes unprefixed.
func fleetTail(c *Controller, targets []fleet.Target, args []string) {
	i := 0
	for i < len(args) && strings.HasPrefix(args[i], "-") {
		i++
	}
	if i == len(args) {
		c.output("Error: fleet tail requires NODE:NAME")
		helpFleet(c)
		c.exitStatus = exitInvalidArgs
		return
	}
	nodeName, name, found := strings.Cut(args[i], ":")
	t, ok := findTarget(targets, nodeName)
	switch {
	case !ok:
		c.output(nodeName + ": ERROR (no such node)")
		c.exitStatus = exitInvalidArgs
		return
	case !found || name == "":
		c.output("Error: fleet tail requires NODE:NAME")
		c.exitStatus = exitInvalidArgs
		return
	}
	rest := append(append(append([]string(nil), args[:i]...), name), args[i+1:]...)
	node := c.nodeController(t, c.out, c.io.Stderr)
	defer node.close()
	if c.reach(node, t.Name, c.out) {
		runOnNode(node, doTail, strings.Join(rest, " "))
	}
	c.exitStatus = node.exitStatus
}

// prefixWriter starts every line with prefix ("node:").
type prefixWriter struct {
	prefix string
	w      io.Writer
	mid    bool // inside a line
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	var out []byte
	for _, ch := range b {
		if !p.mid {
			out = append(out, p.prefix...)
		}
		out = append(out, ch)
		p.mid = ch != '\n'
	}
	if _, err := p.w.Write(out); err != nil {
		return 0, err
	}
	return len(b), nil
}
