package main

import (
	"net/http"

	"github.com/gosupervisor/gosupervisor/pkg/config"
	"github.com/gosupervisor/gosupervisor/pkg/daemon"
	"github.com/gosupervisor/gosupervisor/pkg/mainlog"
	"github.com/gosupervisor/gosupervisor/pkg/rpc"
	"github.com/gosupervisor/gosupervisor/pkg/server"
	"github.com/gosupervisor/gosupervisor/pkg/supervisor"
	"github.com/gosupervisor/gosupervisor/pkg/webui"
)

// httpServers binds the configured HTTP servers, with the web console on
// every path the original's handlers do not own.
func httpServers(cfg *config.Config, sup *supervisor.Supervisor, log *mainlog.Logger) (daemon.HTTP, error) {
	s, err := server.Start(cfg, sup, log, server.Options{
		// A config without our keys lists the original's methods only.
		ListExtensions: cfg.UsesExtensions(),
		UI:             func(d *rpc.Server) http.Handler { return webui.New(sup, d, webui.Options{}) },
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}
