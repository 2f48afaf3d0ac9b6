package supervisor

import (
	"context"
	"fmt"
	"io"
	"syscall"
	"time"

	"github.com/gosupervisor/gosupervisor/pkg/config"
	"github.com/gosupervisor/gosupervisor/pkg/health"
	"github.com/gosupervisor/gosupervisor/pkg/loglevel"
	"github.com/gosupervisor/gosupervisor/pkg/process"
	"github.com/gosupervisor/gosupervisor/pkg/rpc"
	"github.com/gosupervisor/gosupervisor/pkg/spawn"
)

// Health checks (EXTENSIONS.md §2). The decisions are pkg/health's pure
// Tracker, driven from the loop: a pass starts a due check and expires one
// past its timeout; an http or tcp probe runs on a goroutine of its own and
// hands its result back through the feed; an exec check is a child of the
// reaper whose output a goroutine collects, finished when both its exit and
// its output's end are in. The loop never waits for a check.

// procHealth is one process's health check.
type procHealth struct {
	hc *config.HealthCheck
	t  *health.Tracker

	check  health.Check       // the check in flight (zero: none)
	cancel context.CancelFunc // its probe's, for http/tcp
	exec   *execCheck         // for exec
}

// execCheck is an exec check's child while it runs.
type execCheck struct {
	pid     int
	out     *health.OutputBuffer
	exit    *spawn.Exit
	outDone bool
	expired bool
}

func newProcHealth(hc *config.HealthCheck) *procHealth {
	if hc == nil {
		return nil
	}
	return &procHealth{hc: hc, t: health.NewTracker(hc)}
}

func (h *procHealth) healthy() bool { return h.t.Status() == health.Healthy }

func (h *procHealth) status() string { return h.t.Status().String() }

// describe is the status suffix: "healthy", "unhealthy (3 failures: …)", or
// "" before a verdict.
func (h *procHealth) describe() string { return h.t.Describe() }

// fill puts the check's state into getProcessHealth's answer.
func (h *procHealth) fill(out *rpc.Health) {
	in := h.t.Info()
	out.Checked = true
	out.Kind = h.hc.Kind.String()
	out.Target = h.hc.Target
	if h.hc.Kind == config.HealthExec {
		out.Target = shellJoin(h.hc.Argv)
	}
	out.Status = in.Status.String()
	out.Failures = in.Failures
	out.Output = in.LastOutput
	out.LastError = in.LastError
	out.LastCheck = in.LastCheck
}

// healthStateChanged starts or stops checking as p enters or leaves RUNNING.
func (s *Supervisor) healthStateChanged(p *proc, ev process.StateEvent) {
	h := p.health
	switch {
	case ev.To == process.Running:
		s.abandonCheck(p)
		h.t.Running(s.clock.Now())
	case ev.From == process.Running:
		s.abandonCheck(p)
		h.t.Stopped()
	}
	s.reschedule(p)
}

// abandonCheck cancels the probe or kills the exec check in flight; its
// result, should it still come, is stale.
func (s *Supervisor) abandonCheck(p *proc) {
	h := p.health
	if h.cancel != nil {
		h.cancel()
		h.cancel = nil
	}
	if x := h.exec; x != nil && !x.expired && x.exit == nil {
		x.expired = true
		_ = s.opts.Reaper.Kill(x.pid, syscall.SIGKILL, true)
	}
	h.check = health.Check{}
}

// healthStep is a pass's turn for p's check: expire one past its timeout,
// start one that is due.
func (s *Supervisor) healthStep(p *proc, now time.Time) {
	h := p.health
	if c, d, ok := h.t.Expire(now); ok && c == h.check {
		s.abandonCheck(p)
		s.healthDecided(p, d)
	}
	if c, ok := h.t.Started(now); ok {
		h.check = c
		s.startCheck(p, c)
	}
	s.reschedule(p)
}

// startCheck runs the probe of check c off the loop.
func (s *Supervisor) startCheck(p *proc, c health.Check) {
	h := p.health
	if h.hc.Kind == config.HealthExec && s.opts.Check == nil {
		s.startExecCheck(p, c)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), h.t.Timeout())
	h.cancel = cancel
	hc, name := h.hc, namespec(p)
	go func() {
		defer cancel()
		r := s.probe(ctx, name, hc)
		s.feed.push(healthKey{p}, joinNever, nil, func([]byte) { s.checkFinished(p, c, r) })
	}()
}

// probe runs an http or tcp check (or the fake of Options.Check).
func (s *Supervisor) probe(ctx context.Context, name string, hc *config.HealthCheck) health.Result {
	switch {
	case s.opts.Check != nil:
		return s.opts.Check(ctx, name, hc)
	case hc.Kind == config.HealthHTTP:
		return s.prober.HTTP(ctx, hc.Target)
	}
	return s.prober.TCP(ctx, hc.Target)
}

// healthKey names a process's check results in the feed.
type healthKey struct{ p *proc }

// startExecCheck spawns an exec check like a program spawn: the process's
// environment, directory, umask and user, in its own process group.
func (s *Supervisor) startExecCheck(p *proc, c health.Check) {
	h := p.health
	child, err := s.spawnCheck(p)
	if err != nil {
		s.checkFinished(p, c, health.Result{Err: err.Error()})
		return
	}
	x := &execCheck{pid: child.Pid, out: &health.OutputBuffer{}}
	h.exec = x
	s.checkPids[child.Pid] = p
	go func() {
		_, _ = io.Copy(x.out, child.Stdout)
		child.Stdout.Close()
		s.feed.push(healthKey{p}, joinNever, nil, func([]byte) {
			x.outDone = true
			s.execCheckDone(p, c, x)
		})
	}()
}

func (s *Supervisor) spawnCheck(p *proc) (*spawn.Child, error) {
	argv := p.health.hc.Argv
	if len(argv) == 0 {
		return nil, fmt.Errorf("healthcheck of '%s' has no command", p.cfg.Name)
	}
	// The variables of the program's last spawn, its environment files
	// as that spawn read them.
	env := p.spawnEnv
	if env == nil {
		env = p.cfg.Environment
	}
	path, err := spawn.Resolve(argv[0], s.searchPath(env))
	if err != nil {
		return nil, fmt.Errorf("healthcheck of '%s': %w", p.cfg.Name, err)
	}
	spec := spawn.Spec{
		Name: p.cfg.Name + " healthcheck", Argv: argv, Path: path, Env: p.environ(env),
		Dir: p.cfg.Directory, Umask: p.cfg.Umask, RedirectStderr: true,
	}
	if p.cfg.User != "" {
		if spec.Cred, err = credential(p.cfg.User); err != nil {
			return nil, err
		}
	}
	child, err := s.opts.Reaper.Spawn(spec)
	if err != nil {
		return nil, err
	}
	if child.Stdin != nil {
		child.Stdin.Close()
	}
	return child, nil
}

// checkReaped takes the exit of an exec check's child; false if pid is
// not one.
func (s *Supervisor) checkReaped(ex spawn.Exit) bool {
	p, ok := s.checkPids[ex.Pid]
	if !ok {
		return false
	}
	delete(s.checkPids, ex.Pid)
	if x := p.health.exec; x != nil && x.pid == ex.Pid {
		x.exit = &ex
		s.execCheckDone(p, p.health.check, x)
	}
	return true
}

// execCheckDone finishes an exec check once its exit and output are in.
func (s *Supervisor) execCheckDone(p *proc, c health.Check, x *execCheck) {
	if x.exit == nil || !x.outDone || p.health.exec != x {
		return
	}
	p.health.exec = nil
	if x.expired {
		return // its expiry was the result
	}
	es, _ := process.DecodeWaitStatus(x.exit.Status)
	r := health.ExecResult(es, x.exit.Status.Signaled(), false, x.out, p.health.t.Timeout())
	s.checkFinished(p, c, r)
}

// checkFinished takes a check's result on the loop.
func (s *Supervisor) checkFinished(p *proc, c health.Check, r health.Result) {
	h := p.health
	if p.gone || c != h.check {
		return // stale: expired, or from an earlier run
	}
	h.check, h.cancel = health.Check{}, nil
	s.healthDecided(p, h.t.Finished(s.clock.Now(), c, r))
	s.reschedule(p)
}

// healthDecided carries out what a verdict means: the events, the log
// line, on_unhealthy, and dependents that wait for health.
func (s *Supervisor) healthDecided(p *proc, d health.Decision) {
	switch d.Transition {
	case health.NoChange:
		return
	case health.BecameHealthy:
		s.log.Log(loglevel.Info, fmt.Sprintf("health: %s is healthy", namespec(p)))
		s.emitHealth(p, "PROCESS_HEALTH_HEALTHY", d)
	case health.BecameUnhealthy:
		s.log.Log(loglevel.Warn, fmt.Sprintf("health: %s is %s", namespec(p), p.health.describe()))
		s.emitHealth(p, "PROCESS_HEALTH_UNHEALTHY", d)
	}
	if s.hasDeps {
		s.dependencyChanged(p)
	}
	if d.Transition == health.BecameUnhealthy && d.Act {
		s.onUnhealthy(p, d.Action)
	}
}

// onUnhealthy is on_unhealthy=restart (stop, then start once stopped) or
// shutdown (as a critical failure).
func (s *Supervisor) onUnhealthy(p *proc, action config.OnUnhealthy) {
	switch action {
	case config.UnhealthyShutdown:
		s.critical(p, "is unhealthy")
	case config.UnhealthyRestart:
		effs, err := p.m.Stop(s.clock.Now())
		if err == nil {
			p.wantStart = true
		}
		_ = s.apply(p, effs)
	}
}

func (s *Supervisor) emitHealth(p *proc, name string, d health.Decision) {
	payload := fmt.Sprintf("processname:%s groupname:%s from_state:%s pid:%d failures:%d",
		p.cfg.Name, p.cfg.Group, p.m.State(), p.m.Pid(), d.Failures)
	s.emit(Event{Name: name, Payload: payload, Group: p.cfg.Group, Process: p.cfg.Name, State: p.m.State(), Pid: p.m.Pid()})
}

// shellJoin shows an exec check's command.
func shellJoin(argv []string) string {
	out := ""
	for i, a := range argv {
		if i > 0 {
			out += " "
		}
		out += a
	}
	return out
}
