package rpcclient

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// EventsPath is our daemon's live process table (docs/API.md): sync,
// update and stats events, heartbeats every 15 s.
const EventsPath = "/api/v1/events"

// eventsIdle: nothing for this long (heartbeats come every 15 s) means the
// daemon is gone.
const eventsIdle = 45 * time.Second

// ErrNoEvents is a server without our event stream (404).
var ErrNoEvents = errors.New("no event stream")

// Events follows GET /api/v1/events and calls fn for each event (name and
// data) until the stream ends, ctx is done, fn fails or nothing arrives for
// 45 s. A server that has no stream gives ErrNoEvents, a non-200 answer a
// *ProtocolError.
func (c *Client) Events(ctx context.Context, fn func(event string, data []byte) error) error {
	return c.events(ctx, 0, fn)
}

// EventsWithHeartbeat is Events asking the daemon for a ping every `every`
// (?heartbeat=): once it confirms (": heartbeat 1s"), three periods of
// silence end the stream with ErrSilent, so that a hung daemon is noticed
// within seconds. A daemon that does not confirm keeps Events' 45 s.
func (c *Client) EventsWithHeartbeat(ctx context.Context, every time.Duration, fn func(event string, data []byte) error) error {
	return c.events(ctx, every, fn)
}

// ErrSilent is a stream that sent nothing for longer than it promised.
var ErrSilent = errors.New("event stream silent")

func (c *Client) events(ctx context.Context, every time.Duration, fn func(event string, data []byte) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	path := EventsPath
	if every > 0 {
		path += "?heartbeat=" + every.String()
	}
	resp, err := c.Get(ctx, path)
	if err != nil {
		return fmt.Errorf("GET %s on %s: %w", EventsPath, c.serverURL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
		if resp.StatusCode == http.StatusNotFound {
			return ErrNoEvents
		}
		return c.protocolError(resp)
	}
	limit := eventsIdle
	idle := time.AfterFunc(limit, func() { cancel(ErrSilent) })
	defer idle.Stop()
	ack := ": heartbeat " + every.String()
	seen := func(line string) {
		if every > 0 && line == ack {
			limit = 3 * every
		}
		idle.Reset(limit)
	}
	err = ReadEvents(resp.Body, seen, fn)
	if cause := context.Cause(ctx); errors.Is(cause, ErrSilent) {
		return fmt.Errorf("%s: %w for %v", c.serverURL, ErrSilent, limit)
	}
	return err
}

// ReadEvents decodes a Server-Sent Events body: fn gets each named event's
// name and (last) data line; seen is called with every line received (to
// push an idle deadline back).
func ReadEvents(body io.Reader, seen func(line string), fn func(event string, data []byte) error) error {
	br := bufio.NewReaderSize(body, 1<<16)
	var event string
	var data []byte
	for {
		line, err := readLine(br)
		if err != nil {
			return fmt.Errorf("event stream: %w", err)
		}
		text := strings.TrimRight(string(line), "\r\n")
		seen(text)
		switch {
		case strings.HasPrefix(text, "event: "):
			event = text[len("event: "):]
		case strings.HasPrefix(text, "data: "):
			data = append(data[:0], text[len("data: "):]...)
		case text == "" && event != "":
			err := fn(event, data)
			event = ""
			if err != nil {
				return err
			}
		}
	}
}

// readLine reads one line however long (a sync of many processes is one
// data: line).
func readLine(br *bufio.Reader) ([]byte, error) {
	line, err := br.ReadSlice('\n')
	if !errors.Is(err, bufio.ErrBufferFull) {
		return line, err
	}
	buf := append([]byte(nil), line...)
	for errors.Is(err, bufio.ErrBufferFull) {
		line, err = br.ReadSlice('\n')
		buf = append(buf, line...)
	}
	return buf, err
}
