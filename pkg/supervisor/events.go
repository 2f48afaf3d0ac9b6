package supervisor

import (
	"fmt"
	"sync"
	"time"

	"github.com/gosupervisor/gosupervisor/pkg/events"
	"github.com/gosupervisor/gosupervisor/pkg/process"
)

// Event names of the original (SPEC §9.1) that the engine emits.
const (
	EvSupervisorRunning  = "SUPERVISOR_STATE_CHANGE_RUNNING"
	EvSupervisorStopping = "SUPERVISOR_STATE_CHANGE_STOPPING"
	EvGroupAdded         = "PROCESS_GROUP_ADDED"
	EvGroupRemoved       = "PROCESS_GROUP_REMOVED"
	EvRemoteComm         = "REMOTE_COMMUNICATION"
)

// Event is one event of the original's event system, with its payload
// exactly as listeners receive it, plus structure for other consumers
// (the web console's live table).
type Event struct {
	Name    string // e.g. "PROCESS_STATE_RUNNING"
	Payload string
	Time    time.Time
	Group   string // when about a group or process
	Process string // when about a process
	State   process.State
	Pid     int
}

// bus fans events out to subscribers without ever blocking the loop: a
// subscriber that falls behind by more than its buffer is dropped (its
// channel closed) and must resubscribe and resynchronise.
type bus struct {
	mu     sync.Mutex
	subs   map[chan Event]struct{}
	hooks  []func(Event) // called on the loop, in order (event listener pools)
	closed bool
	// counts are the events emitted by type, for /metrics (loop only).
	counts map[string]uint64
}

func newBus() *bus { return &bus{subs: map[chan Event]struct{}{}, counts: map[string]uint64{}} }

func (b *bus) publish(ev Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for ch := range b.subs {
		select {
		case ch <- ev:
		default:
			delete(b.subs, ch)
			close(ch)
		}
	}
}

func (b *bus) subscribe(size int) (<-chan Event, func()) {
	ch := make(chan Event, size)
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		close(ch)
		return ch, func() {}
	}
	b.subs[ch] = struct{}{}
	return ch, func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		if _, ok := b.subs[ch]; ok {
			delete(b.subs, ch)
			close(ch)
		}
	}
}

func (b *bus) close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	for ch := range b.subs {
		delete(b.subs, ch)
		close(ch)
	}
}

// Generation changes whenever anything a process snapshot shows may have
// changed other than the clock (every event bumps it), so a caller may reuse
// a snapshot taken within the same second and generation.
func (s *Supervisor) Generation() uint64 { return s.gen.Load() }

// Subscribe returns a channel of every event from now on. The channel is
// closed when the subscriber falls more than size events behind, when cancel
// is called, or when the supervisor stops.
func (s *Supervisor) Subscribe(size int) (<-chan Event, func()) {
	return s.events.subscribe(size)
}

// addHook registers fn to be called on the loop goroutine for every event,
// in emission order; fn must not block. Call before Run.
func (s *Supervisor) addHook(fn func(Event)) {
	s.events.hooks = append(s.events.hooks, fn)
}

// emit runs on the loop.
func (s *Supervisor) emit(ev Event) {
	s.gen.Add(1)
	s.events.counts[ev.Name]++
	if ev.Time.IsZero() {
		ev.Time = s.clock.Now()
	}
	for _, h := range s.events.hooks {
		h(ev)
	}
	s.events.publish(ev)
}

// emitState turns a state change into PROCESS_STATE_* with the original's
// payload.
func (s *Supervisor) emitState(p *proc, ev process.StateEvent) {
	payload := fmt.Sprintf("processname:%s groupname:%s from_state:%s", p.cfg.Name, p.cfg.Group, ev.From)
	switch ev.To {
	case process.Starting, process.Backoff:
		payload += fmt.Sprintf(" tries:%d", ev.Tries)
	case process.Running, process.Stopping, process.Stopped:
		payload += fmt.Sprintf(" pid:%d", ev.Pid)
	case process.Exited:
		expected := 0
		if ev.Expected {
			expected = 1
		}
		payload += fmt.Sprintf(" expected:%d pid:%d", expected, ev.Pid)
	}
	s.emit(Event{
		Name: "PROCESS_STATE_" + ev.To.String(), Payload: payload,
		Group: p.cfg.Group, Process: p.cfg.Name, State: ev.To, Pid: ev.Pid,
	})
}

// logKey names one output stream of one process in the feed.
type logKey struct {
	p      *proc
	stream string
}

// emitLog is called by a pump: PROCESS_LOG_STDOUT/STDERR, emitted on the loop.
func (s *Supervisor) emitLog(p *proc, stream string, data []byte) {
	s.feed.push(logKey{p, stream}, joinBacklog, data, func(data []byte) {
		s.emit(Event{
			Name:    "PROCESS_LOG_" + upper(stream),
			Payload: fmt.Sprintf("processname:%s groupname:%s pid:%d channel:%s\n%s", p.cfg.Name, p.cfg.Group, p.m.Pid(), stream, events.DecodeOutput(data)),
			Group:   p.cfg.Group, Process: p.cfg.Name, Pid: p.m.Pid(),
		})
	})
}

// emitCapture is called by a pump at a capture END token; each capture is
// one event, never joined with the next.
func (s *Supervisor) emitCapture(p *proc, stream string, data []byte) {
	s.feed.push(logKey{p, stream}, joinNever, data, func(data []byte) {
		s.emit(Event{
			Name:    "PROCESS_COMMUNICATION_" + upper(stream),
			Payload: fmt.Sprintf("processname:%s groupname:%s pid:%d\n%s", p.cfg.Name, p.cfg.Group, p.m.Pid(), events.DecodeOutput(data)),
			Group:   p.cfg.Group, Process: p.cfg.Name, Pid: p.m.Pid(),
		})
	})
}

func upper(stream string) string {
	if stream == "stderr" {
		return "STDERR"
	}
	return "STDOUT"
}

// tickPeriods are the original's TICK_5, TICK_60 and TICK_3600.
var tickPeriods = [...]int{5, 60, 3600}

// tick emits TICK_N when the wall-clock slice floor(now/N)*N changes; the
// first one after the first boundary crossing, as the original. Ticks only
// run when some hook wants them (event listener pools), so an idle daemon
// without listeners never wakes up.
func (s *Supervisor) tick(now time.Time) {
	if !s.wantTicks() {
		return
	}
	for _, n := range tickPeriods {
		slice := now.Unix() / int64(n) * int64(n)
		last, seen := s.lastTick[n]
		s.lastTick[n] = slice
		if seen && slice != last {
			s.emit(Event{Name: fmt.Sprintf("TICK_%d", n), Payload: fmt.Sprintf("when:%d", slice)})
		}
	}
}

func (s *Supervisor) wantTicks() bool { return s.listenerWantsTicks() }

// nextTick is when the next TICK_5 boundary passes, if ticks run.
func (s *Supervisor) nextTick() time.Time {
	if !s.wantTicks() {
		return time.Time{}
	}
	now := s.clock.Now().Unix()
	return time.Unix(now/5*5+5, 0)
}
