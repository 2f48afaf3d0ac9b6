package health

import (
	"fmt"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/gosupervisor/gosupervisor/pkg/sig"
)

// MaxOutput is the most of a check's output that is kept (getProcessHealth
// promises ≤ 1 KB), the truncation marker included.
const MaxOutput = 1024

// TruncatedMarker ends an output that was cut at MaxOutput.
const TruncatedMarker = "\n[... truncated]"

// clip makes s fit MaxOutput as valid UTF-8 (XML-RPC strings must be), and
// marks the cut when s was too long or more was already discarded.
func clip(s string, more bool) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if !more && len(s) <= MaxOutput {
		return s
	}
	return cutUTF8(s, MaxOutput-len(TruncatedMarker), "") + TruncatedMarker
}

// cutUTF8 shortens s to at most n bytes, ellipsis included, without
// splitting a rune; s is returned as is when it fits.
func cutUTF8(s string, n int, ellipsis string) string {
	if len(s) <= n {
		return s
	}
	i := max(n-len(ellipsis), 0)
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + ellipsis
}

// OutputBuffer is the stdout and stderr of an exec check: it keeps the
// first MaxOutput bytes and discards the rest, but always reports a whole
// write, so the owner's copy loop keeps draining the pipe and a chatty
// check cannot block on a full pipe. It is safe for concurrent writes
// (stdout and stderr may be copied by two goroutines). The zero value is
// an empty buffer.
type OutputBuffer struct {
	mu      sync.Mutex
	buf     []byte
	dropped int64
}

// Write keeps what fits and drops the rest; it never fails.
func (b *OutputBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	keep := min(MaxOutput-len(b.buf), len(p))
	b.buf = append(b.buf, p[:keep]...)
	b.dropped += int64(len(p) - keep)
	return len(p), nil
}

// Dropped is the number of bytes discarded past MaxOutput.
func (b *OutputBuffer) Dropped() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.dropped
}

// String is the kept output as valid UTF-8, ending with TruncatedMarker
// when something was discarded; never longer than MaxOutput.
func (b *OutputBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return clip(string(b.buf), b.dropped > 0)
}

// ExecResult turns the reaped exit of an exec check into a Result: exit 0
// passes; otherwise Err is "timeout after 3s" when the owner killed it at
// its deadline (timedOut), "killed by SIGTERM" when a signal ended it
// (signaled: exitStatus is the signal number), or "exit status 1". out may
// be nil (no output).
func ExecResult(exitStatus int, signaled, timedOut bool, out *OutputBuffer, timeout time.Duration) Result {
	r := Result{}
	if out != nil {
		r.Output = out.String()
	}
	switch {
	case timedOut:
		r.Err = TimeoutText(timeout)
	case signaled:
		r.Err = "killed by " + sig.Name(syscall.Signal(exitStatus))
	case exitStatus != 0:
		r.Err = fmt.Sprintf("exit status %d", exitStatus)
	default:
		r.OK = true
	}
	return r
}

// TimeoutText is the failure reason of a check that ran out of time:
// "timeout after 3s" (whole seconds as config gives them, else Go's
// duration text, e.g. "timeout after 250ms").
func TimeoutText(d time.Duration) string {
	if d > 0 && d%time.Second == 0 {
		return fmt.Sprintf("timeout after %ds", d/time.Second)
	}
	if d <= 0 {
		return "timeout"
	}
	return "timeout after " + d.String()
}
