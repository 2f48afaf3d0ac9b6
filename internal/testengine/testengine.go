// Package testengine runs a real supervisor engine on a temporary config
// for handler and collector tests in other packages.
package testengine

import (
	"context"
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

// Engine is one running engine and what it was built from.
type Engine struct {
	Dir     string // the temp dir holding the config, logs and pidfile
	Cfg     *config.Config
	Sup     *supervisor.Supervisor
	Log     *mainlog.Logger
	LogPath string
}

// Start writes conf (with %(dir)s replaced by a temp dir) under a
// [supervisord] section and runs an engine on it, logging at level, until
// tb ends. A test binary that spawns children through it must call
// spawn.ShimMain first in its TestMain.
func Start(tb testing.TB, conf string, level loglevel.Level) *Engine {
	tb.Helper()
	dir := tb.TempDir()
	logPath := filepath.Join(dir, "supervisord.log")
	text := "[supervisord]\nlogfile=" + logPath + "\npidfile=" + filepath.Join(dir, "sd.pid") +
		"\nchildlogdir=" + dir + "\n" + strings.ReplaceAll(conf, "%(dir)s", dir)
	path := filepath.Join(dir, "supervisord.conf")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		tb.Fatal(err)
	}
	cfg, err := config.Load(path, config.Options{Env: os.Environ(), Hostname: "test"})
	if err != nil {
		tb.Fatalf("config.Load: %v", err)
	}
	log, err := mainlog.New(mainlog.Options{Path: logPath, Level: level, RingSize: 64 << 10})
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
	return &Engine{Dir: dir, Cfg: cfg, Sup: sup, Log: log, LogPath: logPath}
}
