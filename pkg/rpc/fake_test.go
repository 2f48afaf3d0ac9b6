package rpc

import (
	"context"
	"errors"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gosupervisor/gosupervisor/pkg/fault"
	"github.com/gosupervisor/gosupervisor/pkg/xmlrpc"
)

// fakeProc is one process of fakeBackend.
type fakeProc struct {
	info     ProcessInfo
	startErr error         // StartProcess fails with this
	waitErr  error         // the start waiter ends with this
	release  chan struct{} // waiters block until closed; nil: no waiting
	returned bool          // a waiter has returned
	stdout   string        // log paths
	stderr   string
	stdin    []byte
	signals  []syscall.Signal
	cleared  int
}

// fakeBackend keeps the engine's state in memory.
type fakeBackend struct {
	mu         sync.Mutex
	mood       int
	groups     []string // active groups in priority order
	procs      map[string][]*fakeProc
	pending    []string // groups of the pending config
	mainLog    string
	events     []string
	shutdowns  int
	restarts   int
	reloadErr  error
	configInfo []ConfigInfo
	clearErr   map[string]error
}

func newFake() *fakeBackend {
	return &fakeBackend{mood: StateRunning, procs: map[string][]*fakeProc{}, clearErr: map[string]error{}}
}

// addProc adds a process in state STOPPED (groups are created on demand).
func (f *fakeBackend) addProc(group, name string) *fakeProc {
	if _, ok := f.procs[group]; !ok {
		f.groups = append(f.groups, group)
		f.pending = append(f.pending, group)
	}
	p := &fakeProc{info: ProcessInfo{Name: name, Group: group, State: ProcStopped, StateName: "STOPPED",
		Description: "Not started"}}
	f.procs[group] = append(f.procs[group], p)
	return p
}

func (f *fakeBackend) find(ns string) (*fakeProc, error) {
	g, p := SplitNamespec(ns)
	for _, fp := range f.procs[g] {
		if fp.info.Name == p {
			return fp, nil
		}
	}
	return nil, fault.New(fault.BadName, ns)
}

func (p *fakeProc) setState(state int) {
	p.info.State = state
	p.info.StateName = map[int]string{ProcStopped: "STOPPED", ProcStarting: "STARTING", ProcRunning: "RUNNING",
		ProcBackoff: "BACKOFF", ProcStopping: "STOPPING", ProcExited: "EXITED", ProcFatal: "FATAL",
		ProcUnknown: "UNKNOWN"}[state]
}

func (f *fakeBackend) State() (int, string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.mood, map[int]string{2: "FATAL", 1: "RUNNING", 0: "RESTARTING", -1: "SHUTDOWN"}[f.mood]
}
func (f *fakeBackend) Identification() string { return "fakeid" }
func (f *fakeBackend) PID() int               { return 4242 }
func (f *fakeBackend) MainLogPath() string    { return f.mainLog }
func (f *fakeBackend) ClearMainLog() error {
	if f.mainLog == "" {
		return fault.New(fault.NoFile, "")
	}
	return nil
}
func (f *fakeBackend) Shutdown() { f.mu.Lock(); f.shutdowns++; f.mu.Unlock() }
func (f *fakeBackend) Restart()  { f.mu.Lock(); f.restarts++; f.mu.Unlock() }
func (f *fakeBackend) ReloadConfig() ([]string, []string, []string, error) {
	if f.reloadErr != nil {
		return nil, nil, nil, f.reloadErr
	}
	return []string{"newprog"}, []string{"sleeper"}, []string{}, nil
}
func (f *fakeBackend) AddGroup(name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !slices.Contains(f.pending, name) {
		return fault.New(fault.BadName, name)
	}
	if slices.Contains(f.groups, name) {
		return fault.New(fault.AlreadyAdded, name)
	}
	f.groups = append(f.groups, name)
	return nil
}
func (f *fakeBackend) RemoveGroup(name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !slices.Contains(f.groups, name) {
		return fault.New(fault.BadName, name)
	}
	for _, p := range f.procs[name] {
		if !isStopped(p.info.State) {
			return fault.New(fault.StillRunning, name)
		}
	}
	f.groups = slices.DeleteFunc(f.groups, func(g string) bool { return g == name })
	return nil
}
func (f *fakeBackend) Processes() []ProcessInfo {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []ProcessInfo
	for _, g := range f.groups {
		for _, p := range f.procs[g] {
			out = append(out, p.info)
		}
	}
	return out
}
func (f *fakeBackend) Group(name string) ([]ProcessInfo, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !slices.Contains(f.groups, name) {
		return nil, false
	}
	var out []ProcessInfo
	for _, p := range f.procs[name] {
		out = append(out, p.info)
	}
	return out, true
}

// waiter blocks until p.release is closed, then finishes with done().
func (f *fakeBackend) waiter(p *fakeProc, done func() error) Waiter {
	return func(ctx context.Context) error {
		defer func() { f.mu.Lock(); p.returned = true; f.mu.Unlock() }()
		select {
		case <-p.release:
		case <-ctx.Done():
			return ctx.Err()
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		return done()
	}
}

func (f *fakeBackend) StartProcess(ns string) (Waiter, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p, err := f.find(ns)
	if err != nil {
		return nil, err
	}
	if isRunning(p.info.State) {
		return nil, fault.New(fault.AlreadyStarted, ns)
	}
	if p.startErr != nil {
		return nil, p.startErr
	}
	if p.release == nil {
		p.setState(ProcRunning)
		return nil, nil
	}
	p.setState(ProcStarting)
	return f.waiter(p, func() error {
		if p.waitErr != nil {
			p.setState(ProcBackoff)
			return p.waitErr
		}
		p.setState(ProcRunning)
		return nil
	}), nil
}

func (f *fakeBackend) StopProcess(ns string) (Waiter, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p, err := f.find(ns)
	if err != nil {
		return nil, err
	}
	if !isRunning(p.info.State) {
		return nil, fault.New(fault.NotRunning, ns)
	}
	if p.release == nil {
		p.setState(ProcStopped)
		return nil, nil
	}
	p.setState(ProcStopping)
	return f.waiter(p, func() error { p.setState(ProcStopped); return nil }), nil
}

func (f *fakeBackend) SignalProcess(ns string, sig syscall.Signal) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	p, err := f.find(ns)
	if err != nil {
		return err
	}
	if !isSignallable(p.info.State) {
		return fault.New(fault.NotRunning, ns)
	}
	p.signals = append(p.signals, sig)
	return nil
}

func (f *fakeBackend) LogPath(ns, channel string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p, err := f.find(ns)
	if err != nil {
		return "", err
	}
	if channel == "stderr" {
		return p.stderr, nil
	}
	return p.stdout, nil
}

func (f *fakeBackend) ClearProcessLogs(ns string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	p, err := f.find(ns)
	if err != nil {
		return err
	}
	if err := f.clearErr[ns]; err != nil {
		return err
	}
	p.cleared++
	return nil
}

func (f *fakeBackend) SendStdin(ns string, data []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	p, err := f.find(ns)
	if err != nil {
		return err
	}
	if p.info.PID == 0 {
		return fault.New(fault.NotRunning, ns)
	}
	p.stdin = append(p.stdin, data...)
	return nil
}

func (f *fakeBackend) SendRemoteCommEvent(typ, data string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.events = append(f.events, "type:"+typ+"\n"+data)
	return nil
}

func (f *fakeBackend) ConfigInfo() []ConfigInfo { return slices.Clone(f.configInfo) }

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// field returns a Struct member's value.
func field(t *testing.T, v any, name string) any {
	t.Helper()
	st, ok := v.(xmlrpc.Struct)
	if !ok {
		t.Fatalf("%#v is not a Struct", v)
	}
	for _, m := range st {
		if m.Name == name {
			return m.Value
		}
	}
	t.Fatalf("struct has no member %q: %#v", name, st)
	return nil
}

func names(st xmlrpc.Struct) []string {
	var out []string
	for _, m := range st {
		out = append(out, m.Name)
	}
	return out
}

// faultText returns "code text" of a fault error, or "" if err is not a fault.
func faultText(err error) string {
	var f *fault.Error
	if !errors.As(err, &f) {
		return ""
	}
	return f.Error()
}

func (f *fakeBackend) StartProcesses(nss []string) ([]Waiter, []error) {
	return each(f.StartProcess)(nss)
}

func (f *fakeBackend) StopProcesses(nss []string) ([]Waiter, []error) {
	return each(f.StopProcess)(nss)
}
