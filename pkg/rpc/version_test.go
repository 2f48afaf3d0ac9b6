package rpc

import (
	"reflect"
	"slices"
	"testing"

	"github.com/gosupervisor/gosupervisor/pkg/version"
)

// getSupervisorVersion is the supervisor release we reproduce (what
// scripts compare with the original's numbers); our own release is
// gosupervisor.getVersion's.
func TestVersionMethods(t *testing.T) {
	old := version.Version
	defer func() { version.Version = old }()
	version.Version = "v0.2.0-3-gabc1234"
	f, s := fixture()
	for method, want := range map[string]any{
		"supervisor.getSupervisorVersion": "4.2.5",
		"supervisor.getAPIVersion":        "3.0",
		"gosupervisor.getVersion":         "0.2.0-3-gabc1234",
	} {
		if got, err := dispatch(s, method); err != nil || got != want {
			t.Errorf("%s = %#v, %v; want %q", method, got, err, want)
		}
	}
	if _, err := dispatch(s, "gosupervisor.getVersion", 1); faultText(err) != "INCORRECT_PARAMETERS" {
		t.Errorf("gosupervisor.getVersion(1): %v, want INCORRECT_PARAMETERS", err)
	}
	// Like system.*, it keeps answering while supervisord shuts down.
	f.mood = StateShutdown
	if got, err := dispatch(s, "gosupervisor.getVersion"); err != nil || got != "0.2.0-3-gabc1234" {
		t.Errorf("gosupervisor.getVersion while shutting down = %v, %v", got, err)
	}
	if _, err := dispatch(s, "supervisor.getSupervisorVersion"); faultText(err) != "SHUTDOWN_STATE" {
		t.Errorf("getSupervisorVersion while shutting down: %v, want SHUTDOWN_STATE", err)
	}
	// Through multicall as well.
	got, err := dispatch(s, "system.multicall", []any{map[string]any{"methodName": "gosupervisor.getVersion"}})
	if err != nil || !reflect.DeepEqual(got, []any{"0.2.0-3-gabc1234"}) {
		t.Errorf("multicall gosupervisor.getVersion = %#v, %v", got, err)
	}
}

// gosupervisor.* can be introspected always, but system.listMethods names
// it only for a config that uses an extension key (Options.ListExtensions):
// without one the list is the original's (TestIntrospectionMatchesOriginal).
func TestExtensionNamespaceListing(t *testing.T) {
	for _, list := range []bool{false, true} {
		s := New(newFake(), Options{ListExtensions: list})
		v, err := dispatch(s, "system.listMethods")
		if err != nil {
			t.Fatal(err)
		}
		listed := slices.Contains(v.([]any), any("gosupervisor.getVersion"))
		if listed != list {
			t.Errorf("ListExtensions=%v: listMethods names gosupervisor.getVersion: %v", list, listed)
		}
		if list && !slices.IsSorted(anyStrings(v.([]any))) {
			t.Errorf("listMethods not sorted: %v", v)
		}
		sig, err := dispatch(s, "system.methodSignature", "gosupervisor.getVersion")
		if err != nil || !reflect.DeepEqual(sig, []any{"string"}) {
			t.Errorf("methodSignature(gosupervisor.getVersion) = %v, %v", sig, err)
		}
		help, err := dispatch(s, "system.methodHelp", "gosupervisor.getVersion")
		if err != nil || help != s.methods["gosupervisor.getVersion"].help || help == "" {
			t.Errorf("methodHelp(gosupervisor.getVersion) = %q, %v", help, err)
		}
	}
	// Without [rpcinterface:supervisor] only system.* exists, ours included.
	s := New(newFake(), Options{WithoutSupervisor: true, ListExtensions: true})
	if _, err := dispatch(s, "gosupervisor.getVersion"); faultText(err) != "UNKNOWN_METHOD" {
		t.Errorf("gosupervisor.getVersion without the supervisor namespace: %v, want UNKNOWN_METHOD", err)
	}
	if got := len(s.Methods()); got != 4 {
		t.Errorf("without the supervisor namespace %d methods are listed, want 4", got)
	}
}

func anyStrings(v []any) []string {
	out := make([]string, len(v))
	for i, x := range v {
		out[i], _ = x.(string)
	}
	return out
}
