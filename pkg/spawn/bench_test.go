package spawn_test

import (
	"testing"

	"github.com/gosupervisor/gosupervisor/pkg/spawn"
)

// BenchmarkSpawnReap measures spawn + reap of /bin/true per op, directly and
// through the re-exec shim.
func BenchmarkSpawnReap(b *testing.B) {
	for _, tc := range []struct {
		name string
		shim bool
	}{{"direct", false}, {"shim", true}} {
		b.Run(tc.name, func(b *testing.B) {
			h := startHarness(b)
			spec := spawn.Spec{Name: "true", Argv: []string{"true"}, Path: "/bin/true", Umask: -1, ForceShim: tc.shim}
			for b.Loop() {
				c, err := h.r.Spawn(spec)
				if err != nil {
					b.Fatal(err)
				}
				closeChild(c)
				h.mustExit(b, c.Pid)
			}
		})
	}
}
