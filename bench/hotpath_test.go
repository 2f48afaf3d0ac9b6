// Package bench holds benchmarks that span packages: the per-package hot
// paths (pkg/xmlrpc encode/decode, pkg/logfile rotator/ring/channel,
// pkg/process state machine, pkg/spawn) live next to their code, and
// bench/sidebyside compares whole daemons with the Python original.
package bench

import (
	"fmt"
	"testing"

	"github.com/kolo/xmlrpc"

	ours "github.com/gosupervisor/gosupervisor/pkg/xmlrpc"
)

// allProcessInfo is a getAllProcessInfo answer for n processes with the
// fields and value types of SPEC §5.4.
func allProcessInfo(n int) []any {
	infos := make([]any, n)
	for i := range infos {
		name := fmt.Sprintf("p%d", i)
		infos[i] = ours.Struct{
			{Name: "name", Value: name}, {Name: "group", Value: name}, {Name: "start", Value: 1767366245},
			{Name: "stop", Value: 0}, {Name: "now", Value: 1767366300}, {Name: "state", Value: 20},
			{Name: "statename", Value: "RUNNING"}, {Name: "spawnerr", Value: ""}, {Name: "exitstatus", Value: 0},
			{Name: "logfile", Value: "/var/log/" + name + ".log"}, {Name: "stdout_logfile", Value: "/var/log/" + name + ".log"},
			{Name: "stderr_logfile", Value: ""}, {Name: "pid", Value: 4242 + i},
			{Name: "description", Value: "pid 4242, uptime 0:00:55"},
		}
	}
	return infos
}

// BenchmarkClientDecodeAllProcessInfo decodes the daemon's encoding of a
// 1,000-process getAllProcessInfo the way supervisorctl does (kolo/xmlrpc
// into maps): the client half of `supervisorctl status`.
func BenchmarkClientDecodeAllProcessInfo(b *testing.B) {
	for _, n := range []int{200, 1000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			body, err := ours.AppendResponse(nil, allProcessInfo(n))
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				var got []map[string]any
				if err := xmlrpc.Response(body).Unmarshal(&got); err != nil {
					b.Fatal(err)
				}
				if len(got) != n {
					b.Fatalf("decoded %d processes, want %d", len(got), n)
				}
			}
		})
	}
}

// TestClientDecodeAllProcessInfo checks the benchmark's input round-trips,
// so the benchmark cannot silently measure an error path.
func TestClientDecodeAllProcessInfo(t *testing.T) {
	for _, n := range []int{1, 200} {
		body, err := ours.AppendResponse(nil, allProcessInfo(n))
		if err != nil {
			t.Fatal(err)
		}
		var got []map[string]any
		if err := xmlrpc.Response(body).Unmarshal(&got); err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		if len(got) != n || got[n-1]["name"] != fmt.Sprintf("p%d", n-1) || got[0]["statename"] != "RUNNING" {
			t.Fatalf("n=%d: decoded %v", n, got[len(got)-1])
		}
	}
}
