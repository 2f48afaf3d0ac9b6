package process

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gosupervisor/gosupervisor/pkg/loglevel"
	"github.com/gosupervisor/gosupervisor/pkg/pyfmt"
)

// fakeEnv records every side effect as one ordered trace, in the format the
// Python oracle (testdata/oracle.py) prints for the original Subprocess.
type fakeEnv struct {
	trace    []string
	spawns   []any // int pid or string error text, consumed in order
	killErrs []syscall.Errno
	kills    []string
}

func (e *fakeEnv) Spawn(p *Proc) (int, error) {
	e.trace = append(e.trace, "spawn")
	if len(e.spawns) == 0 {
		return 0, errors.New("test: no spawn result left")
	}
	r := e.spawns[0]
	e.spawns = e.spawns[1:]
	switch v := r.(type) {
	case string:
		return 0, errors.New(v)
	case float64: // from JSON
		return int(v), nil
	case int:
		return v, nil
	}
	return 0, fmt.Errorf("test: bad spawn result %v", r)
}

func (e *fakeEnv) Kill(pid int, sig syscall.Signal, group bool) error {
	if group {
		pid = -pid
	}
	line := fmt.Sprintf("kill %d %d", pid, int(sig))
	e.trace = append(e.trace, line)
	e.kills = append(e.kills, line)
	if len(e.killErrs) > 0 {
		errno := e.killErrs[0]
		e.killErrs = e.killErrs[1:]
		if errno != 0 {
			return fmt.Errorf("kill %d: %w", pid, errno)
		}
	}
	return nil
}

func (e *fakeEnv) Log(level loglevel.Level, msg string) {
	if strings.HasPrefix(msg, "unknown problem") {
		msg, _, _ = strings.Cut(msg, "):")
		msg += "):"
	}
	e.trace = append(e.trace, "log "+level.String()+" "+msg)
}

func (e *fakeEnv) StateChanged(p *Proc, ev StateEvent) {
	e.trace = append(e.trace, fmt.Sprintf("event %s->%s tries=%d expected=%t pid=%d",
		ev.From, ev.To, ev.Tries, ev.Expected, ev.Pid))
}

// scenario is a scripted run shared by the Go machine and the oracle.
type scenario struct {
	Name     string          `json:"name,omitempty"`
	Policy   scenarioPolicy  `json:"policy"`
	Spawns   []any           `json:"spawns"`
	KillErrs []syscall.Errno `json:"killerrs"`
	Steps    []step          `json:"steps"`
}

type scenarioPolicy struct {
	Autostart    bool   `json:"autostart"`
	Startsecs    int    `json:"startsecs"`
	Startretries int    `json:"startretries"`
	Autorestart  string `json:"autorestart"`
	Exitcodes    []int  `json:"exitcodes"`
	Stopsignal   int    `json:"stopsignal"`
	Stopwaitsecs int    `json:"stopwaitsecs"`
	Stopasgroup  bool   `json:"stopasgroup"`
	Killasgroup  bool   `json:"killasgroup"`
}

type step struct {
	Op      string `json:"op"`
	T       int64  `json:"t"` // milliseconds after base
	Running *bool  `json:"running,omitempty"`
	Status  int    `json:"status,omitempty"`
	Sig     int    `json:"sig,omitempty"`
}

// base is the oracle's BASE epoch second.
const base = 1000000

func testLoc(t testing.TB) *time.Location {
	loc, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skipf("no tzdata: %v", err)
	}
	return loc
}

func at(loc *time.Location, ms int64) time.Time {
	return time.Unix(base, 0).Add(time.Duration(ms) * time.Millisecond).In(loc)
}

func (sp scenarioPolicy) policy() Policy {
	ar := map[string]Autorestart{"never": AutorestartNever, "unexpected": AutorestartUnexpected,
		"always": AutorestartAlways}[sp.Autorestart]
	return Policy{
		Autostart: sp.Autostart, Startsecs: sp.Startsecs, Startretries: sp.Startretries, Autorestart: ar,
		Exitcodes: sp.Exitcodes, Stopsignal: syscall.Signal(sp.Stopsignal), Stopwaitsecs: sp.Stopwaitsecs,
		Stopasgroup: sp.Stopasgroup, Killasgroup: sp.Killasgroup,
	}
}

// runGo plays a scenario on our machine and returns the trace.
func runGo(t testing.TB, sc scenario) []string {
	loc := testLoc(t)
	const name = "x" // as in the oracle
	env := &fakeEnv{spawns: append([]any(nil), sc.Spawns...), killErrs: append([]syscall.Errno(nil), sc.KillErrs...)}
	p := newDriven(name, name, sc.Policy.policy(), env)
	ret := func(err error) {
		if err == nil {
			env.trace = append(env.trace, "ret None")
			return
		}
		msg := err.Error()
		if strings.HasPrefix(msg, "unknown problem") {
			msg, _, _ = strings.Cut(msg, "):")
			msg += "):"
		}
		env.trace = append(env.trace, "ret "+msg)
	}
	for _, st := range sc.Steps {
		now := at(loc, st.T)
		env.trace = append(env.trace, fmt.Sprintf("@%d %s", st.T, st.Op))
		switch st.Op {
		case "transition":
			p.Transition(now, st.Running == nil || *st.Running)
		case "start":
			if err := p.Start(now); err != nil {
				env.trace = append(env.trace, "error "+err.Error())
			}
		case "stop":
			ret(p.Stop(now))
		case "signal":
			ret(p.Signal(syscall.Signal(st.Sig)))
		case "giveup":
			if err := p.GiveUp(now); err != nil {
				env.trace = append(env.trace, "error "+err.Error())
			}
		case "stopreport":
			p.StopReport(now)
		case "exit":
			p.Exited(syscall.WaitStatus(st.Status), now)
		default:
			t.Fatalf("bad op %q", st.Op)
		}
		in := p.Info(now)
		env.trace = append(env.trace, fmt.Sprintf("info %s start=%d stop=%d pid=%d exitstatus=%d backoff=%d spawnerr=%s desc=%s",
			in.StateName, in.Start, in.Stop, in.Pid, in.ExitStatus, p.Backoff(), pyfmt.Repr(in.Spawnerr),
			pyfmt.Repr(in.Description)))
	}
	return env.trace
}

// runOracle plays scenarios on the original (Debian's python3-supervisor),
// all in one interpreter; ok is false when it is not installed.
func runOracle(t testing.TB, scs []scenario) (traces [][]string, ok bool) {
	if _, err := os.Stat("/usr/lib/python3/dist-packages/supervisor/process.py"); err != nil {
		return nil, false
	}
	in, err := json.Marshal(scs)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("/usr/bin/python3", filepath.Join("testdata", "oracle.py"))
	cmd.Stdin = bytes.NewReader(in)
	cmd.Env = append(os.Environ(), "TZ=America/New_York")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("oracle: %v\n%s", err, stderr.String())
	}
	if err := json.Unmarshal(out, &traces); err != nil || len(traces) != len(scs) {
		t.Fatalf("oracle output (%d traces): %v\n%s", len(traces), err, out)
	}
	return traces, true
}

func diffTraces(want, got []string) string {
	var b strings.Builder
	n := max(len(want), len(got))
	for i := range n {
		var w, g string
		if i < len(want) {
			w = want[i]
		}
		if i < len(got) {
			g = got[i]
		}
		mark := "  "
		if w != g {
			mark = "!!"
		}
		fmt.Fprintf(&b, "%s %-70s | %s\n", mark, w, g)
	}
	return b.String()
}

func equalTraces(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
