package server

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"
)

// guardBodies bounds request bodies (Guard): a body must arrive within
// BodyTimeout plus a second per BodyMinRate bytes, and outside /RPC2 be at
// most MaxBodyBytes (413). Such a body is read here, before the handler
// runs, so that the read deadline is gone by the time a call waits (a
// start that waits for startsecs, a stop for stopwaitsecs). /RPC2 reads
// its own body (serveRPC, which knows its cap); the deadline goes away as
// it reaches the end. Requests without a body, streams among them, are
// passed on untouched: no read deadline is ever set on them.
func (rt *routes) guardBodies(next http.Handler) http.Handler {
	g := rt.opts.Guard
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
			next.ServeHTTP(w, r)
			return
		}
		body := newDeadlineBody(w, r.Body, g)
		// A copy: net/http looks at the original's Body after the handler
		// (to read away what it left, or close the connection).
		r2 := *r
		if strings.HasPrefix(r.URL.Path, "/RPC2") {
			r2.Body = body
			next.ServeHTTP(w, &r2)
			return
		}
		if r.ContentLength > g.MaxBodyBytes {
			rt.refuseBody(w, r, http.StatusRequestEntityTooLarge)
			return
		}
		data, err := io.ReadAll(io.LimitReader(body, g.MaxBodyBytes+1))
		switch {
		case body.timedOut():
			rt.refuseBody(w, r, http.StatusRequestTimeout)
			return
		case err != nil:
			return // the client went away mid-body
		case int64(len(data)) > g.MaxBodyBytes:
			rt.refuseBody(w, r, http.StatusRequestEntityTooLarge)
			return
		}
		r2.Body = io.NopCloser(bytes.NewReader(data))
		r2.ContentLength = int64(len(data))
		next.ServeHTTP(w, &r2)
	})
}

// refuseBody answers a body over a limit (413) or too slow (408) and
// closes the connection, whose remaining input is not read. /api/v1 gets
// its JSON error, the rest the original's error page.
func (rt *routes) refuseBody(w http.ResponseWriter, r *http.Request, code int) {
	w.Header().Set("Connection", "close")
	if code == http.StatusRequestEntityTooLarge {
		rt.reclaim()
	}
	if !strings.HasPrefix(r.URL.Path, "/api/") {
		Error(w, code)
		return
	}
	name, msg := "TOO_LARGE", fmt.Sprintf("request body over %d bytes", rt.opts.Guard.MaxBodyBytes)
	if code == http.StatusRequestTimeout {
		name, msg = "TIMEOUT", "request body too slow"
	}
	body := fmt.Sprintf(`{"error":{"code":0,"name":%q,"message":%q}}`+"\n", name, msg)
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(code)
	_, _ = io.WriteString(w, body)
}

// deadlineBody sets the connection's read deadline for a request body and
// moves it on as bytes come: start + BodyTimeout + received/BodyMinRate.
// At the end of the body (or any error) the deadline is cleared, so that
// the connection's watch for a vanished client never times out while the
// call runs.
type deadlineBody struct {
	r        io.ReadCloser
	rc       *http.ResponseController
	start    time.Time
	grace    time.Duration
	rate     int64
	received int64
	done     bool
	err      error
}

func newDeadlineBody(w http.ResponseWriter, r io.ReadCloser, g Guard) *deadlineBody {
	b := &deadlineBody{r: r, rc: http.NewResponseController(w), start: time.Now(), grace: g.BodyTimeout, rate: g.BodyMinRate}
	_ = b.rc.SetReadDeadline(b.deadline())
	return b
}

func (b *deadlineBody) deadline() time.Time {
	return b.start.Add(b.grace + time.Duration(float64(b.received)/float64(b.rate)*float64(time.Second)))
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	if b.done {
		return 0, b.err
	}
	n, err := b.r.Read(p)
	b.received += int64(n)
	if err != nil {
		b.done, b.err = true, err
		_ = b.rc.SetReadDeadline(time.Time{})
		return n, err
	}
	if n > 0 {
		_ = b.rc.SetReadDeadline(b.deadline())
	}
	return n, nil
}

func (b *deadlineBody) Close() error { return b.r.Close() }

// timedOut tells whether the body ended at its deadline.
func (b *deadlineBody) timedOut() bool {
	return b.err != nil && errors.Is(b.err, os.ErrDeadlineExceeded)
}

// bodyTimedOut finds a deadlineBody's timeout under r.Body's wrappers.
func bodyTimedOut(err error) bool { return errors.Is(err, os.ErrDeadlineExceeded) }

// reclaim gives the memory of a refused huge request back to the system
// soon after (at most every reclaimEvery): the daemon's RSS returns to its
// baseline rather than keep the peak until the next GC cycle and scavenge.
func (rt *routes) reclaim() {
	reclaimer.mu.Lock()
	defer reclaimer.mu.Unlock()
	if reclaimer.pending {
		return
	}
	reclaimer.pending = true
	wait := max(reclaimDelay, reclaimEvery-time.Since(reclaimer.last))
	time.AfterFunc(wait, func() {
		debug.FreeOSMemory()
		reclaimer.mu.Lock()
		reclaimer.pending, reclaimer.last = false, time.Now()
		reclaimer.mu.Unlock()
	})
}

const (
	reclaimDelay = 200 * time.Millisecond
	reclaimEvery = 5 * time.Second
)

var reclaimer struct {
	mu      sync.Mutex
	pending bool
	last    time.Time
}

// responseSpill is the largest XML-RPC answer built in memory and sent
// with a Content-Length; a system.multicall's answer beyond it is sent as
// it is encoded (chunked), so that it never sits in memory whole.
const responseSpill = 4 << 20

// rpcBody is an /RPC2 body as the decoder reads it: the first
// maxLoggedBody bytes are kept for the log, the rest only counted; err is
// the read error (not the decoder's) if any.
type rpcBody struct {
	r     io.Reader
	head  []byte
	total int64
	err   error
}

func (b *rpcBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if keep := min(n, maxLoggedBody-len(b.head)); keep > 0 {
		b.head = append(b.head, p[:keep]...)
	}
	b.total += int64(n)
	if err != nil && err != io.EOF && b.err == nil {
		b.err = err
	}
	return n, err
}

// drain reads the rest of a refused body (within the cap and the body
// deadline), so that the log can say how long it was and the connection
// can serve the next request, as when the body was read before decoding.
func (b *rpcBody) drain() { _, _ = io.Copy(io.Discard, b) }

// logged is Python's repr of the body as loggedBody gives it.
func (b *rpcBody) logged() string {
	if b.total > int64(len(b.head)) {
		return loggedBody(b.head) + fmt.Sprintf(" (%d more bytes)", b.total-int64(len(b.head)))
	}
	return loggedBody(b.head)
}

// limitText says which limit a refused /RPC2 body passed.
func limitText(decodeErr, readErr error, maxBytes int64) string {
	var tooBig *http.MaxBytesError
	if errors.As(readErr, &tooBig) {
		return fmt.Sprintf("body over %d bytes", maxBytes)
	}
	return strings.TrimPrefix(decodeErr.Error(), "xmlrpc: ")
}
