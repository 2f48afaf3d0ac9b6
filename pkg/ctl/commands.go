package ctl

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"unicode/utf8"

	"github.com/gosupervisor/gosupervisor/pkg/pyfmt"
)

// command is one entry of the command table shared by argv mode and the shell.
type command struct {
	run  func(c *Controller, arg string) (stop bool, err error)
	help func(c *Controller)
}

// commandTable lists every command. "EOF" and "help" live at the
// controller level in the original, the rest in its default plugin; the
// help topic list shows only the latter (see topicNames).
func commandTable() map[string]command {
	return map[string]command{
		"EOF":      {run: doEOF, help: helpEOF},
		"help":     {run: doHelp, help: helpHelp},
		"add":      {run: noStop(doAdd), help: helpAdd},
		"avail":    {run: noStop(doAvail), help: helpAvail},
		"clear":    {run: noStop(doClear), help: helpClear},
		"exit":     {run: doEOF, help: helpExit},
		"fg":       {run: noStop(doFg), help: helpFg},
		"maintail": {run: noStop(doMaintail), help: helpMaintail},
		"open":     {run: noStop(doOpen), help: helpOpen},
		"pid":      {run: noStop(doPid), help: helpPid},
		"quit":     {run: doEOF, help: helpQuit},
		"reload":   {run: noStop(doReload), help: helpReload},
		"remove":   {run: noStop(doRemove), help: helpRemove},
		"reread":   {run: noStop(doReread), help: helpReread},
		"restart":  {run: noStop(doRestart), help: helpRestart},
		"shutdown": {run: noStop(doShutdown), help: helpShutdown},
		"signal":   {run: noStop(doSignal), help: helpSignal},
		"start":    {run: noStop(doStart), help: helpStart},
		"status":   {run: noStop(doStatus), help: helpStatus},
		"stop":     {run: noStop(doStop), help: helpStop},
		"tail":     {run: noStop(doTail), help: helpTail},
		"update":   {run: noStop(doUpdate), help: helpUpdate},
		"version":  {run: noStop(doVersion), help: helpVersion},
	}
}

// topicNames are the commands listed by "help" (the original's default
// plugin commands that have help).
func topicNames() []string {
	var names []string
	for n := range commandTable() {
		if n != "EOF" && n != "help" {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names
}

func noStop(f func(c *Controller, arg string) error) func(*Controller, string) (bool, error) {
	return func(c *Controller, arg string) (bool, error) { return false, f(c, arg) }
}

func (c *Controller) lookup(name string) (command, bool) {
	cmd, ok := commandTable()[name]
	if !ok {
		cmd, ok = extraCommands()[name]
	}
	return cmd, ok
}

func doEOF(c *Controller, _ string) (bool, error) {
	c.output("")
	return true, nil
}

// namespec is the original's make_namespec.
func namespec(group, name string) string {
	if group == name {
		return name
	}
	return group + ":" + name
}

// splitNamespec is the original's split_namespec: "g:*" and "g:" name a
// group (process ""), "g:p" a process, "p" means "p:p".
func splitNamespec(ns string) (group, process string, isGroup bool) {
	g, p, found := strings.Cut(ns, ":")
	if !found {
		return ns, ns, false
	}
	if p == "*" || p == "" {
		return g, "", true
	}
	return g, p, false
}

func faultOf(err error) (*Fault, bool) {
	var f *Fault
	ok := errors.As(err, &f)
	return f, ok
}

// ---- status ----

func showStatuses(c *Controller, infos []ProcessInfo) {
	names := make([]string, len(infos))
	width := 30
	for i, info := range infos {
		names[i] = namespec(info.Group, info.Name)
		if n := utf8.RuneCountInString(names[i]); n > width {
			width = n
		}
	}
	for i, info := range infos {
		c.output(padRight(names[i], width+3) + padRight(info.Statename, 10) + info.Description)
	}
}

// padRight is Python's "%-Ns" (width counted in characters).
func padRight(s string, w int) string {
	if n := utf8.RuneCountInString(s); n < w {
		return s + strings.Repeat(" ", w-n)
	}
	return s
}

// stoppedState reports the original's STOPPED_STATES (STOPPED, EXITED,
// FATAL, UNKNOWN).
func stoppedState(state int64) bool {
	return state == 0 || state == 100 || state == 200 || state == 1000
}

func doStatus(c *Controller, arg string) error {
	ok, err := c.upcheck()
	if !ok {
		if err == nil {
			c.exitStatus = statusUnknown
		}
		return err
	}
	var all []ProcessInfo
	if err := c.call("supervisor.getAllProcessInfo", &all); err != nil {
		return err
	}
	words := strings.Fields(arg)
	asJSON := false
	var names []string
	for _, w := range words {
		if w == "--json" {
			asJSON = true
		} else {
			names = append(names, w)
		}
	}
	var matching []ProcessInfo
	var errs []string
	if len(names) == 0 || contains(names, "all") {
		matching = all
	} else {
		for _, name := range names {
			group, process, isGroup := splitNamespec(name)
			bad := true
			for _, info := range all {
				if info.Group == group && (isGroup || info.Name == process) {
					bad = false
					matching = append(matching, info)
				}
			}
			if bad {
				if isGroup {
					errs = append(errs, group+": ERROR (no such group)")
				} else {
					errs = append(errs, name+": ERROR (no such process)")
				}
				c.exitStatus = statusUnknown
			}
		}
	}
	if asJSON {
		// Errors go to stderr so that stdout stays one JSON document.
		for _, e := range errs {
			fmt.Fprintln(c.io.Stderr, e)
		}
		data, err := json.MarshalIndent(statusExtensions(c, matching), "", "  ")
		if err != nil {
			return fmt.Errorf("encode status as JSON: %w", err)
		}
		c.output(string(data))
	} else {
		for _, e := range errs {
			c.output(e)
		}
		showStatuses(c, matching)
	}
	for _, info := range matching {
		if stoppedState(info.State) {
			c.exitStatus = statusNotRunning
		}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// ---- pid ----

func doPid(c *Controller, arg string) error {
	if ok, err := c.upcheck(); !ok {
		return err
	}
	names := strings.Fields(arg)
	switch {
	case len(names) == 0:
		var pid int64
		if err := c.call("supervisor.getPID", &pid); err != nil {
			return err
		}
		c.output(strconv.FormatInt(pid, 10))
	case contains(names, "all"):
		var all []ProcessInfo
		if err := c.call("supervisor.getAllProcessInfo", &all); err != nil {
			return err
		}
		for _, info := range all {
			c.output(strconv.FormatInt(info.Pid, 10))
		}
	default:
		for _, name := range names {
			var info ProcessInfo
			err := c.call("supervisor.getProcessInfo", &info, name)
			if err != nil {
				c.exitStatus = exitGeneric
				if f, ok := faultOf(err); ok && f.Code == faultBadName {
					c.output("No such process " + name)
					continue
				}
				return err
			}
			c.output(strconv.FormatInt(info.Pid, 10))
			if info.Pid == 0 {
				c.exitStatus = exitNotRunning
			}
		}
	}
	return nil
}

// ---- start / stop / restart / signal / clear ----

func startResult(r Result) (string, error) {
	name := namespec(r.Group, r.Name)
	switch r.Status {
	case faultBadName:
		return name + ": ERROR (no such process)", nil
	case faultNoFile:
		return name + ": ERROR (no such file)", nil
	case faultNotExecutable:
		return name + ": ERROR (file is not executable)", nil
	case faultAlreadyStarted:
		return name + ": ERROR (already started)", nil
	case faultSpawnError:
		return name + ": ERROR (spawn error)", nil
	case faultAbnormalTermination:
		return name + ": ERROR (abnormal termination)", nil
	case faultSuccess:
		return name + ": started", nil
	}
	return "", fmt.Errorf("unknown result code %d for %s", r.Status, name)
}

func signalResult(r Result, success string) (string, error) {
	name := namespec(r.Group, r.Name)
	switch r.Status {
	case faultBadName:
		return name + ": ERROR (no such process)", nil
	case faultBadSignal:
		return name + ": ERROR (bad signal name)", nil
	case faultNotRunning:
		return name + ": ERROR (not running)", nil
	case faultSuccess:
		return name + ": " + success, nil
	case faultFailed:
		return r.Description, nil
	}
	return "", fmt.Errorf("unknown result code %d for %s", r.Status, name)
}

func clearResult(r Result) (string, error) {
	name := namespec(r.Group, r.Name)
	switch r.Status {
	case faultBadName:
		return name + ": ERROR (no such process)", nil
	case faultFailed:
		return name + ": ERROR (failed)", nil
	case faultSuccess:
		return name + ": cleared", nil
	}
	return "", fmt.Errorf("unknown result code %d for %s", r.Status, name)
}

// printResults prints group/all results with format and applies the exit
// code mapping.
func (c *Controller) printResults(results []Result, format func(Result) (string, error), ignored int) error {
	for _, r := range results {
		line, err := format(r)
		if err != nil {
			return err
		}
		c.output(line)
		c.setExitFromFault(r.Status, ignored)
	}
	return nil
}

// processOp describes start, stop, signal and clear, which share one shape:
// "all", "g:*" and single names, each with its own RPC and texts.
type processOp struct {
	allMethod, groupMethod, oneMethod string
	extra                             []any // leading args (the signal)
	format                            func(Result) (string, error)
	success                           string
	ignored                           int
	badGroupExit                      int
	groupRaisesOther                  bool // set exit 1 before re-raising a non-BAD_NAME group fault
}

func (c *Controller) runProcessOp(op processOp, names []string) error {
	if contains(names, "all") {
		var results []Result
		if err := c.call(op.allMethod, &results, op.extra...); err != nil {
			return err
		}
		return c.printResults(results, op.format, op.ignored)
	}
	for _, name := range names {
		group, process, isGroup := splitNamespec(name)
		if isGroup && op.groupMethod != "" {
			var results []Result
			err := c.call(op.groupMethod, &results, append([]any{group}, op.extra...)...)
			if err != nil {
				if f, ok := faultOf(err); ok && f.Code == faultBadName {
					c.output(group + ": ERROR (no such group)")
					c.exitStatus = op.badGroupExit
					continue
				}
				if op.groupRaisesOther {
					c.exitStatus = exitGeneric
				}
				return err
			}
			if err := c.printResults(results, op.format, op.ignored); err != nil {
				return err
			}
			continue
		}
		if isGroup {
			process = "None" // the original formats a missing process name with Python's None
		}
		err := c.call(op.oneMethod, nil, append([]any{name}, op.extra...)...)
		if err != nil {
			f, ok := faultOf(err)
			if !ok {
				return err
			}
			line, ferr := op.format(Result{Name: process, Group: group, Status: f.Code, Description: f.String})
			if ferr != nil {
				return ferr
			}
			c.output(line)
			c.setExitFromFault(f.Code, op.ignored)
			continue
		}
		c.output(namespec(group, process) + ": " + op.success)
	}
	return nil
}

func doStart(c *Controller, arg string) error {
	if ok, err := c.upcheck(); !ok {
		return err
	}
	names := strings.Fields(arg)
	if len(names) == 0 {
		c.output("Error: start requires a process name")
		c.exitStatus = exitInvalidArgs
		helpStart(c)
		return nil
	}
	return c.runProcessOp(processOp{
		allMethod: "supervisor.startAllProcesses", groupMethod: "supervisor.startProcessGroup",
		oneMethod: "supervisor.startProcess", format: startResult, success: "started",
		ignored: faultAlreadyStarted, badGroupExit: exitInvalidArgs, groupRaisesOther: true,
	}, names)
}

func stopOp() processOp {
	return processOp{
		allMethod: "supervisor.stopAllProcesses", groupMethod: "supervisor.stopProcessGroup",
		oneMethod: "supervisor.stopProcess",
		format:    func(r Result) (string, error) { return signalResult(r, "stopped") },
		success:   "stopped", ignored: faultNotRunning, badGroupExit: exitGeneric, groupRaisesOther: true,
	}
}

func doStop(c *Controller, arg string) error {
	if ok, err := c.upcheck(); !ok {
		return err
	}
	names := strings.Fields(arg)
	if len(names) == 0 {
		c.output("Error: stop requires a process name")
		c.exitStatus = exitGeneric
		helpStop(c)
		return nil
	}
	return c.runProcessOp(stopOp(), names)
}

func doRestart(c *Controller, arg string) error {
	if ok, err := c.upcheck(); !ok {
		return err
	}
	if len(strings.Fields(arg)) == 0 {
		c.output("Error: restart requires a process name")
		c.exitStatus = exitGeneric
		helpRestart(c)
		return nil
	}
	if err := doStop(c, arg); err != nil {
		return err
	}
	return doStart(c, arg)
}

func doSignal(c *Controller, arg string) error {
	if ok, err := c.upcheck(); !ok {
		return err
	}
	args := strings.Fields(arg)
	if len(args) < 2 {
		c.output("Error: signal requires a signal name and a process name")
		helpSignal(c)
		c.exitStatus = exitGeneric
		return nil
	}
	return c.runProcessOp(processOp{
		allMethod: "supervisor.signalAllProcesses", groupMethod: "supervisor.signalProcessGroup",
		oneMethod: "supervisor.signalProcess", extra: []any{args[0]},
		format:  func(r Result) (string, error) { return signalResult(r, "signalled") },
		success: "signalled", ignored: -1, badGroupExit: exitGeneric,
	}, args[1:])
}

func doClear(c *Controller, arg string) error {
	if ok, err := c.upcheck(); !ok {
		return err
	}
	names := strings.Fields(arg)
	if len(names) == 0 {
		c.output("Error: clear requires a process name")
		c.exitStatus = exitGeneric
		helpClear(c)
		return nil
	}
	// clear has no group form: "g:*" goes to clearProcessLogs as is.
	return c.runProcessOp(processOp{
		allMethod: "supervisor.clearAllProcessLogs", oneMethod: "supervisor.clearProcessLogs",
		format: clearResult, success: "cleared", ignored: -1,
	}, names)
}

// ---- tail / maintail ----

// pyInt parses like Python's int() for the forms people type ("100",
// "+5", "-5", "1_000").
func pyInt(s string) (int64, bool) {
	t := s
	if strings.HasPrefix(t, "+") || strings.HasPrefix(t, "-") {
		t = t[1:]
	}
	if t == "" || strings.HasPrefix(t, "_") || strings.HasSuffix(t, "_") || strings.Contains(t, "__") {
		return 0, false
	}
	n, err := strconv.ParseInt(strings.ReplaceAll(s, "_", ""), 10, 64)
	return n, err == nil
}

func doTail(c *Controller, arg string) error {
	if ok, err := c.upcheck(); !ok {
		return err
	}
	args := strings.Fields(arg)
	if len(args) < 1 {
		c.output("Error: too few arguments")
		c.exitStatus = exitGeneric
		helpTail(c)
		return nil
	}
	if len(args) > 3 {
		c.output("Error: too many arguments")
		c.exitStatus = exitGeneric
		helpTail(c)
		return nil
	}
	modifier := ""
	if strings.HasPrefix(args[0], "-") {
		modifier, args = args[0], args[1:]
	}
	var name, channel string
	switch {
	case len(args) == 1:
		name, channel = args[0], "stdout"
	case len(args) > 1:
		name, channel = args[0], strings.ToLower(args[len(args)-1])
		if channel != "stderr" && channel != "stdout" {
			c.output("Error: bad channel " + pyfmt.Repr(channel))
			c.exitStatus = exitGeneric
			return nil
		}
	default:
		c.output("Error: tail requires process name")
		c.exitStatus = exitGeneric
		return nil
	}
	n := int64(1600)
	follow := false
	if modifier != "" {
		what := modifier[1:]
		if what == "f" {
			follow = true
		} else {
			v, ok := pyInt(what)
			if !ok {
				c.output("Error: bad argument " + modifier)
				c.exitStatus = exitGeneric
				return nil
			}
			n = v
		}
	}
	if follow {
		return c.tailFollow("/logtail/" + name + "/" + channel)
	}
	method := "supervisor.readProcessStdoutLog"
	if channel == "stderr" {
		method = "supervisor.readProcessStderrLog"
	}
	var out string
	err := c.call(method, &out, name, -n, 0)
	if err != nil {
		f, ok := faultOf(err)
		if !ok {
			return err
		}
		c.exitStatus = exitGeneric
		switch f.Code {
		case faultNoFile:
			c.output(name + ": ERROR (no log file)")
		case faultFailed:
			c.output(name + ": ERROR (unknown error reading log)")
		case faultBadName:
			c.output(name + ": ERROR (no such process name)")
		default:
			return err
		}
		return nil
	}
	c.output(out)
	return nil
}

func doMaintail(c *Controller, arg string) error {
	if ok, err := c.upcheck(); !ok {
		return err
	}
	args := strings.Fields(arg)
	n := int64(1600)
	switch {
	case len(args) > 1:
		c.output("Error: too many arguments")
		c.exitStatus = exitGeneric
		helpMaintail(c)
		return nil
	case len(args) == 1:
		if !strings.HasPrefix(args[0], "-") {
			c.output("Error: bad argument " + args[0])
			c.exitStatus = exitGeneric
			return nil
		}
		what := args[0][1:]
		if what == "f" {
			return c.tailFollow("/mainlogtail")
		}
		v, ok := pyInt(what)
		if !ok {
			c.output("Error: bad argument " + args[0])
			c.exitStatus = exitGeneric
			return nil
		}
		n = v
	}
	var out string
	if err := c.call("supervisor.readLog", &out, -n, 0); err != nil {
		f, ok := faultOf(err)
		if !ok {
			return err
		}
		c.exitStatus = exitGeneric
		switch f.Code {
		case faultNoFile:
			c.output("supervisord: ERROR (no log file)")
		case faultFailed:
			c.output("supervisord: ERROR (unknown error reading log)")
		default:
			return err
		}
		return nil
	}
	c.output(out)
	return nil
}

// ---- shutdown / reload ----

func (c *Controller) confirm(question string) bool {
	if !c.opts.Interactive {
		return true
	}
	answer, _ := c.in.ReadLine(question)
	return strings.HasPrefix(strings.ToLower(answer), "y")
}

func doShutdown(c *Controller, arg string) error {
	if arg != "" {
		c.output("Error: shutdown accepts no arguments")
		c.exitStatus = exitGeneric
		helpShutdown(c)
		return nil
	}
	if !c.confirm("Really shut the remote supervisord process down y/N? ") {
		return nil
	}
	err := c.call("supervisor.shutdown", nil)
	switch {
	case err == nil:
		c.output("Shut down")
	case isFault(err, faultShutdownState):
		c.output("ERROR: already shutting down")
	case isErrno(err, syscall.ECONNREFUSED):
		c.exitStatus = exitGeneric
		c.output("ERROR: " + c.opts.ServerURL + " refused connection (already shut down?)")
	case isErrno(err, syscall.ENOENT):
		c.exitStatus = exitGeneric
		c.output("ERROR: " + c.opts.ServerURL + " no such file (already shut down?)")
	default:
		c.exitStatus = exitGeneric
		return err
	}
	return nil
}

func isFault(err error, code int) bool {
	f, ok := faultOf(err)
	return ok && f.Code == code
}

func doReload(c *Controller, arg string) error {
	if arg != "" {
		c.output("Error: reload accepts no arguments")
		c.exitStatus = exitGeneric
		helpReload(c)
		return nil
	}
	if !c.confirm("Really restart the remote supervisord process y/N? ") {
		return nil
	}
	err := c.call("supervisor.restart", nil)
	if err != nil {
		if _, ok := faultOf(err); ok {
			c.exitStatus = exitGeneric
		}
		if isFault(err, faultShutdownState) {
			c.output("ERROR: already shutting down")
			return nil
		}
		return err
	}
	c.output("Restarted supervisord")
	return nil
}

// ---- reread / update / add / remove / avail ----

// reloadConfig returns (added, changed, removed).
func (c *Controller) reloadConfig() ([3][]string, error) {
	var raw [][][]string
	var out [3][]string
	if err := c.call("supervisor.reloadConfig", &raw); err != nil {
		return out, err
	}
	if len(raw) > 0 {
		for i := 0; i < 3 && i < len(raw[0]); i++ {
			out[i] = raw[0][i]
		}
	}
	return out, nil
}

func doReread(c *Controller, arg string) error {
	if arg != "" {
		c.output("Error: reread accepts no arguments")
		c.exitStatus = exitGeneric
		helpReread(c)
		return nil
	}
	diff, err := c.reloadConfig()
	if err != nil {
		if f, ok := faultOf(err); ok {
			c.exitStatus = exitGeneric
			switch f.Code {
			case faultShutdownState:
				c.output("ERROR: supervisor shutting down")
				return nil
			case faultCantReread:
				c.output("ERROR: " + f.String)
				return nil
			}
		}
		return err
	}
	changes := map[string]string{}
	for i, word := range []string{"available", "changed", "disappeared"} {
		for _, g := range diff[i] {
			changes[g] = word
		}
	}
	if len(changes) == 0 {
		c.output("No config updates to processes")
		return nil
	}
	names := make([]string, 0, len(changes))
	for g := range changes {
		names = append(names, g)
	}
	sort.Strings(names)
	for _, g := range names {
		c.output(g + ": " + changes[g])
	}
	return nil
}

func doAdd(c *Controller, arg string) error {
	for _, name := range strings.Fields(arg) {
		err := c.call("supervisor.addProcessGroup", nil, name)
		if err == nil {
			c.output(name + ": added process group")
			continue
		}
		f, ok := faultOf(err)
		switch {
		case ok && f.Code == faultShutdownState:
			c.output("ERROR: shutting down")
			c.exitStatus = exitGeneric
		case ok && f.Code == faultAlreadyAdded:
			c.output("ERROR: process group already active")
		case ok && f.Code == faultBadName:
			c.output("ERROR: no such process/group: " + name)
			c.exitStatus = exitGeneric
		default:
			c.exitStatus = exitGeneric
			return err
		}
	}
	return nil
}

func doRemove(c *Controller, arg string) error {
	for _, name := range strings.Fields(arg) {
		err := c.call("supervisor.removeProcessGroup", nil, name)
		if err == nil {
			c.output(name + ": removed process group")
			continue
		}
		f, ok := faultOf(err)
		if !ok {
			return err
		}
		c.exitStatus = exitGeneric
		switch f.Code {
		case faultStillRunning:
			c.output("ERROR: process/group still running: " + name)
		case faultBadName:
			c.output("ERROR: no such process/group: " + name)
		default:
			return err
		}
	}
	return nil
}

func doAvail(c *Controller, arg string) error {
	if arg != "" {
		c.output("Error: avail accepts no arguments")
		c.exitStatus = exitGeneric
		helpAvail(c)
		return nil
	}
	var infos []ConfigInfo
	if err := c.call("supervisor.getAllConfigInfo", &infos); err != nil {
		if f, ok := faultOf(err); ok {
			c.exitStatus = exitGeneric
			if f.Code == faultShutdownState {
				c.output("ERROR: supervisor shutting down")
				return nil
			}
		}
		return err
	}
	for _, info := range infos {
		inuse, auto := "avail", "manual"
		if info.Inuse {
			inuse = "in use"
		}
		if info.Autostart {
			auto = "auto"
		}
		c.output(fmt.Sprintf("%s %s %s %d:%d", padRight(namespec(info.Group, info.Name), 32),
			padRight(inuse, 9), padRight(auto, 9), info.GroupPrio, info.ProcessPrio))
	}
	return nil
}

// ---- open / version ----

func doOpen(c *Controller, arg string) error {
	url := strings.TrimSpace(arg)
	scheme := ""
	if i := strings.IndexByte(url, ':'); i > 0 && isPyURL(url[:i]+":x") {
		scheme = strings.ToLower(url[:i])
	}
	if scheme != "unix" && scheme != "http" {
		c.output("ERROR: url must be http:// or unix://")
		c.exitStatus = exitGeneric
		return nil
	}
	c.opts.ServerURL = url
	old := c.exitStatus
	err := doStatus(c, "")
	c.exitStatus = old
	return err
}

func doVersion(c *Controller, arg string) error {
	if arg != "" {
		c.output("Error: version accepts no arguments")
		c.exitStatus = exitGeneric
		helpVersion(c)
		return nil
	}
	if ok, err := c.upcheck(); !ok {
		return err
	}
	var v string
	if err := c.call("supervisor.getSupervisorVersion", &v); err != nil {
		return err
	}
	c.output(v)
	return nil
}
