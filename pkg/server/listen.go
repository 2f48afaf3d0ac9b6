package server

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/user"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gosupervisor/gosupervisor/pkg/config"
)

// AddrInUseMessage is the original's text for a port or socket another
// program already serves.
const AddrInUseMessage = "Another program is already listening on a port that one of our HTTP servers is configured to use.  Shut this program down first before starting supervisord."

// staleRetries bounds the stale-socket loop, which the original runs forever.
const staleRetries = 10

// BindError is a failure to open one HTTP server. Its text is the
// original's message; it unwraps to the cause.
type BindError struct {
	Msg string
	Err error
}

func (e *BindError) Error() string { return e.Msg }
func (e *BindError) Unwrap() error { return e.Err }

// bindError turns a socket error into the original's openhttpservers text.
func bindError(err error) error {
	if errors.Is(err, syscall.EADDRINUSE) {
		return &BindError{Msg: AddrInUseMessage, Err: err}
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		name := unix.ErrnoName(errno)
		if name == "" {
			return &BindError{Msg: fmt.Sprintf("Cannot open an HTTP server: socket.error reported %d", int(errno)), Err: err}
		}
		return &BindError{Msg: fmt.Sprintf("Cannot open an HTTP server: socket.error reported errno.%s (%d)", name, int(errno)), Err: err}
	}
	return &BindError{Msg: "Cannot open an HTTP server: socket.error reported " + err.Error(), Err: err}
}

// listen opens the socket of one [unix_http_server*] or [inet_http_server*].
func listen(sc config.HTTPServer, stderr io.Writer) (net.Listener, error) {
	if sc.Unix {
		return listenUnix(sc, stderr)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(sc.Host, strconv.Itoa(sc.Port)))
	if err != nil {
		return nil, bindError(err)
	}
	return ln, nil
}

// listenUnix creates the socket file as the original does, so that a live
// server on the same path is never clobbered: bind a private name, set its
// mode, then hard-link it to the configured name (link fails if the name
// exists). An existing name nobody answers on is a stale socket: unlink it
// and try again.
func listenUnix(sc config.HTTPServer, stderr io.Writer) (net.Listener, error) {
	temp := fmt.Sprintf("%s.%d", sc.File, os.Getpid())
	_ = os.Remove(temp)
	defer os.Remove(temp)
	for attempt := 0; ; attempt++ {
		ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: temp, Net: "unix"})
		if err != nil {
			return nil, bindError(err)
		}
		// The listener's name is removed right below; the configured name
		// is removed by Servers.Close.
		ln.SetUnlinkOnClose(false)
		if err := os.Chmod(temp, os.FileMode(sc.Chmod)); err != nil {
			ln.Close()
			return nil, bindError(err)
		}
		if err := os.Link(temp, sc.File); err != nil {
			ln.Close()
			_ = os.Remove(temp)
			if socketInUse(sc.File) {
				return nil, &BindError{Msg: AddrInUseMessage, Err: err}
			}
			if attempt >= staleRetries {
				return nil, bindError(err)
			}
			fmt.Fprintf(stderr, "Unlinking stale socket %s\n", sc.File)
			_ = os.Remove(sc.File)
			continue
		}
		if err := chown(sc); err != nil {
			ln.Close()
			_ = os.Remove(sc.File)
			return nil, err
		}
		return ln, nil
	}
}

func chown(sc config.HTTPServer) error {
	if sc.ChownUID < 0 && sc.ChownGID < 0 {
		return nil
	}
	err := os.Chown(sc.File, sc.ChownUID, sc.ChownGID)
	if err == nil {
		return nil
	}
	if errors.Is(err, syscall.EPERM) {
		who := strconv.Itoa(os.Geteuid())
		if u, uerr := user.LookupId(who); uerr == nil {
			who = u.Username
		}
		return &BindError{Err: err, Msg: fmt.Sprintf(
			`Not permitted to chown %s to uid/gid (%d, %d); adjust "sockchown" value in config file or on command line to values that the current user (%s) can successfully chown`,
			sc.File, sc.ChownUID, sc.ChownGID, who)}
	}
	return bindError(err)
}

// socketInUse is the original's checkused: does something accept a
// connection and a request on path?
func socketInUse(path string) bool {
	c, err := net.DialTimeout("unix", path, time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write([]byte("GET / HTTP/1.0\r\n\r\n")); err != nil {
		return false
	}
	var b [1]byte
	_, err = c.Read(b[:])
	if err == nil || errors.Is(err, io.EOF) || errors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	return false
}
