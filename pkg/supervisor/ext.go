package supervisor

import (
	"github.com/gosupervisor/gosupervisor/pkg/config"
	"github.com/gosupervisor/gosupervisor/pkg/process"
	"github.com/gosupervisor/gosupervisor/pkg/rpc"
)

// The engine answers our extensions' surfaces too.
var _ rpc.ExtBackend = (*Supervisor)(nil)

// ProcessHealth is gosupervisor.getProcessHealth.
func (s *Supervisor) ProcessHealth(namespec string) (rpc.Health, error) {
	var h rpc.Health
	err := s.onProc(namespec, func(p *proc) error { h = healthOf(p); return nil })
	return h, err
}

// ProcessWaiting is gosupervisor.getProcessDependencies.
func (s *Supervisor) ProcessWaiting(namespec string) (rpc.Waiting, error) {
	var w rpc.Waiting
	err := s.onProc(namespec, func(p *proc) error { w = s.procWaiting(p); return nil })
	return w, err
}

// ProcessExtensions is the health and dependencies of every process that
// has either, by namespec, in one call on the loop: the console's
// snapshots would otherwise cost two calls per process.
func (s *Supervisor) ProcessExtensions() map[string]rpc.ProcessExt {
	out := map[string]rpc.ProcessExt{}
	s.call(func() {
		for _, g := range s.order {
			for _, p := range g.procs {
				if p.health != nil || len(p.cfg.DependsOn) > 0 {
					out[namespec(p)] = rpc.ProcessExt{Health: healthOf(p), Waiting: s.procWaiting(p)}
				}
			}
		}
	})
	return out
}

func healthOf(p *proc) rpc.Health {
	h := rpc.Health{Name: p.cfg.Name, Group: p.cfg.Group}
	if p.health != nil {
		p.health.fill(&h)
	}
	return h
}

func (s *Supervisor) procWaiting(p *proc) rpc.Waiting {
	w := rpc.Waiting{Name: p.cfg.Name, Group: p.cfg.Group, DependsOn: p.cfg.DependsOn}
	if heldBack(p, s.mood == MoodRunning) {
		w.WaitingFor = waitingFor(p)
	}
	return w
}

// Readiness is /readyz: the autostart processes not RUNNING, or RUNNING
// but not healthy.
func (s *Supervisor) Readiness() []rpc.NotReady {
	var out []rpc.NotReady
	s.call(func() {
		for _, g := range s.order {
			for _, p := range g.procs {
				if !p.cfg.Autostart || up(p) {
					continue
				}
				nr := rpc.NotReady{Name: p.cfg.Name, Group: p.cfg.Group, State: p.m.State().String()}
				if p.health != nil {
					nr.Health = p.health.status()
				}
				out = append(out, nr)
			}
		}
	})
	return out
}

// policyExtensions are the machine's settings from our restart keys.
func policyExtensions(pol *process.Policy, ext config.Extensions) {
	pol.ExponentialBackoff = ext.Backoff == config.BackoffExponential
	pol.BackoffMax = ext.BackoffMax
	pol.UnlimitedRetries = ext.StartretriesUnlimited
}
