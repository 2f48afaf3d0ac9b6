package logfile

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
)

// Format is a stream's *_log_format (EXTENSIONS.md §5): the shape of the
// bytes written to its log file, its ring and its forwarded lines.
type Format int

const (
	// FormatRaw writes the child's bytes as read (the original).
	FormatRaw Format = iota
	// FormatTimestamped puts "2026-12-02T17:03:04.123Z " (UTC, ms) before
	// each line.
	FormatTimestamped
	// FormatJSON writes one object per line: time, program, group, stream,
	// pid, line, and line_b64 when the line is not valid UTF-8.
	FormatJSON
)

// MaxLine is the longest line written as one record: a longer line, or a
// partial line that grows beyond it, is written in pieces of MaxLine bytes.
// The split does not depend on how the bytes came off the pipe.
const MaxLine = 64 << 10

// PartialQuiet is how long a partial line (no newline yet) waits for more
// output before it is written as a line of its own.
const PartialQuiet = time.Second

// TimeLayout is the timestamp of the timestamped and json formats.
const TimeLayout = "2006-01-02T15:04:05.000Z"

// Forwarder takes a stream's whole lines to supervisord's own stdout or
// stderr (package forward). Both methods are called with the channel's
// line lock held and must never block.
type Forwarder interface {
	// Prefix is what goes before each forwarded line ("name | ").
	Prefix() []byte
	// Forward queues n whole lines; lines is not retained.
	Forward(lines []byte, n int)
}

// lineBufs lends the buffers formatted lines are built in, so that a
// channel keeps none between chunks.
var lineBufs = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}

// liner splits a stream into lines for the formatted log and the forwarder.
// It exists only when the format is not raw or the stream is forwarded: the
// raw, unforwarded path never sees it. Its state is under mu because the
// quiet timer flushes a partial line from a goroutine of its own.
type liner struct {
	c      *Channel
	format Format
	toFile bool // format != raw: the formatted lines are what the file and ring get
	fwd    Forwarder
	now    func() time.Time

	mu      sync.Mutex
	partial []byte      // bytes after the last newline
	last    time.Time   // arrival of the latest chunk
	timer   *time.Timer // set only while a partial line waits
	closed  bool

	stamp    []byte // TimeLayout of the current chunk's time
	stampMs  int64
	jsonMid  []byte // `","program":…,"line":"` (constant per channel)
	jsonHead []byte // `{"time":"` stamp jsonMid: what every json record of the chunk starts with
	out      []byte // formatted records of the current chunk (borrowed)
	fout     []byte // prefixed records for the forwarder (borrowed)
	outp     *[]byte
	foutp    *[]byte
	fn       int // records in fout
}

func newLiner(c *Channel) *liner {
	o := &c.opt
	l := &liner{c: c, format: o.Format, toFile: o.Format != FormatRaw, fwd: o.Forward, now: o.Now, stampMs: -1}
	if l.now == nil {
		l.now = time.Now
	}
	if l.format == FormatJSON {
		m := []byte(`","program":`)
		m = appendJSONString(m, []byte(o.Name))
		m = append(m, `,"group":`...)
		m = appendJSONString(m, []byte(o.Group))
		m = append(m, `,"stream":`...)
		m = appendJSONString(m, []byte(o.Stream))
		m = append(m, `,"pid":`...)
		m = strconv.AppendInt(m, int64(o.Pid), 10)
		l.jsonMid = append(m, `,"line":"`...)
	}
	return l
}

// feed takes one chunk of output (after ANSI stripping) and writes its
// whole lines; the rest waits for a newline, MaxLine bytes or PartialQuiet.
func (l *liner) feed(data []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.last = l.now()
	l.setStamp(l.last)
	l.begin()
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			l.partial = append(l.partial, data...)
			if len(l.partial) > MaxLine {
				n := len(l.partial) / MaxLine * MaxLine
				if n == len(l.partial) {
					n -= MaxLine // the last full piece may still be completed
				}
				l.pieces(l.partial[:n])
				l.partial = append(l.partial[:0], l.partial[n:]...)
			}
			break
		}
		line := data[:i]
		data = data[i+1:]
		if len(l.partial) > 0 {
			l.partial = append(l.partial, line...)
			line = l.partial
		}
		l.line(line)
		l.partial = l.partial[:0]
	}
	l.end()
	if len(l.partial) > 0 && l.timer == nil && !l.closed {
		l.timer = time.AfterFunc(PartialQuiet, l.quiet)
	}
}

// quiet runs PartialQuiet after a partial line began waiting: it writes the
// partial line if nothing arrived meanwhile, or waits for the rest of the
// quiet time.
func (l *liner) quiet() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.timer = nil
	if len(l.partial) == 0 || l.closed {
		return
	}
	if wait := PartialQuiet - l.now().Sub(l.last); wait > 0 {
		l.timer = time.AfterFunc(wait, l.quiet)
		return
	}
	l.flushLocked()
}

// flush writes a waiting partial line (end of the stream); closing stops
// the timer for good.
func (l *liner) flush(closing bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if closing {
		l.closed = true
		if l.timer != nil {
			l.timer.Stop()
			l.timer = nil
		}
	}
	if len(l.partial) > 0 {
		l.flushLocked()
	}
}

func (l *liner) flushLocked() {
	l.setStamp(l.last)
	l.begin()
	l.pieces(l.partial)
	l.partial = l.partial[:0]
	l.end()
}

func (l *liner) setStamp(t time.Time) {
	if !l.toFile {
		return
	}
	ms := t.UnixMilli()
	if ms == l.stampMs {
		return
	}
	l.stampMs = ms
	l.stamp = t.UTC().AppendFormat(l.stamp[:0], TimeLayout)
	if l.format == FormatJSON {
		l.jsonHead = append(append(append(l.jsonHead[:0], `{"time":"`...), l.stamp...), l.jsonMid...)
	}
}

func (l *liner) begin() {
	if l.toFile {
		l.outp = lineBufs.Get().(*[]byte)
		l.out = (*l.outp)[:0]
	}
	if l.fwd != nil {
		l.foutp = lineBufs.Get().(*[]byte)
		l.fout = (*l.foutp)[:0]
		l.fn = 0
	}
}

// end writes the chunk's records: one write to the file, one to the ring,
// one batch to the forwarder.
func (l *liner) end() {
	if l.toFile {
		if len(l.out) > 0 {
			o := &l.c.opt
			if o.Rotator != nil {
				_, err := o.Rotator.Write(l.out)
				l.c.noteWrite(err)
			}
			if o.Ring != nil {
				o.Ring.Write(l.out)
			}
		}
		putLineBuf(l.outp, l.out)
		l.out, l.outp = nil, nil
	}
	if l.fwd != nil {
		if l.fn > 0 {
			l.fwd.Forward(l.fout, l.fn)
		}
		putLineBuf(l.foutp, l.fout)
		l.fout, l.foutp = nil, nil
	}
}

// putLineBuf returns a buffer to the pool, keeping its growth unless it
// grew past 1 MiB (a burst of long lines).
func putLineBuf(p *[]byte, b []byte) {
	if cap(b) <= 1<<20 {
		*p = b[:0]
		lineBufs.Put(p)
	}
}

// pieces writes b as records of MaxLine bytes (the last may be shorter).
func (l *liner) pieces(b []byte) {
	for len(b) > MaxLine {
		l.record(b[:MaxLine])
		b = b[MaxLine:]
	}
	if len(b) > 0 {
		l.record(b)
	}
}

// line writes one complete line (without its newline).
func (l *liner) line(b []byte) {
	if len(b) == 0 {
		l.record(b)
		return
	}
	l.pieces(b)
}

// record formats one line and queues it for the file and the forwarder.
func (l *liner) record(b []byte) {
	if !l.toFile {
		// Raw: the file already has the chunk; only the forwarder needs lines.
		l.fout = append(l.fout, l.fwd.Prefix()...)
		l.fout = append(l.fout, b...)
		l.fout = append(l.fout, '\n')
		l.fn++
		return
	}
	start := len(l.out)
	switch l.format {
	case FormatTimestamped:
		l.out = append(l.out, l.stamp...)
		l.out = append(l.out, ' ')
		l.out = append(l.out, b...)
		l.out = append(l.out, '\n')
	case FormatJSON:
		l.out = append(l.out, l.jsonHead...)
		var valid bool
		l.out, valid = appendJSONBody(l.out, b)
		l.out = append(l.out, '"')
		if !valid {
			l.out = append(l.out, `,"line_b64":"`...)
			l.out = base64.StdEncoding.AppendEncode(l.out, b)
			l.out = append(l.out, '"')
		}
		l.out = append(l.out, '}', '\n')
	}
	if l.fwd != nil {
		l.fout = append(l.fout, l.fwd.Prefix()...)
		l.fout = append(l.fout, l.out[start:]...)
		l.fn++
	}
}

// FormatLine returns the record f makes of one line (without its newline)
// read at t; name, group, stream and pid fill the json fields. It is the
// reference the tests and the docs compare with.
func FormatLine(f Format, t time.Time, name, group, stream string, pid int, line []byte) []byte {
	c := &Channel{opt: ChannelOptions{Format: f, Name: name, Group: group, Stream: stream, Pid: pid}}
	l := newLiner(c)
	if f == FormatRaw {
		return append(append([]byte(nil), line...), '\n')
	}
	l.setStamp(t)
	l.record(line)
	return l.out
}

const hexDigits = "0123456789abcdef"

// plain8 reports whether the 8 bytes of w are all ASCII that a JSON string
// holds as is: none below 0x20, none of '"' and '\\', none ≥ 0x80.
func plain8(w uint64) bool {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	zero := func(v uint64) uint64 { return (v - lo) & ^v & hi } // a zero byte in v
	return w&hi == 0 && (w-0x20*lo)&^w&hi == 0 && zero(w^('"'*lo)) == 0 && zero(w^('\\'*lo)) == 0
}

// appendJSONString appends s as a JSON string with its quotes (invalid
// UTF-8 as U+FFFD; only for names, which are valid).
func appendJSONString(dst, s []byte) []byte {
	dst = append(dst, '"')
	dst, _ = appendJSONBody(dst, s)
	return append(dst, '"')
}

// appendJSONBody appends s escaped for the inside of a JSON string. Each
// byte that is not part of valid UTF-8 becomes U+FFFD; valid reports that
// there was none (otherwise the caller adds line_b64, the exact bytes).
func appendJSONBody(dst, s []byte) (_ []byte, valid bool) {
	valid = true
	start := 0
	for i := 0; i < len(s); {
		// Eight bytes at a time while they need no escaping (most lines).
		for i+8 <= len(s) && plain8(binary.LittleEndian.Uint64(s[i:])) {
			i += 8
		}
		if i == len(s) {
			break
		}
		// Fewer than eight bytes left (a 63-byte line leaves 7): the last
		// eight, overlapping bytes already found plain, in one test.
		if len(s)-i < 8 && len(s) >= 8 && plain8(binary.LittleEndian.Uint64(s[len(s)-8:])) {
			i = len(s)
			break
		}
		b := s[i]
		if b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '"', '\\':
				dst = append(dst, '\\', b)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			valid = false
			i++
			start = i
			continue
		}
		i += size
	}
	return append(dst, s[start:]...), valid
}
