package main

import (
	"github.com/gosupervisor/gosupervisor/pkg/config"
	"github.com/gosupervisor/gosupervisor/pkg/daemon"
	"github.com/gosupervisor/gosupervisor/pkg/mainlog"
	"github.com/gosupervisor/gosupervisor/pkg/supervisor"
)

// httpServers binds the configured HTTP servers.
func httpServers(cfg *config.Config, sup *supervisor.Supervisor, log *mainlog.Logger) (daemon.HTTP, error) {
	return nil, nil
}
