package rpc

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gosupervisor/gosupervisor/pkg/fault"
	"github.com/gosupervisor/gosupervisor/pkg/logfile"
	"github.com/gosupervisor/gosupervisor/pkg/sig"
	"github.com/gosupervisor/gosupervisor/pkg/version"
	"github.com/gosupervisor/gosupervisor/pkg/xmlrpc"
)

// fn adapts a method body that ignores ctx.
func fn(f func(a []any) (any, error)) func(context.Context, []any) (any, error) {
	return func(_ context.Context, a []any) (any, error) { return f(a) }
}

// Help texts are ours; their @param/@return tags carry the original's types
// so that system.methodSignature answers exactly as the original does.
const (
	helpReadMain = `Read part of the main log.

A negative offset with length 0 gives the last -offset bytes; length 0
reads from offset to the end.

@param int offset        Where to start reading.
@param int length        How many bytes to read (0: all).
@return string result    The bytes read.`
	helpReadProcess = `Read part of the %s log of a process.

A negative offset with length 0 gives the last -offset bytes; length 0
reads from offset to the end.

@param string name       Process name (or "group:name").
@param int offset        Where to start reading.
@param int length        How many bytes to read (0: all).
@return string result    The bytes read.`
	helpTail = `Tail the %s log of a process: return up to length bytes ending at the
end of the log. When the log has grown past offset+length, overflow is true
and the data is the last length bytes. The returned offset is the log size,
the offset to pass next time.

@param string name     Process name (or "group:name").
@param int offset      Offset the caller has read up to.
@param int length      Most bytes to return.
@return array result   [string data, int offset, boolean overflow]`
)

// addSupervisor registers the supervisor.* methods (system.listMethods
// sorts them, so the grouping below is only for the reader).
func (s *Server) addSupervisor() {
	s.addStatusMethods()
	s.addControlMethods()
	s.addStartStopMethods()
	s.addSignalMethods()
	s.addInfoMethods()
	s.addProcessLogMethods()
	s.addCommMethods()
}

// addStatusMethods registers the methods for identity, state and the main log.
func (s *Server) addStatusMethods() {
	s.add(0, 0, "Give the version of the XML-RPC API.\n\n@return string version  The API version.",
		s.guarded(func() (any, error) { return version.APIVersion, nil }),
		"supervisor.getAPIVersion", "supervisor.getVersion")
	// The supervisor release we reproduce, not ours (gosupervisor.getVersion):
	// scripts and clients compare it with the original's version numbers.
	s.add(0, 0, "Give the version of supervisor that supervisord is compatible with.\n\n@return string version  The package version.",
		s.guarded(func() (any, error) { return version.Compat, nil }),
		"supervisor.getSupervisorVersion")
	s.add(0, 0, "Give the identifier of this supervisord ([supervisord] identifier).\n\n@return string identifier  The identifier.",
		s.guarded(func() (any, error) { return s.b.Identification(), nil }),
		"supervisor.getIdentification")
	s.add(0, 0, "Give supervisord's state.\n\n@return struct state  {statecode: int, statename: string}.",
		s.guarded(func() (any, error) {
			code, name := s.b.State()
			return xmlrpc.Struct{{Name: "statecode", Value: code}, {Name: "statename", Value: name}}, nil
		}), "supervisor.getState")
	s.add(0, 0, "Give supervisord's process id.\n\n@return int pid  The pid.",
		s.guarded(func() (any, error) { return s.b.PID(), nil }),
		"supervisor.getPID")
	s.add(2, 2, helpReadMain,
		fn(s.readLog), "supervisor.readLog", "supervisor.readMainLog")
	s.add(0, 0, "Empty the main log and reopen it.\n\n@return boolean result  True unless an error occurred.",
		s.guarded(func() (any, error) { return true, s.b.ClearMainLog() }), "supervisor.clearLog")
}

// addControlMethods registers the methods for supervisord's own lifetime
// and its groups.
func (s *Server) addControlMethods() {
	s.add(0, 0, "Make supervisord stop every process and exit.\n\n@return boolean result  True unless an error occurred.",
		s.guarded(func() (any, error) { s.b.Shutdown(); return true, nil }), "supervisor.shutdown")
	s.add(0, 0, "Make supervisord stop every process and start again from its config.\n\n@return boolean result  True unless an error occurred.",
		s.guarded(func() (any, error) { s.b.Restart(); return true, nil }), "supervisor.restart")
	s.add(0, 0, `Read the config file again and compare its groups with the running ones.
The answer is a one-element array holding [added, changed, removed], three
arrays of group names.

@return array result  [[added, changed, removed]]`,
		s.guarded(s.reloadConfig), "supervisor.reloadConfig")
	s.add(1, 1, "Activate a group that the last config reading added.\n\n@param string name  Group name.\n@return boolean result  True on success.",
		fn(s.addProcessGroup), "supervisor.addProcessGroup")
	s.add(1, 1, "Deactivate a group whose processes are all stopped.\n\n@param string name  Group name.\n@return boolean result  True on success.",
		fn(s.removeProcessGroup), "supervisor.removeProcessGroup")
}

// addStartStopMethods registers the methods that start and stop processes.
func (s *Server) addStartStopMethods() {
	s.add(1, 2, `Start a process; "group:*" starts the group and answers as
startProcessGroup does.

@param string name     Process name (or "group:name", or "group:*").
@param boolean wait    Whether to wait until the process is RUNNING.
@return boolean result True unless an error occurred.`,
		func(ctx context.Context, a []any) (any, error) { return s.startProcess(ctx, a[0], optWait(a, 1)) },
		"supervisor.startProcess")
	s.add(1, 2, `Start every process of a group that is not already running.

@param string name     Group name.
@param boolean wait    Whether to wait until each process is RUNNING.
@return array result   One {name, group, status, description} struct per process.`,
		func(ctx context.Context, a []any) (any, error) { return s.startGroup(ctx, a[0], optWait(a, 1)) },
		"supervisor.startProcessGroup")
	s.add(0, 1, `Start every process that is not already running, in priority order.

@param boolean wait    Whether to wait until each process is RUNNING.
@return array result   One {name, group, status, description} struct per process.`,
		func(ctx context.Context, a []any) (any, error) {
			return s.guard(func() (any, error) { return s.allfunc(ctx, s.b.Processes(), isNotRunning, s.startBatch(optWait(a, 0))) })
		}, "supervisor.startAllProcesses")
	s.add(1, 2, `Stop a process; "group:*" stops the group and answers as
stopProcessGroup does.

@param string name     Process name (or "group:name", or "group:*").
@param boolean wait    Whether to wait until the process has stopped.
@return boolean result True unless an error occurred.`,
		func(ctx context.Context, a []any) (any, error) { return s.stopProcess(ctx, a[0], optWait(a, 1)) },
		"supervisor.stopProcess")
	s.add(1, 2, `Stop every running process of a group.

@param string name     Group name.
@param boolean wait    Whether to wait until each process has stopped.
@return array result   One {name, group, status, description} struct per process.`,
		func(ctx context.Context, a []any) (any, error) { return s.stopGroup(ctx, a[0], optWait(a, 1)) },
		"supervisor.stopProcessGroup")
	s.add(0, 1, `Stop every running process.

@param boolean wait    Whether to wait until each process has stopped.
@return array result   One {name, group, status, description} struct per process.`,
		func(ctx context.Context, a []any) (any, error) {
			return s.guard(func() (any, error) { return s.allfunc(ctx, s.b.Processes(), isRunning, s.stopBatch(optWait(a, 0))) })
		}, "supervisor.stopAllProcesses")
}

// addSignalMethods registers the methods that signal processes.
func (s *Server) addSignalMethods() {
	s.add(2, 2, `Send a signal to a process; "group:*" signals the group.

@param string name     Process name (or "group:name", or "group:*").
@param string signal   Signal name ("HUP", "SIGHUP") or number ("1").
@return boolean        True unless an error occurred.`,
		fn(func(a []any) (any, error) { return s.signalProcess(a[0], a[1]) }), "supervisor.signalProcess")
	s.add(2, 2, `Send a signal to every signallable process of a group.

@param string name     Group name.
@param string signal   Signal name or number.
@return array          One {name, group, status, description} struct per process.`,
		fn(func(a []any) (any, error) { return s.signalGroup(a[0], a[1]) }), "supervisor.signalProcessGroup")
	s.add(1, 1, `Send a signal to every signallable process.

@param string signal   Signal name or number.
@return array          One {name, group, status, description} struct per process.`,
		fn(s.signalAll), "supervisor.signalAllProcesses")
}

// addInfoMethods registers the methods that describe processes.
func (s *Server) addInfoMethods() {
	s.add(0, 0, `Describe every process of the config file as last read, sorted by
process name, whether or not its group is active.

@return array result  One struct of settings per process.`,
		s.guarded(s.allConfigInfo), "supervisor.getAllConfigInfo")
	s.add(1, 1, `Describe one process.

@param string name     Process name (or "group:name").
@return struct result  name, group, start, stop, now, state, statename, spawnerr,
                       exitstatus, logfile, stdout_logfile, stderr_logfile, pid, description.`,
		fn(s.getProcessInfo), "supervisor.getProcessInfo")
	s.add(0, 0, `Describe every process, sorted by group name then process name.

@return array result  One getProcessInfo struct per process.`,
		s.guarded(s.allProcessInfo), "supervisor.getAllProcessInfo")
}

// addProcessLogMethods registers the methods for the processes' logs.
func (s *Server) addProcessLogMethods() {
	s.add(3, 3, fmt.Sprintf(helpReadProcess, "stdout"), fn(func(a []any) (any, error) { return s.readProcessLog(a, "stdout") }),
		"supervisor.readProcessStdoutLog", "supervisor.readProcessLog")
	s.add(3, 3, fmt.Sprintf(helpReadProcess, "stderr"), fn(func(a []any) (any, error) { return s.readProcessLog(a, "stderr") }),
		"supervisor.readProcessStderrLog")
	s.add(3, 3, fmt.Sprintf(helpTail, "stdout"),
		fn(func(a []any) (any, error) { return s.tailProcessLog(a, "stdout") }),
		"supervisor.tailProcessStdoutLog", "supervisor.tailProcessLog")
	s.add(3, 3, fmt.Sprintf(helpTail, "stderr"),
		fn(func(a []any) (any, error) { return s.tailProcessLog(a, "stderr") }),
		"supervisor.tailProcessStderrLog")
	s.add(1, 1, "Empty both logs of a process and reopen them.\n\n@param string name  Process name (or \"group:name\").\n@return boolean result  True unless an error occurred.",
		fn(func(a []any) (any, error) { return s.clearProcessLogs(a[0]) }),
		"supervisor.clearProcessLogs", "supervisor.clearProcessLog")
	s.add(0, 0, "Empty the logs of every process.\n\n@return array result  One {name, group, status, description} struct per process.",
		s.guarded(s.clearAll), "supervisor.clearAllProcessLogs")
}

// addCommMethods registers the methods that talk to processes and event
// listeners.
func (s *Server) addCommMethods() {
	s.add(2, 2, `Write characters to a process's stdin (UTF-8 encoded).

@param string name     Process name (or "group:name").
@param string chars    The data to write.
@return boolean result True unless an error occurred.`,
		fn(s.sendProcessStdin), "supervisor.sendProcessStdin")
	s.add(2, 2, `Emit a REMOTE_COMMUNICATION event for event listeners; its payload is
"type:<type>" and a newline followed by the data.

@param string type     Value of the payload's type field.
@param string data     The event body.
@return boolean        True unless an error occurred.`,
		fn(func(a []any) (any, error) {
			// No shutdown check here, as in the original.
			if err := s.b.SendRemoteCommEvent(pyStr(a[0]), pyStr(a[1])); err != nil {
				return nil, err
			}
			return true, nil
		}), "supervisor.sendRemoteCommEvent")
}

// update is the original's _update: every supervisor.* method (bar
// sendRemoteCommEvent) fails with SHUTDOWN_STATE once supervisord is
// stopping or restarting.
func (s *Server) update() error {
	if code, _ := s.b.State(); code < StateRunning {
		return fault.New(fault.ShutdownState, "")
	}
	return nil
}

// guarded is a parameterless method whose body runs after the shutdown check.
func (s *Server) guarded(body func() (any, error)) func(context.Context, []any) (any, error) {
	return fn(func([]any) (any, error) { return s.guard(body) })
}

// guard runs body after the shutdown check.
func (s *Server) guard(body func() (any, error)) (any, error) {
	if err := s.update(); err != nil {
		return nil, err
	}
	return body()
}

// optWait is a "wait=True" parameter at index i: Python truthiness, default true.
func optWait(a []any, i int) bool {
	if i >= len(a) {
		return true
	}
	return truthy(a[i])
}

// Process states as the original groups them.
func isRunning(state int) bool {
	return state == ProcRunning || state == ProcBackoff || state == ProcStarting
}
func isNotRunning(state int) bool { return !isRunning(state) }
func isStopped(state int) bool {
	return state == ProcStopped || state == ProcExited || state == ProcFatal || state == ProcUnknown
}
func isSignallable(state int) bool {
	return state == ProcRunning || state == ProcStarting || state == ProcStopping
}

// target is a resolved namespec argument (_getGroupAndProcess).
type target struct {
	name  string        // as the caller passed it
	group string        // group name
	procs []ProcessInfo // the group's processes
	proc  *ProcessInfo  // nil for "group:*" / "group:"
}

func (s *Server) resolve(v any) (target, error) {
	name, ok := v.(string)
	if !ok {
		return target{}, noAttr(v, "split") // split_namespec
	}
	g, p := SplitNamespec(name)
	procs, ok := s.b.Group(g)
	if !ok {
		return target{}, fault.New(fault.BadName, name)
	}
	t := target{name: name, group: g, procs: procs}
	if p == "" {
		return t, nil
	}
	for i := range procs {
		if procs[i].Name == p {
			t.proc = &procs[i]
			return t, nil
		}
	}
	return target{}, fault.New(fault.BadName, name)
}

// resolveProcess is resolve for methods that need a single process.
func (s *Server) resolveProcess(v any) (target, error) {
	t, err := s.resolve(v)
	if err == nil && t.proc == nil {
		err = fault.New(fault.BadName, t.name)
	}
	return t, err
}

// groupArg looks a group up as process_groups.get(name) does.
func (s *Server) groupArg(v any) (string, []ProcessInfo, error) {
	if !hashable(v) {
		return "", nil, incorrectParameters() // unhashable type
	}
	name, ok := v.(string)
	if !ok {
		return "", nil, fault.New(fault.BadName, pyStr(v))
	}
	procs, ok := s.b.Group(name)
	if !ok {
		return "", nil, fault.New(fault.BadName, name)
	}
	return name, procs, nil
}

func (s *Server) reloadConfig() (any, error) {
	added, changed, removed, err := s.b.ReloadConfig()
	if err != nil {
		return nil, err
	}
	return []any{[]any{strList(added), strList(changed), strList(removed)}}, nil
}

func (s *Server) addProcessGroup(a []any) (any, error) {
	if err := s.update(); err != nil {
		return nil, err
	}
	name, ok := a[0].(string)
	if !ok {
		return nil, fault.New(fault.BadName, pyStr(a[0])) // compared with ==, never equal
	}
	if err := s.b.AddGroup(name); err != nil {
		return nil, err
	}
	return true, nil
}

func (s *Server) removeProcessGroup(a []any) (any, error) {
	if err := s.update(); err != nil {
		return nil, err
	}
	if !hashable(a[0]) {
		return nil, incorrectParameters()
	}
	name, ok := a[0].(string)
	if !ok {
		return nil, fault.New(fault.BadName, pyStr(a[0]))
	}
	if err := s.b.RemoveGroup(name); err != nil {
		return nil, err
	}
	return true, nil
}

// batch performs the immediate part of one operation on several processes
// (a group or all of them, or a single one): per namespec, by index, a
// Waiter to await afterwards (nil: done) or an error.
type batch func(namespecs []string) ([]Waiter, []error)

// each is a batch made of a per-process step.
func each(do func(ns string) (Waiter, error)) batch {
	return func(nss []string) ([]Waiter, []error) {
		ws, errs := make([]Waiter, len(nss)), make([]error, len(nss))
		for i, ns := range nss {
			ws[i], errs[i] = do(ns)
		}
		return ws, errs
	}
}

// engineBatch checks the mood once, then hands the whole batch to the
// engine in one step; waiters are dropped unless the caller waits.
func (s *Server) engineBatch(wait bool, op func([]string) ([]Waiter, []error)) batch {
	return func(nss []string) ([]Waiter, []error) {
		ws, errs := make([]Waiter, len(nss)), make([]error, len(nss))
		if err := s.update(); err != nil {
			for i := range errs {
				errs[i] = err
			}
			return ws, errs
		}
		got, errs := op(nss)
		if wait {
			ws = got
		}
		return ws, errs
	}
}

func (s *Server) startBatch(wait bool) batch { return s.engineBatch(wait, s.b.StartProcesses) }

func (s *Server) stopBatch(wait bool) batch { return s.engineBatch(wait, s.b.StopProcesses) }

func (s *Server) startProcess(ctx context.Context, nameV any, wait bool) (any, error) {
	if err := s.update(); err != nil {
		return nil, err
	}
	t, err := s.resolve(nameV)
	if err != nil {
		return nil, err
	}
	if t.proc == nil {
		return s.startGroup(ctx, t.group, wait)
	}
	return finish(ctx, s.startBatch(wait), t.name)
}

func (s *Server) stopProcess(ctx context.Context, nameV any, wait bool) (any, error) {
	if err := s.update(); err != nil {
		return nil, err
	}
	t, err := s.resolve(nameV)
	if err != nil {
		return nil, err
	}
	if t.proc == nil {
		return s.stopGroup(ctx, t.group, wait)
	}
	return finish(ctx, s.stopBatch(wait), t.name)
}

// finish runs a single-process batch and waits for it.
func finish(ctx context.Context, do batch, ns string) (any, error) {
	ws, errs := do([]string{ns})
	if errs[0] != nil {
		return nil, errs[0]
	}
	if w := ws[0]; w != nil {
		if err := w(ctx); err != nil {
			return nil, err
		}
	}
	return true, nil
}

func (s *Server) startGroup(ctx context.Context, nameV any, wait bool) (any, error) {
	if err := s.update(); err != nil {
		return nil, err
	}
	_, procs, err := s.groupArg(nameV)
	if err != nil {
		return nil, err
	}
	return s.allfunc(ctx, procs, isNotRunning, s.startBatch(wait))
}

func (s *Server) stopGroup(ctx context.Context, nameV any, wait bool) (any, error) {
	if err := s.update(); err != nil {
		return nil, err
	}
	_, procs, err := s.groupArg(nameV)
	if err != nil {
		return nil, err
	}
	return s.allfunc(ctx, procs, isRunning, s.stopBatch(wait))
}

// allfunc is the original's make_allfunc: run do for each process whose
// state passes pred, in the given order; faults become result entries;
// immediate successes are reported first, then waited-for processes in
// the order they finish. An unexpected error aborts the whole call.
func (s *Server) allfunc(ctx context.Context, procs []ProcessInfo, pred func(int) bool, do batch) ([]any, error) {
	results := []any{}
	type pending struct {
		p ProcessInfo
		w Waiter
	}
	var waits []pending
	var chosen []ProcessInfo
	var nss []string
	for _, p := range procs {
		if pred(p.State) {
			chosen = append(chosen, p)
			nss = append(nss, p.Namespec())
		}
	}
	if len(nss) == 0 {
		return results, nil
	}
	ws, errs := do(nss)
	for i, p := range chosen {
		switch err := errs[i]; {
		case err != nil:
			f, ok := faultOf(err)
			if !ok {
				return nil, err
			}
			results = append(results, resultStruct(p, f))
		case ws[i] == nil:
			results = append(results, resultStruct(p, nil))
		default:
			waits = append(waits, pending{p, ws[i]})
		}
	}
	if len(waits) == 0 {
		return results, nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type done struct {
		p   ProcessInfo
		err error
	}
	ch := make(chan done, len(waits))
	for _, pw := range waits {
		go func() { ch <- done{pw.p, pw.w(ctx)} }()
	}
	var unexpected error
	for range waits {
		d := <-ch
		if d.err == nil {
			results = append(results, resultStruct(d.p, nil))
			continue
		}
		if f, ok := faultOf(d.err); ok {
			results = append(results, resultStruct(d.p, f))
		} else if unexpected == nil {
			unexpected = d.err
			cancel() // stop the other waiters; the call fails as a whole
		}
	}
	if unexpected != nil {
		return nil, unexpected
	}
	return results, nil
}

// resultStruct is a group operation's per-process entry; f nil means success.
func resultStruct(p ProcessInfo, f *fault.Error) xmlrpc.Struct {
	status, desc := int(fault.Success), "OK"
	if f != nil {
		status, desc = int(f.Code), f.Error()
	}
	return xmlrpc.Struct{
		{Name: "name", Value: p.Name},
		{Name: "group", Value: p.Group},
		{Name: "status", Value: status},
		{Name: "description", Value: desc},
	}
}

// parseSignal is the original's signal_number applied to an XML-RPC value.
// Invalid values are BAD_SIGNAL: str(value); values whose type has no
// strip() escape as AttributeError, as in the original.
func parseSignal(v any) (syscall.Signal, error) {
	text := ""
	switch x := v.(type) {
	case string:
		text = x
	case bool, int, int64, float64:
		n, err := pyInt(x)
		if err != nil {
			var pe *pyError
			if errors.As(err, &pe) {
				return 0, err // OverflowError
			}
			return 0, noAttr(v, "strip") // NaN: int() fails, then value.strip()
		}
		text = strconv.FormatInt(n, 10)
	default:
		return 0, noAttr(v, "strip")
	}
	n, err := sig.Parse(text)
	if err != nil {
		return 0, fault.New(fault.BadSignal, pyStr(v))
	}
	return n, nil
}

func (s *Server) signalProcess(nameV, sigV any) (any, error) {
	if err := s.update(); err != nil {
		return nil, err
	}
	t, err := s.resolve(nameV)
	if err != nil {
		return nil, err
	}
	if t.proc == nil {
		return s.signalGroup(t.group, sigV)
	}
	n, err := parseSignal(sigV)
	if err != nil {
		return nil, err
	}
	if err := s.b.SignalProcess(t.name, n); err != nil {
		return nil, err
	}
	return true, nil
}

// signalBatch signals each process of a group operation, with the
// per-process checks of signalProcess (so a bad signal is reported per
// process).
func (s *Server) signalBatch(sigV any) batch {
	return each(func(ns string) (Waiter, error) {
		_, err := s.signalProcess(ns, sigV)
		return nil, err
	})
}

func (s *Server) signalGroup(nameV, sigV any) (any, error) {
	if err := s.update(); err != nil {
		return nil, err
	}
	_, procs, err := s.groupArg(nameV)
	if err != nil {
		return nil, err
	}
	res, err := s.allfunc(context.Background(), procs, isSignallable, s.signalBatch(sigV))
	if err != nil {
		return nil, err
	}
	// The original checks again after signalling.
	if err := s.update(); err != nil {
		return nil, err
	}
	return res, nil
}

// signalAll is signalAllProcesses, whose only shutdown check in the original
// comes after the per-process calls (which each fail with SHUTDOWN_STATE
// then, so nothing is signalled either way).
func (s *Server) signalAll(a []any) (any, error) {
	res, err := s.allfunc(context.Background(), s.b.Processes(), isSignallable, s.signalBatch(a[0]))
	if err != nil {
		return nil, err
	}
	if err := s.update(); err != nil {
		return nil, err
	}
	return res, nil
}

func (s *Server) getProcessInfo(a []any) (any, error) {
	if err := s.update(); err != nil {
		return nil, err
	}
	t, err := s.resolveProcess(a[0])
	if err != nil {
		return nil, err
	}
	return infoStruct(*t.proc), nil
}

func (s *Server) allProcessInfo() (any, error) {
	procs := s.b.Processes()
	slices.SortStableFunc(procs, func(a, b ProcessInfo) int {
		if c := strings.Compare(a.Group, b.Group); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	out := make([]any, len(procs))
	for i, p := range procs {
		out[i] = infoStruct(p)
	}
	return out, nil
}

// cappedTime is capped_int(laststart) etc.: whole seconds, 0 for never,
// clamped to XML-RPC's int range.
func cappedTime(t time.Time) int {
	if t.IsZero() {
		return 0
	}
	return int(min(max(t.Unix(), math.MinInt32), math.MaxInt32))
}

func infoStruct(p ProcessInfo) xmlrpc.Struct {
	now := p.Now
	if now.IsZero() {
		now = time.Now()
	}
	return xmlrpc.Struct{
		{Name: "name", Value: p.Name},
		{Name: "group", Value: p.Group},
		{Name: "start", Value: cappedTime(p.Start)},
		{Name: "stop", Value: cappedTime(p.Stop)},
		{Name: "now", Value: cappedTime(now)},
		{Name: "state", Value: p.State},
		{Name: "statename", Value: p.StateName},
		{Name: "spawnerr", Value: p.SpawnErr},
		{Name: "exitstatus", Value: p.ExitStatus},
		{Name: "logfile", Value: p.StdoutLogfile},
		{Name: "stdout_logfile", Value: p.StdoutLogfile},
		{Name: "stderr_logfile", Value: p.StderrLogfile},
		{Name: "pid", Value: p.PID},
		{Name: "description", Value: p.Description},
	}
}

func (s *Server) allConfigInfo() (any, error) {
	infos := s.b.ConfigInfo()
	slices.SortStableFunc(infos, func(a, b ConfigInfo) int { return strings.Compare(a.Name, b.Name) })
	out := make([]any, len(infos))
	for i, c := range infos {
		out[i] = configStruct(c)
	}
	return out, nil
}

// orNone renders a None-able string as the original does ('none').
func orNone(s string) any {
	if s == "" {
		return "none"
	}
	return s
}

func logfileValue(c ChannelConfig) any {
	if c.LogfileAuto {
		return "auto"
	}
	if c.LogfileEmpty {
		return ""
	}
	return orNone(c.Logfile)
}

func configStruct(c ConfigInfo) xmlrpc.Struct {
	var uid any = c.UID
	if c.UID < 0 {
		uid = "none"
	}
	var directory any = orNone(c.Directory)
	if c.DirectoryEmpty {
		directory = ""
	}
	exit := make([]any, len(c.Exitcodes))
	for i, e := range c.Exitcodes {
		exit[i] = e
	}
	// Member order is the original's dict literal order.
	return xmlrpc.Struct{
		{Name: "autostart", Value: c.Autostart},
		{Name: "directory", Value: directory},
		{Name: "uid", Value: uid},
		{Name: "command", Value: c.Command},
		{Name: "exitcodes", Value: exit},
		{Name: "group", Value: c.Group},
		{Name: "group_prio", Value: c.GroupPrio},
		{Name: "inuse", Value: c.Inuse},
		{Name: "killasgroup", Value: c.Killasgroup},
		{Name: "name", Value: c.Name},
		{Name: "process_prio", Value: c.ProcessPrio},
		{Name: "redirect_stderr", Value: c.RedirectStderr},
		{Name: "startretries", Value: c.Startretries},
		{Name: "startsecs", Value: c.Startsecs},
		{Name: "stdout_capture_maxbytes", Value: int(c.Stdout.CaptureMaxbytes)},
		{Name: "stdout_events_enabled", Value: c.Stdout.EventsEnabled},
		{Name: "stdout_logfile", Value: logfileValue(c.Stdout)},
		{Name: "stdout_logfile_backups", Value: c.Stdout.LogfileBackups},
		{Name: "stdout_logfile_maxbytes", Value: int(c.Stdout.LogfileMaxbytes)},
		{Name: "stdout_syslog", Value: c.Stdout.Syslog},
		{Name: "stopsignal", Value: int(c.Stopsignal)},
		{Name: "stopwaitsecs", Value: c.Stopwaitsecs},
		{Name: "stderr_capture_maxbytes", Value: int(c.Stderr.CaptureMaxbytes)},
		{Name: "stderr_events_enabled", Value: c.Stderr.EventsEnabled},
		{Name: "stderr_logfile", Value: logfileValue(c.Stderr)},
		{Name: "stderr_logfile_backups", Value: c.Stderr.LogfileBackups},
		{Name: "stderr_logfile_maxbytes", Value: int(c.Stderr.LogfileMaxbytes)},
		{Name: "stderr_syslog", Value: c.Stderr.Syslog},
		{Name: "serverurl", Value: c.Serverurl},
	}
}

// exists is os.path.exists.
func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// readInt converts readFile's offset/length: a ValueError there is looked
// up as a fault name by the original, which fails with AttributeError.
func readInt(v any) (int64, error) {
	n, err := pyInt(v)
	var ve *valueError
	if errors.As(err, &ve) {
		return 0, &pyError{"AttributeError", "type object 'Faults' has no attribute '" + ve.msg + "'"}
	}
	return n, err
}

// readFile is readLog's core after the NO_FILE check.
func readFile(path string, offV, lenV any) (any, error) {
	off, err := readInt(offV)
	if err != nil {
		return nil, err
	}
	n, err := readInt(lenV)
	if err != nil {
		return nil, err
	}
	data, err := logfile.ReadFile(path, off, n)
	if err != nil {
		if f, ok := faultOf(err); ok {
			return nil, f // bare BAD_ARGUMENTS / FAILED
		}
		return nil, err
	}
	return asString(data)
}

func (s *Server) readLog(a []any) (any, error) {
	if err := s.update(); err != nil {
		return nil, err
	}
	path := s.b.MainLogPath()
	if err := requireFile(path); err != nil {
		return nil, err
	}
	return readFile(path, a[0], a[1])
}

// requireFile is the original's NO_FILE check before reading a log: bare
// when there is no log file, with the path when the file is missing.
func requireFile(path string) error {
	if path == "" {
		return fault.New(fault.NoFile, "") // extra None: bare
	}
	if !exists(path) {
		return fault.New(fault.NoFile, path)
	}
	return nil
}

// processLogPath resolves a process name argument to its channel's log file.
func (s *Server) processLogPath(name any, channel string) (string, error) {
	if err := s.update(); err != nil {
		return "", err
	}
	t, err := s.resolveProcess(name)
	if err != nil {
		return "", err
	}
	return s.b.LogPath(t.name, channel)
}

func (s *Server) readProcessLog(a []any, channel string) (any, error) {
	path, err := s.processLogPath(a[0], channel)
	if err != nil {
		return nil, err
	}
	if err := requireFile(path); err != nil {
		return nil, err
	}
	return readFile(path, a[1], a[2])
}

func (s *Server) tailProcessLog(a []any, channel string) (any, error) {
	path, err := s.processLogPath(a[0], channel)
	if err != nil {
		return nil, err
	}
	if path == "" || !exists(path) {
		return []any{"", 0, false}, nil
	}
	// int() here is outside any handler: a ValueError escapes as is.
	off, err := pyInt(a[1])
	if err != nil {
		return nil, asPyError(err)
	}
	n, err := pyInt(a[2])
	if err != nil {
		return nil, asPyError(err)
	}
	// On an I/O error the original answers ['', offset, False], which
	// TailFile returns alongside its error.
	data, next, overflow, _ := logfile.TailFile(path, off, n)
	text, err := asString(data)
	if err != nil {
		return nil, err
	}
	return []any{text, int(next), overflow}, nil
}

// asPyError turns an escaped ValueError into the unexpected exception it is.
func asPyError(err error) error {
	var ve *valueError
	if errors.As(err, &ve) {
		return &pyError{"ValueError", ve.msg}
	}
	return err
}

func (s *Server) clearProcessLogs(nameV any) (any, error) {
	if err := s.update(); err != nil {
		return nil, err
	}
	t, err := s.resolveProcess(nameV)
	if err != nil {
		return nil, err
	}
	if err := s.b.ClearProcessLogs(t.name); err != nil {
		return nil, err
	}
	return true, nil
}

func (s *Server) clearAll() (any, error) {
	return s.allfunc(context.Background(), s.b.Processes(), func(int) bool { return true },
		each(func(ns string) (Waiter, error) {
			_, err := s.clearProcessLogs(ns)
			return nil, err
		}))
}

func (s *Server) sendProcessStdin(a []any) (any, error) {
	if err := s.update(); err != nil {
		return nil, err
	}
	chars, ok := a[1].(string)
	if !ok {
		return nil, fault.New(fault.IncorrectParameters, pyStr(a[1]))
	}
	t, err := s.resolveProcess(a[0])
	if err != nil {
		return nil, err
	}
	if err := s.b.SendStdin(t.name, []byte(chars)); err != nil {
		return nil, err
	}
	return true, nil
}
