package logfile

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/gosupervisor/gosupervisor/pkg/fault"
)

// ReadFile implements readLog/readProcess*Log (the original's readFile):
//   - offset < 0, length = 0: the last |offset| bytes (whole file if shorter)
//   - offset < 0, length ≠ 0, or offset ≥ 0, length < 0: BAD_ARGUMENTS
//   - length = 0: offset to EOF; otherwise up to length bytes from offset.
//
// The file is opened before the arguments are checked, as in the original, so
// an unopenable file is FAILED even with bad arguments. Errors are
// *fault.Error (BAD_ARGUMENTS or FAILED) wrapping the cause.
func ReadFile(path string, offset, length int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, failed(path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, failed(path, err)
	}
	pos, n, err := readWindow(st.Size(), offset, length)
	if err != nil {
		return nil, err
	}
	data, err := readAt(f, pos, n)
	if err != nil {
		return nil, failed(path, err)
	}
	return data, nil
}

// readWindow turns readFile's arguments into a start position and a byte
// count (-1: to EOF) on a file of size sz.
func readWindow(sz, offset, length int64) (pos, n int64, err error) {
	switch {
	case offset < 0:
		if length != 0 {
			return 0, 0, fault.New(fault.BadArguments, "")
		}
		return max(0, sz+offset), -offset, nil
	case length < 0:
		return 0, 0, fault.New(fault.BadArguments, "")
	case length == 0:
		return offset, -1, nil
	default:
		return offset, length, nil
	}
}

// readAt reads up to n bytes (n < 0: to EOF) at pos; short reads at EOF are
// not errors.
func readAt(f *os.File, pos, n int64) ([]byte, error) {
	var r io.Reader = io.NewSectionReader(f, pos, 1<<62)
	if n >= 0 {
		r = io.LimitReader(r, n)
	}
	return io.ReadAll(r)
}

// FaultError is the error type of ReadFile and TailFile; the alias lets
// callers use errors.As without importing pkg/fault.
type FaultError = fault.Error

func failed(path string, err error) error {
	return &wrapped{fault.New(fault.Failed, ""), fmt.Errorf("read log file %s: %w", path, err)}
}

// wrapped is a fault that also carries its cause: Error() is the fault text
// the RPC layer reports, errors.Is/As reach both.
type wrapped struct {
	f     *fault.Error
	cause error
}

func (w *wrapped) Error() string   { return w.f.Error() }
func (w *wrapped) Unwrap() []error { return []error{w.f, w.cause} }

// TailFile implements tail*Log (the original's tailFile), sz = file size:
// if sz > offset+length, overflow is set and data is the last length bytes;
// else if offset ≥ sz, data is empty; else data runs from max(0, sz−length)
// to EOF — possibly before offset. The returned offset is always sz.
//
// On an open or read error the original answers an empty string, offset and false; TailFile
// returns exactly those values together with a FAILED error so the caller can
// choose.
func TailFile(path string, offset, length int64) ([]byte, int64, bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, offset, false, failed(path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, offset, false, failed(path, err)
	}
	sz := st.Size()
	pos, n, overflow := tailWindow(sz, offset, length)
	if n == 0 {
		return []byte{}, sz, overflow, nil
	}
	data, err := readAt(f, pos, n)
	if err != nil {
		return nil, offset, false, failed(path, err)
	}
	return data, sz, overflow, nil
}

// tailWindow is the original tailFile's arithmetic, step by step.
func tailWindow(sz, offset, length int64) (pos, n int64, overflow bool) {
	if sz > offset+length {
		overflow = true
		offset = sz - 1
	}
	if offset+length > sz {
		if offset > sz-1 {
			length = 0
		}
		offset = sz - length
	}
	return max(offset, 0), max(length, 0), overflow
}

// ReadRing is ReadFile for a target without a readable file (e.g.
// /dev/stdout): the ring acts as a file whose size is End() and whose bytes
// before Start() are gone (reads starting there begin at Start()).
func ReadRing(r *Ring, offset, length int64) ([]byte, error) {
	pos, n, err := readWindow(r.End(), offset, length)
	if err != nil {
		return nil, err
	}
	if n > 1<<31 {
		n = 1 << 31
	}
	data, _, _ := r.ReadAt(pos, int(n)) // n = -1 reads everything
	if data == nil {
		data = []byte{}
	}
	return data, nil
}

// TailRing is TailFile on a ring (see ReadRing).
func TailRing(r *Ring, offset, length int64) ([]byte, int64, bool) {
	sz := r.End()
	pos, n, overflow := tailWindow(sz, offset, length)
	if n == 0 {
		return []byte{}, sz, overflow
	}
	if n > 1<<31 {
		n = 1 << 31
	}
	data, _, _ := r.ReadAt(pos, int(n))
	if data == nil {
		data = []byte{}
	}
	return data, sz, overflow
}

// IsFault reports whether err carries the given fault code.
func IsFault(err error, code fault.Code) bool {
	var f *fault.Error
	return errors.As(err, &f) && f.Code == code
}
