package rpc

import (
	"context"

	"github.com/gosupervisor/gosupervisor/pkg/version"
)

// addGosupervisor registers our own namespace, gosupervisor.*: what the
// original has no method for (EXTENSIONS.md). The supervisor.* methods keep
// the original's answers; getSupervisorVersion, for one, says which
// supervisor release we reproduce, and gosupervisor.getVersion which
// release of ours is running.
func (s *Server) addGosupervisor() {
	s.addExtension(0, 0, `Give the release of gosupervisor running this daemon; the supervisor
version it is compatible with is supervisor.getSupervisorVersion's.

@return string version  The release, e.g. "0.2.0" or "0.2.0-3-gabc1234".`,
		fn(func([]any) (any, error) { return version.Release(), nil }),
		"gosupervisor.getVersion")
}

// addExtension is add for a gosupervisor.* method: callable and
// introspectable always, listed by system.listMethods only when
// Options.ListExtensions is set.
func (s *Server) addExtension(min, max int, help string, body func(ctx context.Context, args []any) (any, error), names ...string) {
	s.add(min, max, help, body, names...)
	for _, n := range names {
		s.methods[n].extension = true
	}
}
