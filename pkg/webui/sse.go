package webui

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// sse writes one Server-Sent Events stream. Every write is flushed at once:
// the console promises updates within a second.
type sse struct {
	w  http.ResponseWriter
	rc *http.ResponseController
}

func startSSE(w http.ResponseWriter) (*sse, error) {
	hd := w.Header()
	hd.Set("Content-Type", "text/event-stream; charset=utf-8")
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Accel-Buffering", "no") // nginx and friends must not buffer the stream
	w.WriteHeader(http.StatusOK)
	s := &sse{w: w, rc: http.NewResponseController(w)}
	// A reconnecting EventSource waits this long (ms) before trying again.
	if _, err := fmt.Fprint(w, "retry: 2000\n\n"); err != nil {
		return nil, fmt.Errorf("starting event stream: %w", err)
	}
	return s, s.flush()
}

func (s *sse) flush() error {
	if err := s.rc.Flush(); err != nil {
		return fmt.Errorf("flushing event stream: %w", err)
	}
	return nil
}

// event sends one event whose data is v as JSON (JSON has no raw newlines,
// so it fits one data: line). id "" sends none.
func (s *sse) event(id, name string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encoding %s event: %w", name, err)
	}
	var b strings.Builder
	if id != "" {
		b.WriteString("id: " + id + "\n")
	}
	b.WriteString("event: " + name + "\ndata: ")
	b.Write(data)
	b.WriteString("\n\n")
	if _, err := fmt.Fprint(s.w, b.String()); err != nil {
		return fmt.Errorf("writing %s event: %w", name, err)
	}
	return s.flush()
}

// ping keeps idle connections alive and notices clients that went away.
func (s *sse) ping() error { return s.comment("ping") }

// comment sends an SSE comment line, which clients skip.
func (s *sse) comment(text string) error {
	if _, err := fmt.Fprint(s.w, ": "+text+"\n\n"); err != nil {
		return fmt.Errorf("writing comment %q: %w", text, err)
	}
	return s.flush()
}

// streamContext ends when the client goes away or the supervisor stops.
func (h *handler) streamContext(r *http.Request) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(r.Context())
	go func() {
		select {
		case <-h.sup.Done():
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, cancel
}
