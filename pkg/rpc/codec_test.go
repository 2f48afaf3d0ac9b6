package rpc

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gosupervisor/gosupervisor/pkg/xmlrpc"
)

// TestEndToEndBytes runs requests built by Python's xmlrpc.client through
// pkg/xmlrpc and the Server, and compares the response bytes with what the
// original's marshaller produces for the value the original would return.
func TestEndToEndBytes(t *testing.T) {
	f, s := fixture()
	dir := t.TempDir()
	sl := f.procs["sleeper"][0]
	sl.info.PID = 31
	sl.stderr = filepath.Join(dir, "err.log")
	if err := os.WriteFile(sl.stderr, []byte("er\nr1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	m := f.procs["multi"][0]
	m.info.Now = time.Unix(1700000100, 0)
	m.info.Stop = time.Unix(1700000050, 0)
	m.info.Start = time.Unix(1700000000, 0)
	m.info.setDescription("Nov 14 10:14 PM")
	f.configInfo = []ConfigInfo{{Name: "sleeper", Group: "sleeper", Command: "/bin/sleep 1000", UID: -1,
		Exitcodes: []int{0}, Stopsignal: 15, Serverurl: "AUTO", Inuse: true, Autostart: true, Startsecs: 1,
		Startretries: 3, Stopwaitsecs: 10, GroupPrio: 999, ProcessPrio: 999,
		Stdout: ChannelConfig{LogfileAuto: true, LogfileMaxbytes: 52428800, LogfileBackups: 10}}}

	// Each case: method, Python args, and the Python value (or Fault) the
	// original returns.
	cases := [][3]string{
		{"supervisor.getAPIVersion", "()", "'3.0'"},
		{"supervisor.getState", "()", "{'statecode': 1, 'statename': 'RUNNING'}"},
		{"supervisor.getProcessInfo", "('multi:multi_00',)", "{'name': 'multi_00', 'group': 'multi', " +
			"'start': 1700000000, 'stop': 1700000050, 'now': 1700000100, 'state': 0, 'statename': 'STOPPED', " +
			"'spawnerr': '', 'exitstatus': 0, 'logfile': '', 'stdout_logfile': '', 'stderr_logfile': '', " +
			"'pid': 0, 'description': 'Nov 14 10:14 PM'}"},
		{"supervisor.getProcessInfo", "('multi',)", "Fault(10, 'BAD_NAME: multi')"},
		{"supervisor.getPID", "(1,)", "Fault(2, 'INCORRECT_PARAMETERS')"},
		{"supervisor.nosuch", "()", "Fault(1, 'UNKNOWN_METHOD')"},
		{"supervisor.signalProcess", "('grp:ga', 'FOO')", "Fault(11, 'BAD_SIGNAL: FOO')"},
		{"supervisor.readProcessStderrLog", "('sleeper', -10, 5)", "Fault(3, 'BAD_ARGUMENTS')"},
		{"supervisor.tailProcessStderrLog", "('sleeper', 0, 3)", "['r1\\n', 6, True]"},
		{"supervisor.sendProcessStdin", "('sleeper', xmlrpc.client.Binary(b'hi'))", "True"},
		{"supervisor.sendProcessStdin", "('sleeper', 5)", "Fault(2, 'INCORRECT_PARAMETERS: 5')"},
		{"supervisor.startProcessGroup", "('multi',)", "[{'name': 'multi_00', 'group': 'multi', 'status': 80, " +
			"'description': 'OK'}, {'name': 'multi_01', 'group': 'multi', 'status': 80, 'description': 'OK'}]"},
		{"supervisor.getAllConfigInfo", "()", "[{'autostart': True, 'directory': 'none', 'uid': 'none', " +
			"'command': '/bin/sleep 1000', 'exitcodes': [0], 'group': 'sleeper', 'group_prio': 999, 'inuse': True, " +
			"'killasgroup': False, 'name': 'sleeper', 'process_prio': 999, 'redirect_stderr': False, " +
			"'startretries': 3, 'startsecs': 1, 'stdout_capture_maxbytes': 0, 'stdout_events_enabled': False, " +
			"'stdout_logfile': 'auto', 'stdout_logfile_backups': 10, 'stdout_logfile_maxbytes': 52428800, " +
			"'stdout_syslog': False, 'stopsignal': 15, 'stopwaitsecs': 10, 'stderr_capture_maxbytes': 0, " +
			"'stderr_events_enabled': False, 'stderr_logfile': 'none', 'stderr_logfile_backups': 0, " +
			"'stderr_logfile_maxbytes': 0, 'stderr_syslog': False, 'serverurl': 'AUTO'}]"},
		{"system.multicall", "([{'methodName': 'supervisor.getPID'}, {'methodName': 'supervisor.nosuch'}, " +
			"{'methodName': 'system.multicall', 'params': [[]]}, {'params': []}, " +
			"{'methodName': 'supervisor.getProcessInfo', 'params': [5]}],)",
			"[4242, {'faultCode': 1, 'faultString': 'UNKNOWN_METHOD'}, " +
				"{'faultCode': 2, 'faultString': 'INCORRECT_PARAMETERS: Recursive system.multicall forbidden'}, " +
				"{'faultCode': 2, 'faultString': 'INCORRECT_PARAMETERS: No methodName'}, " +
				"{'faultCode': 30, 'faultString': \"FAILED: <class 'AttributeError'>:'int' object has no attribute 'split'\"}]"},
		{"system.methodSignature", "('supervisor.tailProcessLog',)", "['array', 'string', 'int', 'int']"},
		{"system.methodSignature", "('supervisor.nosuch',)", "Fault(4, 'SIGNATURE_UNSUPPORTED')"},
	}
	in, err := json.Marshal(cases)
	if err != nil {
		t.Fatal(err)
	}
	const script = `
import json, sys, xmlrpc.client
from supervisor.xmlrpc import xmlrpc_marshal
from xmlrpc.client import Fault
out = []
for method, args, value in json.load(sys.stdin):
    out.append([xmlrpc.client.dumps(eval(args), method), xmlrpc_marshal(eval(value))])
print(json.dumps(out))
`
	var pyOut []byte
	for _, py := range []string{"/usr/bin/python3", "python3"} {
		cmd := exec.Command(py, "-c", script)
		cmd.Stdin = bytes.NewReader(in)
		if pyOut, err = cmd.Output(); err == nil {
			break
		}
	}
	if err != nil {
		if os.Getenv("GOSUPERVISOR_NO_PYTHON") == "1" {
			t.Skip("python3 supervisor unavailable and GOSUPERVISOR_NO_PYTHON=1")
		}
		t.Fatalf("python3 with supervisor 4.2.5 is needed (set GOSUPERVISOR_NO_PYTHON=1 to skip): %v", err)
	}
	var pairs [][2]string
	if err := json.Unmarshal(pyOut, &pairs); err != nil {
		t.Fatal(err)
	}
	for i, pair := range pairs {
		method, params, err := xmlrpc.DecodeCall(strings.NewReader(pair[0]), xmlrpc.Limits{})
		if err != nil {
			t.Fatalf("%s: decode: %v", cases[i][0], err)
		}
		var got bytes.Buffer
		v, err := s.Dispatch(context.Background(), method, params)
		if f, ok := faultOf(err); ok {
			err = xmlrpc.EncodeFault(&got, int(f.Code), f.Error())
		} else if err == nil {
			err = xmlrpc.EncodeResponse(&got, v)
		}
		if err != nil {
			t.Errorf("%s%s: %v", cases[i][0], cases[i][1], err)
			continue
		}
		if got.String() != pair[1] {
			t.Errorf("%s%s:\n got %q\nwant %q", cases[i][0], cases[i][1], got.String(), pair[1])
		}
	}
	if string(sl.stdin) != "hi" {
		t.Errorf("base64 stdin arrived as %q", sl.stdin)
	}
}

func (p *ProcessInfo) setDescription(d string) { p.Description = d }
