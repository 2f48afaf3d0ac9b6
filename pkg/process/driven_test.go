package process

import (
	"syscall"
	"time"

	"github.com/gosupervisor/gosupervisor/pkg/loglevel"
)

// testEnv is the owner side the tests script, one callback per effect.
type testEnv interface {
	Spawn(p *Proc) (int, error)
	Kill(pid int, sig syscall.Signal, group bool) error
	Log(level loglevel.Level, msg string)
	StateChanged(p *Proc, ev StateEvent)
}

// driven is a Proc whose effects env carries out at once, in order, as the
// supervisor's loop does; its methods shadow the machine's.
type driven struct {
	*Proc
	env testEnv
}

func newDriven(name, group string, pol Policy, env testEnv) *driven {
	return &driven{Proc: New(name, group, pol), env: env}
}

// run executes effects; a Spawn or Kill is answered and the machine's
// continuation executed too. It returns the error a Killed reported.
func (d *driven) run(effs []Effect) error {
	var err error
	for len(effs) > 0 {
		e := effs[0]
		effs = effs[1:]
		switch e := e.(type) {
		case Log:
			d.env.Log(e.Level, e.Msg)
		case StateChanged:
			d.env.StateChanged(d.Proc, e.StateEvent)
		case Spawn:
			effs = append(effs, d.Proc.Spawned(d.env.Spawn(d.Proc))...)
		case Kill:
			more, kerr := d.Proc.Killed(d.env.Kill(e.Pid, e.Signal, e.Group))
			effs = append(effs, more...)
			if kerr != nil {
				err = kerr
			}
		case Timer: // the tests ask Deadline directly
		}
	}
	return err
}

func (d *driven) do(effs []Effect, err error) error {
	if rerr := d.run(effs); err == nil {
		err = rerr
	}
	return err
}

func (d *driven) Start(now time.Time) error              { return d.do(d.Proc.Start(now)) }
func (d *driven) Stop(now time.Time) error               { return d.do(d.Proc.Stop(now)) }
func (d *driven) GiveUp(now time.Time) error             { return d.do(d.Proc.GiveUp(now)) }
func (d *driven) Signal(s syscall.Signal) error          { return d.do(d.Proc.Signal(s)) }
func (d *driven) StopReport(now time.Time)               { _ = d.run(d.Proc.StopReport(now)) }
func (d *driven) Transition(now time.Time, running bool) { _ = d.run(d.Proc.Transition(now, running)) }
func (d *driven) Exited(status syscall.WaitStatus, now time.Time) {
	_ = d.run(d.Proc.Exited(status, now))
}
