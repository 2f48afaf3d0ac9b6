package webui

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gosupervisor/gosupervisor/pkg/rpc"
)

// TestEventsFraming reads the events stream byte by byte: headers, the
// retry line, the first sync, heartbeats, and the full sync that a group
// coming in causes.
func TestEventsFraming(t *testing.T) {
	e := newEnv(t, "[program:a]\ncommand=/bin/sleep 1000\nstartsecs=0\n")
	e.waitState("a", "RUNNING")
	srv := httptest.NewServer(New(e.sup, rpc.New(e.sup, rpc.Options{}), Options{StatsEvery: time.Hour, Heartbeat: 100 * time.Millisecond}))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/api/v1/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	for k, want := range map[string]string{
		"Content-Type":      "text/event-stream; charset=utf-8",
		"Cache-Control":     "no-store",
		"X-Accel-Buffering": "no",
	} {
		if got := resp.Header.Get(k); got != want {
			t.Errorf("%s: %q, want %q", k, got, want)
		}
	}
	lines, stop := make(chan string), make(chan struct{})
	defer close(stop)
	go func() {
		defer close(lines)
		br := bufio.NewReader(resp.Body)
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				return
			}
			select {
			case lines <- line:
			case <-stop:
				return
			}
		}
	}()
	next := func() string {
		t.Helper()
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("stream ended")
			}
			return l
		case <-time.After(5 * time.Second):
			t.Fatal("stream stalled")
		}
		return ""
	}
	// expect reads a blank-line-terminated block and checks it starts
	// with the given lines; it returns the data line's JSON.
	expect := func(head ...string) string {
		t.Helper()
		var block []string
		for {
			l := next()
			if l == "\n" {
				break
			}
			block = append(block, l)
		}
		if len(block) < len(head) {
			t.Fatalf("block %q, want it to start with %q", block, head)
		}
		for i, h := range head {
			if block[i] != h {
				t.Fatalf("block %q, want it to start with %q", block, head)
			}
		}
		if len(block) == len(head) {
			return ""
		}
		if !strings.HasPrefix(block[len(head)], "data: ") || len(block) != len(head)+1 {
			t.Fatalf("block %q: want one data line after %q", block, head)
		}
		return strings.TrimSuffix(strings.TrimPrefix(block[len(head)], "data: "), "\n")
	}
	procs := func(data string) string {
		t.Helper()
		var l listJSON
		if err := json.Unmarshal([]byte(data), &l); err != nil {
			t.Fatalf("data %q: %v", data, err)
		}
		if l.Supervisor.State != "RUNNING" {
			t.Errorf("supervisor %+v", l.Supervisor)
		}
		var names []string
		for _, p := range l.Processes {
			names = append(names, p.Namespec+"="+p.StateName)
		}
		return strings.Join(names, " ")
	}
	expect("retry: 2000\n")
	if got := procs(expect("event: sync\n")); got != "a=RUNNING" {
		t.Errorf("first sync %q", got)
	}
	expect(": ping\n")
	e.writeConf("[program:a]\ncommand=/bin/sleep 1000\nstartsecs=0\n\n[program:b]\ncommand=/bin/sleep 1000\nstartsecs=0\nautostart=false\n")
	if code, log, err := e.postUpdate(""); err != nil || code != 200 || strings.Join(log, "|") != "b: added process group" {
		t.Fatalf("update: %d %q %v", code, log, err)
	}
	// Heartbeats may come first; a group coming in is a full sync.
	for {
		l := next()
		if l == ": ping\n" {
			if next() != "\n" {
				t.Fatal("ping not followed by a blank line")
			}
			continue
		}
		if l != "event: sync\n" {
			t.Fatalf("got %q, want the sync after the group was added", l)
		}
		break
	}
	data := next()
	if got := procs(strings.TrimSuffix(strings.TrimPrefix(data, "data: "), "\n")); got != "a=RUNNING b=STOPPED" {
		t.Errorf("sync after add %q", got)
	}
}

// TestEventsHeartbeatParam: ?heartbeat= sets the ping period of one stream
// and is confirmed before the sync; a bad value is a 400 naming it.
func TestEventsHeartbeatParam(t *testing.T) {
	e := newEnv(t, "[program:a]\ncommand=/bin/sleep 1000\nautostart=false\n")
	srv := httptest.NewServer(New(e.sup, rpc.New(e.sup, rpc.Options{}), Options{StatsEvery: time.Hour, Heartbeat: time.Hour}))
	defer srv.Close()
	for _, bad := range []string{"x", "10ms", "2h"} {
		resp, err := http.Get(srv.URL + "/api/v1/events?heartbeat=" + bad)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 400 || !strings.Contains(string(body), `heartbeat \"`+bad+`\" is not a duration from 250ms to 1m0s`) {
			t.Errorf("heartbeat=%s: %d %s", bad, resp.StatusCode, body)
		}
	}
	// Without the parameter this stream would ping once an hour: a
	// deadline ends the read instead.
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get(srv.URL + "/api/v1/events?heartbeat=300ms")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	var got []string
	start := time.Now()
	for len(got) < 12 {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("after %q: %v", got, err)
		}
		if line = strings.TrimSuffix(line, "\n"); line != "" && !strings.HasPrefix(line, "data: ") {
			got = append(got, line)
		}
		if line == ": ping" && strings.Count(strings.Join(got, "\n"), ": ping") == 3 {
			break
		}
	}
	if want := []string{"retry: 2000", ": heartbeat 300ms", "event: sync", ": ping", ": ping", ": ping"}; !slices.Equal(got, want) {
		t.Errorf("stream lines %q, want %q", got, want)
	}
	if d := time.Since(start); d < 800*time.Millisecond || d > 3*time.Second {
		t.Errorf("three pings took %v, want about 0.9 s", d)
	}
}
