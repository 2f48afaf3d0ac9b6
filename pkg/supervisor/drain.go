package supervisor

import (
	"fmt"
	"reflect"
	"slices"
	"syscall"
	"time"

	"github.com/gosupervisor/gosupervisor/pkg/loglevel"
	"github.com/gosupervisor/gosupervisor/pkg/process"
	"github.com/gosupervisor/gosupervisor/pkg/spawn"
)

// A child's last output is in its log before its `exited:` line, as the
// original's finish() drains the pipes before it reports: a reaped exit
// waits on the loop until the spawn's output pipes have reached end of file
// (their readers are already at it: the child is gone), or until drainGrace
// has passed, because a grandchild may hold a pipe open for ever.
const drainGrace = 200 * time.Millisecond

// spawnPipes tracks the output pipes of one spawn.
type spawnPipes struct {
	open     int         // pipes whose reader has not reached end of file
	stdout   bool        // the stdout pipe is one of them
	held     []string    // stderr's closed line, waiting for stdout's
	exit     *spawn.Exit // reaped, waiting for the pipes
	deadline time.Time   // when the exit is handled regardless
}

// reaped handles one child reaped by the reaper.
func (s *Supervisor) reaped(ex spawn.Exit) {
	if s.checkReaped(ex) {
		s.logSIGCHLD()
		return
	}
	p, ok := s.byPid[ex.Pid]
	if !ok {
		_, msg := process.DecodeWaitStatus(ex.Status)
		s.log.Log(loglevel.Info, fmt.Sprintf("reaped unknown pid %d (%s)", ex.Pid, msg))
		s.logSIGCHLD()
		return
	}
	if sp := p.pipes; sp != nil && sp.open > 0 {
		sp.exit = &ex
		sp.deadline = s.clock.Now().Add(drainGrace)
		s.draining = append(s.draining, p)
		return
	}
	s.finishExit(p, ex)
}

// logSIGCHLD is the original's debug line for the signal. It polls for
// exits at the end of each loop pass and handles the signal at the start
// of the next, so the line follows the exit it announces.
func (s *Supervisor) logSIGCHLD() {
	s.log.Log(loglevel.Debug, "received SIGCHLD indicating a child quit")
}

// finishExit is the original's finish() once the pipes are drained.
func (s *Supervisor) finishExit(p *proc, ex spawn.Exit) {
	delete(s.byPid, ex.Pid)
	if sp := p.pipes; sp != nil {
		s.logHeld(sp)
		sp.exit = nil
		s.draining = slices.DeleteFunc(s.draining, func(q *proc) bool { return q == p })
	}
	p.pipes = nil
	if p.stdin != nil {
		p.stdin.close()
	}
	p.releaseSocket()
	s.noteExit(p, ex.Status)
	_ = s.apply(p, p.m.Exited(ex.Status, s.clock.Now()))
	s.logSIGCHLD()
}

// pipeClosed runs on the loop when a reader of sp reached end of file.
// The original closes stdout's dispatcher before stderr's.
func (s *Supervisor) pipeClosed(p *proc, sp *spawnPipes, fd uintptr, stream string) {
	line := fmt.Sprintf("fd %d closed, stopped monitoring %s", fd, dispatcherRepr(p, stream))
	if stream == "stdout" {
		sp.stdout = false
		s.log.Log(loglevel.Debug, line)
		s.logHeld(sp)
	} else if sp.stdout {
		sp.held = append(sp.held, line)
	} else {
		s.log.Log(loglevel.Debug, line)
	}
	sp.open--
	if sp.open == 0 && sp.exit != nil && p.pipes == sp {
		s.finishExit(p, *sp.exit)
	}
}

func (s *Supervisor) logHeld(sp *spawnPipes) {
	for _, line := range sp.held {
		s.log.Log(loglevel.Debug, line)
	}
	sp.held = nil
}

// expireDrains handles the exits whose pipes stayed open past drainGrace.
func (s *Supervisor) expireDrains(now time.Time) {
	for _, p := range slices.Clone(s.draining) {
		if sp := p.pipes; sp != nil && sp.exit != nil && !now.Before(sp.deadline) {
			s.finishExit(p, *sp.exit)
		}
	}
}

// nextDrain is the earliest drain deadline (zero: none).
func (s *Supervisor) nextDrain() time.Time {
	var next time.Time
	for _, p := range s.draining {
		if d := p.pipes.deadline; next.IsZero() || d.Before(next) {
			next = d
		}
	}
	return next
}

// reapedAlready answers a Kill for a child that is reaped but still
// draining: its pid may already belong to someone else.
func (p *proc) reapedAlready() bool { return p.pipes != nil && p.pipes.exit != nil }

var errReaped = fmt.Errorf("child already reaped: %w", syscall.ESRCH)

// dispatcherRepr is the original's repr of an output dispatcher, with
// object identities in Python's decimal style.
func dispatcherRepr(p *proc, stream string) string {
	return fmt.Sprintf("<POutputDispatcher at %d for <Subprocess at %d with name %s in state %s> (%s)>",
		reflect.ValueOf(p.stream(stream)).Pointer(), reflect.ValueOf(p).Pointer(), p.cfg.Name, p.m.State(), stream)
}
