package rpcclient

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gosupervisor/gosupervisor/pkg/config"
)

// silentStream answers /api/v1/events with a sync, confirming the
// heartbeat when confirm is set, and then says nothing.
func silentStream(t *testing.T, confirm bool) *Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		if hb := r.URL.Query().Get("heartbeat"); confirm && hb != "" {
			fmt.Fprintf(w, ": heartbeat %s\n\n", hb)
		}
		fmt.Fprint(w, "event: sync\ndata: {}\n\n")
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	}))
	t.Cleanup(srv.Close)
	c, err := New(srv.URL, "", "", config.CtlTLS{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func TestEventsWithHeartbeatEndsSilentStream(t *testing.T) {
	c := silentStream(t, true)
	start := time.Now()
	events := 0
	err := c.EventsWithHeartbeat(context.Background(), 100*time.Millisecond, func(string, []byte) error { events++; return nil })
	if !errors.Is(err, ErrSilent) || events != 1 {
		t.Fatalf("err %v after %d events, want ErrSilent after the sync", err, events)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("silence noticed after %v, want 0.3 s", d)
	}
}

// A daemon that does not confirm the heartbeat (ours before the parameter)
// keeps the 45 s limit: its stream is not cut after three periods.
func TestEventsWithHeartbeatNeedsConfirmation(t *testing.T) {
	c := silentStream(t, false)
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	err := c.EventsWithHeartbeat(ctx, 100*time.Millisecond, func(string, []byte) error { return nil })
	if errors.Is(err, ErrSilent) || ctx.Err() == nil {
		t.Fatalf("unconfirmed heartbeat: %v before the caller's 1 s deadline", err)
	}
}
