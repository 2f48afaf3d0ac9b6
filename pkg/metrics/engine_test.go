package metrics

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gosupervisor/gosupervisor/pkg/config"
	"github.com/gosupervisor/gosupervisor/pkg/loglevel"
	"github.com/gosupervisor/gosupervisor/pkg/mainlog"
	"github.com/gosupervisor/gosupervisor/pkg/spawn"
	"github.com/gosupervisor/gosupervisor/pkg/supervisor"
)

// newEngine runs a real engine on conf (plus a [supervisord] section)
// until tb ends. Its programs should not autostart: there is no reaper
// loop beyond the engine's own.
func newEngine(tb testing.TB, conf string) *supervisor.Supervisor {
	tb.Helper()
	dir := tb.TempDir()
	logPath := filepath.Join(dir, "supervisord.log")
	text := "[supervisord]\nlogfile=" + logPath + "\npidfile=" + filepath.Join(dir, "sd.pid") +
		"\nchildlogdir=" + dir + "\n" + conf
	path := filepath.Join(dir, "supervisord.conf")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		tb.Fatal(err)
	}
	cfg, err := config.Load(path, config.Options{Env: os.Environ(), Hostname: "test"})
	if err != nil {
		tb.Fatalf("config.Load: %v", err)
	}
	log, err := mainlog.New(mainlog.Options{Path: logPath, Level: loglevel.Warn, RingSize: 64 << 10})
	if err != nil {
		tb.Fatal(err)
	}
	reaper, err := spawn.NewReaper()
	if err != nil {
		tb.Fatal(err)
	}
	sup, err := supervisor.New(supervisor.Options{
		Config: cfg, Log: log, Reaper: reaper,
		MainLogPath: logPath, MainLogRing: log.Ring(),
		ReopenMainLog: log.Reopen, ClearMainLog: log.Clear,
	})
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { _ = sup.Run(ctx) }()
	tb.Cleanup(func() {
		cancel()
		select {
		case <-sup.Done():
		case <-time.After(10 * time.Second):
			tb.Error("engine did not stop")
		}
		log.Close()
	})
	return sup
}

// programs is a config of n programs that do not autostart.
func programs(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "[program:p%05d]\ncommand=/bin/sleep 1000\nautostart=false\n", i)
	}
	return b.String()
}
