package supervisor

import (
	"fmt"
	"os"
	"runtime"
	"sync"
	"syscall"

	"github.com/gosupervisor/gosupervisor/pkg/config"
	"github.com/gosupervisor/gosupervisor/pkg/process"
	"github.com/gosupervisor/gosupervisor/pkg/spawn"
)

// Starting many programs at once (start-up, an added group) is bound by
// fork/exec: the parent waits in vfork until each child has exec'd. The
// pass that autostarts them would do that one after another; prespawn
// starts the whole batch on a few workers first, and the pass then attaches
// each ready child in its usual order, so states, events and log lines are
// the same as with serial spawning.

// prespawnMin is the smallest batch worth the workers.
const prespawnMin = 4

// prespawn forks every process this pass is about to autostart.
func (s *Supervisor) prespawn() {
	var batch []*proc
	for _, g := range s.order {
		if g.cfg.Kind == config.FCGIGroup {
			continue // the shared socket is reference-counted on the loop
		}
		for _, p := range g.procs {
			if p.forked == nil && p.cfg.Autostart && p.m.State() == process.Stopped &&
				p.m.LastStart().IsZero() && p.m.Pid() == 0 {
				batch = append(batch, p)
			}
		}
	}
	if len(batch) < prespawnMin {
		return
	}
	workers := min(2*runtime.NumCPU(), 8, len(batch))
	next := make(chan *proc)
	results := make([]*forked, len(batch))
	index := make(map[*proc]int, len(batch))
	for i, p := range batch {
		index[p] = i
	}
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range next {
				results[index[p]] = p.fork(nil)
			}
		}()
	}
	for _, p := range batch {
		next <- p
	}
	close(next)
	wg.Wait()
	for i, p := range batch {
		p.forked = results[i]
	}
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
