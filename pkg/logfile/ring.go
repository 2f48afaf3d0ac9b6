package logfile

import (
	"context"
	"sync"
)

// Ring keeps the last size bytes written to it. Offsets are absolute (bytes
// ever written), so a follower can resume where it left off and learn when
// data fell out of the window. One writer and many readers may use it
// concurrently; it never grows beyond its size.
//
// A busy ring can also be written in place (Reserve, Publish, Release): a channel
// reads its pipe straight into the ring's memory and writes the log file
// from there, so that the tail costs no copy of its own.
type Ring struct {
	wmu sync.Mutex // serializes writers: Write, and Reserve through Release

	mu      sync.Mutex
	size    int           // capacity in bytes
	pages   [][]byte      // the bytes at position offset%size, in ringPage pieces allocated on first use
	flat    []byte        // once written in place: the bytes at position offset%len(flat), replacing pages
	start   int64         // oldest offset still held
	end     int64         // offset after the newest byte
	changed chan struct{} // closed on the next write; made by the first waiter
}

// RingSlack is the most a reservation lends: a ring written in place holds
// its size plus RingSlack bytes of memory, the slack being where the next
// read lands while the whole window stays readable.
const RingSlack = 64 << 10

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

// phys is the number of positions of the ring's memory.
func (r *Ring) phys() int {
	if r.flat != nil {
		return len(r.flat)
	}
	return r.size
}

// span returns the bytes from position pos to the end of its page (or of
// the ring), allocating the page if alloc is set; nil if absent.
func (r *Ring) span(pos int, alloc bool) []byte {
	if r.flat != nil {
		return r.flat[pos:]
	}
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
		if pos += n; pos == r.phys() {
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
		if pos += n; pos == r.phys() {
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
	r.wmu.Lock()
	r.mu.Lock()
	size := r.size
	end := r.end + int64(n)
	if n > size {
		p = p[n-size:]
	}
	r.copyIn(int((end-int64(len(p)))%int64(r.phys())), p)
	r.advance(n)
	r.mu.Unlock()
	r.wmu.Unlock()
	return n, nil
}

// advance publishes n more bytes (mu held).
func (r *Ring) advance(n int) {
	r.end += int64(n)
	if r.start < r.end-int64(r.size) {
		r.start = r.end - int64(r.size)
	}
	if r.changed != nil {
		close(r.changed)
		r.changed = nil
	}
}

// Busy reports whether the ring has been filled once (or is already
// written in place): Reserve then costs no memory that the ring would not
// soon hold anyway, beyond RingSlack.
func (r *Ring) Busy() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.flat != nil || (r.size >= 2*RingSlack && r.end >= int64(r.size))
}

// Reserve lends the ring's memory where the next max (≤ RingSlack) bytes
// go, possibly less (at the end of the memory it wraps around), and holds
// off other writers until Release. The window's bytes are elsewhere, so
// readers keep reading them meanwhile. Every Reserve must be followed by
// one Release, after Publish if anything was filled in.
func (r *Ring) Reserve(max int) []byte {
	r.wmu.Lock()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.flat == nil {
		// From pages to one block of size+RingSlack: the window moves to
		// its positions modulo the new length.
		flat := make([]byte, r.size+RingSlack)
		for off := r.start; off < r.end; {
			pos := int(off % int64(len(flat)))
			n := min(int(r.end-off), len(flat)-pos)
			r.copyOut(flat[pos:pos+n], int(off%int64(r.size)))
			off += int64(n)
		}
		r.flat, r.pages = flat, nil
	}
	pos := int(r.end % int64(len(r.flat)))
	n := min(max, RingSlack, len(r.flat)-pos)
	return r.flat[pos : pos+n : pos+n]
}

// Publish makes the first n bytes of the reservation readable, as Write
// would; the writer keeps them to itself until Release, so they stay
// untouched while it hands them on.
func (r *Ring) Publish(n int) {
	if n <= 0 {
		return
	}
	r.mu.Lock()
	r.advance(n)
	r.mu.Unlock()
}

// Release ends a reservation, published or not, and lets other writers in.
func (r *Ring) Release() { r.wmu.Unlock() }

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
	r.copyOut(data, int(off%int64(r.phys())))
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
