package metrics

import (
	"fmt"
	"strings"
	"testing"

	"github.com/gosupervisor/gosupervisor/internal/testengine"
	"github.com/gosupervisor/gosupervisor/pkg/loglevel"
	"github.com/gosupervisor/gosupervisor/pkg/supervisor"
)

// newEngine runs a real engine on conf (plus a [supervisord] section)
// until tb ends. Its programs should not autostart: there is no reaper
// loop beyond the engine's own.
func newEngine(tb testing.TB, conf string) *supervisor.Supervisor {
	tb.Helper()
	return testengine.Start(tb, conf, loglevel.Warn).Sup
}

// programs is a config of n programs that do not autostart.
func programs(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "[program:p%05d]\ncommand=/bin/sleep 1000\nautostart=false\n", i)
	}
	return b.String()
}
