package rpc

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/gosupervisor/gosupervisor/pkg/access"
	"github.com/gosupervisor/gosupervisor/pkg/config"
	"github.com/gosupervisor/gosupervisor/pkg/fault"
)

// Options configure a Server.
type Options struct {
	// WithoutSupervisor hides the supervisor.* namespace, as the original does
	// when the config has no [rpcinterface:supervisor] section: only the four
	// system.* methods exist then.
	WithoutSupervisor bool
	// ListExtensions makes system.listMethods name our gosupervisor.*
	// methods too. They can always be called and introspected; they are
	// listed only for a config that uses an extension key, so that a config
	// without one lists exactly the original's methods (EXTENSIONS.md: such
	// a config behaves byte for byte as under the original).
	ListExtensions bool
}

// Server dispatches XML-RPC calls to the supervisor.* and system.* methods.
// It is safe for concurrent use; all state lives in the Backend.
type Server struct {
	b       Backend
	methods map[string]*method // "ns.name" → method (aliases share one)
	listExt bool               // Options.ListExtensions
}

// method is one published RPC method.
type method struct {
	min, max int    // accepted parameter counts (Python defaults make max > min)
	help     string // methodHelp text; its @param/@return tags give methodSignature
	call     func(ctx context.Context, args []any) (any, error)
	// extension marks our gosupervisor.* methods (see Options.ListExtensions).
	extension bool
}

// New returns a Server for b.
func New(b Backend, opts Options) *Server {
	s := &Server{b: b, methods: map[string]*method{}, listExt: opts.ListExtensions}
	s.addSystem()
	if !opts.WithoutSupervisor {
		s.addSupervisor()
		// Our namespace goes with the original's: without
		// [rpcinterface:supervisor] only system.* exists, as there.
		s.addGosupervisor()
	}
	return s
}

// Dispatch runs one call. params are decoded XML-RPC values (pkg/xmlrpc's
// types; base64 []byte is treated as the string it decodes to). The result
// is encodable by pkg/xmlrpc. A returned *fault.Error is an XML-RPC fault;
// any other error is what the original reports as HTTP 500 (an unexpected
// exception), or the context's error when ctx ended while a call waited.
func (s *Server) Dispatch(ctx context.Context, name string, params []any) (any, error) {
	v, err := s.call(ctx, name, normalize(params).([]any))
	if err != nil {
		var f *fault.Error
		if errors.As(err, &f) {
			return nil, f
		}
		return nil, err
	}
	return v, nil
}

// Methods returns the published method names, sorted (system.listMethods):
// gosupervisor.* only with Options.ListExtensions.
func (s *Server) Methods() []string {
	names := make([]string, 0, len(s.methods))
	for n, m := range s.methods {
		if m.extension && !s.listExt {
			continue
		}
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// call resolves a method name as the original's xmlrpc.traverse does and
// runs it with args.
func (s *Server) call(ctx context.Context, name string, args []any) (any, error) {
	parts := strings.Split(name, ".")
	if len(parts) != 2 || strings.HasPrefix(parts[1], "_") {
		return nil, fault.New(fault.UnknownMethod, "")
	}
	m, ok := s.methods[name]
	if !ok {
		return nil, fault.New(fault.UnknownMethod, "")
	}
	// The caller's role (pkg/access; none for the daemon's own calls):
	// checked here, for /RPC2, each call of a multicall, the console and
	// the original's web UI actions alike.
	p := access.From(ctx)
	need := roleOf(name)
	if p != nil && !p.Allows(need) {
		return nil, p.Refuse(name)
	}
	if len(args) < m.min || len(args) > m.max {
		// Python's TypeError for a wrong argument count.
		return nil, incorrectParameters()
	}
	if need > config.RoleReadonly {
		p.Audit(name, args)
	}
	return m.call(ctx, args)
}

// add publishes fn under each of names (the first is the canonical one, the
// rest the original's backward-compatible aliases).
func (s *Server) add(min, max int, help string, fn func(ctx context.Context, args []any) (any, error), names ...string) {
	m := &method{min: min, max: max, help: help, call: fn}
	for _, n := range names {
		s.methods[n] = m
	}
}

// faultOf extracts the fault carried by err, if any.
func faultOf(err error) (*fault.Error, bool) {
	var f *fault.Error
	ok := errors.As(err, &f)
	return f, ok
}
