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
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	resp, err := c.Get(ctx, EventsPath)
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
	idle := time.AfterFunc(eventsIdle, cancel)
	defer idle.Stop()
	return ReadEvents(resp.Body, func() { idle.Reset(eventsIdle) }, fn)
}

// ReadEvents decodes a Server-Sent Events body: fn gets each named event's
// name and (last) data line; seen is called on every line received (to push
// an idle deadline back).
func ReadEvents(body io.Reader, seen func(), fn func(event string, data []byte) error) error {
	br := bufio.NewReaderSize(body, 1<<16)
	var event string
	var data []byte
	for {
		line, err := readLine(br)
		if err != nil {
			return fmt.Errorf("event stream: %w", err)
		}
		seen()
		text := strings.TrimRight(string(line), "\r\n")
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
