package supervisor

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/gosupervisor/gosupervisor/pkg/config"
	"github.com/gosupervisor/gosupervisor/pkg/fault"
	"github.com/gosupervisor/gosupervisor/pkg/logfile"
	"github.com/gosupervisor/gosupervisor/pkg/loglevel"
	"github.com/gosupervisor/gosupervisor/pkg/process"
	"github.com/gosupervisor/gosupervisor/pkg/rpc"
	"github.com/gosupervisor/gosupervisor/pkg/spawn"
)

// The engine is the RPC namespaces' backend.
var _ rpc.Backend = (*Supervisor)(nil)

// stopReportEvery is how often a waiting stop logs "waiting for X to stop".
const stopReportEvery = 2 * time.Second

func (s *Supervisor) State() (int, string) {
	m := s.Mood()
	return int(m), m.String()
}

func (s *Supervisor) Identification() string {
	var id string
	s.call(func() { id = s.cfg.Supervisord.Identifier })
	return id
}

func (s *Supervisor) PID() int { return s.pid }

func (s *Supervisor) MainLogPath() string { return s.opts.MainLogPath }

// MainLogRing is the main log's in-memory tail (nil if not kept).
func (s *Supervisor) MainLogRing() *logfile.Ring { return s.opts.MainLogRing }

// RPCEnabled reports whether [rpcinterface:supervisor] enables the
// supervisor.* namespace.
func (s *Supervisor) RPCEnabled() bool {
	for _, ri := range s.cfg.RPCInterfaces {
		if ri.Name == "supervisor" && ri.Factory == config.MainRPCInterfaceFactory {
			return true
		}
	}
	return false
}

func (s *Supervisor) ClearMainLog() error {
	if s.opts.MainLogPath == "" || s.opts.ClearMainLog == nil {
		return fault.New(fault.NoFile, "")
	}
	if _, err := os.Stat(s.opts.MainLogPath); err != nil {
		return fault.New(fault.NoFile, "")
	}
	if err := s.opts.ClearMainLog(); err != nil {
		return fault.New(fault.Failed, "")
	}
	return nil
}

// ReopenLogs is SIGUSR2: reopen the main log and every child log.
func (s *Supervisor) ReopenLogs() {
	s.call(func() {
		s.log.Log(loglevel.Info, "received SIGUSR2 indicating log reopen request")
		s.log.Log(loglevel.Info, "supervisord logreopen")
		if s.opts.ReopenMainLog != nil {
			if err := s.opts.ReopenMainLog(); err != nil {
				s.log.Log(loglevel.Error, fmt.Sprintf("reopening main log: %v", err))
			}
		}
		for _, g := range s.order {
			for _, p := range g.procs {
				for _, o := range []*output{p.stdout, p.stderr} {
					if rot := o.current(); rot != nil {
						if err := rot.Reopen(); err != nil {
							s.log.Log(loglevel.Warn, fmt.Sprintf("reopening %s log of '%s': %v", o.stream, p.cfg.Name, err))
						}
					}
				}
			}
		}
	})
}

func (s *Supervisor) Shutdown() { s.call(func() { s.beginShutdown(MoodShutdown) }) }

// RestartRequest is returned by Run when supervisord must restart with a
// new config (SIGHUP or the restart() RPC).
type RestartRequest struct{ Config *config.Config }

func (r *RestartRequest) Error() string { return "restart requested" }

// Restart re-reads the config first: an invalid new config keeps the
// running one (logged); the original would exit with status 2 instead.
func (s *Supervisor) Restart() { s.call(s.restart) }

// HUP is the SIGHUP handler.
func (s *Supervisor) HUP() {
	s.call(func() {
		if s.mood == MoodShutdown {
			s.log.Log(loglevel.Warn, "ignored SIGHUP indicating restart request (shutdown in progress)")
			return
		}
		s.log.Log(loglevel.Warn, "received SIGHUP indicating restart request")
		s.restart() // a no-op while a restart is already under way
	})
}

func (s *Supervisor) restart() {
	if s.stopping != nil {
		return
	}
	cfg, err := s.reload()
	if err != nil {
		s.log.Log(loglevel.Error, fmt.Sprintf("not restarting, the new config has errors: %v", err))
		return
	}
	s.next = cfg
	s.beginShutdown(MoodRestarting)
}

// Terminate is the SIGTERM/SIGINT/SIGQUIT handler. Like the original it
// logs every time and always sets the SHUTDOWN mood, so a restart already
// under way ends in a shutdown.
func (s *Supervisor) Terminate(signame string) {
	s.call(func() {
		s.log.Log(loglevel.Warn, fmt.Sprintf("received %s indicating exit request", signame))
		if s.stopping != nil {
			s.setMood(MoodShutdown)
			s.next = nil
			return
		}
		s.beginShutdown(MoodShutdown)
	})
}

func (s *Supervisor) reload() (*config.Config, error) {
	return config.Load(s.cfg.Path, s.opts.LoadOptions)
}

func (s *Supervisor) ReloadConfig() (added, changed, removed []string, err error) {
	cfg, lerr := s.reload()
	if lerr != nil {
		return nil, nil, nil, fault.New(fault.CantReread, lerr.Error())
	}
	s.call(func() {
		// Our own config warnings (repeated sections, unknown keys) at each
		// reread as at start-up; the original logs none of its own here.
		for _, m := range cfg.Messages {
			if m.Ours {
				s.log.Log(m.Level, m.Text)
			}
		}
		s.pending = cfg
		s.forwardWidth()
		var active []*config.Group
		for _, g := range s.order {
			active = append(active, g.cfg)
		}
		added, changed, removed = config.Diff(active, cfg.Groups)
	})
	return added, changed, removed, nil
}

func (s *Supervisor) AddGroup(name string) error {
	var err error
	s.call(func() {
		for _, gc := range s.pending.Groups {
			if gc.Name == name {
				if !s.addGroup(gc) {
					err = fault.New(fault.AlreadyAdded, name)
				}
				return
			}
		}
		err = fault.New(fault.BadName, name)
	})
	return err
}

func (s *Supervisor) RemoveGroup(name string) error {
	var err error
	s.call(func() {
		if _, ok := s.groups[name]; !ok {
			err = fault.New(fault.BadName, name)
			return
		}
		if !s.removeGroup(name) {
			err = fault.New(fault.StillRunning, name)
		}
	})
	return err
}

func (s *Supervisor) info(p *proc, now time.Time) rpc.ProcessInfo {
	in := p.m.Info(now)
	return rpc.ProcessInfo{
		Name: in.Name, Group: in.Group,
		Start: p.m.LastStart(), Stop: p.m.LastStop(), Now: now,
		State: int(in.State), StateName: in.StateName,
		SpawnErr: in.Spawnerr, ExitStatus: in.ExitStatus,
		StdoutLogfile: p.stdout.path, StderrLogfile: p.stderr.path,
		PID: in.Pid, Description: s.describe(p, in.Description),
	}
}

// describe is the original's description, with what our extensions add:
// "waiting for db" while depends_on holds a start back, and the health of
// a checked RUNNING process appended (", healthy").
func (s *Supervisor) describe(p *proc, desc string) string {
	if s.hasDeps && heldBack(p, s.mood == MoodRunning) {
		return "waiting for " + strings.Join(waitingFor(p), ", ")
	}
	if p.health != nil && p.m.State() == process.Running {
		if h := p.health.describe(); h != "" {
			return desc + ", " + h
		}
	}
	return desc
}

func (s *Supervisor) Processes() []rpc.ProcessInfo {
	var out []rpc.ProcessInfo
	s.call(func() {
		now := s.clock.Now()
		for _, g := range s.order {
			for _, p := range g.procs {
				out = append(out, s.info(p, now))
			}
		}
	})
	return out
}

func (s *Supervisor) Group(name string) ([]rpc.ProcessInfo, bool) {
	var out []rpc.ProcessInfo
	found := false
	s.call(func() {
		g, ok := s.groups[name]
		if !ok {
			return
		}
		found = true
		now := s.clock.Now()
		for _, p := range g.procs {
			out = append(out, s.info(p, now))
		}
	})
	return out, found
}

// Spawns is how many times each process (by namespec) was spawned, for the
// web console's restart counts.
func (s *Supervisor) Spawns() map[string]int {
	out := map[string]int{}
	s.call(func() {
		for _, g := range s.order {
			for _, p := range g.procs {
				out[rpc.MakeNamespec(p.cfg.Group, p.cfg.Name)] = p.m.Spawns()
			}
		}
	})
	return out
}

// onProc runs fn on the loop with the process named namespec, or returns
// BAD_NAME: namespec when there is none.
func (s *Supervisor) onProc(namespec string, fn func(p *proc) error) error {
	var err error
	s.call(func() {
		p := s.findProc(namespec)
		if p == nil {
			err = fault.New(fault.BadName, namespec)
			return
		}
		err = fn(p)
	})
	return err
}

// stream picks a process's stdout or stderr output.
func (p *proc) stream(channel string) *output {
	if channel == "stderr" {
		return p.stderr
	}
	return p.stdout
}

func (s *Supervisor) StartProcess(namespec string) (rpc.Waiter, error) {
	ws, errs := s.StartProcesses([]string{namespec})
	return ws[0], errs[0]
}

// StartProcesses starts each process in one step of the loop. The
// children are forked ahead as a pass forks autostarts (forkahead.go), and
// each start is then completed in order, as one start after another would.
func (s *Supervisor) StartProcesses(namespecs []string) ([]rpc.Waiter, []error) {
	ws, errs := make([]rpc.Waiter, len(namespecs)), make([]error, len(namespecs))
	s.call(func() {
		now := s.clock.Now()
		steps := make([]step, len(namespecs))
		for i, ns := range namespecs {
			if p := s.findProc(ns); p == nil {
				errs[i] = fault.New(fault.BadName, ns)
			} else {
				steps[i].p = p
				steps[i].effs, errs[i] = s.beginStart(p, ns, now)
			}
		}
		s.forkAhead(steps)
		for i, st := range steps {
			if st.p == nil {
				continue
			}
			_ = s.apply(st.p, st.effs)
			if errs[i] != nil {
				continue
			}
			if more, err := s.finishStart(st.p, namespecs[i], now); err != nil {
				errs[i] = err
			} else if more {
				p, ns := st.p, namespecs[i]
				ws[i] = func(ctx context.Context) error { return s.waitStarted(ctx, p, ns) }
			}
		}
	})
	return ws, errs
}

func (s *Supervisor) StopProcess(namespec string) (rpc.Waiter, error) {
	ws, errs := s.StopProcesses([]string{namespec})
	return ws[0], errs[0]
}

// StopProcesses stops each process in one step of the loop.
// With depends_on, a process whose dependents are stopped in the same
// batch (stop all, a group) is stopped once they are gone.
func (s *Supervisor) StopProcesses(namespecs []string) ([]rpc.Waiter, []error) {
	var batch map[*proc]bool // on the loop, at the first op
	op := func(p *proc, ns string) (bool, error) {
		if !s.hasDeps || len(namespecs) < 2 {
			return s.stop(p, ns)
		}
		if batch == nil {
			batch = s.procsOf(namespecs)
		}
		return s.stopInBatch(p, ns, batch)
	}
	return s.onProcs(namespecs, op, func(ctx context.Context, p *proc, _ string) error {
		return s.waitStopped(ctx, p)
	})
}

// procsOf is the set of processes namespecs name.
func (s *Supervisor) procsOf(namespecs []string) map[*proc]bool {
	set := map[*proc]bool{}
	for _, ns := range namespecs {
		if p := s.findProc(ns); p != nil {
			set[p] = true
		}
	}
	return set
}

// stopInBatch is stop, held back while a dependent in the batch runs.
func (s *Supervisor) stopInBatch(p *proc, namespec string, batch map[*proc]bool) (wait bool, err error) {
	held := slices.ContainsFunc(p.dependents, func(d *proc) bool { return batch[d] && !d.m.State().IsStopped() })
	if !held {
		return s.stop(p, namespec)
	}
	if !p.m.State().IsRunning() {
		return false, fault.New(fault.NotRunning, namespec)
	}
	p.stopWanted = true
	s.touch(p)
	return true, nil
}

// onProcs runs op on the loop for each named process, in order, in one
// round trip; where op leaves something to wait for, the Waiter is wait.
func (s *Supervisor) onProcs(namespecs []string, op func(p *proc, namespec string) (wait bool, err error),
	wait func(ctx context.Context, p *proc, namespec string) error) ([]rpc.Waiter, []error) {
	ws, errs := make([]rpc.Waiter, len(namespecs)), make([]error, len(namespecs))
	s.call(func() {
		for i, ns := range namespecs {
			p := s.findProc(ns)
			if p == nil {
				errs[i] = fault.New(fault.BadName, ns)
				continue
			}
			more, err := op(p, ns)
			errs[i] = err
			if more && err == nil {
				ws[i] = func(ctx context.Context) error { return wait(ctx, p, ns) }
			}
		}
	})
	return ws, errs
}

// beginStart is the immediate part of startProcess up to the spawn, on the
// loop: the checks, then the machine's Start, whose effects the caller
// executes.
func (s *Supervisor) beginStart(p *proc, namespec string, now time.Time) ([]process.Effect, error) {
	if _, _, err := p.resolve(p.startEnv()); err != nil {
		if errors.Is(err, spawn.ErrNotFound) {
			return nil, fault.New(fault.NoFile, err.Error())
		}
		return nil, fault.New(fault.NotExecutable, err.Error())
	}
	switch st := p.m.State(); {
	case st.IsRunning():
		return nil, fault.New(fault.AlreadyStarted, namespec)
	case st == process.Unknown:
		return nil, fault.New(fault.Failed, namespec+" is in an unknown process state")
	}
	if s.hasDeps && !depsReady(p) {
		s.requestStart(p, map[*proc]bool{})
		return nil, nil
	}
	effs, err := p.m.Start(now)
	if err != nil {
		return effs, fault.New(fault.Failed, err.Error())
	}
	return effs, nil
}

// finishStart is the rest, once the spawn is done: SPAWN_ERROR, or one
// transition; wait is true unless the process is RUNNING already.
func (s *Supervisor) finishStart(p *proc, namespec string, now time.Time) (wait bool, err error) {
	if p.wantStart {
		return true, nil // held until its dependencies are up
	}
	if p.m.Spawnerr() != "" {
		return false, fault.New(fault.SpawnError, namespec)
	}
	_ = s.apply(p, p.m.Transition(now, s.mood == MoodRunning))
	return p.m.State() != process.Running, nil
}

// stop is the immediate part of stopProcess, on the loop; wait is true
// unless the process is in a stopped state already.
func (s *Supervisor) stop(p *proc, namespec string) (wait bool, err error) {
	if !p.m.State().IsRunning() {
		return false, fault.New(fault.NotRunning, namespec)
	}
	effs, err := p.m.Stop(s.clock.Now())
	if kerr := s.apply(p, effs); err == nil {
		err = kerr
	}
	if err != nil {
		return false, fault.New(fault.Failed, err.Error())
	}
	return !p.m.State().IsStopped(), nil
}

// waitStarted is startProcess's onwait: RUNNING → nil; a spawn error or any
// state but STARTING/RUNNING → the original's faults.
func (s *Supervisor) waitStarted(ctx context.Context, p *proc, namespec string) error {
	for {
		var done bool
		var err error
		var watch chan struct{}
		s.call(func() {
			switch {
			case p.wantStart:
				if f := fatalDependency(p, map[*proc]bool{}); f != nil {
					p.wantStart = false
					done, err = true, dependencyFatal(f)
				}
			case p.m.Spawnerr() != "":
				done, err = true, fault.New(fault.SpawnError, namespec)
			case p.m.State() == process.Running:
				done = true
			case p.m.State() != process.Starting:
				done, err = true, fault.New(fault.AbnormalTermination, namespec)
			}
			watch = p.watch
		})
		if done {
			return err
		}
		select {
		case <-watch:
		case <-ctx.Done():
			return ctx.Err()
		case <-s.done:
			return fault.New(fault.AbnormalTermination, namespec)
		}
	}
}

// waitStopped is stopProcess's onwait, with its stop_report every 2 s.
func (s *Supervisor) waitStopped(ctx context.Context, p *proc) error {
	// The report is due strictly after stopReportEvery (process.StopReport).
	report := s.clock.NewTimer(stopReportEvery + 1)
	defer func() { report.Stop() }()
	for {
		var stopped bool
		var watch chan struct{}
		s.call(func() {
			_ = s.apply(p, p.m.StopReport(s.clock.Now()))
			stopped = p.m.State().IsStopped()
			watch = p.watch
		})
		if stopped {
			return nil
		}
		select {
		case <-watch:
		case <-report.C():
			report = s.clock.NewTimer(stopReportEvery + 1)
		case <-ctx.Done():
			return ctx.Err()
		case <-s.done:
			return nil
		}
	}
}

func (s *Supervisor) SignalProcess(namespec string, sig syscall.Signal) error {
	return s.onProc(namespec, func(p *proc) error {
		if !p.m.State().IsSignallable() {
			return fault.New(fault.NotRunning, namespec)
		}
		effs, err := p.m.Signal(sig)
		if kerr := s.apply(p, effs); err == nil {
			err = kerr
		}
		if err != nil {
			if errors.Is(err, process.ErrNotRunning) {
				return fault.New(fault.NotRunning, namespec)
			}
			return fault.New(fault.Failed, err.Error())
		}
		return nil
	})
}

func (s *Supervisor) LogPath(namespec, channel string) (string, error) {
	var path string
	err := s.onProc(namespec, func(p *proc) error {
		path = p.stream(channel).path
		return nil
	})
	return path, err
}

// Ring returns the in-memory tail of a process's stream ("stdout" or
// "stderr"), for live views and downloads of targets without a file.
func (s *Supervisor) Ring(namespec, channel string) (*logfile.Ring, error) {
	var ring *logfile.Ring
	err := s.onProc(namespec, func(p *proc) error {
		ring = p.stream(channel).ring
		return nil
	})
	return ring, err
}

func (s *Supervisor) ClearProcessLogs(namespec string) error {
	return s.onProc(namespec, func(p *proc) error {
		var err error
		for _, o := range []*output{p.stdout, p.stderr} {
			o.ring.Reset()
			if rot := o.current(); rot != nil && rot.Clear() != nil {
				err = fault.New(fault.Failed, namespec)
			}
		}
		return err
	})
}

func (s *Supervisor) SendStdin(namespec string, data []byte) error {
	return s.onProc(namespec, func(p *proc) error {
		if p.m.Pid() == 0 || p.m.Killing() || p.stdin == nil {
			return fault.New(fault.NotRunning, namespec)
		}
		switch err := p.stdin.write(data); {
		case errors.Is(err, errStdinClosed):
			return fault.New(fault.NoFile, namespec)
		case err != nil:
			return fmt.Errorf("writing to stdin of %s: %w", namespec, err)
		}
		return nil
	})
}

func (s *Supervisor) SendRemoteCommEvent(typ, data string) error {
	s.call(func() {
		s.emit(Event{Name: EvRemoteComm, Payload: "type:" + typ + "\n" + data})
	})
	return nil
}

func (s *Supervisor) ConfigInfo() []rpc.ConfigInfo {
	var out []rpc.ConfigInfo
	s.call(func() {
		for _, gc := range s.pending.Groups {
			g, inuse := s.groups[gc.Name]
			for i, pc := range gc.Processes {
				ci := configInfo(gc, pc, inuse)
				// Like the original, a group built from this very config
				// reports the AUTO log files it created; a re-read config
				// not yet applied still says 'auto'.
				if inuse && g.cfg == gc && i < len(g.procs) {
					ci.Stdout.Logfile, ci.Stdout.LogfileAuto = autoResolved(ci.Stdout, g.procs[i].stdout)
					ci.Stderr.Logfile, ci.Stderr.LogfileAuto = autoResolved(ci.Stderr, g.procs[i].stderr)
				}
				out = append(out, ci)
			}
		}
	})
	sort.SliceStable(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// autoResolved replaces an AUTO log name by the file actually in use.
func autoResolved(c rpc.ChannelConfig, o *output) (string, bool) {
	if c.LogfileAuto && o.path != "" {
		return o.path, false
	}
	return c.Logfile, c.LogfileAuto
}

func configInfo(gc *config.Group, pc *config.Process, inuse bool) rpc.ConfigInfo {
	ch := func(lc config.LogConfig) rpc.ChannelConfig {
		return rpc.ChannelConfig{
			Logfile: lc.File, LogfileAuto: lc.Auto, LogfileMaxbytes: lc.MaxBytes,
			LogfileBackups: lc.Backups, CaptureMaxbytes: lc.CaptureMaxBytes,
			EventsEnabled: lc.EventsEnabled, Syslog: lc.Syslog, LogfileEmpty: lc.Empty,
		}
	}
	// The original's loader turns serverurl=AUTO (and an absent key) into
	// None; an empty serverurl= stays ''.
	serverurl := pc.Serverurl
	if strings.EqualFold(strings.TrimSpace(serverurl), "AUTO") {
		serverurl = "none"
	}
	return rpc.ConfigInfo{
		Name: pc.Name, Group: gc.Name, GroupPrio: gc.Priority, ProcessPrio: pc.Priority,
		Inuse: inuse, Autostart: pc.Autostart, Command: pc.Command, Directory: pc.Directory, DirectoryEmpty: pc.DirectoryEmpty,
		UID: pc.UID, Exitcodes: pc.Exitcodes, Killasgroup: pc.Killasgroup,
		RedirectStderr: pc.RedirectStderr, Startretries: pc.Startretries, Startsecs: pc.Startsecs,
		Stopwaitsecs: pc.Stopwaitsecs, Stopsignal: pc.Stopsignal, Serverurl: serverurl,
		Stdout: ch(pc.Stdout), Stderr: ch(pc.Stderr),
	}
}
