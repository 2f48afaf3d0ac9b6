package logfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/gosupervisor/gosupervisor/pkg/pyfmt"
	"golang.org/x/sys/unix"
)

// ReadChunk is the most read from a child's pipe at once (the original's 128 KiB).
const ReadChunk = 2 << 16

// Capture-mode tokens (PROCESS_COMMUNICATION events).
var (
	BeginToken = []byte("<!--XSUPERVISOR:BEGIN-->")
	EndToken   = []byte("<!--XSUPERVISOR:END-->")
)

// ChannelOptions configures one output stream of one process. Every field may
// be left zero. Callbacks run on the pump's goroutine and must not block for
// long; the slices they receive are their own.
type ChannelOptions struct {
	Name    string   // process name: syslog prefix and debug messages
	Stream  string   // "stdout" or "stderr"
	Rotator *Rotator // the log file; nil for NONE
	Ring    *Ring    // tee for tails of targets without a readable file and live views
	Syslog  *Syslog  // *_syslog=true: each line goes out as "<name> <line>"

	StripANSI       bool
	CaptureMaxBytes int // > 0 enables capture mode

	// Format shapes what the log file, the ring and the forwarder get
	// (EXTENSIONS.md §5); FormatRaw is the original's bytes, untouched.
	// Capture mode, Debug and OnLog always see the child's bytes.
	Format Format
	// Forward, when set, receives every whole line (formatted) for
	// supervisord's own stdout or stderr.
	Forward Forwarder
	// Group and Pid fill the json format's fields.
	Group string
	Pid   int
	// Now is the formats' clock; nil means time.Now.
	Now func() time.Time

	OnCapture func(data []byte) // at END: the captured text (PROCESS_COMMUNICATION_*)
	OnLog     func(data []byte) // each logged chunk, captured text included (PROCESS_LOG_*)
	Debug     func(msg string)  // set when the main log level ≤ debug: the original's DEBG copies
	Warn      func(msg string)  // a failing log write (reported once per failure streak)

	// Buffers, when set, lends Pump its read buffer only while a read is
	// under way (pipes in the runtime poller); one pool shared by every
	// channel keeps idle programs from each holding a 128 KiB buffer.
	Buffers *BufferPool

	// Idle, when set, takes the pipe while nothing has been read for
	// IdleAfter (default DefaultIdleAfter), so that Start keeps no goroutine
	// for a quiet program; see package idlepoll.
	Idle      Parker
	IdleAfter time.Duration
}

// Parker takes an idle descriptor and calls ready on a new goroutine once it
// is readable again (*idlepoll.Poller).
type Parker interface {
	Park(fd int, ready func()) error
}

// DefaultIdleAfter is how long Start's reader waits for output before it
// parks the pipe. A stream with pauses this long is slow enough that the
// extra wake-up per pause costs nothing measurable.
const DefaultIdleAfter = time.Second

// BufferPool lends ReadChunk-sized read buffers.
type BufferPool struct{ p sync.Pool }

// NewBufferPool returns an empty pool.
func NewBufferPool() *BufferPool {
	return &BufferPool{p: sync.Pool{New: func() any { b := make([]byte, ReadChunk); return &b }}}
}

func (bp *BufferPool) get() *[]byte  { return bp.p.Get().(*[]byte) }
func (bp *BufferPool) put(b *[]byte) { bp.p.Put(b) }

// Channel is the output pipeline of one stream of one process. Pump runs on
// its own goroutine; Reopen, Clear and Close may be called from any other.
type Channel struct {
	opt ChannelOptions

	// Owned by the pump goroutine.
	pending   []byte // undecided bytes in capture mode (a possible token prefix)
	capturing bool
	failing   bool
	active    bool   // output read since the last idle check (Start)
	inPlace   bool   // raw, unstripped, no capture mode: reads may go straight into the ring
	fast      bool   // the pipe was found full fullReads times in a row (noteRead)
	full      int    // reads in a row that found the pipe full
	pipeOrig  int    // the pipe's size at the first read (0: not asked yet, -1: unknown)
	pipeSize  int    // its current size
	lines     *liner // nil for a raw, unforwarded stream

	mu      sync.Mutex // guards capture against Clear
	capture []byte
}

// NewChannel returns a channel with the given pipeline.
func NewChannel(opt ChannelOptions) *Channel {
	c := &Channel{opt: opt}
	if opt.Format != FormatRaw || opt.Forward != nil {
		c.lines = newLiner(c)
	}
	c.inPlace = opt.Ring != nil && opt.Format == FormatRaw && !opt.StripANSI && opt.CaptureMaxBytes <= 0
	return c
}

// Pump reads r in chunks of up to 128 KiB until EOF and sends every byte
// through the pipeline, in order. A slow sink blocks only this pump, which
// in turn back-pressures the child's pipe. It returns nil at EOF.
func (c *Channel) Pump(r io.Reader) error {
	if f, ok := r.(*os.File); ok && c.opt.Buffers != nil {
		if rc, err := f.SyscallConn(); err == nil {
			return c.pumpRaw(f.Name(), rc)
		}
	}
	buf := make([]byte, ReadChunk)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			c.Feed(buf[:n])
		}
		if err != nil {
			c.Flush()
			if errors.Is(err, io.EOF) || errors.Is(err, os.ErrClosed) {
				return nil
			}
			return fmt.Errorf("read %s of %s: %w", c.opt.Stream, c.opt.Name, err)
		}
	}
}

// pumpRaw is Pump for a descriptor in the runtime poller.
func (c *Channel) pumpRaw(name string, rc syscall.RawConn) error {
	for {
		if err := c.readOnce(name, rc); err != nil {
			return c.end(err)
		}
	}
}

// readOnce waits for the descriptor to be readable without holding a
// buffer, then reads into a borrowed one (or, for a busy raw stream,
// straight into its ring) and feeds the chunk through the pipeline. It
// returns io.EOF at the end, os.ErrDeadlineExceeded (wrapped) when a read
// deadline passes, or the read error.
func (c *Channel) readOnce(name string, rc syscall.RawConn) error {
	var n int
	var rerr error
	var buf *[]byte // borrowed from the pool
	var dst []byte  // where the read goes: *buf, or the ring's reservation
	inPlace := c.inPlace && (c.fast || c.opt.Ring.Busy())
	reserved := false
	err := rc.Read(func(fd uintptr) bool {
		if inPlace {
			dst, reserved = c.opt.Ring.Reserve(RingSlack), true
		} else {
			buf = c.opt.Buffers.get()
			dst = *buf
		}
		for {
			n, rerr = syscall.Read(int(fd), dst)
			if rerr != syscall.EINTR {
				break
			}
		}
		if rerr == syscall.EAGAIN {
			if reserved {
				c.opt.Ring.Release()
				reserved = false
			} else {
				c.opt.Buffers.put(buf)
				buf = nil
			}
			return false
		}
		if n > 0 {
			c.noteRead(int(fd), n)
		}
		return true
	})
	switch {
	case reserved:
		if n > 0 {
			c.logInPlace(dst[:n])
		}
		c.opt.Ring.Release()
	case buf != nil:
		if n > 0 {
			c.Feed(dst[:n])
		}
		c.opt.Buffers.put(buf)
	}
	switch {
	case err != nil && (errors.Is(err, os.ErrClosed) || errors.Is(err, io.EOF)):
		return io.EOF
	case err != nil:
		return fmt.Errorf("read %s of %s (%s): %w", c.opt.Stream, c.opt.Name, name, err)
	case rerr != nil:
		return fmt.Errorf("read %s of %s: %w", c.opt.Stream, c.opt.Name, rerr)
	case n == 0:
		return io.EOF
	}
	c.active = true
	return nil
}

// BigPipe is what the pipe of a fast stream grows to (F_SETPIPE_SZ; the
// unprivileged maximum by default): the writer then seldom waits for the
// daemon, and the daemon reads it in fewer, larger chunks. A stream is fast
// when fullReads reads in a row each found its pipe full (one big write,
// say a traceback, is not). An idle pipe parks at its original size again,
// so only busy streams hold the bigger kernel buffer (non-root users have a
// soft limit on pipe memory).
const (
	BigPipe   = 1 << 20
	fullReads = 2
)

// noteRead follows the read sizes of the stream: after fullReads reads in a
// row that each emptied a full pipe, the stream is fast, its pipe grows and
// its reads go straight into the ring.
func (c *Channel) noteRead(fd, n int) {
	if c.fast {
		return
	}
	if c.pipeOrig == 0 {
		c.pipeOrig = -1
		if sz, err := unix.FcntlInt(uintptr(fd), unix.F_GETPIPE_SZ, 0); err == nil {
			c.pipeOrig, c.pipeSize = sz, sz
		}
	}
	if c.pipeOrig <= 0 || n < c.pipeOrig {
		c.full = 0
		return
	}
	if c.full++; c.full < fullReads {
		return
	}
	c.fast = true
	if c.pipeSize < BigPipe {
		if sz, err := unix.FcntlInt(uintptr(fd), unix.F_SETPIPE_SZ, BigPipe); err == nil {
			c.pipeSize = sz
		}
	}
}

// slowDown ends a fast stream before its pipe parks: the pipe gets its
// original size back.
func (c *Channel) slowDown(rc syscall.RawConn) {
	c.fast, c.full = false, 0
	if c.pipeOrig <= 0 || c.pipeSize <= c.pipeOrig {
		return
	}
	_ = rc.Control(func(fd uintptr) {
		if sz, err := unix.FcntlInt(fd, unix.F_SETPIPE_SZ, c.pipeOrig); err == nil {
			c.pipeSize = sz
		}
	})
}

// Start pumps f like Pump, on goroutines of its own, and calls done with
// Pump's result after the end of the stream. Unlike Pump it holds no
// goroutine while f is quiet: f starts out parked with opt.Idle, a reader
// starts when output arrives, and after IdleAfter without output it parks f
// again and returns. Without opt.Idle (or for a descriptor outside the
// runtime poller) it is Pump on one goroutine.
func (c *Channel) Start(f *os.File, done func(error)) {
	rc, err := f.SyscallConn()
	if err != nil || c.opt.Idle == nil || c.opt.Buffers == nil {
		go func() { done(c.Pump(f)) }()
		return
	}
	if !c.park(rc, func() { c.serve(f, rc, done) }) {
		go c.serve(f, rc, done)
	}
}

// serve is one reader's turn for Start.
func (c *Channel) serve(f *os.File, rc syscall.RawConn, done func(error)) {
	idle := c.opt.IdleAfter
	if idle <= 0 {
		idle = DefaultIdleAfter
	}
	// SetReadDeadline fails for a descriptor outside the runtime poller;
	// such a reader simply never parks.
	parking := f.SetReadDeadline(time.Now().Add(idle)) == nil
	for {
		err := c.readOnce(f.Name(), rc)
		if err == nil {
			continue
		}
		if parking && errors.Is(err, os.ErrDeadlineExceeded) {
			if c.active {
				// Output since the deadline was set: not idle yet.
				c.active = false
				parking = f.SetReadDeadline(time.Now().Add(idle)) == nil
				continue
			}
			c.slowDown(rc)
			if f.SetReadDeadline(time.Time{}) == nil && c.park(rc, func() { c.serve(f, rc, done) }) {
				return
			}
			parking = false
			continue
		}
		done(c.end(err))
		return
	}
}

// end finishes a stream after readOnce's last error: held-back bytes are
// logged, and the end of the pipe is no error.
func (c *Channel) end(err error) error {
	c.Flush()
	if errors.Is(err, io.EOF) {
		return nil
	}
	return err
}

// park hands the descriptor to opt.Idle; false means it was not taken
// (the poller is closed) and the caller keeps reading.
func (c *Channel) park(rc syscall.RawConn, ready func()) bool {
	var perr error
	if err := rc.Control(func(fd uintptr) { perr = c.opt.Idle.Park(int(fd), ready) }); err != nil {
		return false
	}
	return perr == nil
}

// Feed processes one chunk as read from the pipe (the original's
// handle_read_event → record_output). chunk is not retained.
func (c *Channel) Feed(chunk []byte) {
	if c.opt.CaptureMaxBytes <= 0 {
		c.log(chunk)
		return
	}
	buf := append(c.pending, chunk...)
	pos := 0
	for {
		rest := buf[pos:]
		token := BeginToken
		if c.capturing {
			token = EndToken
		}
		// Like the original, hold back data until there is more than a
		// token's worth, so a short write may wait for the next one.
		if len(rest) <= len(token) {
			break
		}
		i := bytes.Index(rest, token)
		if i < 0 {
			keep := prefixAtEnd(rest, token)
			c.log(rest[:len(rest)-keep])
			pos += len(rest) - keep
			break
		}
		c.log(rest[:i])
		c.toggle()
		pos += i + len(token)
		if pos == len(buf) {
			break
		}
	}
	c.pending = append(buf[:0], buf[pos:]...)
}

// Flush logs bytes held back in capture mode. The original drops them when
// the pipe closes (a short last write, or one ending in a token prefix, never
// reaches the log); we log them instead so that no output is lost. A partial
// line of a formatted or forwarded stream is written as a line.
func (c *Channel) Flush() {
	if len(c.pending) > 0 {
		c.log(c.pending)
		c.pending = c.pending[:0]
	}
	if c.lines != nil {
		c.lines.flush(true)
	}
}

// prefixAtEnd returns the length of the longest proper prefix of token that
// ends data (the original's find_prefix_at_end).
func prefixAtEnd(data, token []byte) int {
	for l := len(token) - 1; l > 0; l-- {
		if bytes.HasSuffix(data, token[:l]) {
			return l
		}
	}
	return 0
}

func (c *Channel) toggle() {
	c.capturing = !c.capturing
	if c.capturing {
		return
	}
	c.mu.Lock()
	data := c.capture
	c.capture = nil
	c.mu.Unlock()
	if data == nil {
		data = []byte{}
	}
	if c.opt.OnCapture != nil {
		c.opt.OnCapture(data)
	}
	if c.opt.Debug != nil {
		c.opt.Debug(pyfmt.Repr(c.opt.Name) + " " + c.opt.Stream + " emitted a comm event")
	}
}

// log is the original's _log: strip, then the current destination (capture
// buffer or log file + ring + syslog), the DEBG copy and the PROCESS_LOG hook.
func (c *Channel) log(data []byte) {
	if len(data) == 0 {
		return
	}
	if c.opt.StripANSI {
		data = StripANSI(data)
	}
	// As in the original, a chunk that stripping emptied still produces the
	// DEBG copy and the PROCESS_LOG event, but writes nothing.
	switch {
	case len(data) == 0:
	case c.capturing:
		c.mu.Lock()
		c.capture = boundAppend(c.capture, data, c.opt.CaptureMaxBytes)
		c.mu.Unlock()
	case c.lines != nil && c.lines.toFile:
		// Formatted: the liner writes the file and the ring.
		c.lines.feed(data)
		if c.opt.Syslog != nil {
			c.opt.Syslog.Lines(c.opt.Name+" ", data)
		}
	default:
		if c.opt.Rotator != nil {
			_, err := c.opt.Rotator.Write(data)
			c.noteWrite(err)
		}
		if c.opt.Ring != nil {
			c.opt.Ring.Write(data)
		}
		if c.lines != nil {
			c.lines.feed(data) // raw and forwarded
		}
		if c.opt.Syslog != nil {
			c.opt.Syslog.Lines(c.opt.Name+" ", data)
		}
	}
	if c.opt.Debug != nil {
		c.opt.Debug(DebugMessage(c.opt.Name, c.opt.Stream, data))
	}
	if c.opt.OnLog != nil {
		c.opt.OnLog(bytes.Clone(data))
	}
}

// logInPlace is log's raw path for a chunk read straight into the ring's
// reservation: the same sinks in the same order, the ring's copy being the
// bytes already there.
func (c *Channel) logInPlace(data []byte) {
	if c.opt.Rotator != nil {
		_, err := c.opt.Rotator.Write(data)
		c.noteWrite(err)
	}
	c.opt.Ring.Publish(len(data))
	if c.lines != nil {
		c.lines.feed(data) // forwarded
	}
	if c.opt.Syslog != nil {
		c.opt.Syslog.Lines(c.opt.Name+" ", data)
	}
	if c.opt.Debug != nil {
		c.opt.Debug(DebugMessage(c.opt.Name, c.opt.Stream, data))
	}
	if c.opt.OnLog != nil {
		c.opt.OnLog(bytes.Clone(data))
	}
}

func (c *Channel) noteWrite(err error) {
	if err == nil {
		c.failing = false
		return
	}
	if !c.failing && c.opt.Warn != nil {
		c.opt.Warn(err.Error())
	}
	c.failing = true
}

// boundAppend is the original's BoundIO.write: when the new data would
// exceed max, as many bytes as are being added are dropped from the front
// (so a single write larger than max is kept whole).
func boundAppend(buf, data []byte, max int) []byte {
	if len(buf)+len(data) > max {
		if len(data) >= len(buf) {
			buf = buf[:0]
		} else {
			buf = append(buf[:0], buf[len(data):]...)
		}
	}
	return append(buf, data...)
}

// DebugMessage is the main log's DEBG copy of child output:
// 'NAME' stdout output:\n<data>, with Python's "Undecodable: b'…'" for
// bytes that are not UTF-8.
func DebugMessage(name, stream string, data []byte) string {
	text := string(data)
	if !utf8.Valid(data) {
		text = "Undecodable: " + BytesRepr(data)
	}
	return pyfmt.Repr(name) + " " + stream + " output:\n" + text
}

// BytesRepr returns Python 3's repr() of a bytes value.
func BytesRepr(b []byte) string {
	quote := byte('\'')
	if bytes.IndexByte(b, '\'') >= 0 && bytes.IndexByte(b, '"') < 0 {
		quote = '"'
	}
	out := make([]byte, 0, len(b)+3)
	out = append(out, 'b', quote)
	for _, ch := range b {
		switch {
		case ch == quote || ch == '\\':
			out = append(out, '\\', ch)
		case ch == '\t':
			out = append(out, `\t`...)
		case ch == '\n':
			out = append(out, `\n`...)
		case ch == '\r':
			out = append(out, `\r`...)
		case ch < 0x20 || ch >= 0x7f:
			h := strconv.FormatInt(int64(ch)|0x100, 16)
			out = append(out, '\\', 'x', h[1], h[2])
		default:
			out = append(out, ch)
		}
	}
	return string(append(out, quote))
}

// Reopen reopens the log file (SIGUSR2).
func (c *Channel) Reopen() error {
	if c.opt.Rotator == nil {
		return nil
	}
	return c.opt.Rotator.Reopen()
}

// Clear empties the log file, the ring and the capture buffer
// (clearProcessLogs).
func (c *Channel) Clear() error {
	c.mu.Lock()
	c.capture = nil
	c.mu.Unlock()
	if c.opt.Ring != nil {
		c.opt.Ring.Reset()
	}
	if c.opt.Rotator == nil {
		return nil
	}
	return c.opt.Rotator.Clear()
}

// Close closes the log file and the syslog connection.
func (c *Channel) Close() error {
	var errs []error
	if c.opt.Rotator != nil {
		errs = append(errs, c.opt.Rotator.Close())
	}
	if c.opt.Syslog != nil {
		errs = append(errs, c.opt.Syslog.Close())
	}
	return errors.Join(errs...)
}
