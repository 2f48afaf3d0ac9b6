package supervisor

import (
	"runtime"
	"sync"
)

// Starting many programs at once (start-up, an added group, many crash
// loops) is bound by fork/exec: the parent waits in vfork until each child
// has exec'd. A pass executes its Spawn effects one after another; before
// that, forkAhead forks the children of the pass's Spawn effects, one
// priority level at a time in ascending order (a database at priority 100
// is forked before its app at 200), the children of one level
// concurrently. Executing each Spawn then attaches its ready child, in the
// pass's order, so states, events and log lines are those of serial
// spawning, and every child forked ahead is attached in the same pass.

// forkAheadMin is the smallest level worth the workers.
const forkAheadMin = 4

// forkAhead forks the children a pass's steps are about to spawn.
func (s *Supervisor) forkAhead(steps []step) {
	var level []*proc
	var key [2]int
	for _, p := range spawnsAhead(steps) {
		if k := [2]int{p.g.cfg.Priority, p.cfg.Priority}; k != key {
			forkLevel(level)
			level, key = level[:0], k
		}
		level = append(level, p)
	}
	forkLevel(level)
}

// forkLevel forks one priority level's children: concurrently on a few
// workers when there are enough of them, else in order.
func forkLevel(level []*proc) {
	if len(level) < forkAheadMin {
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
