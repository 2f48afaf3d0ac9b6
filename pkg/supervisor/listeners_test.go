package supervisor

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gosupervisor/gosupervisor/pkg/process"
)

// The listener of these tests is a Python script using Debian's
// supervisor.childutils, the library real listeners use.
const listenerPython = "/usr/bin/python3"

func needChildutils(t *testing.T) string {
	t.Helper()
	script, err := filepath.Abs("testdata/listener.py")
	if err != nil {
		t.Fatal(err)
	}
	_, errPy := os.Stat(listenerPython)
	_, errLib := os.Stat("/usr/lib/python3/dist-packages/supervisor/childutils.py")
	if errPy != nil || errLib != nil {
		if os.Getenv("GOSUPERVISOR_NO_PYTHON") == "1" {
			t.Skip("Python supervisor not installed (GOSUPERVISOR_NO_PYTHON=1)")
		}
		t.Fatalf("these tests need Debian's python3-supervisor (set GOSUPERVISOR_NO_PYTHON=1 to skip): %v %v", errPy, errLib)
	}
	return script
}

// received is one event as the listener read it.
type received struct {
	Headers map[string]string `json:"headers"`
	Payload string            `json:"payload"`
}

func (r received) name() string { return r.Headers["eventname"] }

func (r received) serial() int {
	n, _ := strconv.Atoi(r.Headers["serial"])
	return n
}

func readReceived(t *testing.T, path string) []received {
	t.Helper()
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []received
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r received
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			break // a line being written
		}
		out = append(out, r)
	}
	return out
}

// listenerSection is an [eventlistener:name] section running the script.
func listenerSection(script, name, out, mode, evs string, extra string) string {
	return fmt.Sprintf("[eventlistener:%s]\ncommand=%s %s %s %s\nevents=%s\nstartsecs=0\nautorestart=true\n%s\n",
		name, listenerPython, script, out, mode, evs, extra)
}

var pidField = regexp.MustCompile(`pid:\d+`)

// TestListenerSeesCrashingProgramInOrder covers SPEC §10 items 30, 31 and 33:
// envelope headers, the first events, the state changes of a crashing
// program with the original's payloads, REMOTE_COMMUNICATION and capture
// mode.
func TestListenerSeesCrashingProgramInOrder(t *testing.T) {
	script := needChildutils(t)
	out := filepath.Join(t.TempDir(), "events.jsonl")
	h := start(t, listenerSection(script, "listener", out, "ok",
		"PROCESS_STATE,SUPERVISOR_STATE_CHANGE,PROCESS_GROUP,REMOTE_COMMUNICATION,PROCESS_COMMUNICATION,PROCESS_LOG",
		"buffer_size=100\npriority=-1")+`
[program:crash]
command=/bin/sh -c "exit 3"
startretries=1
startsecs=1
priority=10

[program:once]
command=/bin/sh -c "sleep 1.3; exit 3"
startsecs=1
autorestart=false
priority=20

[program:comm]
command=/bin/sh -c "printf 'before<!--XSUPERVISOR:BEGIN-->captured data<!--XSUPERVISOR:END-->after, longer than a token\n'; sleep 0.3"
startsecs=0
autorestart=false
stdout_capture_maxbytes=1KB
stdout_events_enabled=true
priority=30
`)
	h.waitState("crash", process.Fatal, 20*time.Second)
	h.waitState("once", process.Exited, 20*time.Second)
	if err := h.s.SendRemoteCommEvent("mytype", "hello data"); err != nil {
		t.Fatal(err)
	}
	var got []received
	h.waitFor("the remote communication event", 10*time.Second, func() bool {
		got = readReceived(t, out)
		return len(got) > 0 && got[len(got)-1].name() == "REMOTE_COMMUNICATION"
	})

	// Headers: serials start at 0 and, with one pool, both count up by one.
	for i, r := range got {
		want := map[string]string{"ver": "3.0", "server": "supervisor", "serial": strconv.Itoa(i),
			"pool": "listener", "poolserial": strconv.Itoa(i), "len": strconv.Itoa(len([]rune(r.Payload)))}
		for k, v := range want {
			if r.Headers[k] != v {
				t.Errorf("event %d (%s): header %s=%q, want %q", i, r.name(), k, r.Headers[k], v)
			}
		}
	}
	first := []string{
		"PROCESS_GROUP_ADDED groupname:listener\n",
		"PROCESS_GROUP_ADDED groupname:crash\n",
		"PROCESS_GROUP_ADDED groupname:once\n",
		"PROCESS_GROUP_ADDED groupname:comm\n",
		"SUPERVISOR_STATE_CHANGE_RUNNING ",
		"PROCESS_STATE_STARTING processname:listener groupname:listener from_state:STOPPED tries:0",
	}
	for i, w := range first {
		if i >= len(got) || got[i].name()+" "+got[i].Payload != w {
			t.Fatalf("event %d = %+v, want %q; all: %+v", i, got[i], w, got)
		}
	}
	if got[0].Headers["len"] != "19" || got[4].Headers["len"] != "0" {
		t.Errorf("len headers %s and %s, want 19 and 0", got[0].Headers["len"], got[4].Headers["len"])
	}

	byProc := func(name string) []string {
		var seq []string
		for _, r := range got {
			if strings.HasPrefix(r.Payload, "processname:"+name+" ") {
				seq = append(seq, r.name()+" "+pidField.ReplaceAllString(r.Payload, "pid:N"))
			}
		}
		return seq
	}
	wantSeq := map[string][]string{
		"crash": {
			"PROCESS_STATE_STARTING processname:crash groupname:crash from_state:STOPPED tries:0",
			"PROCESS_STATE_BACKOFF processname:crash groupname:crash from_state:STARTING tries:1",
			"PROCESS_STATE_STARTING processname:crash groupname:crash from_state:BACKOFF tries:1",
			"PROCESS_STATE_BACKOFF processname:crash groupname:crash from_state:STARTING tries:2",
			"PROCESS_STATE_FATAL processname:crash groupname:crash from_state:BACKOFF",
		},
		"once": {
			"PROCESS_STATE_STARTING processname:once groupname:once from_state:STOPPED tries:0",
			"PROCESS_STATE_RUNNING processname:once groupname:once from_state:STARTING pid:N",
			"PROCESS_STATE_EXITED processname:once groupname:once from_state:RUNNING expected:0 pid:N",
		},
		"comm": {
			"PROCESS_STATE_STARTING processname:comm groupname:comm from_state:STOPPED tries:0",
			"PROCESS_STATE_RUNNING processname:comm groupname:comm from_state:STARTING pid:N",
			"PROCESS_LOG_STDOUT processname:comm groupname:comm pid:N channel:stdout\nbefore",
			"PROCESS_LOG_STDOUT processname:comm groupname:comm pid:N channel:stdout\ncaptured data",
			"PROCESS_COMMUNICATION_STDOUT processname:comm groupname:comm pid:N\ncaptured data",
			"PROCESS_LOG_STDOUT processname:comm groupname:comm pid:N channel:stdout\nafter, longer than a token\n",
			"PROCESS_STATE_EXITED processname:comm groupname:comm from_state:RUNNING expected:1 pid:N",
		},
	}
	for name, want := range wantSeq {
		if seq := byProc(name); strings.Join(seq, "|") != strings.Join(want, "|") {
			t.Errorf("%s events:\n got %q\nwant %q", name, seq, want)
		}
	}
	if last := got[len(got)-1]; last.Payload != "type:mytype\nhello data" {
		t.Errorf("remote communication payload %q", last.Payload)
	}
	// The listener's own protocol output never becomes PROCESS_LOG events.
	for _, r := range got {
		if strings.HasPrefix(r.Payload, "processname:listener ") && strings.HasPrefix(r.name(), "PROCESS_LOG") {
			t.Errorf("listener output emitted %s", r.name())
		}
	}
	// Capture tokens and captured text never reach the log file.
	h.waitState("comm", process.Exited, 10*time.Second)
	data, _ := os.ReadFile(h.info("comm").StdoutLogfile)
	if strings.Contains(string(data), "XSUPERVISOR") || strings.Contains(string(data), "captured") {
		t.Errorf("comm log %q", data)
	}
}

// TestRejectedEventIsSentAgain covers SPEC §10 item 32.
func TestRejectedEventIsSentAgain(t *testing.T) {
	script := needChildutils(t)
	out := filepath.Join(t.TempDir(), "events.jsonl")
	h := start(t, listenerSection(script, "listener", out, "failfirst", "PROCESS_STATE", ""))
	h.waitState("listener", process.Running, 10*time.Second)
	var got []received
	h.waitFor("the event to be delivered twice", 10*time.Second, func() bool {
		got = readReceived(t, out)
		return len(got) >= 2
	})
	if got[0].Headers["serial"] != got[1].Headers["serial"] || got[0].Headers["poolserial"] != got[1].Headers["poolserial"] ||
		got[0].Payload != got[1].Payload {
		t.Errorf("redelivery differs: %+v then %+v", got[0], got[1])
	}
	if h.log.count("listener: event was rejected") != 1 {
		t.Errorf("want one rejection line; log:\n%s", h.log)
	}
}

// TestListenerDyingWhileBusyGetsEventAgain: an event in flight when the
// listener dies goes back to the head of the buffer.
func TestListenerDyingWhileBusyGetsEventAgain(t *testing.T) {
	script := needChildutils(t)
	out := filepath.Join(t.TempDir(), "events.jsonl")
	h := start(t, listenerSection(script, "listener", out, "diefirst", "PROCESS_STATE", ""))
	var got []received
	h.waitFor("the event to be delivered again", 15*time.Second, func() bool {
		got = readReceived(t, out)
		return len(got) >= 2
	})
	if got[0].serial() != got[1].serial() || got[0].Payload != got[1].Payload {
		t.Errorf("after the death got %+v, want a redelivery of %+v", got[1], got[0])
	}
	// Its EXITED event was buffered before the re-queued one went back to the head.
	h.waitFor("the EXITED event", 10*time.Second, func() bool {
		got = readReceived(t, out)
		for _, r := range got {
			if r.name() == "PROCESS_STATE_EXITED" {
				return true
			}
		}
		return false
	})
}

var overflowLine = regexp.MustCompile(`^pool stuck event buffer overflowed, discarding event (\d+)$`)

// TestStuckListenerOverflowsAndEngineKeepsSupervising: a listener that never
// answers makes its buffer overflow with the original's log line, while
// other programs keep being restarted.
func TestStuckListenerOverflowsAndEngineKeepsSupervising(t *testing.T) {
	script := needChildutils(t)
	out := filepath.Join(t.TempDir(), "events.jsonl")
	h := start(t, listenerSection(script, "stuck", out, "stuck", "PROCESS_STATE", "buffer_size=2")+`
[program:flap]
command=/bin/sh -c "sleep 0.05; exit 1"
startsecs=0
autorestart=true
`)
	overflows := func() []int {
		h.log.mu.Lock()
		defer h.log.mu.Unlock()
		var serials []int
		for _, line := range h.log.lines {
			if m := overflowLine.FindStringSubmatch(line); m != nil {
				n, _ := strconv.Atoi(m[1])
				serials = append(serials, n)
			}
		}
		return serials
	}
	h.waitFor("the listener to take its one event", 20*time.Second, func() bool { return len(readReceived(t, out)) > 0 })
	h.waitFor("three overflows", 20*time.Second, func() bool { return len(overflows()) >= 3 })
	spawned := h.log.count("spawned: 'flap'")
	h.waitFor("flap to keep being restarted", 20*time.Second, func() bool {
		return h.log.count("spawned: 'flap'") >= spawned+3
	})
	serials := overflows()
	for i := 1; i < len(serials); i++ {
		if serials[i] <= serials[i-1] {
			t.Errorf("discarded serials not increasing: %v", serials)
			break
		}
	}
	if got := readReceived(t, out); len(got) != 1 {
		t.Errorf("stuck listener received %d events, want 1", len(got))
	}
	if st := h.info("stuck"); st.State != int(process.Running) {
		t.Errorf("stuck listener is %s", st.StateName)
	}
}

var tickPayload = regexp.MustCompile(`^when:(\d+)$`)

// TestTickReachesSubscribedPool: the loop wakes for TICK boundaries only
// because a pool subscribes to TICK; the first TICK_5 comes at the first
// boundary crossing, with the slice start as payload.
func TestTickReachesSubscribedPool(t *testing.T) {
	script := needChildutils(t)
	out := filepath.Join(t.TempDir(), "events.jsonl")
	h := start(t, listenerSection(script, "ticker", out, "ok", "TICK", ""))
	var got []received
	h.waitFor("a TICK_5", 12*time.Second, func() bool {
		got = readReceived(t, out)
		return len(got) > 0
	})
	m := tickPayload.FindStringSubmatch(got[0].Payload)
	if got[0].name() != "TICK_5" || m == nil {
		t.Fatalf("first event %+v, want TICK_5 when:N", got[0])
	}
	if n, _ := strconv.Atoi(m[1]); n%5 != 0 || time.Since(time.Unix(int64(n), 0)) > 6*time.Second {
		t.Errorf("tick slice %d is not a recent multiple of 5", n)
	}
}

// TestNumprocsPoolSpreadsEvents: with two listeners that never answer, each
// takes one event (the first READY one gets the oldest) and the rest stays
// buffered.
func TestNumprocsPoolSpreadsEvents(t *testing.T) {
	script := needChildutils(t)
	out := filepath.Join(t.TempDir(), "events.jsonl")
	h := start(t, listenerSection(script, "pair", out, "stuck", "PROCESS_STATE",
		"numprocs=2\nprocess_name=%(program_name)s_%(process_num)s")+`
[program:once]
command=/bin/sh -c "exit 0"
startsecs=0
autorestart=false
`)
	h.waitState("once", process.Exited, 10*time.Second)
	var got []received
	h.waitFor("both listeners to take an event", 10*time.Second, func() bool {
		got = readReceived(t, out)
		return len(got) >= 2
	})
	// Both listeners are BUSY now; what is left stays in the buffer.
	h.waitState("pair:pair_1", process.Running, 10*time.Second)
	if got = readReceived(t, out); len(got) != 2 || got[0].serial() == got[1].serial() {
		t.Errorf("received %+v, want two different events", got)
	}
	if got[0].serial() != 0 && got[1].serial() != 0 {
		t.Errorf("the oldest event (serial 0) went to nobody: %+v", got)
	}
}
