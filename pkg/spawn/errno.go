package spawn

import (
	"errors"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// ErrnoName renders err the way Python's errno.errorcode.get(code, code)
// does in the original's messages: the symbolic name, or the number when the
// name is unknown.
func ErrnoName(err error) string {
	var e syscall.Errno
	if !errors.As(err, &e) {
		return err.Error()
	}
	// Python's table keeps the last alias registered for a number; for
	// Linux that differs from x/sys only for 35 (EDEADLK/EDEADLOCK).
	if e == unix.EDEADLK {
		return "EDEADLOCK"
	}
	if name := unix.ErrnoName(e); name != "" {
		return name
	}
	return strconv.Itoa(int(e))
}

// textError is an error whose text is exactly the original's message and
// which still unwraps to its cause (a sentinel or an errno).
type textError struct {
	msg   string
	cause error
}

func (e *textError) Error() string { return e.msg }
func (e *textError) Unwrap() error { return e.cause }
