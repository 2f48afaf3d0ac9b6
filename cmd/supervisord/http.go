package main

import (
	"context"
	"net/http"

	"github.com/gosupervisor/gosupervisor/pkg/config"
	"github.com/gosupervisor/gosupervisor/pkg/daemon"
	"github.com/gosupervisor/gosupervisor/pkg/fleet"
	"github.com/gosupervisor/gosupervisor/pkg/mainlog"
	"github.com/gosupervisor/gosupervisor/pkg/rpc"
	"github.com/gosupervisor/gosupervisor/pkg/server"
	"github.com/gosupervisor/gosupervisor/pkg/supervisor"
	"github.com/gosupervisor/gosupervisor/pkg/webui"
)

// httpServers binds the configured HTTP servers, with the web console on
// every path the original's handlers do not own. With [remote:NAME]
// sections the console also watches those nodes (the fleet view), for as
// long as these servers live: a restart (SIGHUP) watches the new config's.
func httpServers(cfg *config.Config, sup *supervisor.Supervisor, log *mainlog.Logger) (daemon.HTTP, error) {
	var ui webui.Options
	var watcher *fleet.Watcher
	if len(cfg.Remotes) > 0 {
		watcher = fleet.NewWatcher(fleet.Targets(cfg.Remotes), fleet.Options{})
		ui.Fleet = watcher
	}
	s, err := server.Start(cfg, sup, log, server.Options{
		// A config without our keys lists the original's methods only.
		ListExtensions: cfg.UsesExtensions(),
		UI:             func(d *rpc.Server) http.Handler { return webui.New(sup, d, ui) },
	})
	if err != nil {
		return nil, err
	}
	if watcher == nil {
		return s, nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		watcher.Run(ctx)
	}()
	return &fleetHTTP{HTTP: s, stop: func() { cancel(); <-done }}, nil
}

// fleetHTTP is the servers and the fleet watcher their console shows.
type fleetHTTP struct {
	daemon.HTTP
	stop func()
}

func (f *fleetHTTP) Close() error {
	err := f.HTTP.Close()
	f.stop()
	return err
}
