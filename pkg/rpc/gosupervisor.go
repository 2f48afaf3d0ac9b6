package rpc

import (
	"context"

	"github.com/gosupervisor/gosupervisor/pkg/version"
	"github.com/gosupervisor/gosupervisor/pkg/xmlrpc"
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
	if ext := s.Ext(); ext != nil {
		s.addHealthMethods(ext)
	}
	if hb, ok := s.b.(HistoryBackend); ok {
		s.addHistoryMethods(hb)
	}
}

// Ext is the backend's ExtBackend, nil when the backend has none (then
// the methods that need it are not registered: UNKNOWN_METHOD, as from
// the original).
func (s *Server) Ext() ExtBackend {
	ext, _ := s.b.(ExtBackend)
	return ext
}

// addHealthMethods registers the methods of health checks, dependencies
// and readiness (EXTENSIONS.md §1, §2, §6). Unlike supervisor.*, they
// answer while supervisord shuts down: they only read, and after an
// on_unhealthy=shutdown or a critical program's fall the reason is what
// one wants to read.
func (s *Server) addHealthMethods(ext ExtBackend) {
	s.addExtension(1, 1, `Describe the health check (healthcheck=) of a process: its kind (http,
tcp or exec) and target as configured, the status (starting, healthy or
unhealthy), the consecutive failed checks, the last check's output (at
most 1 KB) and why it failed ("" if it passed), and when it ended in
seconds since the epoch (0: never). A process without a check answers
checked false, empty strings and zeros.

@param string name     Process name (or "group:name").
@return struct result  {name, group, checked, kind, target, status, failures,
                       output, last_error, last_check}`,
		fn(func(a []any) (any, error) {
			t, err := s.resolveProcess(a[0])
			if err != nil {
				return nil, err
			}
			h, err := ext.ProcessHealth(t.name)
			if err != nil {
				return nil, err
			}
			return healthStruct(h), nil
		}), "gosupervisor.getProcessHealth")
	s.addExtension(1, 1, `Describe the dependencies (depends_on=) of a process: the namespecs as
configured, and those it waits for before it may start (not RUNNING, or
RUNNING but not yet healthy); waiting_for is empty when nothing holds the
process back.

@param string name     Process name (or "group:name").
@return struct result  {name, group, depends_on, waiting_for}`,
		fn(func(a []any) (any, error) {
			t, err := s.resolveProcess(a[0])
			if err != nil {
				return nil, err
			}
			w, err := ext.ProcessWaiting(t.name)
			if err != nil {
				return nil, err
			}
			return xmlrpc.Struct{
				{Name: "name", Value: w.Name},
				{Name: "group", Value: w.Group},
				{Name: "depends_on", Value: strList(w.DependsOn)},
				{Name: "waiting_for", Value: strList(w.WaitingFor)},
			}, nil
		}), "gosupervisor.getProcessDependencies")
	s.addExtension(0, 0, `List the autostart processes that keep supervisord from being ready
(what makes GET /readyz answer 503): those not RUNNING, or RUNNING but
not healthy. health is "" for a process without a health check. An empty
array means ready.

@return array result  One {name, group, statename, health} struct per process.`,
		fn(func([]any) (any, error) { return readinessList(ext.Readiness()), nil }),
		"gosupervisor.getReadiness")
}

// healthStruct is getProcessHealth's answer.
func healthStruct(h Health) xmlrpc.Struct {
	return xmlrpc.Struct{
		{Name: "name", Value: h.Name},
		{Name: "group", Value: h.Group},
		{Name: "checked", Value: h.Checked},
		{Name: "kind", Value: h.Kind},
		{Name: "target", Value: h.Target},
		{Name: "status", Value: h.Status},
		{Name: "failures", Value: h.Failures},
		{Name: "output", Value: h.Output},
		{Name: "last_error", Value: h.LastError},
		{Name: "last_check", Value: cappedTime(h.LastCheck)},
	}
}

func readinessList(nr []NotReady) []any {
	out := make([]any, len(nr))
	for i, n := range nr {
		out[i] = xmlrpc.Struct{
			{Name: "name", Value: n.Name},
			{Name: "group", Value: n.Group},
			{Name: "statename", Value: n.State},
			{Name: "health", Value: n.Health},
		}
	}
	return out
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
