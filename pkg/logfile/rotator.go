// Package logfile holds the output side of supervisord's logging: a rotating
// writer that names and shifts files exactly like the original, a bounded
// in-memory ring with absolute offsets for tails, the per-channel pipeline that
// child output flows through, and the readFile/tailFile offset arithmetic.
package logfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
)

// Deferred operations a Rotator performs as soon as its lock is free.
const (
	opReopen uint32 = 1 << iota
	opClear
	opClose
)

// Rotator is an io.Writer on a log file with the original supervisord's
// rotation: after each write that leaves the file at or above maxBytes it
// shifts f.(n-1)→f.n … f→f.1 and starts f afresh. A single write is never
// split, so a file can exceed maxBytes.
//
// Reopen, Clear and Close never wait for a write in progress: when a writer
// holds the lock (say, on a stalled disk) the operation is queued and the
// writer performs it right after its write. Only the pump that writes blocks
// on a slow disk, never the caller managing the log.
type Rotator struct {
	path     string
	maxBytes int64
	backups  int
	warn     func(string)

	pending atomic.Uint32
	// ident is the device and inode of the open regular file (nil when none
	// is open), for ReopenIfReplaced to compare with the path's without the
	// lock a writer on a stalled disk may hold.
	ident atomic.Pointer[fileIdent]

	mu      sync.Mutex
	f       *os.File // nil after a failed reopen; the next write retries
	regular bool     // only regular files are rotated, truncated or seeked
	closed  bool
	warns   []string // collected under mu, reported after unlocking
}

// OpenRotator opens path for appending (creating it). maxBytes ≤ 0 never
// rotates; backups = 0 truncates in place. warn (may be nil) receives
// messages about files or directories that had to be recreated. A missing
// directory here is an error naming the path (errors.Is fs.ErrNotExist).
func OpenRotator(path string, maxBytes int64, backups int, warn func(string)) (*Rotator, error) {
	if backups < 0 {
		backups = 0
	}
	r := &Rotator{path: path, maxBytes: maxBytes, backups: backups, warn: warn}
	if err := r.open(false, false); err != nil {
		return nil, err
	}
	return r, nil
}

// OpenRotatorAtSpawn is OpenRotator for a program's log at its first spawn:
// the directory existed when the config was read (the original checks
// that), so one missing now was removed since, and is recreated with a
// warning like at ReopenIfReplaced.
func OpenRotatorAtSpawn(path string, maxBytes int64, backups int, warn func(string)) (*Rotator, error) {
	if backups < 0 {
		backups = 0
	}
	r := &Rotator{path: path, maxBytes: maxBytes, backups: backups, warn: warn}
	err := r.open(false, true)
	r.report(r.takeWarns())
	if err != nil {
		return nil, err
	}
	return r, nil
}

// Path returns the file name the rotator writes to.
func (r *Rotator) Path() string { return r.path }

// Regular reports whether the target is a regular file (and so rotatable and
// readable by offset).
func (r *Rotator) Regular() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.regular
}

// open (re)opens r.path. A FIFO is opened read-write so that opening never
// blocks waiting for a reader and writing never raises EPIPE; other
// non-regular targets (/dev/stdout, ttys) are opened write-only without any
// seek — the original's seek there fails with "Illegal seek".
func (r *Rotator) open(truncate, recreateDir bool) error {
	flags := os.O_WRONLY | os.O_APPEND | os.O_CREATE
	if st, err := os.Stat(r.path); err == nil && st.Mode()&fs.ModeNamedPipe != 0 {
		flags = os.O_RDWR
	} else if truncate && (err != nil || st.Mode().IsRegular()) {
		flags |= os.O_TRUNC
	}
	f, err := os.OpenFile(r.path, flags, 0o666)
	if err != nil && recreateDir && errors.Is(err, fs.ErrNotExist) {
		dir := filepath.Dir(r.path)
		if _, serr := os.Stat(dir); errors.Is(serr, fs.ErrNotExist) {
			if merr := os.MkdirAll(dir, 0o755); merr != nil {
				return fmt.Errorf("recreate log directory %s: %w", dir, merr)
			}
			r.warns = append(r.warns, fmt.Sprintf("log directory %s was removed; recreated it for %s", dir, r.path))
			f, err = os.OpenFile(r.path, flags, 0o666)
		}
	}
	if err != nil {
		return fmt.Errorf("open log file %s: %w", r.path, err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("stat log file %s: %w", r.path, err)
	}
	r.f, r.regular = f, st.Mode().IsRegular()
	r.ident.Store(identOf(st))
	return nil
}

// fileIdent identifies a file: what os.SameFile compares.
type fileIdent struct{ dev, ino uint64 }

func identOf(st fs.FileInfo) *fileIdent {
	if !st.Mode().IsRegular() {
		return nil
	}
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	return &fileIdent{dev: uint64(sys.Dev), ino: sys.Ino}
}

// ReopenIfReplaced reopens the file if its path no longer names the file
// that is open: removed (with its directory, say by rm -rf LOGDIR) or
// replaced (moved away by a log rotation tool and created anew). The
// original opens its log files afresh at each spawn, so a restarted
// program's output goes to the file now at the path; we keep one file open
// across spawns and call this at each spawn instead. A removed directory is
// recreated (0755 less the umask, as mkdir -p) and a removed file created,
// each with a warning naming the path, rather than the original's spawn
// error. Like Reopen it never waits for a write in progress.
func (r *Rotator) ReopenIfReplaced() error {
	id := r.ident.Load()
	if id == nil {
		return nil // not a regular file, closed, or not open (the next write reopens)
	}
	st, err := os.Stat(r.path)
	var warn []string
	switch {
	case errors.Is(err, fs.ErrNotExist):
		// A removed directory is reported by open, which recreates it.
		if _, derr := os.Stat(filepath.Dir(r.path)); derr == nil {
			warn = append(warn, fmt.Sprintf("log file %s was removed while in use; recreated it", r.path))
		}
	case err != nil:
		return nil // cannot tell (EACCES on a directory): keep writing where we are
	default:
		if now := identOf(st); now != nil && *now == *id {
			return nil
		}
	}
	err = r.request(opReopen)
	r.report(warn)
	return err
}

// Write appends p in one write and rotates afterwards if the file reached
// maxBytes.
func (r *Rotator) Write(p []byte) (int, error) {
	r.mu.Lock()
	n, err := r.writeLocked(p)
	warns := r.takeWarns()
	r.mu.Unlock()
	r.report(warns)
	r.servicePending()
	return n, err
}

func (r *Rotator) writeLocked(p []byte) (int, error) {
	if r.closed {
		return 0, fmt.Errorf("write log file %s: %w", r.path, os.ErrClosed)
	}
	if r.f == nil {
		if err := r.open(false, true); err != nil {
			return 0, err
		}
	}
	n, err := r.f.Write(p)
	if err != nil {
		return n, fmt.Errorf("write log file %s: %w", r.path, err)
	}
	if r.maxBytes <= 0 || !r.regular {
		return n, nil
	}
	// With O_APPEND the offset after a write is the file's end, which is what
	// the original compares (stream.tell()).
	pos, err := r.f.Seek(0, io.SeekCurrent)
	if err != nil {
		return n, fmt.Errorf("size of log file %s: %w", r.path, err)
	}
	if pos >= r.maxBytes {
		if err := r.rotateLocked(); err != nil {
			return n, err
		}
	}
	return n, nil
}

func (r *Rotator) rotateLocked() error {
	r.f.Close()
	r.f = nil
	r.ident.Store(nil)
	if _, err := os.Lstat(r.path); errors.Is(err, fs.ErrNotExist) {
		r.warns = append(r.warns, fmt.Sprintf("log file %s was removed while in use; recreated it", r.path))
	}
	if r.backups > 0 {
		for i := r.backups - 1; i > 0; i-- {
			src := r.path + "." + strconv.Itoa(i)
			if _, err := os.Lstat(src); err == nil {
				if err := replace(src, r.path+"."+strconv.Itoa(i+1)); err != nil {
					return err
				}
			}
		}
		if err := replace(r.path, r.path+".1"); err != nil {
			return err
		}
	}
	return r.open(true, true)
}

// replace renames src to dst, removing dst first like the original; a source
// or destination that vanished meanwhile (a cleanup script) is not an error.
func replace(src, dst string) error {
	if err := os.Remove(dst); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("rotate log file: %w", err)
	}
	if err := os.Rename(src, dst); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("rotate log file: %w", err)
	}
	return nil
}

// Reopen closes and reopens the file in append mode (SIGUSR2), recreating a
// removed file, and a removed directory with a warning.
func (r *Rotator) Reopen() error { return r.request(opReopen) }

// Clear removes the file and reopens it empty (clearLog, clearProcessLogs).
// A non-regular target (/dev/stdout, a FIFO) is only reopened, never removed.
func (r *Rotator) Clear() error { return r.request(opClear) }

// Close closes the file; later writes fail with os.ErrClosed.
func (r *Rotator) Close() error { return r.request(opClose) }

// request queues op and performs it now unless a writer holds the lock, in
// which case that writer performs it after its write (see servicePending).
func (r *Rotator) request(op uint32) error {
	r.pending.Or(op)
	if !r.mu.TryLock() {
		return nil
	}
	err := r.doLocked(r.pending.Swap(0))
	warns := r.takeWarns()
	r.mu.Unlock()
	r.report(warns)
	r.servicePending()
	return err
}

// servicePending runs operations queued while the lock was held. If the lock
// is taken again meanwhile, its new holder does the work.
func (r *Rotator) servicePending() {
	for r.pending.Load() != 0 {
		if !r.mu.TryLock() {
			return
		}
		_ = r.doLocked(r.pending.Swap(0)) // nobody waits for a deferred result
		warns := r.takeWarns()
		r.mu.Unlock()
		r.report(warns)
	}
}

func (r *Rotator) doLocked(ops uint32) error {
	if ops == 0 || r.closed {
		return nil
	}
	if r.f != nil {
		r.f.Close()
		r.f = nil
		r.ident.Store(nil)
	}
	switch {
	case ops&opClose != 0:
		r.closed = true
		return nil
	case ops&opClear != 0 && r.regular:
		if err := os.Remove(r.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove log file %s: %w", r.path, err)
		}
	}
	return r.open(false, true)
}

func (r *Rotator) takeWarns() []string {
	w := r.warns
	r.warns = nil
	return w
}

// report calls warn outside the lock: the main log's warnings are written
// through this very rotator.
func (r *Rotator) report(warns []string) {
	if r.warn == nil {
		return
	}
	for _, w := range warns {
		r.warn(w)
	}
}
