package supervisor

import (
	"fmt"
	"net"
	"os"

	"github.com/gosupervisor/gosupervisor/pkg/config"
	"github.com/gosupervisor/gosupervisor/pkg/loglevel"
)

// fcgiSocket is the listening socket of an [fcgi-program:x] group, shared by
// its processes on their stdin. As the original's SocketManager it is
// reference-counted: created for the first running process, closed after
// the last one exits. Owned by the loop.
type fcgiSocket struct {
	cfg  *config.FCGISocket
	ln   net.Listener
	file *os.File
	refs int
}

func (fs *fcgiSocket) open() error {
	c := fs.cfg
	var ln net.Listener
	var err error
	if c.Unix {
		_ = os.Remove(c.Path)
		ln, err = net.Listen("unix", c.Path)
		if err == nil {
			if c.OwnerUID >= 0 {
				err = os.Chown(c.Path, c.OwnerUID, c.OwnerGID)
			}
			if err == nil {
				err = os.Chmod(c.Path, os.FileMode(c.Mode))
			}
		}
	} else {
		ln, err = net.Listen("tcp", net.JoinHostPort(c.Host, fmt.Sprint(c.Port)))
	}
	if err != nil {
		if ln != nil {
			ln.Close()
		}
		return err
	}
	// net.Listen uses the system's backlog; a configured socket_backlog is
	// applied by listening again on the same descriptor.
	f, err := ln.(interface{ File() (*os.File, error) }).File()
	if err != nil {
		ln.Close()
		return err
	}
	if c.Backlog > 0 {
		_ = listenBacklog(f, c.Backlog)
	}
	fs.ln, fs.file = ln, f
	return nil
}

func (fs *fcgiSocket) close() {
	if fs.file != nil {
		fs.file.Close()
		fs.file = nil
	}
	if fs.ln != nil {
		fs.ln.Close()
		fs.ln = nil
	}
}

// fcgiCheck creates and closes the socket once when the group is added, so
// that a bad socket is reported early (the original fails at start-up).
func (s *Supervisor) fcgiCheck(g *group) {
	fs := &fcgiSocket{cfg: g.cfg.Socket}
	s.log.Log(loglevel.Info, "Creating socket "+fs.cfg.URL)
	if err := fs.open(); err != nil {
		s.log.Log(loglevel.Error, fmt.Sprintf("Could not create FastCGI socket %s: %v", fs.cfg.URL, err))
		return
	}
	fs.close()
	s.log.Log(loglevel.Info, "Closing socket "+fs.cfg.URL)
	g.fcgi = fs
}

// fcgiAcquire returns the group's socket for a spawn, creating it if needed.
func (s *Supervisor) fcgiAcquire(g *group) (*os.File, error) {
	if g.fcgi == nil {
		g.fcgi = &fcgiSocket{cfg: g.cfg.Socket}
	}
	fs := g.fcgi
	if fs.refs == 0 {
		s.log.Log(loglevel.Info, "Creating socket "+fs.cfg.URL)
		if err := fs.open(); err != nil {
			return nil, fmt.Errorf("could not create FastCGI socket %s: %w", fs.cfg.URL, err)
		}
	}
	fs.refs++
	return fs.file, nil
}

// fcgiRelease drops one process's reference.
func (s *Supervisor) fcgiRelease(g *group) {
	fs := g.fcgi
	if fs == nil || fs.refs == 0 {
		return
	}
	fs.refs--
	if fs.refs == 0 {
		fs.close()
		s.log.Log(loglevel.Info, "Closing socket "+fs.cfg.URL)
	}
}
