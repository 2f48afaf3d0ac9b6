package spawn

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/gosupervisor/gosupervisor/pkg/pyfmt"
)

// DefaultPath is searched when neither the program nor supervisord has a
// usable PATH.
const DefaultPath = "/bin:/usr/bin:/usr/local/bin"

var (
	// ErrNotFound marks "can't find command" (RPC fault NO_FILE).
	ErrNotFound = errors.New("command not found")
	// ErrNotExecutable marks every other resolution failure: a directory,
	// no x bit, or no permission (RPC fault NOT_EXECUTABLE).
	ErrNotExecutable = errors.New("command not executable")
)

// SearchPath picks the PATH the original searches: the program's own
// environment PATH when set (even if empty), else supervisord's PATH when
// non-empty, else DefaultPath.
func SearchPath(programPATH string, programHasPATH bool, daemonPATH string) string {
	switch {
	case programHasPATH:
		return programPATH
	case daemonPATH != "":
		return daemonPATH
	default:
		return DefaultPath
	}
}

// Resolve turns argv0 into the file to exec. A name containing '/' is used
// as is (relative to the current directory); otherwise each element of
// pathEnv is tried in order and the first one that stat()s wins, even if it
// then turns out not to be executable (as in the original). The returned
// error's text is the original's spawnerr.
func Resolve(argv0, pathEnv string) (string, error) {
	filename := argv0
	var st os.FileInfo
	var err error
	if strings.Contains(argv0, "/") {
		st, err = os.Stat(argv0)
	} else {
		err = os.ErrNotExist
		for _, dir := range strings.Split(pathEnv, ":") {
			candidate := joinPy(dir, argv0)
			if st, err = os.Stat(candidate); err == nil {
				filename = candidate
				break
			}
		}
	}
	r := pyfmt.Repr(filename)
	switch {
	case err != nil:
		return "", &textError{msg: fmt.Sprintf("can't find command %s", r), cause: ErrNotFound}
	case st.IsDir():
		return "", &textError{msg: fmt.Sprintf("command at %s is a directory", r), cause: ErrNotExecutable}
	case st.Mode().Perm()&0o111 == 0:
		return "", &textError{msg: fmt.Sprintf("command at %s is not executable", r), cause: ErrNotExecutable}
	case unix.Access(filename, unix.X_OK) != nil:
		return "", &textError{msg: fmt.Sprintf("no permission to run command %s", r), cause: ErrNotExecutable}
	}
	return filename, nil
}

// joinPy is os.path.join(dir, name) for a name without '/': no cleaning, so
// messages show the path exactly as the original would.
func joinPy(dir, name string) string {
	if dir == "" || strings.HasSuffix(dir, "/") {
		return dir + name
	}
	return dir + "/" + name
}
