// Package server is supervisord's HTTP side: the [unix_http_server] and
// [inet_http_server] listeners, Basic authentication, the XML-RPC endpoint
// (/RPC2), the live log tails (/logtail, /mainlogtail), the original's web UI
// action links, and the delegation of everything else to the web console.
package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/gosupervisor/gosupervisor/pkg/config"
	"github.com/gosupervisor/gosupervisor/pkg/loglevel"
	"github.com/gosupervisor/gosupervisor/pkg/mainlog"
	"github.com/gosupervisor/gosupervisor/pkg/pyfmt"
	"github.com/gosupervisor/gosupervisor/pkg/rpc"
	"github.com/gosupervisor/gosupervisor/pkg/supervisor"
	"github.com/gosupervisor/gosupervisor/pkg/xmlrpc"
)

// Logger is the daemon's own log as the server uses it (*mainlog.Logger).
type Logger interface {
	Log(level loglevel.Level, msg string)
}

// Options tune the servers. The zero value is usable.
type Options struct {
	// UI builds the web console, which serves every path the original's
	// handlers do not own ("/", "/index.html" without an action, static
	// files, the JSON API...). It receives a dispatcher that always has the
	// supervisor.* namespace: the original's web UI works even without an
	// [rpcinterface:supervisor] section. nil serves a minimal placeholder.
	UI func(d *rpc.Server) http.Handler
	// Limits bound XML-RPC request bodies (defaults: pkg/xmlrpc's).
	Limits xmlrpc.Limits
	// Guard bounds connections, timeouts and other bodies (limit.go).
	Guard Guard
	// Poll is how often a log tail re-checks its file when nothing woke it
	// (default 100 ms, the original's producer delay).
	Poll time.Duration
	// Stderr receives "Unlinking stale socket" notices (default os.Stderr).
	Stderr io.Writer
	// Ext replaces the engine's extensions (health checks, dependencies,
	// readiness) for the gosupervisor.* methods, /readyz and the console;
	// nil uses the engine's own when it implements rpc.ExtBackend.
	Ext rpc.ExtBackend
	// ListExtensions makes system.listMethods name the gosupervisor.*
	// methods (rpc.Options.ListExtensions): set it for a config that uses
	// an extension key, so that one without lists the original's methods.
	ListExtensions bool
	// Users are the [user:NAME] sections (EXTENSIONS.md §7); Start takes
	// the config's. With any, every server requires authentication.
	Users []config.User
	// Audit logs audit lines and refusals in the main log; Start sets it
	// for a config with [user:NAME] sections or allow_uids/allow_groups.
	Audit bool
	// AuthFailDelay is how long wrong credentials wait for their 401
	// (default 1 s; negative: no delay).
	AuthFailDelay time.Duration
}

func (o Options) withDefaults() Options {
	if o.Poll <= 0 {
		o.Poll = 100 * time.Millisecond
	}
	if o.Stderr == nil {
		o.Stderr = os.Stderr
	}
	if o.AuthFailDelay == 0 {
		o.AuthFailDelay = authFailDelay
	}
	o.Guard = o.Guard.withDefaults()
	return o
}

// authFailDelay slows down password guessing. The timeouts against idle
// or slow clients are Guard's (limit.go).
const authFailDelay = time.Second

// Servers are the running HTTP servers of one daemon generation.
type Servers struct {
	cancel  context.CancelFunc
	servers []*served
	wg      sync.WaitGroup
	once    sync.Once
	err     error
}

type served struct {
	srv  *http.Server
	ln   net.Listener
	sock string // unix socket file to remove on Close, "" for inet
}

// Start binds every configured server ([inet_http_server*] first, as the
// original does) and serves them. A bind error carries the original's
// message text (the daemon prints it after "Error: "); servers bound before
// it are closed again.
func Start(cfg *config.Config, sup *supervisor.Supervisor, log *mainlog.Logger, opts Options) (*Servers, error) {
	opts = opts.withDefaults()
	if opts.Users == nil {
		opts.Users = cfg.Users
	}
	opts.Audit = opts.Audit || usesAccessKeys(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	s := &Servers{cancel: cancel}
	rt := newRoutes(sup, log, opts)
	maxConns := connCap(opts.Guard, len(cfg.HTTPServers), cfg)
	for _, sc := range cfg.HTTPServers {
		raw, err := listen(sc, opts.Stderr)
		if err != nil {
			_ = s.Close()
			return nil, err
		}
		// Outermost, counting raw connections: the cap (limit.go).
		lim := limitConns(raw, sc, maxConns, opts.Guard, log)
		var ln net.Listener = lim
		if sc.TLS() {
			if ln, err = withTLS(ln, sc, log); err != nil {
				_ = s.Close()
				return nil, err
			}
		}
		for _, ri := range cfg.RPCInterfaces {
			log.Info("RPC interface " + pyfmt.Repr(ri.Name) + " initialized")
		}
		if !rt.needsAuth(sc) {
			log.Crit("Server " + pyfmt.Repr(sc.Section) + " running without any HTTP authentication checking")
		}
		// No write timeout: a /logtail stream lives as long as its
		// client; one that stops reading is dropped (Guard.StallTimeout).
		sv := &served{ln: ln, srv: &http.Server{
			Handler:           rt.handler(sc),
			ReadHeaderTimeout: opts.Guard.ReadHeaderTimeout,
			IdleTimeout:       opts.Guard.IdleTimeout,
			ConnState:         lim.connState,
			BaseContext:       func(net.Listener) context.Context { return ctx },
			ConnContext:       connContext(sc),
			ErrorLog:          serverErrorLog(sc, log),
		}}
		if sc.Unix {
			sv.sock = sc.File
		}
		s.servers = append(s.servers, sv)
		s.wg.Go(func() { _ = sv.srv.Serve(ln) })
	}
	return s, nil
}

// Addrs returns the listening addresses, in configuration order.
func (s *Servers) Addrs() []net.Addr {
	out := make([]net.Addr, len(s.servers))
	for i, sv := range s.servers {
		out[i] = sv.ln.Addr()
	}
	return out
}

// Close stops serving: listeners and open connections (including log
// streams) are closed, in-flight requests see their context cancelled, and
// the unix socket files are removed.
func (s *Servers) Close() error {
	s.once.Do(func() {
		s.cancel()
		var errs []error
		for _, sv := range s.servers {
			if err := sv.srv.Close(); err != nil {
				errs = append(errs, fmt.Errorf("closing HTTP server on %s: %w", sv.ln.Addr(), err))
			}
			if sv.sock != "" {
				if err := os.Remove(sv.sock); err != nil && !errors.Is(err, os.ErrNotExist) {
					errs = append(errs, fmt.Errorf("removing socket %s: %w", sv.sock, err))
				}
			}
		}
		s.wg.Wait()
		s.err = errors.Join(errs...)
	})
	return s.err
}
