package supervisor

import (
	"fmt"
	"os"
	"runtime"
	"sync"
	"syscall"
	"time"

	"github.com/gosupervisor/gosupervisor/pkg/config"
	"github.com/gosupervisor/gosupervisor/pkg/process"
	"github.com/gosupervisor/gosupervisor/pkg/spawn"
)

// Starting many programs at once (start-up, an added group, many crash
// loops) is bound by fork/exec: the parent waits in vfork until each child
// has exec'd. The pass that spawns them would do that one after another;
// prespawn forks the children the pass is about to spawn (the machine's own
// SpawnDue) first, and the pass then attaches each ready child in its usual
// order, so states, events and log lines are the same as with serial
// spawning. Only one priority level is forked concurrently at a time, and
// levels go in ascending order: a database at priority 100 is forked
// before its app at 200.

// prespawnMin is the smallest level worth the workers.
const prespawnMin = 4

// prespawn forks every process this pass is about to spawn, level by level.
func (s *Supervisor) prespawn(now time.Time) {
	var level []*proc
	var key [2]int
	for _, g := range s.order {
		if g.cfg.Kind == config.FCGIGroup {
			continue // the shared socket is reference-counted on the loop
		}
		for _, p := range g.procs {
			if p.forked != nil || !p.m.SpawnDue(now, true) {
				continue
			}
			if k := [2]int{g.cfg.Priority, p.cfg.Priority}; k != key {
				s.forkLevel(level)
				level, key = level[:0], k
			}
			level = append(level, p)
		}
	}
	s.forkLevel(level)
}

// forkLevel forks one priority level's children: concurrently on a few
// workers when there are enough of them, else in order.
func (s *Supervisor) forkLevel(level []*proc) {
	if len(level) < prespawnMin {
		for _, p := range level {
			p.forked = p.fork(nil)
		}
		return
	}
	workers := min(2*runtime.NumCPU(), 8, len(level))
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				level[i].forked = level[i].fork(nil) // each worker writes only its own procs
			}
		}()
	}
	for i := range level {
		next <- i
	}
	close(next)
	wg.Wait()
}

// dropPrespawned undoes a prespawn the pass did not use. It never should:
// the batch is exactly what the autostart rule spawns in that pass. A
// leftover child is killed and its pipes closed; its exit is then logged as
// an unknown pid.
func (s *Supervisor) dropPrespawned() {
	for _, g := range s.order {
		for _, p := range g.procs {
			f := p.forked
			if f == nil {
				continue
			}
			p.forked = nil
			if f.err != nil {
				continue
			}
			s.log.Log(process.LevelWarn, fmt.Sprintf("prespawned child %d of '%s' was not used; killing it", f.child.Pid, p.cfg.Name))
			_ = spawn.Kill(f.child.Pid, syscall.SIGKILL, false)
			for _, file := range []*os.File{f.child.Stdin, f.child.Stdout, f.child.Stderr} {
				if file != nil {
					file.Close()
				}
			}
		}
	}
}
