package rpc

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/gosupervisor/gosupervisor/pkg/xmlrpc"
)

// TestArgumentHandlingMatchesOriginal runs calls with odd arguments through
// the original's own SupervisorNamespaceRPCInterface (on its test dummies)
// and through our Server on an equivalent fake, and compares the outcomes:
// value, fault code and text, or unexpected exception text.
func TestArgumentHandlingMatchesOriginal(t *testing.T) {
	mainLog := filepath.Join(t.TempDir(), "main.log")
	if err := os.WriteFile(mainLog, []byte("0123456789"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		method string
		args   []any
	}{
		{"supervisor.getPID", []any{1}},
		{"supervisor.getSupervisorVersion", []any{}}, // the original's VERSION, 4.2.5
		{"supervisor.startProcess", []any{}},
		{"supervisor._update", []any{"x"}},
		{"supervisor.getPID.x", []any{}},
		{"nosuch.getPID", []any{}},
		{"supervisor.supervisord", []any{}},
		{"supervisor.getProcessInfo", []any{5}},
		{"supervisor.getProcessInfo", []any{[]any{1}}},
		{"supervisor.getProcessInfo", []any{nil}},
		{"supervisor.getProcessInfo", []any{"foo:*"}},
		{"supervisor.getProcessInfo", []any{"nosuch"}},
		{"supervisor.getProcessInfo", []any{"foo:nosuch"}},
		{"supervisor.startProcessGroup", []any{5}},
		{"supervisor.startProcessGroup", []any{[]any{1}}},
		{"supervisor.stopProcessGroup", []any{map[string]any{"a": 1}}},
		{"supervisor.stopProcessGroup", []any{"nosuch", false}},
		{"supervisor.signalProcessGroup", []any{1.5, "HUP"}},
		{"supervisor.removeProcessGroup", []any{[]any{1}}},
		{"supervisor.removeProcessGroup", []any{1.5}},
		{"supervisor.addProcessGroup", []any{5}},
		{"supervisor.signalProcess", []any{"foo", "FOO"}},
		{"supervisor.signalProcess", []any{"foo", 99}},
		{"supervisor.signalProcess", []any{"foo", []any{1}}},
		{"supervisor.signalProcess", []any{"foo", nil}},
		{"supervisor.signalProcess", []any{"foo", "HUP"}},
		{"supervisor.signalProcess", []any{"foo", 1.5}},
		{"supervisor.signalProcess", []any{"foo", true}},
		{"supervisor.signalProcess", []any{"nosuch", "FOO"}},
		{"supervisor.signalProcess", []any{"foo:bar", "HUP"}},
		{"supervisor.signalProcess", []any{"foo:bar", "FOO"}},
		{"supervisor.signalProcess", []any{"foo:*", "FOO"}},
		{"supervisor.signalAllProcesses", []any{"FOO"}},
		{"supervisor.sendProcessStdin", []any{"foo", 5}},
		{"supervisor.sendProcessStdin", []any{"foo", []any{1, "a"}}},
		{"supervisor.sendProcessStdin", []any{"nosuch", 5}},
		{"supervisor.sendProcessStdin", []any{"foo:bar", "x"}},
		{"supervisor.sendProcessStdin", []any{"foo", "x"}},
		{"supervisor.readLog", []any{"abc", 0}},
		{"supervisor.readLog", []any{[]any{}, 0}},
		{"supervisor.readLog", []any{"2", 3.9}},
		{"supervisor.readLog", []any{-3, 0}},
		{"supervisor.readLog", []any{-3, 2}},
		{"supervisor.readProcessStdoutLog", []any{"foo", 0, 0}},
		{"supervisor.tailProcessStdoutLog", []any{"foo", "x", 0}},
		{"supervisor.clearProcessLogs", []any{"foo:*"}},
		{"supervisor.stopProcess", []any{"foo:bar"}},
		{"system.methodHelp", []any{5}},
		{"system.methodSignature", []any{"supervisor.startProcess"}},
		{"system.multicall", []any{5}},
		{"system.multicall", []any{map[string]any{}}},
		{"system.multicall", []any{""}},
		{"system.multicall", []any{"ab"}},
		{"system.multicall", []any{[]any{1}}},
		{"system.multicall", []any{[]any{
			map[string]any{"methodName": 7},
			map[string]any{"methodName": "supervisor.getPID", "params": 3},
			map[string]any{"methodName": "supervisor.getProcessInfo", "params": "x"},
			map[string]any{"methodName": "supervisor.getProcessInfo", "params": []any{[]any{}}},
			map[string]any{"methodName": ""},
			map[string]any{"methodName": "system.multicall"},
			map[string]any{},
			map[string]any{"methodName": "supervisor.readLog", "params": []any{"abc", 0}},
		}}},
	}
	var script bytes.Buffer
	script.WriteString(`
import json, sys
from supervisor.tests.base import DummyOptions, DummyPConfig, PopulatedDummySupervisor
from supervisor.rpcinterface import SupervisorNamespaceRPCInterface
from supervisor.xmlrpc import SystemNamespaceRPCInterface, AttrDict, traverse, RPCError
from supervisor.states import ProcessStates
options = DummyOptions()
options.logfile = sys.argv[1]
foo = DummyPConfig(options, 'foo', '/bin/foo', stdout_logfile=None)
bar = DummyPConfig(options, 'bar', '/bin/bar')
sd = PopulatedDummySupervisor(options, 'foo', foo, bar)
sd.set_procattr('foo', 'state', ProcessStates.RUNNING)
sd.set_procattr('foo', 'pid', 10)
sd.set_procattr('bar', 'state', ProcessStates.STOPPED)
system = SystemNamespaceRPCInterface([('supervisor', SupervisorNamespaceRPCInterface(sd))])
root = AttrDict(system.namespaces)
def outcome(method, args):
    try:
        v = traverse(root, method, args)
    except RPCError as e:
        return ['fault', e.code, e.text]
    except Exception as e:
        return ['exc', '%s:%s' % (type(e), e)]
    if callable(v):
        return ['deferred']
    return ['value', v]
out = []
`)
	for _, c := range cases {
		script.WriteString("out.append(outcome(" + pyRepr(c.method) + ", " + pyRepr(c.args) + "))\n")
	}
	script.WriteString("print(json.dumps(out, default=str))\n")
	var pyOut []byte
	var err error
	for _, py := range []string{"/usr/bin/python3", "python3"} {
		if pyOut, err = exec.Command(py, "-c", script.String(), mainLog).Output(); err == nil {
			break
		}
	}
	if err != nil {
		if os.Getenv("GOSUPERVISOR_NO_PYTHON") == "1" {
			t.Skip("python3 supervisor unavailable and GOSUPERVISOR_NO_PYTHON=1")
		}
		t.Fatalf("python3 with supervisor 4.2.5 is needed (set GOSUPERVISOR_NO_PYTHON=1 to skip): %v", err)
	}
	var want []any
	if err := json.Unmarshal(pyOut, &want); err != nil {
		t.Fatal(err)
	}

	f := newFake()
	f.mainLog = mainLog
	fp := f.addProc("foo", "foo")
	fp.setState(ProcRunning)
	fp.info.PID = 10
	f.addProc("foo", "bar")
	s := New(f, Options{})
	for i, c := range cases {
		v, err := s.Dispatch(context.Background(), c.method, c.args)
		var got []any
		if fl, ok := faultOf(err); ok {
			got = []any{"fault", int(fl.Code), fl.Error()}
		} else if err != nil {
			got = []any{"exc", err.Error()}
		} else {
			got = []any{"value", plain(v)}
		}
		gotJSON, _ := json.Marshal(got)
		var gotBack any
		_ = json.Unmarshal(gotJSON, &gotBack)
		if !reflect.DeepEqual(gotBack, want[i]) {
			t.Errorf("%s%s:\n got %s\nwant %v", c.method, pyRepr(c.args), gotJSON, want[i])
		}
	}
}

// plain turns Structs into maps for JSON comparison.
func plain(v any) any {
	switch x := v.(type) {
	case xmlrpc.Struct:
		m := map[string]any{}
		for _, mem := range x {
			m[mem.Name] = plain(mem.Value)
		}
		return m
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = plain(e)
		}
		return out
	}
	return v
}
