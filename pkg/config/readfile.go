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

// FileError is a configuration file that is not read because it is a FIFO
// or holds more than MaxFileSize bytes (a large file, a device such as a
// symlink to /dev/zero). The original opens such files as they come, which
// hangs on a FIFO and exhausts memory on /dev/zero. Directories and
// sockets fail to open as in the original, and are skipped as it skips
// them.
type FileError struct {
	Path   string
	Target string      // the symlink's target when Path is a symlink, else ""
	Mode   fs.FileMode // the type of what Path resolves to
	Size   int64       // > MaxFileSize for a regular file that is too large
}

func (e *FileError) Error() string {
	what := "not a regular file but a " + fileKind(e.Mode)
	if e.Size > MaxFileSize {
		what = fmt.Sprintf("larger than %d MiB", MaxFileSize>>20)
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
	// What the original's open() fails on, it skips (RawConfigParser.read)
	// or reports: a directory or socket is such an error, not a FileError.
	switch m := st.Mode(); {
	case m.IsDir():
		return nil, &fs.PathError{Op: "read", Path: path, Err: syscall.EISDIR}
	case m&fs.ModeSocket != 0:
		return nil, &fs.PathError{Op: "open", Path: path, Err: syscall.ENXIO}
	}
	if err := checkRegular(path, st); err != nil {
		return nil, err
	}
	if st.Mode()&fs.ModeDevice != 0 {
		return readDevice(path, st.Mode())
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
		return nil, fileError(path, st.Mode(), int64(len(b)))
	}
	return b, nil
}

// checkRegular lets through regular files within the cap and devices,
// which readDevice reads: /dev/null is an empty file to the original. A
// FIFO (which could block for ever) is refused.
func checkRegular(path string, st fs.FileInfo) error {
	m := st.Mode()
	if (m.IsRegular() && st.Size() <= MaxFileSize) || m&fs.ModeDevice != 0 {
		return nil
	}
	return fileError(path, m, st.Size())
}

func fileError(path string, m fs.FileMode, size int64) *FileError {
	e := &FileError{Path: path, Mode: m, Size: size}
	if !m.IsRegular() && size <= MaxFileSize {
		e.Size = 0 // a device's or FIFO's stat size means nothing
	}
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

// maxDeviceRead is what a device may give before it is refused: a config
// "file" that is a device is /dev/null (empty) in practice.
const maxDeviceRead = 64 << 10

// readDevice reads a device with raw non-blocking reads (an os.File would
// park in the poller on a tty and never return): one that would block, or
// gives more than maxDeviceRead (/dev/zero), is refused like a FIFO.
func readDevice(path string, m fs.FileMode) ([]byte, error) {
	fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	defer syscall.Close(fd)
	var out []byte
	buf := make([]byte, 4<<10)
	for len(out) <= maxDeviceRead {
		n, err := syscall.Read(fd, buf)
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			return nil, fileError(path, m, 0)
		case err != nil:
			return nil, &fs.PathError{Op: "read", Path: path, Err: err}
		case n == 0:
			return out, nil
		}
		out = append(out, buf[:n]...)
	}
	return nil, fileError(path, m, 0) // /dev/zero and its kind never end
}
