package server

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/gosupervisor/gosupervisor/pkg/config"
	"github.com/gosupervisor/gosupervisor/pkg/loglevel"
	"github.com/gosupervisor/gosupervisor/pkg/pyfmt"
)

// Peer credentials on [unix_http_server*] (EXTENSIONS.md §7): the kernel's
// SO_PEERCRED of each connection is read when it is accepted
// (http.Server.ConnContext) and, with allow_uids or allow_groups, checked
// before authentication. The uid also names the peer in audit lines.

// peerCred is a unix connection's peer, as the kernel saw it at connect.
type peerCred struct {
	uid, gid int
	pid      int
}

type peerCredKey struct{}

// peerCredContext is a unix server's ConnContext: it reads the peer's
// credentials once per connection. A connection whose credentials cannot
// be read carries none, and allow_uids/allow_groups then refuse it.
func peerCredContext(ctx context.Context, c net.Conn) context.Context {
	if pc, ok := readPeerCred(c); ok {
		return context.WithValue(ctx, peerCredKey{}, pc)
	}
	return ctx
}

// readPeerCred finds the socket under c (through wrappers that expose the
// connection they wrap, as crypto/tls's NetConn does) and asks the kernel.
func readPeerCred(c net.Conn) (peerCred, bool) {
	for range 8 {
		if sc, ok := c.(syscall.Conn); ok {
			raw, err := sc.SyscallConn()
			if err != nil {
				return peerCred{}, false
			}
			var cred *unix.Ucred
			var gerr error
			if err := raw.Control(func(fd uintptr) {
				cred, gerr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
			}); err != nil || gerr != nil {
				return peerCred{}, false
			}
			return peerCred{uid: int(cred.Uid), gid: int(cred.Gid), pid: int(cred.Pid)}, true
		}
		switch w := c.(type) {
		case interface{ NetConn() net.Conn }:
			c = w.NetConn()
		case interface{ Unwrap() net.Conn }:
			c = w.Unwrap()
		default:
			inner, ok := embeddedConn(c)
			if !ok {
				return peerCred{}, false
			}
			c = inner
		}
	}
	return peerCred{}, false
}

func peerCredOf(r *http.Request) (peerCred, bool) {
	pc, ok := r.Context().Value(peerCredKey{}).(peerCred)
	return pc, ok
}

// peerName is the client as audit and refusal lines name it: "uid 1000"
// on a unix socket, the address on an inet server.
func peerName(r *http.Request) string {
	if pc, ok := peerCredOf(r); ok {
		return "uid " + strconv.Itoa(pc.uid)
	}
	if r.RemoteAddr == "" || r.RemoteAddr == "@" {
		return "unix socket"
	}
	return r.RemoteAddr
}

// restrictsPeers reports whether sc lists the peers it admits.
func restrictsPeers(sc config.HTTPServer) bool {
	return sc.Unix && (sc.AllowUIDs != nil || sc.AllowGIDs != nil)
}

// peerAllowed reports whether pc may connect to sc: its uid is in
// allow_uids, or its primary gid, or one of its supplementary groups, is
// in allow_groups.
func peerAllowed(sc config.HTTPServer, pc peerCred) bool {
	if slices.Contains(sc.AllowUIDs, pc.uid) {
		return true
	}
	if len(sc.AllowGIDs) == 0 {
		return false
	}
	if slices.Contains(sc.AllowGIDs, pc.gid) {
		return true
	}
	for _, g := range supplementaryGroups(pc.pid) {
		if slices.Contains(sc.AllowGIDs, g) {
			return true
		}
	}
	return false
}

// checkPeers refuses, with 403 and a main-log line, the connections that
// sc's allow_uids and allow_groups do not admit; it runs before basic
// authentication.
func (rt *routes) checkPeers(sc config.HTTPServer, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pc, ok := peerCredOf(r)
		if ok && peerAllowed(sc, pc) {
			next.ServeHTTP(w, r)
			return
		}
		who := "a peer whose credentials could not be read"
		if ok {
			who = fmt.Sprintf("uid %d (gid %d, pid %d)", pc.uid, pc.gid, pc.pid)
		}
		rt.log.Log(loglevel.Warn, "refused: "+who+" on "+pyfmt.Repr(sc.Section)+": not in allow_uids or allow_groups")
		w.Header().Set("Connection", "close")
		jsonError(w, http.StatusForbidden, "FORBIDDEN", "peer not allowed on this socket (allow_uids, allow_groups)")
	})
}

// supplementaryGroups reads the Groups: line of /proc/PID/status: the
// peer's supplementary groups, which SO_PEERCRED does not give (nil when
// the process is gone).
func supplementaryGroups(pid int) []int {
	if pid <= 0 {
		return nil
	}
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return nil
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		rest, ok := strings.CutPrefix(line, "Groups:")
		if !ok {
			continue
		}
		var out []int
		for _, f := range strings.Fields(rest) {
			if g, err := strconv.Atoi(f); err == nil {
				out = append(out, g)
			}
		}
		return out
	}
	return nil
}

// embeddedConn is the net.Conn that a wrapper struct embeds (a listener
// wrapper's conn type, struct{ net.Conn; ... }), for wrappers without
// NetConn.
func embeddedConn(c net.Conn) (net.Conn, bool) {
	v := reflect.ValueOf(c)
	if v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return nil, false
	}
	f := v.FieldByName("Conn")
	if !f.IsValid() || !f.CanInterface() || f.Type() != reflect.TypeFor[net.Conn]() || f.IsNil() {
		return nil, false
	}
	inner, ok := f.Interface().(net.Conn)
	return inner, ok
}
