package logfile

import (
	"context"
	"sync"
)

// Ring keeps the last size bytes written to it. Offsets are absolute (bytes
// ever written), so a follower can resume where it left off and learn when
// data fell out of the window. One writer and many readers may use it
// concurrently; it never grows beyond its size.
type Ring struct {
	mu      sync.Mutex
	size    int           // capacity in bytes
	pages   [][]byte      // the bytes at position offset%size, in ringPage pieces allocated on first use
	start   int64         // oldest offset still held
	end     int64         // offset after the newest byte
	changed chan struct{} // closed on the next write; made by the first waiter
}

// ringPage is the unit in which a ring's memory is allocated: a program
// that never writes costs nothing, one that writes a little costs a page.
const ringPage = 16 << 10

// NewRing returns a ring holding at most size bytes (at least 1). Like its
// pages, its page table is only allocated by the first write: most rings of
// a big configuration are never written.
func NewRing(size int) *Ring {
	return &Ring{size: max(size, 1)}
}

// Size returns the ring's capacity.
func (r *Ring) Size() int { return r.size }

// span returns the bytes from position pos to the end of its page (or of
// the ring), allocating the page if alloc is set; nil if absent.
func (r *Ring) span(pos int, alloc bool) []byte {
	i := pos / ringPage
	if r.pages == nil {
		if !alloc {
			return nil
		}
		r.pages = make([][]byte, (r.size+ringPage-1)/ringPage)
	}
	if r.pages[i] == nil {
		if !alloc {
			return nil
		}
		r.pages[i] = make([]byte, min(ringPage, r.size-i*ringPage))
	}
	return r.pages[i][pos-i*ringPage:]
}

// copyIn stores p (len(p) ≤ size) at position pos, wrapping around.
func (r *Ring) copyIn(pos int, p []byte) {
	for len(p) > 0 {
		n := copy(r.span(pos, true), p)
		p = p[n:]
		if pos += n; pos == r.size {
			pos = 0
		}
	}
}

// copyOut fills dst from position pos, wrapping around.
func (r *Ring) copyOut(dst []byte, pos int) {
	for len(dst) > 0 {
		src := r.span(pos, false)
		var n int
		if src == nil {
			// Never written: only possible for positions not yet held.
			n = min(len(dst), ringPage-pos%ringPage, r.size-pos)
			clear(dst[:n])
		} else {
			n = copy(dst, src)
		}
		dst = dst[n:]
		if pos += n; pos == r.size {
			pos = 0
		}
	}
}

// Write appends p, dropping the oldest bytes beyond the ring's size. It never
// fails.
func (r *Ring) Write(p []byte) (int, error) {
	n := len(p)
	if n == 0 {
		return 0, nil
	}
	r.mu.Lock()
	size := r.size
	end := r.end + int64(n)
	if n > size {
		p = p[n-size:]
	}
	r.copyIn(int((end-int64(len(p)))%int64(size)), p)
	r.end = end
	if r.start < end-int64(size) {
		r.start = end - int64(size)
	}
	if r.changed != nil {
		close(r.changed)
		r.changed = nil
	}
	r.mu.Unlock()
	return n, nil
}

// End returns the absolute offset after the newest byte.
func (r *Ring) End() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.end
}

// Start returns the oldest absolute offset still held.
func (r *Ring) Start() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.start
}

// Reset drops the held bytes (a cleared log); offsets keep increasing.
func (r *Ring) Reset() {
	r.mu.Lock()
	r.start = r.end
	r.mu.Unlock()
}

// ReadAt returns up to max bytes (max ≤ 0: all held) from absolute offset
// off and the offset following them. truncated is true when off had already
// fallen out of the window; reading then starts at the oldest byte held.
// An offset beyond End yields no data and next = off.
func (r *Ring) ReadAt(off int64, max int) (data []byte, next int64, truncated bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if off < r.start {
		off, truncated = r.start, true
	}
	if off >= r.end {
		return nil, off, truncated
	}
	n := r.end - off
	if max > 0 && int64(max) < n {
		n = int64(max)
	}
	data = make([]byte, n)
	r.copyOut(data, int(off%int64(r.size)))
	return data, off + n, truncated
}

// Wait returns nil once End() > off, or ctx's error. Writers wake waiters
// with a broadcast; nothing polls.
func (r *Ring) Wait(ctx context.Context, off int64) error {
	for {
		r.mu.Lock()
		if r.end > off {
			r.mu.Unlock()
			return nil
		}
		if r.changed == nil {
			r.changed = make(chan struct{})
		}
		ch := r.changed
		r.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
