// Package procstat reads a process's resource use from /proc: CPU ticks and
// start time (/proc/<pid>/stat), resident memory (/proc/<pid>/statm), open
// descriptors (/proc/<pid>/fd) and the system uptime. It keeps no state; the
// web console's sampler and the /metrics collector read through it.
package procstat

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// ClkTck is USER_HZ, the unit of /proc/<pid>/stat times; it is 100 on every
// Linux architecture Go supports (sysconf would need cgo).
const ClkTck = 100

// Root is where procfs is mounted.
const Root = "/proc"

// Stat returns utime+stime (in ClkTck ticks) and starttime (ticks after
// boot) from root/<pid>/stat. The command name may hold spaces and
// parentheses, so fields are counted from the last ')'.
func Stat(root string, pid int) (ticks, startTime uint64, err error) {
	path := filepath.Join(root, strconv.Itoa(pid), "stat")
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, 0, fmt.Errorf("reading %s: %w", path, err)
	}
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return 0, 0, fmt.Errorf("parsing %s: no command name", path)
	}
	f := bytes.Fields(data[i+1:])
	// f[0] is field 3 (state); utime, stime and starttime are fields 14, 15 and 22.
	if len(f) < 20 {
		return 0, 0, fmt.Errorf("parsing %s: %d fields", path, len(f)+2)
	}
	var v [3]uint64
	for k, idx := range [3]int{11, 12, 19} {
		if v[k], err = strconv.ParseUint(string(f[idx]), 10, 64); err != nil {
			return 0, 0, fmt.Errorf("parsing %s: %w", path, err)
		}
	}
	return v[0] + v[1], v[2], nil
}

// RSS returns the resident set size in bytes from root/<pid>/statm, whose
// unit is pages of pageSize bytes.
func RSS(root string, pid int, pageSize int64) (int64, error) {
	path := filepath.Join(root, strconv.Itoa(pid), "statm")
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("reading %s: %w", path, err)
	}
	f := bytes.Fields(data)
	if len(f) < 2 {
		return 0, fmt.Errorf("parsing %s: %d fields", path, len(f))
	}
	pages, err := strconv.ParseInt(string(f[1]), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("parsing %s: %w", path, err)
	}
	return pages * pageSize, nil
}

// OpenFDs counts the entries of root/<pid>/fd. Reading another user's
// descriptors needs privilege: the error is then a permission error.
func OpenFDs(root string, pid int) (int, error) {
	path := filepath.Join(root, strconv.Itoa(pid), "fd")
	d, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("reading %s: %w", path, err)
	}
	defer d.Close()
	n := 0
	for {
		names, err := d.Readdirnames(1024)
		n += len(names)
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return 0, fmt.Errorf("reading %s: %w", path, err)
		}
	}
}

// Uptime is the system uptime in seconds (root/uptime), the clock of
// starttime.
func Uptime(root string) (float64, error) {
	path := filepath.Join(root, "uptime")
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("reading %s: %w", path, err)
	}
	f := bytes.Fields(data)
	if len(f) < 1 {
		return 0, fmt.Errorf("parsing %s: empty", path)
	}
	up, err := strconv.ParseFloat(string(f[0]), 64)
	if err != nil {
		return 0, fmt.Errorf("parsing %s: %w", path, err)
	}
	return up, nil
}

// Usage is one reading of a process's resource use.
type Usage struct {
	Ticks     uint64 // utime+stime, in ClkTck ticks
	StartTime uint64 // ticks after boot
	RSS       int64  // resident bytes
	FDs       int    // open descriptors; -1 when unreadable
}

// Reader reads Usage with as few system calls as /proc allows: one read of
// /proc/<pid>/stat (CPU, start time and RSS) and one stat of /proc/<pid>/fd
// (whose size is the descriptor count since Linux 6.2; older kernels say 0
// and the directory is listed instead). A Reader reuses its buffer: use one
// per goroutine.
type Reader struct {
	Root     string
	PageSize int64
	buf      []byte
	path     []byte
	procfs   bool // Root is a procfs, whose fd directories' size is a count
}

// NewReader returns a Reader of root (Root when "").
func NewReader(root string) *Reader {
	if root == "" {
		root = Root
	}
	var fs unix.Statfs_t
	procfs := unix.Statfs(root, &fs) == nil && fs.Type == unix.PROC_SUPER_MAGIC
	return &Reader{Root: root, PageSize: int64(os.Getpagesize()), buf: make([]byte, 1024), procfs: procfs}
}

// Read returns pid's usage; the error says why /proc had nothing (the
// process is gone, or lives in another pid namespace).
func (r *Reader) Read(pid int) (Usage, error) {
	r.path = append(append(append(r.path[:0], r.Root...), '/'), strconv.Itoa(pid)...)
	dir := len(r.path)
	r.path = append(r.path, "/stat"...)
	fd, err := unix.Open(string(r.path), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return Usage{}, fmt.Errorf("reading %s: %w", r.path, err)
	}
	n, err := unix.Read(fd, r.buf)
	unix.Close(fd)
	if err != nil {
		return Usage{}, fmt.Errorf("reading %s: %w", r.path, err)
	}
	u, ok := parseStat(r.buf[:max(n, 0)])
	if !ok {
		return Usage{}, fmt.Errorf("parsing %s", r.path)
	}
	u.RSS *= r.PageSize
	r.path = append(r.path[:dir], "/fd"...)
	var st unix.Stat_t
	u.FDs = -1
	if r.procfs && unix.Stat(string(r.path), &st) == nil && st.Size > 0 {
		u.FDs = int(st.Size)
	} else if c, err := OpenFDs(r.Root, pid); err == nil {
		u.FDs = c
	}
	return u, nil
}

// parseStat reads utime (14), stime (15), starttime (22) and rss (24, in
// pages) of a /proc/<pid>/stat line, counting fields from the last ')'
// since the command name may hold spaces and parentheses.
func parseStat(data []byte) (Usage, bool) {
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return Usage{}, false
	}
	var u Usage
	field := 2 // the ')' ends field 2
	var v uint64
	in := false
	for _, c := range data[i+1:] {
		if c == ' ' || c == '\n' {
			if in {
				switch field {
				case 14, 15:
					u.Ticks += v
				case 22:
					u.StartTime = v
				case 24:
					u.RSS = int64(v)
				}
				if field == 24 {
					return u, true
				}
				in = false
			}
			continue
		}
		if !in {
			in, v = true, 0
			field++
		}
		if c >= '0' && c <= '9' {
			v = v*10 + uint64(c-'0')
		}
	}
	if in && field == 24 {
		u.RSS = int64(v)
		return u, true
	}
	return u, false
}

// Clone returns a Reader of the same root with a buffer of its own, for
// another goroutine.
func (r *Reader) Clone() *Reader {
	return &Reader{Root: r.Root, PageSize: r.PageSize, buf: make([]byte, len(r.buf)), procfs: r.procfs}
}
