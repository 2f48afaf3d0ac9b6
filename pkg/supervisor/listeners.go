package supervisor

import (
	"strings"

	"github.com/gosupervisor/gosupervisor/pkg/config"
	"github.com/gosupervisor/gosupervisor/pkg/events"
	"github.com/gosupervisor/gosupervisor/pkg/process"
)

// Event listener pools ([eventlistener:x], SPEC §9.2). The pools' state is
// pure (pkg/events) and owned by the loop: the hook feeds every emitted
// event to the pools, listener stdout reaches the loop through s.feed, and
// buffered events are dispatched at the end of every loop pass (as the
// original dispatches in each pool's transition()). Nothing here blocks:
// writes to a listener's stdin are queued by its stdinWriter.

// listeners holds the pools' state; owned by the loop.
type listeners struct {
	global  *events.Counter // the original's GlobalSerial (Options.EventSerials)
	pools   []*pool         // in creation order: the original's subscription order
	members map[*proc]*member
}

// pool is one active [eventlistener:x] group.
type pool struct {
	g       *group
	p       *events.Pool
	members []*member
}

// member is one process of a pool.
type member struct {
	pool *pool
	l    *events.Listener
	cur  *listenerStream // the spawn whose stdout is the protocol channel
}

// listenerStream identifies one spawn's stdout pump; output of a retired
// stream (a previous spawn, or a process that has exited) is only logged.
type listenerStream struct{ retired bool }

// initListeners is called once by New, before Run.
func (s *Supervisor) initListeners() {
	s.listeners.members = map[*proc]*member{}
	s.listeners.global = s.opts.EventSerials
	if s.listeners.global == nil {
		s.listeners.global = &events.Counter{}
	}
	s.addHook(s.listenerHook)
}

// listenerHook sees every event on the loop, in emission order.
func (s *Supervisor) listenerHook(ev Event) {
	ls := &s.listeners
	// As in the original, a pool exists (is subscribed) before its own
	// PROCESS_GROUP_ADDED and is gone before its PROCESS_GROUP_REMOVED.
	switch ev.Name {
	case EvGroupAdded:
		if g := s.groups[ev.Group]; g != nil && g.cfg.Kind == config.EventListenerPool {
			s.addPool(g)
		}
	case EvGroupRemoved:
		s.removePool(ev.Group)
	}
	if len(ls.pools) > 0 {
		e := events.NewEvent(ev.Name, ev.Payload)
		for _, pl := range ls.pools {
			pl.p.Notify(e)
		}
	}
	// Only state changes move a member; log events, by far the most
	// numerous, skip the lookup.
	if ev.Process != "" && len(ls.members) > 0 && strings.HasPrefix(ev.Name, "PROCESS_STATE_") {
		if p := s.findProc(ev.Group + ":" + ev.Process); p != nil {
			if m := ls.members[p]; m != nil {
				m.stateChanged(ev.State)
			}
		}
	}
}

// stateChanged follows a listener process's spawns and exits. It runs after
// the state event itself has been buffered, so, as in the original's
// finish(), an exited listener's event in flight goes back to the head of
// the buffer after the EXITED event was appended.
func (m *member) stateChanged(to process.State) {
	switch to {
	case process.Starting:
		m.retire()
		m.pool.p.Started(m.l)
	case process.Running, process.Stopping:
	default: // the process is gone (EXITED, STOPPED, BACKOFF, FATAL, UNKNOWN)
		m.retire()
		m.pool.p.Exited(m.l)
	}
}

func (m *member) retire() {
	if m.cur != nil {
		m.cur.retired = true
		m.cur = nil
	}
}

func (s *Supervisor) addPool(g *group) {
	ls := &s.listeners
	s.removePool(g.cfg.Name)
	pl := &pool{g: g, p: events.NewPool(g.cfg.Name, g.cfg.Events, g.cfg.BufferSize, ls.global, s.log)}
	pl.p.OnReject = s.rejected
	for _, p := range g.procs {
		m := &member{pool: pl, l: pl.p.AddListener(p.cfg.Name, p.cfg.Priority, listenerConn{p})}
		pl.members = append(pl.members, m)
		ls.members[p] = m
	}
	ls.pools = append(ls.pools, pl)
}

func (s *Supervisor) removePool(name string) {
	ls := &s.listeners
	for i, pl := range ls.pools {
		if pl.g.cfg.Name != name {
			continue
		}
		for _, p := range pl.g.procs {
			if m := ls.members[p]; m != nil {
				m.retire()
			}
			delete(ls.members, p)
		}
		ls.pools = append(ls.pools[:i], ls.pools[i+1:]...)
		return
	}
}

// rejected broadcasts a rejected event as the original's notify of
// EventRejectedEvent: every pool that claims the listener re-buffers it,
// in subscription (creation) order.
func (s *Supervisor) rejected(l *events.Listener, ev *events.Event) {
	for _, pl := range s.listeners.pools {
		if pl.p.Claims(l) {
			pl.p.Requeue(ev)
		}
	}
}

// dispatchListeners sends buffered events to ready listeners; called by the
// loop after every pass.
func (s *Supervisor) dispatchListeners() {
	for _, pl := range s.listeners.pools {
		pl.p.Dispatch(s.cfg.Supervisord.Identifier)
	}
}

// listenerWantsTicks reports whether some pool subscribes to a TICK type,
// which is when the loop must wake up for tick boundaries.
func (s *Supervisor) listenerWantsTicks() bool {
	for _, pl := range s.listeners.pools {
		for _, name := range events.TickNames {
			if pl.p.Wants(name) {
				return true
			}
		}
	}
	return false
}

// listenerConn is a pool's view of one listener process; used on the loop.
type listenerConn struct{ p *proc }

func (c listenerConn) Running() bool { return c.p.m.State() == process.Running }

func (c listenerConn) Send(data []byte) error {
	if c.p.stdin == nil {
		return errStdinClosed
	}
	return c.p.stdin.write(data)
}

// listenerOutput wraps the OnLog callback of an event listener's stdout
// pump: the returned function sees every chunk the listener writes (on the
// pump's goroutine) and hands it to the loop, where it drives the protocol.
// It is called once per spawn, at the start of that spawn's pump.
//
// The wrapped callback (PROCESS_LOG_STDOUT when stdout_events_enabled) is
// deliberately dropped: the original's listener stdout dispatcher only logs and parses,
// it never emits log events (a listener subscribed to PROCESS_LOG would
// otherwise feed on its own protocol chatter). The chunk has already been
// written to the stdout log by the channel before this is called.
func (s *Supervisor) listenerOutput(p *proc, _ func([]byte)) func([]byte) {
	// Called on the loop (spawn → attach → pump), after this spawn's
	// STARTING change was handled: attach the stream before any output.
	st := &listenerStream{}
	if m := s.listeners.members[p]; m != nil {
		m.retire()
		m.cur = st
	}
	return func(data []byte) {
		s.feed.push(st, joinAlways, data, func(data []byte) {
			m := s.listeners.members[p]
			if m == nil || m.cur != st {
				return
			}
			m.pool.p.Feed(m.l, data)
		})
	}
}
