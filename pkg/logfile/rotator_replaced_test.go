package logfile

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// TestReopenIfReplaced: issue 18 defect 5. The file kept open across
// spawns is reopened when its path no longer names it; a removed directory
// is recreated with a warning naming it.
func TestReopenIfReplaced(t *testing.T) {
	type warnings struct {
		sync.Mutex
		list []string
	}
	open := func(t *testing.T, path string) (*Rotator, *warnings) {
		t.Helper()
		w := &warnings{}
		r, err := OpenRotator(path, 0, 0, func(s string) { w.Lock(); w.list = append(w.list, s); w.Unlock() })
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.Close() })
		return r, w
	}
	write := func(t *testing.T, r *Rotator, s string) {
		t.Helper()
		if _, err := r.Write([]byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	read := func(t *testing.T, path string) string {
		t.Helper()
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}

	t.Run("unchanged", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "a.log")
		r, w := open(t, path)
		write(t, r, "one\n")
		if err := r.ReopenIfReplaced(); err != nil {
			t.Fatal(err)
		}
		write(t, r, "two\n")
		if got := read(t, path); got != "one\ntwo\n" {
			t.Errorf("file %q", got)
		}
		if len(w.list) != 0 {
			t.Errorf("warnings %q", w.list)
		}
	})

	t.Run("directory removed", func(t *testing.T) {
		base := t.TempDir()
		dir := filepath.Join(base, "logs", "deep")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, "talker.log")
		r, w := open(t, path)
		write(t, r, "before\n")
		if err := os.RemoveAll(filepath.Join(base, "logs")); err != nil {
			t.Fatal(err)
		}
		old := syscall.Umask(0o022)
		defer syscall.Umask(old)
		if err := r.ReopenIfReplaced(); err != nil {
			t.Fatal(err)
		}
		write(t, r, "after\n")
		if got := read(t, path); got != "after\n" {
			t.Errorf("file %q, want the output after the removal", got)
		}
		for _, d := range []string{filepath.Join(base, "logs"), dir} {
			st, err := os.Stat(d)
			if err != nil {
				t.Fatal(err)
			}
			if m := st.Mode().Perm(); m != 0o755 {
				t.Errorf("%s mode %#o, want 0755 (mkdir -p)", d, m)
			}
		}
		if len(w.list) != 1 || !strings.Contains(w.list[0], dir) || !strings.Contains(w.list[0], path) {
			t.Errorf("warnings %q, want one naming %s and %s", w.list, dir, path)
		}
	})

	t.Run("file removed", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "a.log")
		r, w := open(t, path)
		write(t, r, "before\n")
		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
		if err := r.ReopenIfReplaced(); err != nil {
			t.Fatal(err)
		}
		write(t, r, "after\n")
		if got := read(t, path); got != "after\n" {
			t.Errorf("file %q", got)
		}
		if len(w.list) != 1 || w.list[0] != "log file "+path+" was removed while in use; recreated it" {
			t.Errorf("warnings %q", w.list)
		}
	})

	t.Run("file moved away", func(t *testing.T) {
		// logrotate's create mode: the old file renamed, a new one created.
		path := filepath.Join(t.TempDir(), "a.log")
		r, w := open(t, path)
		write(t, r, "before\n")
		if err := os.Rename(path, path+".old"); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, nil, 0o640); err != nil {
			t.Fatal(err)
		}
		if err := r.ReopenIfReplaced(); err != nil {
			t.Fatal(err)
		}
		write(t, r, "after\n")
		if got := read(t, path); got != "after\n" {
			t.Errorf("new file %q", got)
		}
		if got := read(t, path+".old"); got != "before\n" {
			t.Errorf("old file %q", got)
		}
		if len(w.list) != 0 {
			t.Errorf("warnings %q", w.list)
		}
	})

	t.Run("not a regular file", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "fifo")
		if err := syscall.Mkfifo(path, 0o600); err != nil {
			t.Fatal(err)
		}
		r, _ := open(t, path)
		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
		if err := r.ReopenIfReplaced(); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Lstat(path); err == nil {
			t.Errorf("a removed FIFO target was recreated as a file")
		}
	})

	t.Run("directory removed before the first spawn", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "d")
		path := filepath.Join(dir, "a.log")
		var got []string
		r, err := OpenRotatorAtSpawn(path, 0, 0, func(s string) { got = append(got, s) })
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		write(t, r, "x\n")
		if read(t, path) != "x\n" {
			t.Error("not written")
		}
		if len(got) != 1 || !strings.Contains(got[0], dir) {
			t.Errorf("warnings %q", got)
		}
	})

	t.Run("closed", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "d")
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		r, _ := open(t, filepath.Join(dir, "a.log"))
		r.Close()
		os.RemoveAll(dir)
		if err := r.ReopenIfReplaced(); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(dir); err == nil {
			t.Errorf("a closed rotator recreated its directory")
		}
	})
}
