package ctl

import (
	"errors"
	"fmt"
	"strings"
	"syscall"
)

// The original prints any unexpected exception as
// "error: <class 'X'>, <value>: file: <file> line: <n>", where file and line
// are the innermost frame of the Python traceback. Scripts match on these
// lines, so we reproduce the texts Debian's supervisor 4.2.5 prints on
// Python 3.11, locations included (they name the Python frames the original
// would report, not ours).
const (
	locFault    = "file: /usr/lib/python3.11/xmlrpc/client.py line: 668"
	locProtocol = "file: /usr/lib/python3/dist-packages/supervisor/xmlrpc.py line: 539"
	locInet     = "file: /usr/lib/python3.11/socket.py line: 836"
	locUnix     = "file: /usr/lib/python3/dist-packages/supervisor/xmlrpc.py line: 557"
	locBadURL   = "file: /usr/lib/python3/dist-packages/supervisor/xmlrpc.py line: 505"
	locOther    = "file: supervisorctl line: 0"
)

// pyErrnoClass names the OSError subclass Python raises for an errno.
func pyErrnoClass(e syscall.Errno) string {
	switch e {
	case syscall.ECONNREFUSED:
		return "ConnectionRefusedError"
	case syscall.ENOENT:
		return "FileNotFoundError"
	case syscall.EACCES, syscall.EPERM:
		return "PermissionError"
	case syscall.ECONNRESET:
		return "ConnectionResetError"
	case syscall.ECONNABORTED:
		return "ConnectionAbortedError"
	case syscall.EPIPE:
		return "BrokenPipeError"
	case syscall.ETIMEDOUT:
		return "TimeoutError"
	}
	return "OSError"
}

// genericErrorLine renders err the way the original's catch-all does.
func genericErrorLine(err error, serverURL string) string {
	var f *Fault
	var pe *ProtocolError
	var bu *badURLError
	var errno syscall.Errno
	if te := asTLSError(err, serverURL); te != nil {
		return "error: " + te.Error() // ours: https:// only
	}
	switch {
	case errors.As(err, &f):
		return fmt.Sprintf("error: <class 'xmlrpc.client.Fault'>, %s: %s", f.Error(), locFault)
	case errors.As(err, &pe):
		return fmt.Sprintf("error: <class 'xmlrpc.client.ProtocolError'>, %s: %s", pyProtocolRepr(pe), locProtocol)
	case errors.As(err, &bu):
		return fmt.Sprintf("error: <class 'ValueError'>, %s: %s", bu.Error(), locBadURL)
	case errors.As(err, &errno):
		class := pyErrnoClass(errno)
		loc := locInet
		if strings.HasPrefix(serverURL, "unix://") {
			loc = locUnix
		}
		return fmt.Sprintf("error: <class '%s'>, [Errno %d] %s: %s", class, int(errno), strerror(errno), loc)
	default:
		return fmt.Sprintf("error: <class 'Exception'>, %s: %s", err.Error(), locOther)
	}
}

// strerror capitalises Go's errno text the way glibc's strerror reads.
func strerror(e syscall.Errno) string {
	s := e.Error()
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// isErrno reports whether err was caused by the given errno (e.g. a refused
// or missing socket while connecting).
func isErrno(err error, e syscall.Errno) bool {
	return errors.Is(err, e)
}
