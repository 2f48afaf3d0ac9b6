package pidproxy

import (
	"io"
	"strings"

	"golang.org/x/sys/unix"
)

// textChunk is TextIOWrapper's _CHUNK_SIZE: text is handed to the binary
// buffer once this many bytes are pending.
const textChunk = 8192

// bufferMode is how Python 3.11 buffers sys.stdout.
type bufferMode int

const (
	blockBuffered bufferMode = iota // a file or pipe: written when full or at exit
	lineBuffered                    // a terminal: written at each newline
	unbuffered                      // PYTHONUNBUFFERED: every write goes out at once
)

// pyStdout reproduces when Python's print() output reaches file descriptor
// 1: a TextIOWrapper (pending text, flushed in chunks) over a
// BufferedWriter of st_blksize bytes. Under supervisord stdout is a pipe, so
// the "Can't read child pidfile" lines of Debian's pidproxy only appear when
// it exits; ours do the same.
type pyStdout struct {
	raw     io.Writer
	mode    bufferMode
	pending []byte // TextIOWrapper's pending bytes
	buf     []byte // BufferedWriter's buffer
	bufSize int
}

// newPyStdout wraps fd 1 (as raw) the way Python 3.11 sets up sys.stdout.
func newPyStdout(raw io.Writer, fd int, pythonUnbuffered bool) *pyStdout {
	s := &pyStdout{raw: raw, bufSize: 8192}
	var st unix.Stat_t
	if unix.Fstat(fd, &st) == nil && st.Blksize > 1 {
		s.bufSize = int(st.Blksize)
	}
	if _, err := unix.IoctlGetTermios(fd, unix.TCGETS); err == nil {
		s.mode = lineBuffered
	}
	if pythonUnbuffered {
		s.mode = unbuffered
	}
	return s
}

// print is print(line): two writes, the text then the newline.
func (s *pyStdout) print(line string) {
	s.write(line)
	s.write("\n")
}

// write is TextIOWrapper.write.
func (s *pyStdout) write(text string) {
	if s.mode == unbuffered {
		_, _ = io.WriteString(s.raw, text)
		return
	}
	if len(s.pending)+len(text) > textChunk {
		s.flushPending()
	}
	s.pending = append(s.pending, text...)
	newline := s.mode == lineBuffered && strings.ContainsAny(text, "\n\r")
	if len(s.pending) >= textChunk || newline {
		s.flushPending()
	}
	if newline {
		s.flushBuffer()
	}
}

// Flush is what interpreter shutdown does to sys.stdout.
func (s *pyStdout) Flush() {
	s.flushPending()
	s.flushBuffer()
}

func (s *pyStdout) flushPending() {
	if len(s.pending) > 0 {
		s.bufferWrite(s.pending)
		s.pending = nil
	}
}

// bufferWrite is BufferedWriter.write: keep what fits, otherwise write out
// the buffer, then write data bigger than the buffer straight through.
func (s *pyStdout) bufferWrite(b []byte) {
	if len(b) <= s.bufSize-len(s.buf) {
		s.buf = append(s.buf, b...)
		return
	}
	s.flushBuffer()
	if len(b) > s.bufSize {
		_, _ = s.raw.Write(b)
		return
	}
	s.buf = append(s.buf, b...)
}

func (s *pyStdout) flushBuffer() {
	if len(s.buf) > 0 {
		_, _ = s.raw.Write(s.buf)
		s.buf = s.buf[:0]
	}
}
