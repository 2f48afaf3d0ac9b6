package rpc

import (
	"context"
	"fmt"

	"github.com/gosupervisor/gosupervisor/pkg/fault"
)

// MaxMulticall is the most calls one system.multicall takes (the original
// has no limit). More is refused with
//
//	fault 2: INCORRECT_PARAMETERS: system.multicall takes at most 10000 calls, not 100000
//
// before any of them runs.
const MaxMulticall = 10_000

func tooManyCalls(n int) error {
	return fault.New(fault.IncorrectParameters, fmt.Sprintf("system.multicall takes at most %d calls, not %d", MaxMulticall, n))
}

type streamKey struct{}

// StreamMulticall marks ctx for a transport that encodes results as they
// come (pkg/server's /RPC2): system.multicall called with it returns an
// xmlrpc.Stream whose calls run while it is encoded, instead of a []any.
func StreamMulticall(ctx context.Context) context.Context {
	return context.WithValue(ctx, streamKey{}, true)
}

func streamed(ctx context.Context) bool {
	v, _ := ctx.Value(streamKey{}).(bool)
	return v
}
