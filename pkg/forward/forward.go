// Package forward copies children's lines to supervisord's own stdout and
// stderr (stdout_forward / stderr_forward, EXTENSIONS.md §5), prefixed with
// the process name padded like docker compose's ("web    | …").
//
// Each destination has one writer goroutine (while there is something to
// write) and a bounded queue. Producers (the pipe readers) only append
// whole lines to the queue under a mutex and never wait for the
// destination: when the queue is full the lines that do not fit are
// dropped and counted, and the main log gets one warning per drop streak
// with the count. So a slow or stuck stdout never blocks a child, and no
// write ever holds two children's bytes inside one line.
package forward

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// DefaultLimit is the default bound on the bytes queued (and being
// written) per destination.
const DefaultLimit = 4 << 20

// StreakReport is the longest a drop streak goes unreported: a destination
// that stays stuck still gets a warning this often.
const StreakReport = time.Minute

// Options configure a Set.
type Options struct {
	// Limit bounds the bytes queued per destination; 0 means DefaultLimit.
	Limit int
	// Now is the clock of the drop streaks; nil means time.Now.
	Now func() time.Time
}

// Set is supervisord's two destinations and the name width they share.
// Sources of both pad their names to the same width.
type Set struct {
	Stdout, Stderr *Writer
	width          atomic.Int64
	gen            atomic.Uint64 // bumped by SetWidth; sources recompute their prefix
	warn           atomic.Pointer[func(string)]
}

// NewSet returns a Set writing to stdout and stderr.
func NewSet(stdout, stderr io.Writer, opt Options) *Set {
	s := &Set{}
	s.Stdout = newWriter(s, stdout, "stdout", opt)
	s.Stderr = newWriter(s, stderr, "stderr", opt)
	return s
}

var (
	stdOnce sync.Once
	stdSet  *Set
)

// Std is the process's Set on os.Stdout and os.Stderr, shared by every
// Supervisor the process builds (a restart keeps one writer per
// descriptor).
func Std() *Set {
	stdOnce.Do(func() { stdSet = NewSet(os.Stdout, os.Stderr, Options{}) })
	return stdSet
}

// PipeSize is what a destination that is a pipe is grown to on first use
// (F_SETPIPE_SZ; Linux's default pipe-max-size): a reader of
// supervisord's stdout then wakes once per MiB instead of per 64 KiB.
const PipeSize = 1 << 20

// growPipe enlarges dst's pipe buffer if dst is a pipe; errors (not a
// pipe, a lower pipe-max-size, an unprivileged user over the quota) leave
// it as it was.
func growPipe(dst io.Writer) {
	f, ok := dst.(*os.File)
	if !ok {
		return
	}
	if st, err := f.Stat(); err != nil || st.Mode()&os.ModeNamedPipe == 0 {
		return
	}
	if rc, err := f.SyscallConn(); err == nil {
		_ = rc.Control(func(fd uintptr) {
			if cur, err := unix.FcntlInt(fd, unix.F_GETPIPE_SZ, 0); err == nil && cur < PipeSize {
				_, _ = unix.FcntlInt(fd, unix.F_SETPIPE_SZ, PipeSize)
			}
		})
	}
}

// SetWidth sets the width names are padded to: the longest name among the
// forwarding processes.
func (s *Set) SetWidth(n int) {
	if int64(n) != s.width.Load() {
		s.width.Store(int64(n))
		s.gen.Add(1)
	}
}

// Width returns the current padding width.
func (s *Set) Width() int { return int(s.width.Load()) }

// SetWarn sets where drop warnings go (the main log); it is called on a
// goroutine that no child waits for.
func (s *Set) SetWarn(warn func(msg string)) {
	if warn == nil {
		s.warn.Store(nil)
		return
	}
	s.warn.Store(&warn)
}

func (s *Set) report(msg string) {
	if w := s.warn.Load(); w != nil {
		(*w)(msg)
	}
}

// Source returns the forwarder of one stream of one process to the
// destination of that stream ("stdout" or "stderr").
func (s *Set) Source(stream, name string) *Source {
	w := s.Stdout
	if stream == "stderr" {
		w = s.Stderr
	}
	return &Source{w: w, name: name, gen: ^uint64(0)}
}

// Writer is one destination: a bounded queue and its writer goroutine.
type Writer struct {
	set   *Set
	dst   io.Writer
	what  string // "stdout" or "stderr", for the warning
	limit int
	now   func() time.Time

	wmu   sync.Mutex // held around each write to dst (see Shared)
	grown sync.Once  // growPipe, at the first write

	mu       sync.Mutex
	queue    []byte // whole lines waiting
	spare    []byte // the buffer last written, reused as the next queue
	inflight int    // bytes being written
	running  bool   // the writer goroutine exists
	dropping []*Source
	idle     chan struct{} // closed when the queue drains; made by Sync
}

func newWriter(set *Set, dst io.Writer, what string, opt Options) *Writer {
	w := &Writer{set: set, dst: dst, what: what, limit: opt.Limit, now: opt.Now}
	if w.limit <= 0 {
		w.limit = DefaultLimit
	}
	if w.now == nil {
		w.now = time.Now
	}
	return w
}

// Source is one stream's way into a Writer.
type Source struct {
	w      *Writer
	name   string
	gen    uint64
	prefix []byte

	// Under w.mu.
	dropped   int
	dropStart time.Time
}

// Prefix returns "name | " padded to the Set's width. Only the stream's
// own reader calls it.
func (s *Source) Prefix() []byte {
	if g := s.w.set.gen.Load(); g != s.gen {
		s.gen = g
		pad := max(s.w.set.Width()-len(s.name), 0)
		s.prefix = []byte(s.name + strings.Repeat(" ", pad) + " | ")
	}
	return s.prefix
}

// Forward queues n whole lines (each ending in a newline). It never waits:
// the lines that do not fit in the queue are dropped and counted.
func (s *Source) Forward(lines []byte, n int) {
	w := s.w
	var report string
	w.mu.Lock()
	room := w.limit - len(w.queue) - w.inflight
	if len(lines) > room {
		k := 0
		if room > 0 {
			k = bytes.LastIndexByte(lines[:room], '\n') + 1
		}
		kept := bytes.Count(lines[:k], []byte{'\n'})
		report = s.dropLocked(n-kept, w.now())
		lines = lines[:k]
	}
	if len(lines) > 0 {
		if w.queue == nil {
			// Full size at once: growing by doubling under the lock is
			// what made a burst outrun the writer. Pages never touched
			// cost no memory.
			w.queue = make([]byte, 0, w.limit)
		}
		w.queue = append(w.queue, lines...)
		if !w.running {
			w.running = true
			go w.run()
		}
	}
	busy := len(w.queue)+w.inflight > w.limit/2
	w.mu.Unlock()
	if report != "" {
		go w.set.report(report)
	}
	if busy {
		// A reader with output waiting never parks, so the writer may not
		// get a CPU before the queue is full: let it run. This yields, it
		// does not wait for the destination.
		runtime.Gosched()
	}
}

// dropLocked counts dropped lines; after StreakReport of a streak it
// returns the warning to log now (and starts a new streak).
func (s *Source) dropLocked(n int, now time.Time) string {
	if n <= 0 {
		return ""
	}
	w := s.w
	if s.dropped == 0 {
		s.dropStart = now
		w.dropping = append(w.dropping, s)
	}
	s.dropped += n
	if now.Sub(s.dropStart) < StreakReport {
		return ""
	}
	msg := s.message()
	s.dropped = 0
	for i, d := range w.dropping {
		if d == s {
			w.dropping = append(w.dropping[:i], w.dropping[i+1:]...)
			break
		}
	}
	return msg
}

func (s *Source) message() string {
	return fmt.Sprintf("dropped %d lines forwarded from '%s': supervisord's %s is not keeping up", s.dropped, s.name, s.w.what)
}

// run writes the queue until it is empty. An emptied queue ends every drop
// streak: their warnings go out then.
func (w *Writer) run() {
	for {
		w.mu.Lock()
		if len(w.queue) == 0 {
			w.running = false
			var msgs []string
			for _, s := range w.dropping {
				msgs = append(msgs, s.message())
				s.dropped = 0
			}
			w.dropping = nil
			if w.idle != nil {
				close(w.idle)
				w.idle = nil
			}
			w.mu.Unlock()
			for _, m := range msgs {
				w.set.report(m)
			}
			return
		}
		out := w.queue
		w.queue, w.spare = w.spare[:0], nil
		w.inflight = len(out)
		w.mu.Unlock()
		// Errors (a closed stdout) lose the lines like a full queue
		// would, without a warning per write.
		w.wmu.Lock()
		w.grown.Do(func() { growPipe(w.dst) })
		_, _ = w.dst.Write(out)
		w.wmu.Unlock()
		w.mu.Lock()
		w.inflight = 0
		if cap(out) <= 2*w.limit {
			w.spare = out[:0]
		}
		w.mu.Unlock()
	}
}

// Sync waits until everything queued so far has been written (or the
// timeout passed) and reports whether the queue is empty.
func (w *Writer) Sync(timeout time.Duration) bool {
	w.mu.Lock()
	if !w.running {
		w.mu.Unlock()
		return true
	}
	if w.idle == nil {
		w.idle = make(chan struct{})
	}
	ch := w.idle
	w.mu.Unlock()
	select {
	case <-ch:
		return true
	case <-time.After(timeout):
		return false
	}
}

// Sync waits for both destinations.
func (s *Set) Sync(timeout time.Duration) bool {
	a := s.Stdout.Sync(timeout)
	return s.Stderr.Sync(timeout) && a
}

// Shared returns a writer on dst whose writes never fall inside one of the
// forwarder's: the main log's copy on supervisord's stdout goes through it,
// so that a forwarded line longer than a pipe's atomic write (PIPE_BUF)
// never has a log line inside it. Its writes wait for the destination like
// direct writes would.
func (w *Writer) Shared(dst io.Writer) io.Writer { return sharedWriter{w, dst} }

type sharedWriter struct {
	w   *Writer
	dst io.Writer
}

func (s sharedWriter) Write(p []byte) (int, error) {
	s.w.wmu.Lock()
	defer s.w.wmu.Unlock()
	return s.dst.Write(p)
}
