package pidproxy

import (
	"errors"
	"fmt"
	"strings"

	"golang.org/x/sys/unix"
)

// Debian's pidproxy module, as Python 3.11 names it in tracebacks.
const modulePath = "/usr/lib/python3/dist-packages/supervisor/pidproxy.py"

// tracebackHead is the entry script's frame; %s is its file name.
const tracebackHead = `Traceback (most recent call last):
  File "%s", line 33, in <module>
    sys.exit(load_entry_point('supervisor==4.2.5', 'console_scripts', 'pidproxy')())
             ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
`

// The frames below the entry script for each place pidproxy.py can die.
const (
	// os.path.abspath(cmdargs[0]) in PidProxy.__init__, when getcwd fails.
	initFrames = `  File "` + modulePath + `", line 69, in main
    pp = PidProxy(sys.argv)
         ^^^^^^^^^^^^^^^^^^
  File "` + modulePath + `", line 23, in __init__
    self.abscmd = os.path.abspath(cmdargs[0])
                  ^^^^^^^^^^^^^^^^^^^^^^^^^^^
  File "<frozen posixpath>", line 404, in abspath
`
	// os.spawnv refusing an empty command name.
	spawnFrames = `  File "` + modulePath + `", line 70, in main
    pp.go()
  File "` + modulePath + `", line 31, in go
    self.pid = os.spawnv(os.P_NOWAIT, self.abscmd, self.cmdargs)
               ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
  File "<frozen os>", line 881, in spawnv
  File "<frozen os>", line 852, in _spawnvef
`
	// os.kill in the signal handler, which runs while go() sleeps.
	killFrames = `  File "` + modulePath + `", line 70, in main
    pp.go()
  File "` + modulePath + `", line 33, in go
    time.sleep(5)
  File "` + modulePath + `", line 64, in passtochild
    os.kill(pid, sig)
`
)

// emptyCommand is os.spawnv's complaint about argv[0] == "".
const emptyCommand = "ValueError: argv first element cannot be empty"

// traceback is the text of an uncaught exception: script is the entry
// script's file name, frames one of the frame constants, exc the last line.
func traceback(script, frames, exc string) string {
	return fmt.Sprintf(tracebackHead, script) + frames + exc + "\n"
}

// osError is the last traceback line of an OSError Python raises for err:
// the errno's exception subclass, its number and strerror(3).
func osError(err error) string {
	var errno unix.Errno
	if !errors.As(err, &errno) {
		return "OSError: " + err.Error()
	}
	return fmt.Sprintf("%s: [Errno %d] %s", osErrorClass(errno), int(errno), strerror(errno))
}

// osErrorClass is PEP 3151's errno-to-exception mapping.
func osErrorClass(errno unix.Errno) string {
	switch errno {
	case unix.EAGAIN, unix.EALREADY, unix.EINPROGRESS:
		return "BlockingIOError"
	case unix.ECHILD:
		return "ChildProcessError"
	case unix.EPIPE, unix.ESHUTDOWN:
		return "BrokenPipeError"
	case unix.EEXIST:
		return "FileExistsError"
	case unix.ENOENT:
		return "FileNotFoundError"
	case unix.EISDIR:
		return "IsADirectoryError"
	case unix.ENOTDIR:
		return "NotADirectoryError"
	case unix.EINTR:
		return "InterruptedError"
	case unix.EACCES, unix.EPERM:
		return "PermissionError"
	case unix.ESRCH:
		return "ProcessLookupError"
	case unix.ETIMEDOUT:
		return "TimeoutError"
	}
	return "OSError"
}

// strerror is glibc's message: Go's table holds the same texts with the
// first letter lowered.
func strerror(errno unix.Errno) string {
	s := errno.Error()
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
