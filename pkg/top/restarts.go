package top

import "time"

// FlapWindow is how far back the restart column counts, as the console's
// flapping badge does.
const FlapWindow = 10 * time.Minute

// FlapMin restarts in the window mark a crash loop (the console's badge).
const FlapMin = 3

// restartTracker counts restarts it sees happen, for a daemon that does not
// count them itself (the original). A new spawn is noticed by our spawn
// counter growing or, polling the original, by getProcessInfo's start
// changing; it is an automatic restart unless the process was last seen
// STOPPED or FATAL, states only a start command leaves.
type restartTracker struct {
	last   map[string]seen
	events map[string][]time.Time
}

type seen struct {
	state  int
	start  int64
	spawns int
}

func newRestartTracker() *restartTracker {
	return &restartTracker{last: map[string]seen{}, events: map[string][]time.Time{}}
}

// observe records p as seen at now.
func (t *restartTracker) observe(ns string, p *Proc, now time.Time) {
	prev, ok := t.last[ns]
	t.last[ns] = seen{state: p.State, start: p.Start, spawns: p.Spawns}
	if !ok {
		return
	}
	n := 0
	switch {
	case p.Spawns >= 0 && prev.spawns >= 0:
		n = p.Spawns - prev.spawns
	case p.Start != 0 && p.Start != prev.start:
		n = 1
	}
	if n <= 0 {
		return
	}
	if prev.state == StateStopped || prev.state == StateFatal {
		n-- // the first of them is the start command's
	}
	for range n {
		t.events[ns] = append(t.events[ns], now)
	}
}

// count is ns's restarts in the window before now.
func (t *restartTracker) count(ns string, now time.Time) int {
	ev := t.events[ns]
	cut := now.Add(-FlapWindow)
	i := 0
	for i < len(ev) && !ev[i].After(cut) {
		i++
	}
	if i > 0 {
		ev = ev[i:]
		if len(ev) == 0 {
			delete(t.events, ns)
		} else {
			t.events[ns] = ev
		}
	}
	return len(ev)
}

// forget drops processes no longer there.
func (t *restartTracker) forget(keep map[string]*row) {
	for ns := range t.last {
		if keep[ns] == nil {
			delete(t.last, ns)
			delete(t.events, ns)
		}
	}
}
