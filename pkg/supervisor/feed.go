package supervisor

import (
	"bytes"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
)

// feed carries what the pipe readers hand to the loop (listener protocol
// bytes, PROCESS_LOG and PROCESS_COMMUNICATION payloads). Unlike the inbox
// it never blocks: a reader appends and goes back to its pipe, so a child
// is never held up by the loop, and the loop, which never sends here,
// cannot wait on itself. Deliveries of one stream keep their order and
// their boundaries, except that a stream's bytes are joined into its
// latest waiting delivery when that may be done: always for listener
// protocol bytes (a byte stream), and for log chunks once more than
// feedHighWater bytes wait, so a loop that falls behind holds about one
// delivery per stream instead of one per read.
type feed struct {
	mu     sync.Mutex
	queue  []*feedItem
	latest map[any]*feedItem // newest waiting item of each stream
	bytes  int               // data bytes waiting
	wake   chan struct{}     // capacity 1: "the queue is not empty"
}

// feedHighWater is the backlog above which log chunks are joined.
const feedHighWater = 1 << 20

// joinMode says when an item may take a later push's bytes.
type joinMode int

const (
	joinNever   joinMode = iota // a message of its own (a capture)
	joinBacklog                 // a log chunk: joined only under backlog
	joinAlways                  // a byte stream (listener protocol)
)

type feedItem struct {
	data    []byte
	join    joinMode
	deliver func([]byte)
}

func newFeed() *feed {
	return &feed{latest: map[any]*feedItem{}, wake: make(chan struct{}, 1)}
}

// push queues deliver(data) for the loop, after everything pushed before
// for stream; data is copied.
func (f *feed) push(stream any, join joinMode, data []byte, deliver func([]byte)) {
	f.mu.Lock()
	last := f.latest[stream]
	if last != nil && last.join == join && (join == joinAlways || join == joinBacklog && f.bytes > feedHighWater) {
		last.data = append(last.data, data...)
	} else {
		it := &feedItem{data: bytes.Clone(data), join: join, deliver: deliver}
		f.latest[stream] = it
		f.queue = append(f.queue, it)
	}
	f.bytes += len(data)
	f.mu.Unlock()
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

// drain delivers everything queued so far, in order; run on the loop.
func (f *feed) drain() {
	f.mu.Lock()
	queue := f.queue
	f.queue = nil
	f.bytes = 0
	clear(f.latest)
	f.mu.Unlock()
	for _, it := range queue {
		it.deliver(it.data)
	}
}

// loopGuard catches, in test binaries, code on the loop goroutine that
// sends to the loop's own inbox and would then wait on itself. Reading a
// goroutine's id costs a stack header dump, so the daemon skips it.
type loopGuard struct{ id atomic.Uint64 }

// enter records the current goroutine as the loop when enabled.
func (g *loopGuard) enter(enabled bool) {
	if enabled {
		g.id.Store(goroutineID())
	}
}

// check panics when called on the loop goroutine.
func (g *loopGuard) check(what string) {
	if id := g.id.Load(); id != 0 && goroutineID() == id {
		panic("supervisor: " + what + " from the loop goroutine would wait on the loop itself")
	}
}

// goroutineID parses "goroutine N [" from the current stack header.
func goroutineID() uint64 {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	b = bytes.TrimPrefix(b, []byte("goroutine "))
	if i := bytes.IndexByte(b, ' '); i > 0 {
		b = b[:i]
	}
	id, _ := strconv.ParseUint(string(b), 10, 64)
	return id
}
