package rpc

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/gosupervisor/gosupervisor/pkg/xmlrpc"
)

// More than MaxMulticall calls are one fault, before any call runs.
func TestMulticallCap(t *testing.T) {
	_, s := fixture()
	calls := make([]any, MaxMulticall+1)
	for i := range calls {
		calls[i] = map[string]any{"methodName": "supervisor.getPID"}
	}
	_, err := dispatch(s, "system.multicall", calls)
	if err == nil || err.Error() != "INCORRECT_PARAMETERS: system.multicall takes at most 10000 calls, not 10001" {
		t.Fatalf("multicall of %d: %v", len(calls), err)
	}
	v, err := dispatch(s, "system.multicall", calls[:MaxMulticall])
	if err != nil || len(v.([]any)) != MaxMulticall {
		t.Fatalf("multicall of %d: %v", MaxMulticall, err)
	}
}

// Streamed, a multicall answers byte for byte as collected, and a call
// that escapes (HTTP 500) before the spill leaves nothing written.
func TestMulticallStreamed(t *testing.T) {
	_, s := fixture()
	calls := []any{
		map[string]any{"methodName": "supervisor.getPID"},
		map[string]any{"methodName": "supervisor.nosuch"},
		map[string]any{"methodName": "supervisor.getAllProcessInfo"},
	}
	eager, err := s.Dispatch(context.Background(), "system.multicall", []any{calls})
	if err != nil {
		t.Fatal(err)
	}
	want, err := xmlrpc.AppendResponse(nil, eager)
	if err != nil {
		t.Fatal(err)
	}
	for _, spill := range []int{1 << 20, 10} {
		lazy, err := s.Dispatch(StreamMulticall(context.Background()), "system.multicall", []any{calls})
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := lazy.(xmlrpc.Stream); !ok {
			t.Fatalf("streamed multicall is a %T", lazy)
		}
		var w bytes.Buffer
		body, written, err := xmlrpc.WriteResponse(&w, lazy, spill, nil)
		if err != nil {
			t.Fatal(err)
		}
		got := append(w.Bytes(), body...)
		if written != (spill == 10) || !bytes.Equal(got, want) {
			t.Errorf("spill %d: written %v\n%s\nwant\n%s", spill, written, got, want)
		}
	}
	bad, _ := s.Dispatch(StreamMulticall(context.Background()), "system.multicall",
		[]any{[]any{map[string]any{"methodName": "supervisor.getPID"}, 5}})
	var w bytes.Buffer
	if _, written, err := xmlrpc.WriteResponse(&w, bad, 1<<20, nil); err == nil || written || w.Len() != 0 ||
		!strings.Contains(err.Error(), "has no attribute 'get'") {
		t.Errorf("escaping call: written %v, %q, %v", written, w.String(), err)
	}
}
