package supervisor

import (
	"fmt"

	"github.com/gosupervisor/gosupervisor/pkg/loglevel"
	"github.com/gosupervisor/gosupervisor/pkg/rpc"
)

// critical=true (EXTENSIONS.md §3): when such a program goes FATAL, or
// unhealthy with on_unhealthy=shutdown, supervisord stops everything in
// order and Run returns a *CriticalError, on which the daemon exits 1 —
// what a container orchestrator needs to restart the container.

// CriticalError ends Run after a critical program failed.
type CriticalError struct {
	Program string // namespec
	Why     string // "entered FATAL state", "is unhealthy"
}

func (e *CriticalError) Error() string {
	return fmt.Sprintf("critical program '%s' %s", e.Program, e.Why)
}

// critical shuts down because p failed; only the first failure counts.
func (s *Supervisor) critical(p *proc, why string) {
	if s.exitErr != nil || s.stopping != nil {
		return
	}
	err := &CriticalError{Program: namespec(p), Why: why}
	s.exitErr = err
	s.log.Log(loglevel.Critical, err.Error()+", shutting down")
	s.beginShutdown(MoodShutdown)
}

// namespec is p's name as the original spells it ("name" or "group:name").
func namespec(p *proc) string { return rpc.MakeNamespec(p.cfg.Group, p.cfg.Name) }
