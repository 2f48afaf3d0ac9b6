package rpc

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gosupervisor/gosupervisor/pkg/fault"
	"github.com/gosupervisor/gosupervisor/pkg/version"
	"github.com/gosupervisor/gosupervisor/pkg/xmlrpc"
)

// fixture: groups "sleeper" (one process), "multi" (multi_00, multi_01) and
// "grp" (ga, gb), all STOPPED.
func fixture() (*fakeBackend, *Server) {
	f := newFake()
	f.addProc("sleeper", "sleeper")
	f.addProc("multi", "multi_00")
	f.addProc("multi", "multi_01")
	f.addProc("grp", "gb") // config (priority) order differs from name order
	f.addProc("grp", "ga")
	return f, New(f, Options{})
}

func dispatch(s *Server, method string, args ...any) (any, error) {
	if args == nil {
		args = []any{}
	}
	return s.Dispatch(context.Background(), method, args)
}

// pythonSignatures asks the original for every method's signature.
func pythonSignatures(t *testing.T) map[string][]string {
	t.Helper()
	const script = `
import json
import supervisor.rpcinterface as r, supervisor.xmlrpc as x
s = x.SystemNamespaceRPCInterface([('supervisor', r.SupervisorNamespaceRPCInterface(None))])
print(json.dumps({n: s.methodSignature(n) for n in s.listMethods()}))
`
	var out []byte
	var err error
	for _, py := range []string{"/usr/bin/python3", "python3"} {
		if out, err = exec.Command(py, "-c", script).Output(); err == nil {
			break
		}
	}
	if err != nil {
		if os.Getenv("GOSUPERVISOR_NO_PYTHON") == "1" {
			t.Skip("python3 supervisor unavailable and GOSUPERVISOR_NO_PYTHON=1")
		}
		t.Fatalf("python3 with supervisor 4.2.5 is needed (set GOSUPERVISOR_NO_PYTHON=1 to skip): %v", err)
	}
	sigs := map[string][]string{}
	if err := json.Unmarshal(out, &sigs); err != nil {
		t.Fatal(err)
	}
	return sigs
}

func TestIntrospectionMatchesOriginal(t *testing.T) {
	want := pythonSignatures(t)
	if len(want) != 41 {
		t.Fatalf("original lists %d methods, expected 41", len(want))
	}
	_, s := fixture()
	v, err := dispatch(s, "system.listMethods")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, n := range v.([]any) {
		got = append(got, n.(string))
	}
	var wantNames []string
	for n := range want {
		wantNames = append(wantNames, n)
	}
	slicesSort(wantNames)
	if !reflect.DeepEqual(got, wantNames) {
		t.Fatalf("listMethods:\n got %q\nwant %q", got, wantNames)
	}
	for name, sig := range want {
		v, err := dispatch(s, "system.methodSignature", name)
		if err != nil {
			t.Errorf("methodSignature(%s): %v", name, err)
			continue
		}
		var gotSig []string
		for _, x := range v.([]any) {
			gotSig = append(gotSig, x.(string))
		}
		if !reflect.DeepEqual(gotSig, sig) {
			t.Errorf("methodSignature(%s) = %q, original %q", name, gotSig, sig)
		}
		help, err := dispatch(s, "system.methodHelp", name)
		if err != nil || !strings.Contains(help.(string), "@return") {
			t.Errorf("methodHelp(%s) = %q, %v", name, help, err)
		}
	}
}

func slicesSort(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

func TestIntrospectionFaults(t *testing.T) {
	_, s := fixture()
	for _, args := range [][]any{{"supervisor.nosuch"}, {"nosuch"}, {5}, {[]any{}}} {
		for _, m := range []string{"system.methodHelp", "system.methodSignature"} {
			if _, err := dispatch(s, m, args...); faultText(err) != "SIGNATURE_UNSUPPORTED" {
				t.Errorf("%s(%v) = %v, want SIGNATURE_UNSUPPORTED", m, args, err)
			}
		}
	}
}

func TestWithoutSupervisorNamespace(t *testing.T) {
	s := New(newFake(), Options{WithoutSupervisor: true})
	v, err := dispatch(s, "system.listMethods")
	if err != nil {
		t.Fatal(err)
	}
	want := []any{"system.listMethods", "system.methodHelp", "system.methodSignature", "system.multicall"}
	if !reflect.DeepEqual(v, want) {
		t.Fatalf("listMethods = %v, want %v", v, want)
	}
	if _, err := dispatch(s, "supervisor.getPID"); faultText(err) != "UNKNOWN_METHOD" {
		t.Fatalf("getPID without namespace: %v", err)
	}
}

// TestMethodResolution covers SPEC §10 item 11 (method names and arity).
func TestMethodResolution(t *testing.T) {
	_, s := fixture()
	tests := []struct {
		method string
		args   []any
		want   string
	}{
		{"supervisor.nosuch", nil, "UNKNOWN_METHOD"},
		{"nosuch.foo", nil, "UNKNOWN_METHOD"},
		{"supervisor._update", []any{"x"}, "UNKNOWN_METHOD"},
		{"system._listMethods", nil, "UNKNOWN_METHOD"},
		{"getPID", nil, "UNKNOWN_METHOD"},
		{"supervisor.getPID.x", nil, "UNKNOWN_METHOD"},
		{"", nil, "UNKNOWN_METHOD"},
		{"supervisor.getPID", []any{1}, "INCORRECT_PARAMETERS"},
		{"supervisor.startProcess", nil, "INCORRECT_PARAMETERS"},
		{"supervisor.startProcess", []any{"sleeper", true, 1}, "INCORRECT_PARAMETERS"},
		{"supervisor.signalProcess", []any{"sleeper"}, "INCORRECT_PARAMETERS"},
		{"supervisor.readLog", []any{0}, "INCORRECT_PARAMETERS"},
		{"supervisor.tailProcessLog", []any{"sleeper", 0}, "INCORRECT_PARAMETERS"},
		{"supervisor.startAllProcesses", []any{true, true}, "INCORRECT_PARAMETERS"},
		{"system.multicall", nil, "INCORRECT_PARAMETERS"},
		{"system.listMethods", []any{1}, "INCORRECT_PARAMETERS"},
	}
	for _, tt := range tests {
		_, err := dispatch(s, tt.method, tt.args...)
		if got := faultText(err); got != tt.want {
			t.Errorf("%s%v: got %q (%v), want %q", tt.method, tt.args, got, err, tt.want)
		}
		var f *fault.Error
		if err != nil && (!errors.As(err, &f) || err != error(f)) {
			t.Errorf("%s: Dispatch must return a bare *fault.Error, got %T", tt.method, err)
		}
	}
}

func TestSimpleGetters(t *testing.T) {
	f, s := fixture()
	tests := []struct {
		method string
		want   any
	}{
		{"supervisor.getAPIVersion", "3.0"},
		{"supervisor.getVersion", "3.0"},
		{"supervisor.getSupervisorVersion", version.Compat},
		{"supervisor.getIdentification", "fakeid"},
		{"supervisor.getPID", 4242},
		{"supervisor.getState", xmlrpc.Struct{{Name: "statecode", Value: 1}, {Name: "statename", Value: "RUNNING"}}},
		{"supervisor.shutdown", true},
		{"supervisor.reloadConfig", []any{[]any{[]any{"newprog"}, []any{"sleeper"}, []any{}}}},
	}
	for _, tt := range tests {
		f.mood = StateRunning
		got, err := dispatch(s, tt.method)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s = %#v, %v; want %#v", tt.method, got, err, tt.want)
		}
	}
	if f.shutdowns != 1 {
		t.Errorf("Shutdown called %d times", f.shutdowns)
	}
	f.mood = StateRunning
	if v, err := dispatch(s, "supervisor.restart"); v != true || err != nil || f.restarts != 1 {
		t.Errorf("restart = %v, %v (restarts %d)", v, err, f.restarts)
	}
	f.reloadErr = fault.New(fault.CantReread, "bad config")
	if _, err := dispatch(s, "supervisor.reloadConfig"); faultText(err) != "CANT_REREAD: bad config" {
		t.Errorf("reloadConfig fault: %v", err)
	}
}

// validCalls has a well-formed call of every supervisor.* method.
var validCalls = map[string][]any{
	"addProcessGroup": {"sleeper"}, "clearAllProcessLogs": {}, "clearLog": {},
	"clearProcessLog": {"sleeper"}, "clearProcessLogs": {"sleeper"}, "getAPIVersion": {},
	"getAllConfigInfo": {}, "getAllProcessInfo": {}, "getIdentification": {}, "getPID": {},
	"getProcessInfo": {"sleeper"}, "getState": {}, "getSupervisorVersion": {}, "getVersion": {},
	"readLog": {0, 0}, "readMainLog": {0, 0}, "readProcessLog": {"sleeper", 0, 0},
	"readProcessStderrLog": {"sleeper", 0, 0}, "readProcessStdoutLog": {"sleeper", 0, 0},
	"reloadConfig": {}, "removeProcessGroup": {"sleeper"}, "restart": {},
	"sendProcessStdin": {"sleeper", "x"}, "sendRemoteCommEvent": {"t", "d"}, "shutdown": {},
	"signalAllProcesses": {"HUP"}, "signalProcess": {"sleeper", "HUP"},
	"signalProcessGroup": {"grp", "HUP"}, "startAllProcesses": {}, "startProcess": {"sleeper"},
	"startProcessGroup": {"grp"}, "stopAllProcesses": {}, "stopProcess": {"sleeper"},
	"stopProcessGroup": {"grp"}, "tailProcessLog": {"sleeper", 0, 0},
	"tailProcessStderrLog": {"sleeper", 0, 0}, "tailProcessStdoutLog": {"sleeper", 0, 0},
}

// TestShutdownState: while stopping, every supervisor.* method but
// sendRemoteCommEvent answers SHUTDOWN_STATE; system.* keeps working; a
// wrong argument count is still reported first.
func TestShutdownState(t *testing.T) {
	f, s := fixture()
	for _, p := range f.procs["grp"] {
		p.setState(ProcRunning)
	}
	if got := len(s.Methods()); got != len(validCalls)+4 {
		t.Fatalf("validCalls covers %d methods, server has %d", len(validCalls), got-4)
	}
	for _, mood := range []int{StateShutdown, StateRestarting} {
		f.mood = mood
		for m, args := range validCalls {
			v, err := dispatch(s, "supervisor."+m, args...)
			if m == "sendRemoteCommEvent" {
				if err != nil || v != true {
					t.Errorf("sendRemoteCommEvent while shutting down: %v, %v", v, err)
				}
				continue
			}
			if faultText(err) != "SHUTDOWN_STATE" {
				t.Errorf("mood %d: %s = %v, %v; want SHUTDOWN_STATE", mood, m, v, err)
			}
		}
		if _, err := dispatch(s, "supervisor.getPID", 1); faultText(err) != "INCORRECT_PARAMETERS" {
			t.Errorf("arity must be checked before the mood: %v", err)
		}
		if _, err := dispatch(s, "system.listMethods"); err != nil {
			t.Errorf("system.listMethods while shutting down: %v", err)
		}
	}
	for _, p := range f.procs["grp"] {
		if len(p.signals) != 0 {
			t.Errorf("%s signalled while shutting down", p.info.Name)
		}
	}
	if f.shutdowns != 0 || f.restarts != 0 {
		t.Errorf("shutdown/restart reached the backend while shutting down")
	}
}

// TestProcessInfo covers SPEC §10 item 8.
func TestProcessInfo(t *testing.T) {
	f, s := fixture()
	p := f.procs["multi"][0]
	p.setState(ProcRunning)
	p.info.PID = 77
	p.info.Start = time.Unix(1700000000, 900e6)
	p.info.Now = time.Unix(1<<33, 0) // past 2038: capped
	p.info.StdoutLogfile = "/tmp/x.log"
	p.info.Description = "pid 77, uptime 0:00:01"
	v, err := dispatch(s, "supervisor.getProcessInfo", "multi:multi_00")
	if err != nil {
		t.Fatal(err)
	}
	want := xmlrpc.Struct{
		{Name: "name", Value: "multi_00"}, {Name: "group", Value: "multi"}, {Name: "start", Value: 1700000000},
		{Name: "stop", Value: 0}, {Name: "now", Value: 1<<31 - 1}, {Name: "state", Value: 20},
		{Name: "statename", Value: "RUNNING"}, {Name: "spawnerr", Value: ""}, {Name: "exitstatus", Value: 0},
		{Name: "logfile", Value: "/tmp/x.log"}, {Name: "stdout_logfile", Value: "/tmp/x.log"},
		{Name: "stderr_logfile", Value: ""}, {Name: "pid", Value: 77},
		{Name: "description", Value: "pid 77, uptime 0:00:01"},
	}
	if !reflect.DeepEqual(v, want) {
		t.Fatalf("getProcessInfo =\n%#v\nwant\n%#v", v, want)
	}
	for _, name := range []string{"multi", "multi:*", "multi:", "nosuch", "multi:nosuch", "sleeper:x:y"} {
		if _, err := dispatch(s, "supervisor.getProcessInfo", name); faultText(err) != "BAD_NAME: "+name {
			t.Errorf("getProcessInfo(%q) = %v", name, err)
		}
	}
	if v, err := dispatch(s, "supervisor.getProcessInfo", "sleeper:sleeper"); err != nil || field(t, v, "name") != "sleeper" {
		t.Errorf("getProcessInfo(sleeper:sleeper) = %v, %v", v, err)
	}
	// A non-string name breaks split_namespec: an unexpected error, not a fault.
	_, err = dispatch(s, "supervisor.getProcessInfo", 5)
	if err == nil || faultText(err) != "" || err.Error() != "<class 'AttributeError'>:'int' object has no attribute 'split'" {
		t.Errorf("getProcessInfo(5) = %v", err)
	}
}

func TestAllProcessInfoSorted(t *testing.T) {
	_, s := fixture()
	v, err := dispatch(s, "supervisor.getAllProcessInfo")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, st := range v.([]any) {
		got = append(got, field(t, st, "group").(string)+":"+field(t, st, "name").(string))
	}
	want := []string{"grp:ga", "grp:gb", "multi:multi_00", "multi:multi_01", "sleeper:sleeper"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("order %v, want %v", got, want)
	}
}

func result(name, group string, status int, desc string) xmlrpc.Struct {
	return xmlrpc.Struct{{Name: "name", Value: name}, {Name: "group", Value: group},
		{Name: "status", Value: status}, {Name: "description", Value: desc}}
}

func TestStartProcess(t *testing.T) {
	tests := []struct {
		name  string
		setup func(f *fakeBackend)
		args  []any
		want  any
		fault string
	}{
		{"instant", nil, []any{"sleeper"}, true, ""},
		{"no wait", func(f *fakeBackend) { f.procs["sleeper"][0].release = make(chan struct{}) },
			[]any{"sleeper", false}, true, ""},
		{"no wait int 0", func(f *fakeBackend) { f.procs["sleeper"][0].release = make(chan struct{}) },
			[]any{"sleeper", 0}, true, ""},
		{"already", func(f *fakeBackend) { f.procs["sleeper"][0].setState(ProcRunning) },
			[]any{"sleeper"}, nil, "ALREADY_STARTED: sleeper"},
		{"already long name", func(f *fakeBackend) { f.procs["sleeper"][0].setState(ProcBackoff) },
			[]any{"sleeper:sleeper"}, nil, "ALREADY_STARTED: sleeper:sleeper"},
		{"bad name", nil, []any{"nosuch"}, nil, "BAD_NAME: nosuch"},
		{"bad group star", nil, []any{"nosuch:*"}, nil, "BAD_NAME: nosuch:*"},
		{"spawn error", func(f *fakeBackend) { f.procs["sleeper"][0].startErr = fault.New(fault.SpawnError, "sleeper") },
			[]any{"sleeper"}, nil, "SPAWN_ERROR: sleeper"},
		{"no file", func(f *fakeBackend) {
			f.procs["sleeper"][0].startErr = fault.New(fault.NoFile, "can't find command '/x'")
		}, []any{"sleeper"}, nil, "NO_FILE: can't find command '/x'"},
		{"abnormal", func(f *fakeBackend) {
			p := f.procs["sleeper"][0]
			p.release = make(chan struct{})
			close(p.release)
			p.waitErr = fault.New(fault.AbnormalTermination, "sleeper")
		}, []any{"sleeper"}, nil, "ABNORMAL_TERMINATION: sleeper"},
		{"group star", nil, []any{"multi:*"}, []any{result("multi_00", "multi", 80, "OK"), result("multi_01", "multi", 80, "OK")}, ""},
		{"group colon", nil, []any{"grp:"}, []any{result("gb", "grp", 80, "OK"), result("ga", "grp", 80, "OK")}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, s := fixture()
			if tt.setup != nil {
				tt.setup(f)
			}
			v, err := dispatch(s, "supervisor.startProcess", tt.args...)
			if faultText(err) != tt.fault || (tt.fault == "" && err != nil) {
				t.Fatalf("err = %v, want %q", err, tt.fault)
			}
			if !reflect.DeepEqual(v, tt.want) {
				t.Fatalf("got %#v, want %#v", v, tt.want)
			}
		})
	}
}

func TestStartProcessWaits(t *testing.T) {
	f, s := fixture()
	p := f.procs["sleeper"][0]
	p.release = make(chan struct{})
	done := make(chan error, 1)
	go func() {
		v, err := dispatch(s, "supervisor.startProcess", "sleeper")
		if err == nil && v != true {
			err = errors.New("not true")
		}
		done <- err
	}()
	waitFor(t, "STARTING", func() bool { f.mu.Lock(); defer f.mu.Unlock(); return p.info.State == ProcStarting })
	select {
	case err := <-done:
		t.Fatalf("returned before RUNNING: %v", err)
	default:
	}
	close(p.release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	// A cancelled context ends the wait with the context's error.
	f.procs["grp"][0].release = make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		_, err := s.Dispatch(ctx, "supervisor.startProcess", []any{"grp:gb"})
		done <- err
	}()
	waitFor(t, "gb STARTING", func() bool { f.mu.Lock(); defer f.mu.Unlock(); return f.procs["grp"][0].info.State == ProcStarting })
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled wait: %v", err)
	}
}

// TestGroupOperations covers SPEC §10 item 9 and completion-order results.
func TestGroupOperations(t *testing.T) {
	f, s := fixture()
	v, err := dispatch(s, "supervisor.startProcessGroup", "multi")
	want := []any{result("multi_00", "multi", 80, "OK"), result("multi_01", "multi", 80, "OK")}
	if err != nil || !reflect.DeepEqual(v, want) {
		t.Fatalf("first startProcessGroup = %#v, %v", v, err)
	}
	if v, err := dispatch(s, "supervisor.startProcessGroup", "multi"); err != nil || !reflect.DeepEqual(v, []any{}) {
		t.Fatalf("second startProcessGroup = %#v, %v", v, err)
	}
	for _, bad := range []struct {
		arg  any
		want string
	}{{"nosuch", "BAD_NAME: nosuch"}, {"multi:multi_00", "BAD_NAME: multi:multi_00"}, {5, "BAD_NAME: 5"},
		{[]any{"x"}, "INCORRECT_PARAMETERS"}, {map[string]any{}, "INCORRECT_PARAMETERS"}} {
		for _, m := range []string{"startProcessGroup", "stopProcessGroup"} {
			if _, err := dispatch(s, "supervisor."+m, bad.arg); faultText(err) != bad.want {
				t.Errorf("%s(%v) = %v, want %q", m, bad.arg, err, bad.want)
			}
		}
		if _, err := dispatch(s, "supervisor.signalProcessGroup", bad.arg, "HUP"); faultText(err) != bad.want {
			t.Errorf("signalProcessGroup(%v) = %v, want %q", bad.arg, err, bad.want)
		}
	}

	// Completion order: gb (first in priority order) waits; ga finishes
	// first; an immediate failure of sleeper is reported before both.
	gb, ga := f.procs["grp"][0], f.procs["grp"][1]
	gb.release, ga.release = make(chan struct{}), make(chan struct{})
	ga.waitErr = fault.New(fault.SpawnError, "grp:ga")
	f.procs["sleeper"][0].startErr = fault.New(fault.SpawnError, "sleeper")
	done := make(chan any, 1)
	go func() {
		v, err := dispatch(s, "supervisor.startAllProcesses")
		if err != nil {
			v = err
		}
		done <- v
	}()
	waitFor(t, "both STARTING", func() bool {
		f.mu.Lock()
		defer f.mu.Unlock()
		return ga.info.State == ProcStarting && gb.info.State == ProcStarting
	})
	close(ga.release)
	waitFor(t, "ga's waiter", func() bool { f.mu.Lock(); defer f.mu.Unlock(); return ga.returned })
	close(gb.release)
	got := <-done
	want = []any{result("sleeper", "sleeper", 50, "SPAWN_ERROR: sleeper"),
		result("ga", "grp", 50, "SPAWN_ERROR: grp:ga"), result("gb", "grp", 80, "OK")}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("startAllProcesses =\n%#v\nwant\n%#v", got, want)
	}

	// stop: only running processes (BACKOFF included) are included.
	ga.release, gb.release = nil, nil
	f.procs["multi"][1].setState(ProcFatal)
	v, err = dispatch(s, "supervisor.stopProcess", "grp:*", false)
	if err != nil || !reflect.DeepEqual(v, []any{result("gb", "grp", 80, "OK"), result("ga", "grp", 80, "OK")}) {
		t.Fatalf("stopProcess(grp:*) = %#v, %v", v, err)
	}
	v, err = dispatch(s, "supervisor.stopAllProcesses")
	want = []any{result("multi_00", "multi", 80, "OK")}
	if err != nil || !reflect.DeepEqual(v, want) {
		t.Fatalf("stopAllProcesses = %#v, %v", v, err)
	}
	if _, err := dispatch(s, "supervisor.stopProcess", "sleeper"); faultText(err) != "NOT_RUNNING: sleeper" {
		t.Fatalf("stopProcess on stopped: %v", err)
	}
}

func TestStopProcessWaits(t *testing.T) {
	f, s := fixture()
	p := f.procs["sleeper"][0]
	p.setState(ProcRunning)
	p.release = make(chan struct{})
	if v, err := dispatch(s, "supervisor.stopProcess", "sleeper", false); v != true || err != nil {
		t.Fatalf("stopProcess(wait=false) = %v, %v", v, err)
	}
	if p.info.State != ProcStopping {
		t.Fatalf("state %d after stop without wait", p.info.State)
	}
	p.setState(ProcRunning)
	done := make(chan error, 1)
	go func() { _, err := dispatch(s, "supervisor.stopProcess", "sleeper"); done <- err }()
	waitFor(t, "STOPPING", func() bool { f.mu.Lock(); defer f.mu.Unlock(); return p.info.State == ProcStopping })
	close(p.release)
	if err := <-done; err != nil || p.info.State != ProcStopped {
		t.Fatalf("stopProcess = %v, state %d", err, p.info.State)
	}
}

// TestSignal covers SPEC §10 item 11 (signals).
func TestSignal(t *testing.T) {
	f, s := fixture()
	ga := f.procs["grp"][1]
	ga.setState(ProcRunning)
	tests := []struct {
		name, sig any
		want      string // fault text, "" = ok
		sent      syscall.Signal
	}{
		{"grp:ga", "FOO", "BAD_SIGNAL: FOO", 0},
		{"grp:ga", "usr1", "", syscall.SIGUSR1},
		{"grp:ga", "10", "", syscall.SIGUSR1},
		{"grp:ga", " SIGterm ", "", syscall.SIGTERM},
		{"grp:ga", 9, "", syscall.SIGKILL},
		{"grp:ga", true, "", syscall.SIGHUP}, // int(True) == 1
		{"grp:ga", 99, "BAD_SIGNAL: 99", 0},
		{"grp:ga", 1.5, "", syscall.SIGHUP},
		{"nosuch", "FOO", "BAD_NAME: nosuch", 0}, // BAD_NAME before BAD_SIGNAL
		{"grp:gb", "HUP", "NOT_RUNNING: grp:gb", 0},
		{"grp:gb", "FOO", "BAD_SIGNAL: FOO", 0}, // BAD_SIGNAL before NOT_RUNNING
	}
	for _, tt := range tests {
		before := len(ga.signals)
		v, err := dispatch(s, "supervisor.signalProcess", tt.name, tt.sig)
		if faultText(err) != tt.want || (tt.want == "" && (err != nil || v != true)) {
			t.Errorf("signalProcess(%v, %v) = %v, %v; want %q", tt.name, tt.sig, v, err, tt.want)
			continue
		}
		if tt.sent != 0 && (len(ga.signals) != before+1 || ga.signals[before] != tt.sent) {
			t.Errorf("signalProcess(%v, %v) sent %v", tt.name, tt.sig, ga.signals[before:])
		}
	}
	if _, err := dispatch(s, "supervisor.signalProcess", "grp:ga", []any{}); err == nil || faultText(err) != "" {
		t.Errorf("signal list: want an unexpected error, got %v", err)
	}
	// Group forms: bad signals are reported per signallable process.
	v, err := dispatch(s, "supervisor.signalProcess", "grp:*", "FOO")
	if err != nil || !reflect.DeepEqual(v, []any{result("ga", "grp", 11, "BAD_SIGNAL: FOO")}) {
		t.Errorf("signalProcess(grp:*, FOO) = %#v, %v", v, err)
	}
	v, err = dispatch(s, "supervisor.signalProcessGroup", "grp", "HUP")
	if err != nil || !reflect.DeepEqual(v, []any{result("ga", "grp", 80, "OK")}) {
		t.Errorf("signalProcessGroup = %#v, %v", v, err)
	}
	v, err = dispatch(s, "supervisor.signalAllProcesses", 15)
	if err != nil || !reflect.DeepEqual(v, []any{result("ga", "grp", 80, "OK")}) {
		t.Errorf("signalAllProcesses = %#v, %v", v, err)
	}
	ga.setState(ProcStopped)
	if v, err := dispatch(s, "supervisor.signalAllProcesses", "HUP"); err != nil || !reflect.DeepEqual(v, []any{}) {
		t.Errorf("signalAllProcesses, all stopped = %#v, %v", v, err)
	}
}

// TestLogs covers SPEC §10 item 45 and the readFile/tailFile rules.
func TestLogs(t *testing.T) {
	f, s := fixture()
	dir := t.TempDir()
	write := func(name, data string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	f.mainLog = write("main.log", "0123456789")
	sl := f.procs["sleeper"][0]
	sl.stdout = write("out.log", "hello world\n")
	sl.stderr = write("err.log", "er\nr1\n")
	f.procs["grp"][1].stdout = filepath.Join(dir, "missing.log")
	f.procs["grp"][0].stdout = write("bad.log", "ab\xc3")

	tests := []struct {
		method string
		args   []any
		want   any
		fault  string
	}{
		{"readLog", []any{0, 0}, "0123456789", ""},
		{"readMainLog", []any{-3, 0}, "789", ""},
		{"readLog", []any{-30, 0}, "0123456789", ""},
		{"readLog", []any{2, 3}, "234", ""},
		{"readLog", []any{"2", "3"}, "234", ""},
		{"readLog", []any{20, 3}, "", ""},
		{"readLog", []any{-10, 5}, nil, "BAD_ARGUMENTS"},
		{"readLog", []any{10, -5}, nil, "BAD_ARGUMENTS"},
		{"readLog", []any{[]any{}, 0}, nil, "INCORRECT_PARAMETERS"},
		{"readProcessStdoutLog", []any{"sleeper", 6, 0}, "world\n", ""},
		{"readProcessLog", []any{"sleeper", 0, 5}, "hello", ""},
		{"readProcessStderrLog", []any{"sleeper", -3, 0}, "r1\n", ""},
		{"readProcessStdoutLog", []any{"sleeper", -10, 5}, nil, "BAD_ARGUMENTS"},
		{"readProcessStdoutLog", []any{"sleeper", 10, -5}, nil, "BAD_ARGUMENTS"},
		{"readProcessStdoutLog", []any{"grp:ga", 0, 0}, nil, "NO_FILE: " + filepath.Join(dir, "missing.log")},
		{"readProcessStdoutLog", []any{"multi:multi_00", 0, 0}, nil, "NO_FILE"},
		{"readProcessStdoutLog", []any{"nosuch", 0, 0}, nil, "BAD_NAME: nosuch"},
		{"readProcessStdoutLog", []any{"grp", 0, 0}, nil, "BAD_NAME: grp"},
		{"tailProcessStderrLog", []any{"sleeper", 0, 3}, []any{"r1\n", 6, true}, ""},
		{"tailProcessStderrLog", []any{"sleeper", 100, 3}, []any{"", 6, false}, ""},
		{"tailProcessStderrLog", []any{"sleeper", 4, 10}, []any{"er\nr1\n", 6, false}, ""},
		{"tailProcessLog", []any{"sleeper", 0, 100}, []any{"hello world\n", 12, false}, ""},
		{"tailProcessStdoutLog", []any{"grp:ga", 0, 100}, []any{"", 0, false}, ""},
		{"tailProcessStdoutLog", []any{"grp:ga", "x", 100}, []any{"", 0, false}, ""},
		{"tailProcessStdoutLog", []any{"multi:multi_00", 5, 100}, []any{"", 0, false}, ""},
		{"tailProcessStdoutLog", []any{"grp:*", 5, 100}, nil, "BAD_NAME: grp:*"},
	}
	for _, tt := range tests {
		v, err := dispatch(s, "supervisor."+tt.method, tt.args...)
		if faultText(err) != tt.fault || (tt.fault == "" && err != nil) || !reflect.DeepEqual(v, tt.want) {
			t.Errorf("%s%v = %#v, %v; want %#v, %q", tt.method, tt.args, v, err, tt.want, tt.fault)
		}
	}
	// Python fails these with an unexpected exception (HTTP 500).
	for _, c := range []struct {
		method string
		args   []any
		want   string
	}{
		{"readProcessStdoutLog", []any{"grp:gb", 0, 0}, "<class 'UnicodeDecodeError'>:'utf-8' codec can't decode byte 0xc3 in position 2: unexpected end of data"},
		{"readLog", []any{"abc", 0}, "<class 'AttributeError'>:type object 'Faults' has no attribute 'invalid literal for int() with base 10: 'abc''"},
		{"tailProcessLog", []any{"sleeper", "abc", 0}, "<class 'ValueError'>:invalid literal for int() with base 10: 'abc'"},
	} {
		_, err := dispatch(s, "supervisor."+c.method, c.args...)
		if err == nil || faultText(err) != "" || err.Error() != c.want {
			t.Errorf("%s%v: got %v, want unexpected %q", c.method, c.args, err, c.want)
		}
	}
	f.mainLog = ""
	if _, err := dispatch(s, "supervisor.readLog", 0, 0); faultText(err) != "NO_FILE" {
		t.Errorf("readLog without log: %v", err)
	}
	f.mainLog = filepath.Join(dir, "gone.log")
	if _, err := dispatch(s, "supervisor.readLog", 0, 0); faultText(err) != "NO_FILE: "+f.mainLog {
		t.Errorf("readLog on missing log: %v", err)
	}
}

func TestClearLogs(t *testing.T) {
	f, s := fixture()
	f.clearErr["multi:multi_01"] = fault.New(fault.Failed, "multi:multi_01")
	if v, err := dispatch(s, "supervisor.clearProcessLog", "sleeper"); v != true || err != nil || f.procs["sleeper"][0].cleared != 1 {
		t.Fatalf("clearProcessLog = %v, %v", v, err)
	}
	if _, err := dispatch(s, "supervisor.clearProcessLogs", "multi"); faultText(err) != "BAD_NAME: multi" {
		t.Fatalf("clearProcessLogs(group) = %v", err)
	}
	v, err := dispatch(s, "supervisor.clearAllProcessLogs")
	want := []any{result("sleeper", "sleeper", 80, "OK"), result("multi_00", "multi", 80, "OK"),
		result("multi_01", "multi", 30, "FAILED: multi:multi_01"), result("gb", "grp", 80, "OK"), result("ga", "grp", 80, "OK")}
	if err != nil || !reflect.DeepEqual(v, want) {
		t.Fatalf("clearAllProcessLogs = %#v, %v", v, err)
	}
	if _, err := dispatch(s, "supervisor.clearLog"); faultText(err) != "NO_FILE" {
		t.Fatalf("clearLog = %v", err)
	}
}

func TestStdinAndEvents(t *testing.T) {
	f, s := fixture()
	sl := f.procs["sleeper"][0]
	tests := []struct {
		args []any
		want string
	}{
		{[]any{"sleeper", 5}, "INCORRECT_PARAMETERS: 5"},
		{[]any{"sleeper", []any{1, "a"}}, "INCORRECT_PARAMETERS: [1, 'a']"},
		{[]any{"nosuch", 5}, "INCORRECT_PARAMETERS: 5"}, // type checked before the name
		{[]any{"nosuch", "x"}, "BAD_NAME: nosuch"},
		{[]any{"sleeper", "x"}, "NOT_RUNNING: sleeper"},
	}
	for _, tt := range tests {
		if _, err := dispatch(s, "supervisor.sendProcessStdin", tt.args...); faultText(err) != tt.want {
			t.Errorf("sendProcessStdin%v = %v, want %q", tt.args, err, tt.want)
		}
	}
	sl.info.PID = 12
	for _, data := range []any{"héllo ", []byte("base64")} {
		if v, err := dispatch(s, "supervisor.sendProcessStdin", "sleeper", data); v != true || err != nil {
			t.Fatalf("sendProcessStdin = %v, %v", v, err)
		}
	}
	if string(sl.stdin) != "héllo base64" {
		t.Fatalf("stdin got %q", sl.stdin)
	}
	for _, args := range [][]any{{"mytype", "hello data"}, {5, true}} {
		if v, err := dispatch(s, "supervisor.sendRemoteCommEvent", args...); v != true || err != nil {
			t.Fatalf("sendRemoteCommEvent = %v, %v", v, err)
		}
	}
	if want := []string{"type:mytype\nhello data", "type:5\nTrue"}; !reflect.DeepEqual(f.events, want) {
		t.Fatalf("events %q, want %q", f.events, want)
	}
}

func TestGroupsAndConfig(t *testing.T) {
	f, s := fixture()
	f.pending = append(f.pending, "newprog")
	f.procs["grp"][0].setState(ProcRunning)
	tests := []struct {
		method string
		arg    any
		want   string
	}{
		{"addProcessGroup", "newprog", ""},
		{"addProcessGroup", "newprog", "ALREADY_ADDED: newprog"},
		{"addProcessGroup", "nosuch", "BAD_NAME: nosuch"},
		{"addProcessGroup", []any{1}, "BAD_NAME: [1]"},
		{"removeProcessGroup", "grp", "STILL_RUNNING: grp"},
		{"removeProcessGroup", "nosuch", "BAD_NAME: nosuch"},
		{"removeProcessGroup", 1.5, "BAD_NAME: 1.5"},
		{"removeProcessGroup", []any{1}, "INCORRECT_PARAMETERS"},
		{"removeProcessGroup", "multi", ""},
	}
	for _, tt := range tests {
		v, err := dispatch(s, "supervisor."+tt.method, tt.arg)
		if faultText(err) != tt.want || (tt.want == "" && v != true) {
			t.Errorf("%s(%v) = %v, %v; want %q", tt.method, tt.arg, v, err, tt.want)
		}
	}

	f.configInfo = []ConfigInfo{
		{Name: "zeta", Group: "zeta", UID: -1, Exitcodes: []int{0, 2}, Stopsignal: syscall.SIGTERM,
			Serverurl: "AUTO", Stdout: ChannelConfig{LogfileAuto: true}, Stderr: ChannelConfig{}},
		{Name: "alpha", Group: "g", UID: 999, Directory: "/tmp", Inuse: true, Stopsignal: syscall.SIGINT,
			Stdout: ChannelConfig{Logfile: "/tmp/a.log", LogfileMaxbytes: 1024, LogfileBackups: 3}},
	}
	v, err := dispatch(s, "supervisor.getAllConfigInfo")
	if err != nil {
		t.Fatal(err)
	}
	list := v.([]any)
	wantKeys := []string{"autostart", "directory", "uid", "command", "exitcodes", "group", "group_prio", "inuse",
		"killasgroup", "name", "process_prio", "redirect_stderr", "startretries", "startsecs",
		"stdout_capture_maxbytes", "stdout_events_enabled", "stdout_logfile", "stdout_logfile_backups",
		"stdout_logfile_maxbytes", "stdout_syslog", "stopsignal", "stopwaitsecs", "stderr_capture_maxbytes",
		"stderr_events_enabled", "stderr_logfile", "stderr_logfile_backups", "stderr_logfile_maxbytes",
		"stderr_syslog", "serverurl"}
	if got := names(list[0].(xmlrpc.Struct)); !reflect.DeepEqual(got, wantKeys) {
		t.Fatalf("keys %q", got)
	}
	checks := []struct {
		i    int
		key  string
		want any
	}{
		{0, "name", "alpha"}, {0, "uid", 999}, {0, "directory", "/tmp"}, {0, "stopsignal", 2},
		{0, "stdout_logfile", "/tmp/a.log"}, {0, "stdout_logfile_maxbytes", 1024}, {0, "inuse", true},
		{1, "name", "zeta"}, {1, "uid", "none"}, {1, "directory", "none"}, {1, "stdout_logfile", "auto"},
		{1, "stderr_logfile", "none"}, {1, "exitcodes", []any{0, 2}}, {1, "serverurl", "AUTO"},
	}
	for _, c := range checks {
		if got := field(t, list[c.i], c.key); !reflect.DeepEqual(got, c.want) {
			t.Errorf("config[%d].%s = %#v, want %#v", c.i, c.key, got, c.want)
		}
	}
}

// TestMulticall covers SPEC §10 item 10 and Appendix A item 1.
func TestMulticall(t *testing.T) {
	f, s := fixture()
	f.procs["sleeper"][0].setState(ProcRunning)
	calls := []any{
		map[string]any{"methodName": "supervisor.getPID"},
		map[string]any{"methodName": "supervisor.stopProcess", "params": []any{"sleeper"}},
		map[string]any{"methodName": "supervisor.nosuch", "params": []any{}},
		map[string]any{"methodName": "system.multicall", "params": []any{[]any{}}},
		map[string]any{"params": []any{}},
		map[string]any{"methodName": "supervisor.getProcessInfo", "params": []any{"nosuch"}},
		map[string]any{"methodName": "supervisor.getProcessInfo", "params": []any{5}},
		map[string]any{"methodName": 7},
		map[string]any{"methodName": "supervisor.getPID", "params": 3},
		map[string]any{"methodName": "supervisor.getProcessInfo", "params": "x"}, // *"x": one argument
		map[string]any{"methodName": "supervisor.startProcessGroup", "params": []any{"multi"}},
		map[string]any{"methodName": "system.listMethods", "params": []any{}},
	}
	v, err := dispatch(s, "system.multicall", calls)
	if err != nil {
		t.Fatal(err)
	}
	got := v.([]any)
	fs := func(code int, text string) xmlrpc.Struct { return faultStruct(code, text) }
	want := []any{
		4242,
		true,
		fs(1, "UNKNOWN_METHOD"),
		fs(2, "INCORRECT_PARAMETERS: Recursive system.multicall forbidden"),
		fs(2, "INCORRECT_PARAMETERS: No methodName"),
		fs(10, "BAD_NAME: nosuch"),
		fs(30, "FAILED: <class 'AttributeError'>:'int' object has no attribute 'split'"),
		fs(30, "FAILED: <class 'AttributeError'>:'int' object has no attribute 'split'"),
		fs(2, "INCORRECT_PARAMETERS"),
		fs(10, "BAD_NAME: x"),
		[]any{result("multi_00", "multi", 80, "OK"), result("multi_01", "multi", 80, "OK")},
	}
	if !reflect.DeepEqual(got[:len(want)], want) {
		t.Fatalf("multicall =\n%#v\nwant\n%#v", got[:len(want)], want)
	}
	if len(got[len(want)].([]any)) != 41 {
		t.Fatalf("listMethods inside multicall: %v", got[len(want)])
	}
	if got := names(got[2].(xmlrpc.Struct)); !reflect.DeepEqual(got, []string{"faultCode", "faultString"}) {
		t.Fatalf("fault struct keys %v", got)
	}

	// Waiting calls run one after another, in order.
	p := f.procs["sleeper"][0]
	p.setState(ProcStopped)
	p.release = make(chan struct{})
	done := make(chan any, 1)
	go func() {
		v, err := dispatch(s, "system.multicall", []any{
			map[string]any{"methodName": "supervisor.startProcess", "params": []any{"sleeper"}},
			map[string]any{"methodName": "supervisor.getProcessInfo", "params": []any{"sleeper"}},
		})
		if err != nil {
			v = err
		}
		done <- v
	}()
	waitFor(t, "STARTING", func() bool { f.mu.Lock(); defer f.mu.Unlock(); return p.info.State == ProcStarting })
	close(p.release)
	res := (<-done).([]any)
	if res[0] != true || field(t, res[1], "statename") != "RUNNING" {
		t.Fatalf("deferred multicall = %#v", res)
	}

	for _, bad := range []struct {
		arg        any
		fault, exc string
	}{
		{5, "INCORRECT_PARAMETERS", ""},
		{map[string]any{}, "INCORRECT_PARAMETERS", ""},
		{"", "", ""},
		{"ab", "", "<class 'AttributeError'>:'str' object has no attribute 'pop'"},
		{[]any{1}, "", "<class 'AttributeError'>:'int' object has no attribute 'get'"},
	} {
		v, err := dispatch(s, "system.multicall", bad.arg)
		switch {
		case bad.fault != "":
			if faultText(err) != bad.fault {
				t.Errorf("multicall(%v) = %v, want %q", bad.arg, err, bad.fault)
			}
		case bad.exc != "":
			if err == nil || err.Error() != bad.exc {
				t.Errorf("multicall(%v) = %v, want %q", bad.arg, err, bad.exc)
			}
		default:
			if err != nil || !reflect.DeepEqual(v, []any{}) {
				t.Errorf("multicall(%v) = %v, %v", bad.arg, v, err)
			}
		}
	}
}

func TestPythonFormatting(t *testing.T) {
	tests := []struct {
		v    any
		want string
	}{
		{5, "5"}, {true, "True"}, {1.5, "1.5"}, {2.0, "2.0"}, {1e16, "1e+16"}, {1e-5, "1e-05"},
		{123456789012345.0, "123456789012345.0"}, {"x'y", "x'y"}, {[]any{"a", 1, false}, "['a', 1, False]"},
		{map[string]any{"b": 1, "a": "x"}, "{'a': 'x', 'b': 1}"},
		{time.Date(2020, 1, 2, 3, 4, 0, 0, time.UTC), "2020-01-02 03:04:00"},
		{[]any{time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)}, "[datetime.datetime(2020, 1, 2, 3, 4, 5)]"},
	}
	for _, tt := range tests {
		if got := pyStr(tt.v); got != tt.want {
			t.Errorf("pyStr(%#v) = %q, want %q", tt.v, got, tt.want)
		}
	}
	for _, c := range []struct {
		v    any
		want bool
	}{{0, false}, {1, true}, {"", false}, {"0", true}, {[]any{}, false}, {map[string]any{}, false}, {0.0, false}, {time.Time{}, true}} {
		if truthy(c.v) != c.want {
			t.Errorf("truthy(%#v) != %v", c.v, c.want)
		}
	}
	for _, c := range []struct {
		s  string
		n  int64
		ok bool
	}{{" 12 ", 12, true}, {"-1_0", -10, true}, {"1__0", 0, false}, {"_1", 0, false}, {"+-1", 0, false}, {"", 0, false}} {
		n, ok := parsePyInt(c.s)
		if ok != c.ok || n != c.n {
			t.Errorf("parsePyInt(%q) = %d, %v", c.s, n, ok)
		}
	}
}

// An unexpected error while waiting fails the whole group call and stops
// the other waiters (goleak in TestMain checks none is left behind).
func TestGroupUnexpectedErrorCancelsWaiters(t *testing.T) {
	f, s := fixture()
	gb, ga := f.procs["grp"][0], f.procs["grp"][1]
	gb.release, ga.release = make(chan struct{}), make(chan struct{})
	close(ga.release)
	ga.waitErr = errors.New("boom")
	_, err := dispatch(s, "supervisor.startProcessGroup", "grp")
	if err == nil || err.Error() != "boom" || faultText(err) != "" {
		t.Fatalf("startProcessGroup = %v, want the unexpected error", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if !gb.returned {
		t.Fatal("gb's waiter still running")
	}
}
