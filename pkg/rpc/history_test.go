package rpc

import (
	"bytes"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gosupervisor/gosupervisor/pkg/xmlrpc"
)

// fakeHist is fakeExt with a history (HistoryBackend).
type fakeHist struct {
	*fakeExt
	hist map[string]History
}

func (f *fakeHist) ProcessHistory(ns string) (History, error) {
	p, err := f.find(ns)
	if err != nil {
		return History{}, err
	}
	return f.hist[p.info.Namespec()], nil
}

func histFixture() (*fakeHist, *Server) {
	fe, _ := extFixture()
	fh := &fakeHist{fakeExt: fe, hist: map[string]History{"sleeper": {
		Name: "sleeper", Group: "sleeper", Sampling: true, SampleEvery: 5 * time.Second,
		Transitions: []Transition{
			{Time: time.UnixMilli(1700000000250), From: "RUNNING", To: "EXITED", Pid: 42, Exited: true, ExitStatus: -1, Signal: "SIGKILL", Spawnerr: "Bad exit code -1"},
			{Time: time.UnixMilli(1700000001000), From: "EXITED", To: "STARTING", Expected: true},
		},
		Samples: []Sample{{Time: time.Unix(1700000000, 0), CPU: 12.5, RSS: 5 << 30, FDs: -1}},
	}}}
	return fh, New(fh, Options{})
}

func TestProcessHistoryMethod(t *testing.T) {
	_, s := histFixture()
	got, err := dispatch(s, "gosupervisor.getProcessHistory", "sleeper")
	if err != nil {
		t.Fatal(err)
	}
	want := xmlrpc.Struct{
		{Name: "name", Value: "sleeper"}, {Name: "group", Value: "sleeper"},
		{Name: "sampling", Value: true}, {Name: "sample_every", Value: 5},
		{Name: "transitions", Value: []any{
			xmlrpc.Struct{{Name: "time", Value: 1700000000.25}, {Name: "from", Value: "RUNNING"}, {Name: "to", Value: "EXITED"},
				{Name: "pid", Value: 42}, {Name: "expected", Value: false}, {Name: "exited", Value: true},
				{Name: "exitstatus", Value: -1}, {Name: "signal", Value: "SIGKILL"}, {Name: "spawnerr", Value: "Bad exit code -1"}},
			xmlrpc.Struct{{Name: "time", Value: 1700000001.0}, {Name: "from", Value: "EXITED"}, {Name: "to", Value: "STARTING"},
				{Name: "pid", Value: 0}, {Name: "expected", Value: true}, {Name: "exited", Value: false},
				{Name: "exitstatus", Value: 0}, {Name: "signal", Value: ""}, {Name: "spawnerr", Value: ""}},
		}},
		// 5 GiB does not fit an XML-RPC int: a double.
		{Name: "samples", Value: []any{
			xmlrpc.Struct{{Name: "time", Value: 1700000000}, {Name: "cpu", Value: 12.5}, {Name: "rss", Value: float64(5 << 30)}, {Name: "fds", Value: -1}},
		}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("getProcessHistory(sleeper) =\n%#v\nwant\n%#v", got, want)
	}
	var b bytes.Buffer
	if err := xmlrpc.EncodeResponse(&b, got); err != nil {
		t.Fatalf("encoding: %v", err)
	}
	if !strings.Contains(b.String(), "<double>5368709120</double>") && !strings.Contains(b.String(), "<double>5368709120.0</double>") {
		t.Errorf("rss not a double: %s", b.String())
	}
	if _, err := dispatch(s, "gosupervisor.getProcessHistory", "nosuch"); faultText(err) != "BAD_NAME: nosuch" {
		t.Errorf("unknown process: %v", err)
	}
}

// Registered only for a backend with a history; listed only with
// ListExtensions, like every gosupervisor.* method.
func TestProcessHistoryRegistration(t *testing.T) {
	_, plain := extFixture()
	if _, err := dispatch(plain, "gosupervisor.getProcessHistory", "sleeper"); faultText(err) != "UNKNOWN_METHOD" {
		t.Errorf("without HistoryBackend: %v, want UNKNOWN_METHOD", err)
	}
	fh, _ := histFixture()
	for _, list := range []bool{false, true} {
		v, _ := dispatch(New(fh, Options{ListExtensions: list}), "system.listMethods")
		if slices.Contains(anyStrings(v.([]any)), "gosupervisor.getProcessHistory") != list {
			t.Errorf("ListExtensions=%v: listed %v", list, !list)
		}
	}
	_, s := histFixture()
	if got, err := dispatch(s, "system.methodSignature", "gosupervisor.getProcessHistory"); err != nil || !reflect.DeepEqual(got, []any{"struct", "string"}) {
		t.Errorf("methodSignature = %v, %v", got, err)
	}
}
