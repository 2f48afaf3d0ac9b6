package config

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// MaxFileSize is the largest configuration file Load reads: the main file,
// each [include] file and each environment_file. No real configuration
// comes near it; the cap exists so that an include that is (or points to)
// something endless cannot fill the daemon's memory during a reread.
const MaxFileSize = 16 << 20 // 16 MiB

// FileError is a configuration file that is not read because it is not a
// regular file (a FIFO, a device such as a symlink to /dev/zero, a
// directory, a socket) or is larger than MaxFileSize. The original opens
// such files as they come, which hangs on a FIFO and exhausts memory on
// /dev/zero.
type FileError struct {
	Path   string
	Target string      // the symlink's target when Path is a symlink, else ""
	Mode   fs.FileMode // the type of what Path resolves to
	Size   int64       // > MaxFileSize for a regular file that is too large
}

func (e *FileError) Error() string {
	what := fmt.Sprintf("larger than %d MiB", MaxFileSize>>20)
	if !e.Mode.IsRegular() {
		what = "not a regular file but a " + fileKind(e.Mode)
	}
	if e.Target != "" {
		what += " (symlink to " + e.Target + ")"
	}
	return what
}

// fileKind names a non-regular file type.
func fileKind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "directory"
	case m&fs.ModeNamedPipe != 0:
		return "named pipe (FIFO)"
	case m&fs.ModeCharDevice != 0:
		return "character device"
	case m&fs.ModeDevice != 0:
		return "block device"
	case m&fs.ModeSocket != 0:
		return "socket"
	}
	return "special file"
}

// readRegularFile reads path (following symlinks) if it is a regular file
// of at most MaxFileSize bytes; anything else is a *FileError without the
// file being read. Errors of stat or open are returned as they are. Opening
// is non-blocking, so a FIFO swapped in after the stat cannot hang it, and
// the type is checked again on the open descriptor.
func readRegularFile(path string) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			pe.Op = "open" // what the original's open() reports
		}
		return nil, err
	}
	if err := checkRegular(path, st); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st, err = f.Stat(); err != nil {
		return nil, err
	}
	if err := checkRegular(path, st); err != nil {
		return nil, err
	}
	b, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxFileSize {
		return nil, &FileError{Path: path, Mode: st.Mode(), Size: int64(len(b))}
	}
	return b, nil
}

func checkRegular(path string, st fs.FileInfo) error {
	if st.Mode().IsRegular() && st.Size() <= MaxFileSize {
		return nil
	}
	e := &FileError{Path: path, Mode: st.Mode(), Size: st.Size()}
	if lst, err := os.Lstat(path); err == nil && lst.Mode()&fs.ModeSymlink != 0 {
		e.Target, _ = os.Readlink(path)
	}
	return e
}

// isFileError reports whether err is a *FileError.
func isFileError(err error) bool {
	var fe *FileError
	return errors.As(err, &fe)
}
