package server

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/gosupervisor/gosupervisor/pkg/logfile"
)

const (
	// tailHead is how much of the existing log a tail starts with.
	tailHead = 1024
	// tailChunk caps one write of a tail stream.
	tailChunk = 64 << 10
	// truncatedNotice is sent when the followed file shrinks.
	truncatedNotice = "==> File truncated <==\n"
)

// serveLogtail is GET /logtail/NAMESPEC[/CHANNEL]: the process's log file,
// last 1 KiB first, then followed until the client leaves.
func (rt *routes) serveLogtail(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		Error(w, http.StatusBadRequest)
		return
	}
	// r.URL.Path is already percent-decoded, as the original unquotes the
	// path before splitting it.
	_, rest, ok := strings.Cut(strings.TrimLeft(r.URL.Path, "/"), "/")
	if !ok {
		// "/logtail" alone: the original fails unpacking the path.
		Error(w, http.StatusInternalServerError)
		return
	}
	name, channel, ok := strings.Cut(rest, "/")
	if !ok {
		channel = "stdout"
	}
	if channel != "stdout" && channel != "stderr" {
		Error(w, http.StatusNotFound) // no such <channel>_logfile attribute
		return
	}
	// The name from the URL only ever selects a process known to the
	// engine; the file path comes from the engine's configuration.
	path, err := rt.sup.LogPath(name, channel)
	if err != nil {
		Error(w, http.StatusNotFound)
		return
	}
	ring, err := rt.sup.Ring(name, channel)
	if err != nil {
		ring = nil
	}
	rt.tail(w, r, path, ring, true)
}

// serveMainLogtail is GET /mainlogtail: the daemon's own log, followed.
func (rt *routes) serveMainLogtail(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		Error(w, http.StatusBadRequest)
		return
	}
	rt.tail(w, r, rt.sup.MainLogPath(), rt.sup.MainLogRing(), false)
}

// tail answers a log tail request for path. ring, when not nil, is the
// in-memory copy of the same stream: its growth wakes the follower at once
// (the file is still re-checked every Poll), and it is the only source for
// targets that are not regular files (/dev/stdout, a pipe).
func (rt *routes) tail(w http.ResponseWriter, r *http.Request, path string, ring *logfile.Ring, accel bool) {
	if path == "" {
		Error(w, http.StatusNotFound) // no log file (yet): 404 like the original
		return
	}
	st, err := os.Stat(path)
	if err != nil || (!st.Mode().IsRegular() && ring == nil) {
		Error(w, http.StatusNotFound)
		return
	}
	h := w.Header()
	h.Set("Last-Modified", st.ModTime().UTC().Format(http.TimeFormat))
	h.Set("Content-Type", "text/plain;charset=utf-8")
	if accel {
		h.Set("X-Accel-Buffering", "no") // tell proxies not to buffer the stream
	}
	if !st.Mode().IsRegular() {
		w.WriteHeader(http.StatusOK)
		rt.followRing(r.Context(), w, ring)
		return
	}
	t, err := openTail(path)
	if err != nil {
		Error(w, http.StatusNotFound)
		return
	}
	defer t.close()
	w.WriteHeader(http.StatusOK)
	rt.followFile(r.Context(), w, t, ring)
}

// flushWriter writes one chunk and pushes it to the client.
type flushWriter struct {
	w  io.Writer
	rc *http.ResponseController
}

func newFlushWriter(w http.ResponseWriter) *flushWriter {
	return &flushWriter{w: w, rc: http.NewResponseController(w)}
}

func (f *flushWriter) send(p []byte) error {
	if _, err := f.w.Write(p); err != nil {
		return err
	}
	return f.rc.Flush()
}

// fileTail is the original's tail_f_producer: an open file, its inode (to
// notice rotation) and how far it has been sent.
type fileTail struct {
	path string
	f    *os.File
	ino  uint64
	pos  int64
}

func openTail(path string) (*fileTail, error) {
	t := &fileTail{path: path}
	if err := t.open(); err != nil {
		return nil, err
	}
	st, err := t.f.Stat()
	if err != nil {
		t.close()
		return nil, err
	}
	t.pos = max(0, st.Size()-tailHead)
	return t, nil
}

func (t *fileTail) open() error {
	f, err := os.Open(t.path)
	if err != nil {
		return err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return err
	}
	t.f, t.ino, t.pos = f, inode(st), 0
	return nil
}

func (t *fileTail) close() { t.f.Close() }

// follow reopens the file from its start when the name now points to
// another inode (rotation). A missing name keeps the old file.
func (t *fileTail) follow() {
	st, err := os.Stat(t.path)
	if err != nil || inode(st) == t.ino {
		return
	}
	old := t.f
	if err := t.open(); err != nil {
		return
	}
	old.Close()
}

// next returns what to send now: new bytes, the truncation notice, or
// nothing.
func (t *fileTail) next() ([]byte, error) {
	t.follow()
	st, err := t.f.Stat()
	if err != nil {
		return nil, err
	}
	size := st.Size()
	switch {
	case size < t.pos:
		t.pos = 0
		return []byte(truncatedNotice), nil
	case size == t.pos:
		return nil, nil
	}
	buf := make([]byte, min(size-t.pos, tailChunk))
	n, err := t.f.ReadAt(buf, t.pos)
	if n == 0 && err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	t.pos += int64(n)
	return buf[:n], nil
}

func inode(st os.FileInfo) uint64 {
	if sys, ok := st.Sys().(*syscall.Stat_t); ok {
		return sys.Ino
	}
	return 0
}

func (rt *routes) followFile(ctx context.Context, w http.ResponseWriter, t *fileTail, ring *logfile.Ring) {
	out := newFlushWriter(w)
	if out.rc.Flush() != nil { // headers go out at once, as the original's do
		return
	}
	for ctx.Err() == nil {
		var mark int64
		if ring != nil {
			mark = ring.End()
		}
		data, err := t.next()
		if err != nil {
			return
		}
		if len(data) > 0 {
			if out.send(data) != nil {
				return
			}
			continue
		}
		rt.wait(ctx, ring, mark)
	}
}

// wait returns after Poll, when ring grows past mark, or when ctx ends.
func (rt *routes) wait(ctx context.Context, ring *logfile.Ring, mark int64) {
	if ring != nil {
		wctx, cancel := context.WithTimeout(ctx, rt.opts.Poll)
		_ = ring.Wait(wctx, mark)
		cancel()
		return
	}
	timer := time.NewTimer(rt.opts.Poll)
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-ctx.Done():
	}
}

// followRing streams a ring: its last 1 KiB, then every write. A client too
// slow for the ring silently skips what it lost.
func (rt *routes) followRing(ctx context.Context, w http.ResponseWriter, ring *logfile.Ring) {
	out := newFlushWriter(w)
	if out.rc.Flush() != nil {
		return
	}
	off := max(ring.Start(), ring.End()-tailHead)
	for {
		data, next, _ := ring.ReadAt(off, tailChunk)
		if len(data) > 0 {
			if out.send(data) != nil {
				return
			}
			off = next
			continue
		}
		off = next
		if ring.Wait(ctx, off) != nil {
			return
		}
	}
}
