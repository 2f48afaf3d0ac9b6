package events

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/gosupervisor/gosupervisor/pkg/loglevel"
)

func TestTypeHierarchy(t *testing.T) {
	tests := []struct {
		subscribed []string
		name       string
		count      int
	}{
		{[]string{"EVENT"}, "TICK_5", 1},
		{[]string{"EVENT"}, "REMOTE_COMMUNICATION", 1},
		{[]string{"PROCESS_STATE"}, "PROCESS_STATE_RUNNING", 1},
		{[]string{"PROCESS_STATE"}, "PROCESS_LOG_STDOUT", 0},
		{[]string{"PROCESS_STATE_RUNNING"}, "PROCESS_STATE_EXITED", 0},
		{[]string{"TICK"}, "TICK_3600", 1},
		{[]string{"PROCESS_GROUP"}, "PROCESS_GROUP_REMOVED", 1},
		{[]string{"SUPERVISOR_STATE_CHANGE"}, "SUPERVISOR_STATE_CHANGE_STOPPING", 1},
		{[]string{"PROCESS_COMMUNICATION"}, "PROCESS_COMMUNICATION_STDERR", 1},
		{[]string{"PROCESS_COMMUNICATION"}, "PROCESS_LOG_STDERR", 0},
		// One callback per subscribed type in the original: counted twice.
		{[]string{"PROCESS_STATE", "PROCESS_STATE_RUNNING"}, "PROCESS_STATE_RUNNING", 2},
		{[]string{"EVENT", "PROCESS_STATE", "PROCESS_STATE_RUNNING"}, "PROCESS_STATE_RUNNING", 3},
		{[]string{"EVENT"}, "NO_SUCH_EVENT", 0},
	}
	for _, tt := range tests {
		if got := Count(tt.subscribed, tt.name); got != tt.count {
			t.Errorf("Count(%v, %s) = %d, want %d", tt.subscribed, tt.name, got, tt.count)
		}
		if got := Matches(tt.subscribed, tt.name); got != (tt.count > 0) {
			t.Errorf("Matches(%v, %s) = %v", tt.subscribed, tt.name, got)
		}
	}
	for name := range parents {
		if !IsA(name, "EVENT") {
			t.Errorf("%s is not an EVENT", name)
		}
	}
	if !Abstract("PROCESS_STATE") || Abstract("REMOTE_COMMUNICATION") || !Known("TICK_60") || Known("TICK_10") {
		t.Error("Abstract/Known wrong")
	}
}

func TestEnvelope(t *testing.T) {
	tests := []struct {
		payload, want string
	}{
		{"groupname:listener\n", "ver:3.0 server:myid serial:0 pool:listener poolserial:0 eventname:PROCESS_GROUP_ADDED len:19\ngroupname:listener\n"},
		{"", "ver:3.0 server:myid serial:0 pool:listener poolserial:0 eventname:PROCESS_GROUP_ADDED len:0\n"},
		// len counts code points, as Python's len() of a str.
		{"héllo→", "ver:3.0 server:myid serial:0 pool:listener poolserial:0 eventname:PROCESS_GROUP_ADDED len:6\nhéllo→"},
	}
	for _, tt := range tests {
		if got := Envelope("myid", 0, 0, "listener", "PROCESS_GROUP_ADDED", tt.payload); got != tt.want {
			t.Errorf("Envelope(%q) = %q, want %q", tt.payload, got, tt.want)
		}
	}
	if got := Envelope("s", 12, 3, "p", "TICK_5", "when:5"); got != "ver:3.0 server:s serial:12 pool:p poolserial:3 eventname:TICK_5 len:6\nwhen:5" {
		t.Errorf("got %q", got)
	}
}

func TestDecodeOutput(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain\n", "plain\n"},
		{"é", "é"},
		{"a\xffb\n\t\\", `Undecodable: b'a\xffb\n\t\\'`},
		{"it's\xff", `Undecodable: b"it's\xff"`},
		{"'\"\xff", `Undecodable: b'\'"\xff'`},
	}
	for _, tt := range tests {
		if got := DecodeOutput([]byte(tt.in)); got != tt.want {
			t.Errorf("DecodeOutput(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestCounterWraps(t *testing.T) {
	var c Counter
	if c.Next() != 0 || c.Next() != 1 {
		t.Fatal("counter does not start at 0")
	}
	c.next = math.MaxInt64
	if c.Next() != math.MaxInt64 || c.Next() != 0 {
		t.Error("counter does not wrap to 0 after maxint")
	}
}

// recLog records log lines as "LEVL msg".
type recLog struct{ lines []string }

func (l *recLog) Log(level loglevel.Level, msg string) {
	l.lines = append(l.lines, level.String()+" "+msg)
}

func (l *recLog) Enabled(loglevel.Level) bool { return true }

func (l *recLog) has(line string) bool { return slices.Contains(l.lines, line) }

// fakeConn is a listener process.
type fakeConn struct {
	running bool
	broken  bool
	sent    []string
}

func (c *fakeConn) Running() bool { return c.running }

func (c *fakeConn) Send(data []byte) error {
	if c.broken {
		return errors.New("broken pipe")
	}
	c.sent = append(c.sent, string(data))
	return nil
}

func newTestPool(size int, subscribed ...string) (*Pool, *recLog, *Counter) {
	log := &recLog{}
	global := &Counter{}
	return NewPool("pool", subscribed, size, global, log), log, global
}

func TestProtocol(t *testing.T) {
	tests := []struct {
		name     string
		feed     []string // chunks from the listener; "!" = dispatch one event here
		state    State
		inFlight bool
		buffered int      // events left in the pool's buffer
		sent     int      // envelopes written
		logs     []string // lines that must appear
	}{
		{name: "ready", feed: []string{"READY\n"}, state: Ready, buffered: 1},
		{name: "ready in pieces", feed: []string{"REA", "DY", "\n"}, state: Ready, buffered: 1},
		{name: "short is undecided", feed: []string{"READY"}, state: Acknowledged, buffered: 1},
		{name: "bad ready token", feed: []string{"HELLO!\n"}, state: Unknown, buffered: 1,
			logs: []string{"DEBG l0: ACKNOWLEDGED -> UNKNOWN", "WARN l0: has entered the UNKNOWN state and will no longer receive events, this usually indicates the process violated the eventlistener protocol"}},
		{name: "output while ready", feed: []string{"READY\nx"}, state: Unknown, buffered: 1},
		{name: "busy", feed: []string{"READY\n", "!"}, state: Busy, inFlight: true, sent: 1,
			logs: []string{"DEBG event 0 sent to listener l0"}},
		{name: "ok", feed: []string{"READY\n", "!", "RESULT 2\nOK"}, state: Acknowledged, sent: 1,
			logs: []string{"DEBG l0: event was processed", "DEBG l0: BUSY -> ACKNOWLEDGED"}},
		{name: "ok and ready at once", feed: []string{"READY\n", "!", "RESULT 2\nOKREADY\n"}, state: Ready, sent: 1},
		{name: "result in pieces", feed: []string{"READY\n", "!", "RESU", "LT 2", "\nO", "K"}, state: Acknowledged, sent: 1},
		{name: "result with python int syntax", feed: []string{"READY\n", "!", "RESULT  +1_0 \n0123456789"}, state: Acknowledged, buffered: 1, sent: 1,
			logs: []string{"WARN l0: event was rejected"}},
		{name: "fail", feed: []string{"READY\n", "!", "RESULT 4\nFAIL"}, state: Acknowledged, buffered: 1, sent: 1,
			logs: []string{"WARN l0: event was rejected", "DEBG rebuffering event 0 for pool pool (buf size=0, max=5)"}},
		{name: "bad result line", feed: []string{"READY\n", "!", "RESULT x\n"}, state: Unknown, buffered: 1, sent: 1,
			logs: []string{"WARN l0: bad result line: 'RESULT x'", "DEBG l0: BUSY -> UNKNOWN"}},
		{name: "undecodable result line", feed: []string{"READY\n", "!", "RESULT \xff\n"}, state: Unknown, buffered: 1, sent: 1,
			logs: []string{`WARN l0: bad result line: 'Undecodable: b'RESULT \xff''`}},
		{name: "negative length", feed: []string{"READY\n", "!", "RESULT -1\n"}, state: Unknown, buffered: 1, sent: 1},
		// Like the original, an empty result is only judged when more output arrives.
		{name: "empty result waits", feed: []string{"READY\n", "!", "RESULT 0\n"}, state: Busy, inFlight: true, sent: 1},
		{name: "empty result rejected", feed: []string{"READY\n", "!", "RESULT 0\n", "READY\n"}, state: Ready, buffered: 1, sent: 1,
			logs: []string{"WARN l0: event was rejected"}},
		{name: "unknown ignores everything", feed: []string{"nonsense", "READY\n"}, state: Unknown, buffered: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, log, _ := newTestPool(5, "EVENT")
			conn := &fakeConn{running: true}
			l := p.AddListener("l0", -1, conn)
			p.Notify(NewEvent("PROCESS_GROUP_ADDED", "groupname:g\n"))
			for _, chunk := range tt.feed {
				if chunk == "!" {
					p.Dispatch("sid")
					continue
				}
				p.Feed(l, []byte(chunk))
			}
			if l.State() != tt.state || (l.InFlight() != nil) != tt.inFlight || len(p.Buffered()) != tt.buffered || len(conn.sent) != tt.sent {
				t.Errorf("state %s inFlight %v buffered %d sent %d; want %s %v %d %d",
					l.State(), l.InFlight() != nil, len(p.Buffered()), len(conn.sent), tt.state, tt.inFlight, tt.buffered, tt.sent)
			}
			for _, line := range tt.logs {
				if !log.has(line) {
					t.Errorf("missing log line %q in %q", line, log.lines)
				}
			}
		})
	}
}

func TestRejectedEventIsRedeliveredWithSameSerials(t *testing.T) {
	p, _, _ := newTestPool(10, "PROCESS_STATE")
	conn := &fakeConn{running: true}
	l := p.AddListener("l0", -1, conn)
	p.Notify(NewEvent("PROCESS_STATE_RUNNING", "a"))
	p.Notify(NewEvent("PROCESS_STATE_EXITED", "b"))
	p.Feed(l, []byte("READY\n"))
	p.Dispatch("sid")
	p.Feed(l, []byte("RESULT 4\nFAILREADY\n"))
	p.Dispatch("sid")
	want := []string{
		"ver:3.0 server:sid serial:0 pool:pool poolserial:0 eventname:PROCESS_STATE_RUNNING len:1\na",
		"ver:3.0 server:sid serial:0 pool:pool poolserial:0 eventname:PROCESS_STATE_RUNNING len:1\na",
	}
	if !slices.Equal(conn.sent, want) {
		t.Errorf("sent %q, want %q", conn.sent, want)
	}
}

func TestOverflowDiscardsOldest(t *testing.T) {
	p, log, _ := newTestPool(2, "PROCESS_STATE")
	l := p.AddListener("l0", -1, &fakeConn{running: true})
	for i := range 4 {
		p.Notify(NewEvent("PROCESS_STATE_RUNNING", fmt.Sprint(i)))
	}
	var serials []int64
	for _, ev := range p.Buffered() {
		serials = append(serials, ev.Serial())
	}
	if !slices.Equal(serials, []int64{2, 3}) {
		t.Errorf("buffered serials %v, want [2 3]", serials)
	}
	for _, line := range []string{"ERRO pool pool event buffer overflowed, discarding event 0", "ERRO pool pool event buffer overflowed, discarding event 1"} {
		if !log.has(line) {
			t.Errorf("missing %q in %q", line, log.lines)
		}
	}
	// A rejected event going back to a full buffer pushes out the oldest.
	p.Feed(l, []byte("READY\n"))
	p.Dispatch("sid") // sends 2, then 3 stays
	p.Notify(NewEvent("PROCESS_STATE_RUNNING", "4"))
	p.Feed(l, []byte("RESULT 1\nX"))
	if !log.has("ERRO pool pool event buffer overflowed, discarding event 3") {
		t.Errorf("no overflow on re-buffering: %q", log.lines)
	}
	serials = serials[:0]
	for _, ev := range p.Buffered() {
		serials = append(serials, ev.Serial())
	}
	if !slices.Equal(serials, []int64{2, 4}) {
		t.Errorf("buffered serials %v, want [2 4]", serials)
	}
}

func TestDispatchChoosesFirstReadyRunningListener(t *testing.T) {
	p, log, _ := newTestPool(10, "EVENT")
	stopped := &fakeConn{running: false}
	broken := &fakeConn{running: true, broken: true}
	good := &fakeConn{running: true}
	lStopped := p.AddListener("stopped", -1, stopped)
	lBroken := p.AddListener("broken", -1, broken)
	lGood := p.AddListener("good", -1, good)
	for _, l := range []*Listener{lStopped, lBroken, lGood} {
		p.Feed(l, []byte("READY\n"))
	}
	p.Notify(NewEvent("TICK_5", "when:5"))
	p.Notify(NewEvent("TICK_5", "when:10"))
	p.Dispatch("sid")
	if len(stopped.sent) != 0 || len(good.sent) != 1 || lBroken.State() != Ready || lGood.State() != Busy {
		t.Fatalf("stopped %d good %d broken %s good %s", len(stopped.sent), len(good.sent), lBroken.State(), lGood.State())
	}
	if !log.has("DEBG epipe occurred while sending event 0 to listener broken, listener state unchanged") {
		t.Errorf("no epipe line: %q", log.lines)
	}
	// Nobody left to take the second event: it stays at the head.
	if b := p.Buffered(); len(b) != 1 || b[0].Payload != "when:10" {
		t.Errorf("buffer %v", b)
	}
	if !log.has("DEBG rebuffering event 1 for pool pool (buf size=0, max=10)") {
		t.Errorf("no rebuffering line: %q", log.lines)
	}
	// The listener dies while busy: its event goes back to the head.
	p.Exited(lGood)
	if b := p.Buffered(); len(b) != 2 || b[0].Payload != "when:5" || b[0].Serial() != 0 {
		t.Errorf("after death buffer %v", b)
	}
	p.Started(lGood)
	if lGood.State() != Acknowledged || lGood.InFlight() != nil {
		t.Errorf("restarted listener %s", lGood.State())
	}
}

func TestSerialsAreTakenByAcceptingPools(t *testing.T) {
	log := &recLog{}
	global := &Counter{}
	a := NewPool("a", []string{"PROCESS_STATE"}, 10, global, log)
	b := NewPool("b", []string{"PROCESS_STATE", "PROCESS_STATE_RUNNING"}, 10, global, log)
	notify := func(name string) *Event {
		ev := NewEvent(name, "")
		a.Notify(ev)
		b.Notify(ev)
		return ev
	}
	tick := notify("TICK_5") // nobody wants it: no serial taken
	run := notify("PROCESS_STATE_RUNNING")
	exit := notify("PROCESS_STATE_EXITED")
	if tick.Serial() != -1 || run.Serial() != 0 || exit.Serial() != 1 {
		t.Errorf("serials %d %d %d", tick.Serial(), run.Serial(), exit.Serial())
	}
	if run.PoolSerial("a") != 0 || run.PoolSerial("b") != 0 || exit.PoolSerial("b") != 1 {
		t.Errorf("pool serials %d %d %d", run.PoolSerial("a"), run.PoolSerial("b"), exit.PoolSerial("b"))
	}
	// b subscribes twice to RUNNING: buffered twice, as the original.
	if n := len(b.Buffered()); n != 3 || !log.has("DEBG rebuffering event 0 for pool b (buf size=1, max=10)") {
		t.Errorf("b buffered %d; log %q", n, log.lines)
	}
}

func TestRejectionIsClaimedByPriority(t *testing.T) {
	log := &recLog{}
	global := &Counter{}
	a := NewPool("a", []string{"PROCESS_STATE"}, 10, global, log)
	b := NewPool("b", []string{"TICK"}, 10, global, log)
	c := NewPool("c", []string{"TICK"}, 10, global, log)
	la := a.AddListener("la", -1, &fakeConn{running: true})
	b.AddListener("lb", -1, &fakeConn{running: true})
	c.AddListener("lc", 5, &fakeConn{running: true})
	pools := []*Pool{a, b, c}
	for _, p := range pools {
		p.OnReject = func(l *Listener, ev *Event) {
			for _, q := range pools {
				if q.Claims(l) {
					q.Requeue(ev)
				}
			}
		}
	}
	a.Notify(NewEvent("PROCESS_STATE_RUNNING", "x"))
	a.Feed(la, []byte("READY\n"))
	a.Dispatch("sid")
	a.Feed(la, []byte("RESULT 4\nFAIL"))
	if len(a.Buffered()) != 1 || len(b.Buffered()) != 1 || len(c.Buffered()) != 0 {
		t.Fatalf("buffered a %d b %d c %d", len(a.Buffered()), len(b.Buffered()), len(c.Buffered()))
	}
	if ev := b.Buffered()[0]; ev.PoolSerial("b") != 0 || ev.Serial() != 0 {
		t.Errorf("b got serial %d poolserial %d", ev.Serial(), ev.PoolSerial("b"))
	}
}

func TestStateNames(t *testing.T) {
	got := []string{Ready.String(), Busy.String(), Acknowledged.String(), Unknown.String(), State(0).String()}
	if strings.Join(got, " ") != "READY BUSY ACKNOWLEDGED UNKNOWN None" {
		t.Errorf("got %v", got)
	}
}
