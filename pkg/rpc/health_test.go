package rpc

import (
	"bytes"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gosupervisor/gosupervisor/pkg/fault"
	"github.com/gosupervisor/gosupervisor/pkg/xmlrpc"
)

// fakeExt is fakeBackend with the engine's extensions (ExtBackend).
type fakeExt struct {
	*fakeBackend
	health   map[string]Health  // by namespec; absent: not checked
	waiting  map[string]Waiting // by namespec
	notReady []NotReady
	asked    []string // the namespecs passed to ProcessHealth/ProcessWaiting
}

func (f *fakeExt) ProcessHealth(ns string) (Health, error) {
	f.asked = append(f.asked, ns)
	p, err := f.find(ns)
	if err != nil {
		return Health{}, err
	}
	if h, ok := f.health[p.info.Namespec()]; ok {
		return h, nil
	}
	return Health{Name: p.info.Name, Group: p.info.Group}, nil
}

func (f *fakeExt) ProcessWaiting(ns string) (Waiting, error) {
	f.asked = append(f.asked, ns)
	p, err := f.find(ns)
	if err != nil {
		return Waiting{}, err
	}
	if w, ok := f.waiting[p.info.Namespec()]; ok {
		return w, nil
	}
	return Waiting{Name: p.info.Name, Group: p.info.Group}, nil
}

func (f *fakeExt) Readiness() []NotReady { return f.notReady }

// extFixture is fixture() with health and dependency data: sleeper is
// checked and unhealthy, grp:ga waits for sleeper.
func extFixture() (*fakeExt, *Server) {
	f, _ := fixture()
	fe := &fakeExt{fakeBackend: f,
		health: map[string]Health{"sleeper": {Name: "sleeper", Group: "sleeper", Checked: true, Kind: "tcp",
			Target: "127.0.0.1:5432", Status: "unhealthy", Failures: 3, Output: "",
			LastError: "connection refused", LastCheck: time.Unix(1700000123, 0)}},
		waiting: map[string]Waiting{"grp:ga": {Name: "ga", Group: "grp", DependsOn: []string{"sleeper", "multi:*"},
			WaitingFor: []string{"sleeper"}}},
		notReady: []NotReady{{Name: "sleeper", Group: "sleeper", State: "RUNNING", Health: "unhealthy"},
			{Name: "multi_00", Group: "multi", State: "STOPPED"}},
	}
	return fe, New(fe, Options{})
}

var extMethods = []string{"gosupervisor.getProcessDependencies", "gosupervisor.getProcessHealth", "gosupervisor.getReadiness"}

func TestHealthMethods(t *testing.T) {
	f, s := extFixture()
	got, err := dispatch(s, "gosupervisor.getProcessHealth", "sleeper")
	want := xmlrpc.Struct{{Name: "name", Value: "sleeper"}, {Name: "group", Value: "sleeper"},
		{Name: "checked", Value: true}, {Name: "kind", Value: "tcp"}, {Name: "target", Value: "127.0.0.1:5432"},
		{Name: "status", Value: "unhealthy"}, {Name: "failures", Value: 3}, {Name: "output", Value: ""},
		{Name: "last_error", Value: "connection refused"}, {Name: "last_check", Value: 1700000123}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("getProcessHealth(sleeper) = %#v, %v\nwant %#v", got, err, want)
	}
	// Not checked: every member there, empty.
	got, err = dispatch(s, "gosupervisor.getProcessHealth", "grp:ga")
	want = xmlrpc.Struct{{Name: "name", Value: "ga"}, {Name: "group", Value: "grp"},
		{Name: "checked", Value: false}, {Name: "kind", Value: ""}, {Name: "target", Value: ""},
		{Name: "status", Value: ""}, {Name: "failures", Value: 0}, {Name: "output", Value: ""},
		{Name: "last_error", Value: ""}, {Name: "last_check", Value: 0}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("getProcessHealth(grp:ga) = %#v, %v\nwant %#v", got, err, want)
	}

	got, err = dispatch(s, "gosupervisor.getProcessDependencies", "grp:ga")
	want = xmlrpc.Struct{{Name: "name", Value: "ga"}, {Name: "group", Value: "grp"},
		{Name: "depends_on", Value: []any{"sleeper", "multi:*"}}, {Name: "waiting_for", Value: []any{"sleeper"}}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("getProcessDependencies(grp:ga) = %#v, %v", got, err)
	}
	// Without depends_on: empty arrays, never a missing member.
	got, err = dispatch(s, "gosupervisor.getProcessDependencies", "multi:multi_01")
	want = xmlrpc.Struct{{Name: "name", Value: "multi_01"}, {Name: "group", Value: "multi"},
		{Name: "depends_on", Value: []any{}}, {Name: "waiting_for", Value: []any{}}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("getProcessDependencies(multi:multi_01) = %#v, %v", got, err)
	}

	got, err = dispatch(s, "gosupervisor.getReadiness")
	wantList := []any{
		xmlrpc.Struct{{Name: "name", Value: "sleeper"}, {Name: "group", Value: "sleeper"},
			{Name: "statename", Value: "RUNNING"}, {Name: "health", Value: "unhealthy"}},
		xmlrpc.Struct{{Name: "name", Value: "multi_00"}, {Name: "group", Value: "multi"},
			{Name: "statename", Value: "STOPPED"}, {Name: "health", Value: ""}},
	}
	if err != nil || !reflect.DeepEqual(got, wantList) {
		t.Errorf("getReadiness = %#v, %v", got, err)
	}
	f.notReady = nil
	if got, err := dispatch(s, "gosupervisor.getReadiness"); err != nil || !reflect.DeepEqual(got, []any{}) {
		t.Errorf("getReadiness when ready = %#v, %v; want an empty array", got, err)
	}

	// The engine gets the name as the caller wrote it, like every method.
	f.asked = nil
	_, _ = dispatch(s, "gosupervisor.getProcessHealth", "sleeper:sleeper")
	if !slices.Equal(f.asked, []string{"sleeper:sleeper"}) {
		t.Errorf("engine asked for %q, want the caller's namespec", f.asked)
	}
}

// Faults are the original's for the same arguments (getProcessInfo's).
func TestHealthMethodFaults(t *testing.T) {
	f, s := extFixture()
	for _, m := range []string{"gosupervisor.getProcessHealth", "gosupervisor.getProcessDependencies"} {
		for _, name := range []string{"nosuch", "grp", "grp:*", "grp:", "grp:nosuch", "multi"} {
			if _, err := dispatch(s, m, name); faultText(err) != "BAD_NAME: "+name {
				t.Errorf("%s(%q): %v, want BAD_NAME: %s", m, name, err, name)
			}
			// Same as the original's getProcessInfo.
			if _, err := dispatch(s, "supervisor.getProcessInfo", name); faultText(err) != "BAD_NAME: "+name {
				t.Errorf("getProcessInfo(%q): %v", name, err)
			}
		}
		for _, args := range [][]any{{}, {"sleeper", 1}} {
			if _, err := dispatch(s, m, args...); faultText(err) != "INCORRECT_PARAMETERS" {
				t.Errorf("%s%v: %v, want INCORRECT_PARAMETERS", m, args, err)
			}
		}
		// A non-string name fails as the original's split_namespec does
		// (an unexpected error, HTTP 500), like getProcessInfo.
		_, err := dispatch(s, m, 5)
		_, err2 := dispatch(s, "supervisor.getProcessInfo", 5)
		if err == nil || faultText(err) != "" || err.Error() != err2.Error() {
			t.Errorf("%s(5): %v, want getProcessInfo's %v", m, err, err2)
		}
	}
	if _, err := dispatch(s, "gosupervisor.getReadiness", 1); faultText(err) != "INCORRECT_PARAMETERS" {
		t.Errorf("getReadiness(1): %v", err)
	}
	// They keep answering while supervisord shuts down: the reason of an
	// on_unhealthy=shutdown is what one wants to read then.
	f.mood = StateShutdown
	if _, err := dispatch(s, "supervisor.getProcessInfo", "sleeper"); faultText(err) != "SHUTDOWN_STATE" {
		t.Fatalf("getProcessInfo while shutting down: %v", err)
	}
	for _, c := range [][]any{{"gosupervisor.getProcessHealth", "sleeper"}, {"gosupervisor.getProcessDependencies", "sleeper"},
		{"gosupervisor.getReadiness"}} {
		if _, err := dispatch(s, c[0].(string), c[1:]...); err != nil {
			t.Errorf("%v while shutting down: %v", c, err)
		}
	}
}

// The methods exist only when the engine implements ExtBackend (an engine
// without them answers as the original: UNKNOWN_METHOD), and, like
// gosupervisor.getVersion, are listed only with Options.ListExtensions.
func TestHealthMethodsRegistration(t *testing.T) {
	_, plain := fixture()
	for _, m := range extMethods {
		if _, err := dispatch(plain, m, "sleeper"); faultText(err) != "UNKNOWN_METHOD" {
			t.Errorf("%s without ExtBackend: %v, want UNKNOWN_METHOD", m, err)
		}
		if _, err := dispatch(plain, "system.methodHelp", m); faultText(err) != "SIGNATURE_UNSUPPORTED" {
			t.Errorf("methodHelp(%s) without ExtBackend: %v", m, err)
		}
	}
	fe, _ := extFixture()
	if got, _ := dispatch(New(fe, Options{WithoutSupervisor: true}), "gosupervisor.getReadiness"); got != nil {
		t.Errorf("getReadiness without [rpcinterface:supervisor] = %v, want UNKNOWN_METHOD", got)
	}
	for _, list := range []bool{false, true} {
		s := New(fe, Options{ListExtensions: list})
		v, _ := dispatch(s, "system.listMethods")
		names := anyStrings(v.([]any))
		for _, m := range extMethods {
			if slices.Contains(names, m) != list {
				t.Errorf("ListExtensions=%v: listMethods names %s: %v", list, m, !list)
			}
		}
	}
	_, s := extFixture()
	sigs := map[string][]any{
		"gosupervisor.getProcessHealth":       {"struct", "string"},
		"gosupervisor.getProcessDependencies": {"struct", "string"},
		"gosupervisor.getReadiness":           {"array"},
	}
	for m, want := range sigs {
		if got, err := dispatch(s, "system.methodSignature", m); err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("methodSignature(%s) = %v, %v; want %v", m, got, err, want)
		}
		if help, err := dispatch(s, "system.methodHelp", m); err != nil || !strings.Contains(help.(string), "@return") {
			t.Errorf("methodHelp(%s) = %q, %v", m, help, err)
		}
	}
}

// Through system.multicall and the encoder, as supervisorctl status --json
// calls them.
func TestHealthMethodsMulticallEncode(t *testing.T) {
	_, s := extFixture()
	got, err := dispatch(s, "system.multicall", []any{
		map[string]any{"methodName": "gosupervisor.getProcessHealth", "params": []any{"sleeper"}},
		map[string]any{"methodName": "gosupervisor.getProcessDependencies", "params": []any{"nosuch"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	res := got.([]any)
	if len(res) != 2 {
		t.Fatalf("multicall = %#v", got)
	}
	if _, ok := res[0].(xmlrpc.Struct); !ok {
		t.Errorf("multicall[0] = %#v", res[0])
	}
	if !reflect.DeepEqual(res[1], faultStruct(int(fault.BadName), "BAD_NAME: nosuch")) {
		t.Errorf("multicall[1] = %#v", res[1])
	}
	var b bytes.Buffer
	if err := xmlrpc.EncodeResponse(&b, got); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<name>last_check</name><value><int>1700000123</int></value>",
		"<name>checked</name><value><boolean>1</boolean></value>", "<name>failures</name><value><int>3</int></value>"} {
		if !strings.Contains(strings.ReplaceAll(b.String(), "\n", ""), want) {
			t.Errorf("encoded answer lacks %s:\n%s", want, b.String())
		}
	}
}
