package events

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/gosupervisor/gosupervisor/pkg/loglevel"
)

// Logger is the daemon's log (the engine's Logger satisfies it).
type Logger interface {
	Log(level loglevel.Level, msg string)
	Enabled(level loglevel.Level) bool
}

// Event is one event as pools buffer it. Serials are taken when the first
// pool accepts it (the original's _acceptEvent), so an event no pool wants
// uses no global serial, and an event several pools want shares one.
type Event struct {
	Name    string
	Payload string

	serial      int64 // -1 until a pool accepts the event
	poolSerials map[string]int64
}

// NewEvent returns an event not yet accepted by any pool.
func NewEvent(name, payload string) *Event {
	return &Event{Name: name, Payload: payload, serial: -1}
}

// Serial is the global serial, -1 while no pool has accepted the event.
func (e *Event) Serial() int64 { return e.serial }

// PoolSerial is the event's serial in the named pool, -1 if none.
func (e *Event) PoolSerial(pool string) int64 {
	if s, ok := e.poolSerials[pool]; ok {
		return s
	}
	return -1
}

// State is a listener's protocol state (the original's EventListenerStates).
type State int

// The original's codes.
const (
	Ready        State = 10
	Busy         State = 20
	Acknowledged State = 30
	Unknown      State = 40
)

func (s State) String() string {
	switch s {
	case Ready:
		return "READY"
	case Busy:
		return "BUSY"
	case Acknowledged:
		return "ACKNOWLEDGED"
	case Unknown:
		return "UNKNOWN"
	}
	return "None"
}

// Conn is the engine's side of one listener process.
type Conn interface {
	// Running reports whether the process is in the RUNNING process state;
	// only running listeners are sent events.
	Running() bool
	// Send queues data for the process's stdin without blocking; an error
	// means the pipe is gone (the original's EPIPE): the listener is skipped.
	Send(data []byte) error
}

// Protocol tokens.
var (
	readyToken  = []byte("READY\n")
	resultToken = "RESULT "
)

// Listener is the protocol state of one process of a pool.
type Listener struct {
	Name     string
	Priority int // the process's priority: the original compares processes by it
	conn     Conn

	state     State
	event     *Event // the event in flight (BUSY), nil otherwise
	buf       []byte // output not yet interpreted (the original's state_buffer)
	resultLen int    // -1 until the RESULT line has been read
	result    []byte
}

// State returns the listener's protocol state.
func (l *Listener) State() State { return l.state }

// InFlight returns the event the listener is processing, nil if none.
func (l *Listener) InFlight() *Event { return l.event }

// Pool is the state of one [eventlistener:x] pool.
type Pool struct {
	name       string
	subscribed []string
	size       int
	global     *Counter
	serial     Counter
	log        Logger

	buffer    []*Event
	listeners []*Listener

	// OnReject, when set, is told about an event a listener rejected (or
	// died processing) instead of the pool re-buffering it itself: the
	// original broadcasts the rejection to every pool (see Claims).
	OnReject func(l *Listener, ev *Event)
}

// NewPool returns an empty pool. global is the daemon-wide serial counter
// shared by all pools.
func NewPool(name string, subscribed []string, bufferSize int, global *Counter, log Logger) *Pool {
	return &Pool{name: name, subscribed: subscribed, size: bufferSize, global: global, log: log}
}

// Name returns the pool's (group's) name.
func (p *Pool) Name() string { return p.name }

// Wants reports whether the pool subscribes to events of type name.
func (p *Pool) Wants(name string) bool { return Matches(p.subscribed, name) }

// Buffered returns the buffered events, oldest first (a copy).
func (p *Pool) Buffered() []*Event { return append([]*Event(nil), p.buffer...) }

// AddListener adds one process of the pool, in the pool's process order
// (dispatch prefers earlier listeners). It starts ACKNOWLEDGED, as the
// original's dispatcher does.
func (p *Pool) AddListener(name string, priority int, conn Conn) *Listener {
	l := &Listener{Name: name, Priority: priority, conn: conn, state: Acknowledged, resultLen: -1}
	p.listeners = append(p.listeners, l)
	return l
}

// Notify offers an event to the pool: it is buffered once per subscribed
// type it is an instance of (see Count).
func (p *Pool) Notify(ev *Event) {
	for range Count(p.subscribed, ev.Name) {
		p.accept(ev, false)
	}
}

// accept is the original's _acceptEvent.
func (p *Pool) accept(ev *Event, head bool) {
	if ev.serial < 0 {
		ev.serial = p.global.Next()
	}
	if ev.poolSerials == nil {
		ev.poolSerials = map[string]int64{}
	}
	if _, ok := ev.poolSerials[p.name]; !ok {
		ev.poolSerials[p.name] = p.serial.Next()
	} else {
		p.debug(func() string {
			return fmt.Sprintf("rebuffering event %d for pool %s (buf size=%d, max=%d)", ev.serial, p.name, len(p.buffer), p.size)
		})
	}
	if len(p.buffer) >= p.size && len(p.buffer) > 0 {
		old := p.buffer[0]
		p.buffer = p.buffer[1:]
		p.log.Log(loglevel.Error, fmt.Sprintf("pool %s event buffer overflowed, discarding event %d", p.name, old.serial))
	}
	if head {
		p.buffer = append([]*Event{ev}, p.buffer...)
	} else {
		p.buffer = append(p.buffer, ev)
	}
}

// Dispatch sends buffered events, oldest first, to READY listeners in the
// RUNNING state (the original's transition → dispatch). server is the
// daemon's identifier for the envelope.
func (p *Pool) Dispatch(server string) {
	capable := false
	for _, l := range p.listeners {
		if l.state == Ready && l.conn.Running() {
			capable = true
			break
		}
	}
	if !capable {
		return
	}
	for len(p.buffer) > 0 {
		ev := p.buffer[0]
		p.buffer = p.buffer[1:]
		if !p.send(server, ev) {
			p.accept(ev, true)
			return
		}
	}
}

// send is the original's _dispatchEvent: the first READY running listener
// whose stdin takes the envelope gets the event.
func (p *Pool) send(server string, ev *Event) bool {
	for _, l := range p.listeners {
		if l.state != Ready || !l.conn.Running() {
			continue
		}
		env := Envelope(server, ev.serial, ev.poolSerials[p.name], p.name, ev.Name, ev.Payload)
		if err := l.conn.Send([]byte(env)); err != nil {
			p.debug(func() string {
				return fmt.Sprintf("epipe occurred while sending event %d to listener %s, listener state unchanged", ev.serial, l.Name)
			})
			continue
		}
		// Set directly, without the state-change debug line, as the original.
		l.state = Busy
		l.event = ev
		p.debug(func() string { return fmt.Sprintf("event %d sent to listener %s", ev.serial, l.Name) })
		return true
	}
	return false
}

// Started resets a listener for a new spawn of its process (the original
// makes a new dispatcher): ACKNOWLEDGED, nothing in flight or buffered.
func (p *Pool) Started(l *Listener) {
	l.state = Acknowledged
	l.event = nil
	l.buf = nil
	l.resultLen = -1
	l.result = nil
}

// Exited is called when the listener's process has ended: an event it was
// processing is re-buffered at the head (the original's finish()).
func (p *Pool) Exited(l *Listener) {
	if l.event != nil {
		p.rejected(l)
	}
}

// rejected hands the listener's event back (the original's
// EventRejectedEvent): to OnReject, or to the head of this pool's buffer.
func (p *Pool) rejected(l *Listener) {
	ev := l.event
	l.event = nil
	if ev == nil {
		return
	}
	if p.OnReject != nil {
		p.OnReject(l, ev)
		return
	}
	p.accept(ev, true)
}

// Claims is the original's handle_rejected test "process in procs", which
// compares processes by priority only: a pool claims a rejected event when
// any of its listeners has the rejecting listener's priority. So a rejected
// event is also re-buffered by other pools whose listeners share that
// priority (all listeners default to -1), whatever they subscribe to.
func (p *Pool) Claims(l *Listener) bool {
	for _, m := range p.listeners {
		if m.Priority == l.Priority {
			return true
		}
	}
	return false
}

// Requeue buffers a rejected event at the head (taking a pool serial if
// this pool never accepted it).
func (p *Pool) Requeue(ev *Event) { p.accept(ev, true) }

// Feed interprets output of the listener's stdout (the original's
// handle_listener_state_change, applied to everything buffered so far).
func (p *Pool) Feed(l *Listener, data []byte) {
	l.buf = append(l.buf, data...)
	for len(l.buf) > 0 {
		switch l.state {
		case Unknown:
			// Fatal until the process is restarted.
			l.buf = nil
			return
		case Acknowledged:
			if len(l.buf) < len(readyToken) {
				return // not enough to decide
			}
			if bytes.HasPrefix(l.buf, readyToken) {
				p.change(l, Ready)
				l.buf = l.buf[len(readyToken):]
			} else {
				p.change(l, Unknown)
				l.buf = nil
			}
			l.event = nil
		case Ready:
			// Spurious output while waiting for an event.
			p.change(l, Unknown)
			l.buf = nil
			l.event = nil
			return
		case Busy:
			if l.resultLen < 0 {
				nl := bytes.IndexByte(l.buf, '\n')
				if nl < 0 {
					return // no full result line yet
				}
				line := l.buf[:nl]
				l.buf = l.buf[nl+1:]
				n, ok := resultLength(line)
				if !ok {
					p.log.Log(loglevel.Warn, fmt.Sprintf("%s: bad result line: '%s'", l.Name, DecodeOutput(line)))
					p.change(l, Unknown)
					l.buf = nil
					p.rejected(l)
					return
				}
				l.resultLen = n
				continue
			}
			if need := l.resultLen - len(l.result); need > 0 {
				take := min(need, len(l.buf))
				l.result = append(l.result, l.buf[:take]...)
				l.buf = l.buf[take:]
			}
			if len(l.result) == l.resultLen {
				p.handleResult(l, l.result)
				l.event = nil
				l.result = nil
				l.resultLen = -1
			}
		default:
			return
		}
	}
}

// handleResult applies the default result handler
// (supervisor.dispatchers:default_handler): OK is processed, anything else
// rejects the event, which is buffered again at the head.
func (p *Pool) handleResult(l *Listener, result []byte) {
	if string(result) == "OK" {
		p.debug(func() string { return l.Name + ": event was processed" })
		p.change(l, Acknowledged)
		return
	}
	p.log.Log(loglevel.Warn, l.Name+": event was rejected")
	p.change(l, Acknowledged)
	p.rejected(l)
}

// change is the original's _change_listener_state.
func (p *Pool) change(l *Listener, to State) {
	from := l.state
	p.debug(func() string { return fmt.Sprintf("%s: %s -> %s", l.Name, from, to) })
	l.state = to
	if to == Unknown {
		p.log.Log(loglevel.Warn, l.Name+": has entered the UNKNOWN state and will no longer receive events, "+
			"this usually indicates the process violated the eventlistener protocol")
	}
}

func (p *Pool) debug(msg func() string) {
	if p.log.Enabled(loglevel.Debug) {
		p.log.Log(loglevel.Debug, msg())
	}
}

var errBadLength = errors.New("bad result length")

// resultLength parses what follows "RESULT " on a result line with Python's
// int() rules (surrounding whitespace, a sign, digits with single
// underscores). Like the original, the first 7 bytes are not checked to be
// "RESULT ". A negative length, which sends the original into endless
// recursion, is treated as a bad result line.
func resultLength(line []byte) (int, bool) {
	if len(line) < len(resultToken) {
		return 0, false
	}
	n, err := pyInt(string(line[len(resultToken):]))
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}

func pyInt(s string) (int, error) {
	s = strings.Trim(s, " \t\n\r\v\f")
	digits := strings.TrimLeft(s, "+-")
	if len(s)-len(digits) > 1 || digits == "" || digits[0] == '_' || digits[len(digits)-1] == '_' || strings.Contains(digits, "__") {
		return 0, errBadLength
	}
	n, err := strconv.Atoi(s[:len(s)-len(digits)] + strings.ReplaceAll(digits, "_", ""))
	if err != nil {
		return 0, fmt.Errorf("result length %q: %w", s, err)
	}
	return n, nil
}
