package webui

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/gosupervisor/gosupervisor/pkg/fault"
	"github.com/gosupervisor/gosupervisor/pkg/logfile"
)

const (
	defaultTail  = 64 << 10 // bytes a read or a new stream starts with
	maxReadChunk = 1 << 20  // bytes per read answer or stream event
)

// logSource is one log: a process channel or the main log.
type logSource struct {
	label string        // for file names: "web-stdout", "supervisord"
	ring  *logfile.Ring // nil when nothing is kept in memory
	path  string        // file on disk, "" if none
}

func (h *handler) logSource(r *http.Request) (logSource, error) {
	v := mux.Vars(r)
	ns, channel := v["ns"], v["channel"]
	if ns == "" {
		ring := h.sup.MainLogRing()
		path := h.sup.MainLogPath()
		if ring == nil && path == "" {
			return logSource{}, fault.New(fault.NoFile, "main log")
		}
		return logSource{label: "supervisord", ring: ring, path: path}, nil
	}
	// BAD_NAME for unknown processes comes from the engine.
	ring, err := h.sup.Ring(ns, channel)
	if err != nil {
		return logSource{}, err
	}
	path, err := h.sup.LogPath(ns, channel)
	if err != nil {
		return logSource{}, err
	}
	return logSource{label: strings.ReplaceAll(ns, ":", "_") + "-" + channel, ring: ring, path: path}, nil
}

// logChunk is a piece of a log from the in-memory ring. Offsets are
// absolute byte counts since the daemon started; truncated says that the
// requested offset had already fallen out of memory (or the log was
// cleared) and data starts at the oldest byte kept.
type logChunk struct {
	Data      string `json:"data"`
	Offset    int64  `json:"offset"`
	Next      int64  `json:"next"`
	Truncated bool   `json:"truncated"`
	Start     int64  `json:"start"`
	End       int64  `json:"end"`
}

func intParam(r *http.Request, name string, def int64) (int64, bool, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, false, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, false, fmt.Errorf("%s must be a non-negative integer, not %q", name, v)
	}
	return n, true, nil
}

// tailStart is where a read of the last n bytes begins.
func tailStart(ring *logfile.Ring, n int64) int64 {
	off := ring.End() - n
	if s := ring.Start(); off < s {
		off = s
	}
	return off
}

// dropPartialLine cuts data up to its first newline, for tails that begin
// in the middle of a line; data without a newline is kept whole.
func dropPartialLine(data []byte, off int64) ([]byte, int64) {
	if off == 0 {
		return data, off
	}
	if i := bytes.IndexByte(data, '\n'); i >= 0 && i < len(data)-1 {
		return data[i+1:], off + int64(i+1)
	}
	return data, off
}

func (h *handler) readLog(w http.ResponseWriter, r *http.Request) {
	src, err := h.logSource(r)
	if err != nil {
		writeFailure(w, err)
		return
	}
	limit, _, err := intParam(r, "limit", defaultTail)
	if err != nil {
		writeError(w, http.StatusBadRequest, errBadRequest(err.Error()))
		return
	}
	if limit == 0 || limit > maxReadChunk {
		limit = maxReadChunk
	}
	off, given, err := intParam(r, "offset", 0)
	if err != nil {
		writeError(w, http.StatusBadRequest, errBadRequest(err.Error()))
		return
	}
	if src.ring == nil {
		writeJSON(w, http.StatusOK, logChunk{})
		return
	}
	if !given {
		off = tailStart(src.ring, limit)
	}
	data, next, truncated := src.ring.ReadAt(off, int(limit))
	start := next - int64(len(data))
	if !given {
		data, start = dropPartialLine(data, start)
	}
	writeJSON(w, http.StatusOK, logChunk{
		Data: string(data), Offset: start, Next: next, Truncated: truncated,
		Start: src.ring.Start(), End: src.ring.End(),
	})
}

// downloadLog sends the whole log: the file on disk when there is one (the
// ring only holds its tail), else what the ring holds.
func (h *handler) downloadLog(w http.ResponseWriter, r *http.Request) {
	src, err := h.logSource(r)
	if err != nil {
		writeFailure(w, err)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", "text/plain; charset=utf-8")
	hd.Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", src.label+".log"))
	hd.Set("Cache-Control", "no-store")
	if src.path != "" {
		f, err := os.Open(src.path)
		if err == nil {
			defer f.Close()
			if fi, err := f.Stat(); err == nil {
				hd.Set("Last-Modified", fi.ModTime().UTC().Format(http.TimeFormat))
			}
			w.WriteHeader(http.StatusOK)
			// Copy until the end as of now; the file may still be growing.
			_, _ = io.Copy(w, f)
			return
		}
		if !errors.Is(err, os.ErrNotExist) || src.ring == nil {
			writeFailure(w, fault.New(fault.NoFile, src.path))
			return
		}
	}
	if src.ring == nil {
		writeFailure(w, fault.New(fault.NoFile, src.label))
		return
	}
	data, _, _ := src.ring.ReadAt(src.ring.Start(), 0)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(data)
}

// streamLog follows a log from the ring as Server-Sent Events. Each "log"
// event carries a logChunk and has the next offset as its id, so that a
// reconnecting EventSource resumes exactly where it stopped (Last-Event-ID).
// Without one, ?offset= starts at an absolute offset and ?tail=N with the
// last N bytes (default 64 KiB).
func (h *handler) streamLog(w http.ResponseWriter, r *http.Request) {
	src, err := h.logSource(r)
	if err != nil {
		writeFailure(w, err)
		return
	}
	if src.ring == nil {
		writeFailure(w, fault.New(fault.NoFile, src.label+" is not kept in memory"))
		return
	}
	ring := src.ring
	var off int64
	partial := false
	if id := r.Header.Get("Last-Event-ID"); id != "" {
		if off, err = strconv.ParseInt(id, 10, 64); err != nil || off < 0 {
			writeError(w, http.StatusBadRequest, errBadRequest("Last-Event-ID must be a log offset, not "+strconv.Quote(id)))
			return
		}
	} else if o, given, err := intParam(r, "offset", 0); err != nil {
		writeError(w, http.StatusBadRequest, errBadRequest(err.Error()))
		return
	} else if given {
		off = o
	} else {
		n, _, err := intParam(r, "tail", defaultTail)
		if err != nil {
			writeError(w, http.StatusBadRequest, errBadRequest(err.Error()))
			return
		}
		off, partial = tailStart(ring, n), true
	}
	ctx, cancel := h.streamContext(r)
	defer cancel()
	s, err := startSSE(w)
	if err != nil {
		return
	}
	for {
		data, next, truncated := ring.ReadAt(off, maxReadChunk)
		start := next - int64(len(data))
		if partial {
			data, start = dropPartialLine(data, start)
			partial = false
		}
		if len(data) > 0 || truncated {
			chunk := logChunk{Data: string(data), Offset: start, Next: next, Truncated: truncated,
				Start: ring.Start(), End: ring.End()}
			if s.event(strconv.FormatInt(next, 10), "log", chunk) != nil {
				return
			}
			off = next
			continue
		}
		// Nothing new: wait for a write, with a heartbeat so that a client
		// that vanished is noticed even on a silent log.
		if !h.waitRing(ctx, ring, off, s) {
			return
		}
	}
}

// waitRing waits until ring grows past off, sending heartbeats meanwhile;
// false means the stream is over.
func (h *handler) waitRing(ctx context.Context, ring *logfile.Ring, off int64, s *sse) bool {
	for {
		wctx, cancel := context.WithTimeout(ctx, h.opts.Heartbeat)
		err := ring.Wait(wctx, off)
		cancel()
		switch {
		case err == nil:
			return true
		case ctx.Err() != nil:
			return false
		case errors.Is(err, context.DeadlineExceeded):
			if s.ping() != nil {
				return false
			}
		default:
			return false
		}
	}
}

// heartbeatTicker is a ticker for idle streams.
func (h *handler) heartbeatTicker() *time.Ticker { return time.NewTicker(h.opts.Heartbeat) }
