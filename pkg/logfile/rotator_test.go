package logfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// files returns the sizes of path and path.1 … path.9 that exist.
func files(t *testing.T, path string) map[string]string {
	t.Helper()
	got := map[string]string{}
	for i := 0; i < 10; i++ {
		name := path
		if i > 0 {
			name = fmt.Sprintf("%s.%d", path, i)
		}
		data, err := os.ReadFile(name)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		got[filepath.Base(name)] = string(data)
	}
	return got
}

func TestRotatorRotation(t *testing.T) {
	big := strings.Repeat("x", 8192)
	tests := []struct {
		name     string
		maxBytes int64
		backups  int
		existing string
		writes   []string
		want     map[string]string
	}{
		{"item34: one 8KB write over 2KB, backups 2", 2048, 2, "", []string{big},
			map[string]string{"x.out": "", "x.out.1": big}},
		{"below the limit stays", 10, 2, "", []string{"123456789"},
			map[string]string{"x.out": "123456789"}},
		{"rotates after the write reaching the limit", 10, 2, "", []string{"12345", "67890", "a"},
			map[string]string{"x.out": "a", "x.out.1": "1234567890"}},
		{"shift keeps at most backups", 10, 3, "", []string{"aaaaaaaaaa", "bbbbbbbbbb", "cccccccccc", "dddddddddd", "e"},
			map[string]string{"x.out": "e", "x.out.1": "dddddddddd", "x.out.2": "cccccccccc", "x.out.3": "bbbbbbbbbb"}},
		{"backups 0 truncates in place (item35)", 10, 0, "", []string{"aaaaaaaaaaaa", "b"},
			map[string]string{"x.out": "b"}},
		{"maxbytes 0 never rotates", 0, 2, "", []string{big, big},
			map[string]string{"x.out": big + big}},
		{"appends to an existing file and counts it", 10, 1, "12345", []string{"6789", "0", "z"},
			map[string]string{"x.out": "z", "x.out.1": "1234567890"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "x.out")
			if tc.existing != "" {
				if err := os.WriteFile(path, []byte(tc.existing), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			r, err := OpenRotator(path, tc.maxBytes, tc.backups, func(s string) { t.Errorf("unexpected warning %q", s) })
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			for _, w := range tc.writes {
				if n, err := r.Write([]byte(w)); err != nil || n != len(w) {
					t.Fatalf("Write = %d, %v", n, err)
				}
			}
			got := files(t, path)
			if len(got) != len(tc.want) {
				t.Errorf("files %v, want %v", keys(got), keys(tc.want))
			}
			for name, want := range tc.want {
				if got[name] != want {
					t.Errorf("%s: %d bytes %.20q, want %d bytes %.20q", name, len(got[name]), got[name], len(want), want)
				}
			}
		})
	}
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestRotatorMissingDirectoryAtOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nodir", "x.log")
	_, err := OpenRotator(path, 0, 0, nil)
	if err == nil || !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), path) {
		t.Fatalf("err = %v, want ENOENT naming %s", err, path)
	}
}

// warnings collects warn callbacks safely.
type warnings struct {
	mu   sync.Mutex
	msgs []string
}

func (w *warnings) add(s string) { w.mu.Lock(); w.msgs = append(w.msgs, s); w.mu.Unlock() }
func (w *warnings) all() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.msgs...)
}

func TestRotatorReopen(t *testing.T) {
	tests := []struct {
		name     string
		damage   func(dir, path string) error
		wantWarn string // substring; "" = no warning
		oldGets  string // content of the moved file, if moved
	}{
		{"file moved (item36)", func(dir, path string) error { return os.Rename(path, path+".moved") }, "", "before\nafter-move\n"},
		{"file removed", func(dir, path string) error { return os.Remove(path) }, "", ""},
		{"directory removed", func(dir, path string) error { return os.RemoveAll(dir) }, "was removed; recreated", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "logs")
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, "a.log")
			var w warnings
			r, err := OpenRotator(path, 1<<20, 3, w.add)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			r.Write([]byte("before\n"))
			if err := tc.damage(dir, path); err != nil {
				t.Fatal(err)
			}
			r.Write([]byte("after-move\n")) // still goes to the old inode
			if err := r.Reopen(); err != nil {
				t.Fatalf("Reopen: %v", err)
			}
			if _, err := r.Write([]byte("new\n")); err != nil {
				t.Fatal(err)
			}
			if got, _ := os.ReadFile(path); string(got) != "new\n" {
				t.Errorf("new file = %q, want %q", got, "new\n")
			}
			if tc.oldGets != "" {
				if got, _ := os.ReadFile(path + ".moved"); string(got) != tc.oldGets {
					t.Errorf("moved file = %q, want %q", got, tc.oldGets)
				}
			}
			ws := w.all()
			switch {
			case tc.wantWarn == "" && len(ws) > 0:
				t.Errorf("warnings %q, want none", ws)
			case tc.wantWarn != "" && (len(ws) != 1 || !strings.Contains(ws[0], tc.wantWarn) || !strings.Contains(ws[0], dir)):
				t.Errorf("warnings %q, want one containing %q and %s", ws, tc.wantWarn, dir)
			}
		})
	}
}

func TestRotatorRecreatesAtRotation(t *testing.T) {
	tests := []struct {
		name     string
		damage   func(dir, path string) error
		wantWarn string
	}{
		{"file removed", func(dir, path string) error { return os.Remove(path) }, "removed while in use"},
		{"directory removed", func(dir, path string) error { return os.RemoveAll(dir) }, "log directory"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "logs")
			os.Mkdir(dir, 0o755)
			path := filepath.Join(dir, "a.log")
			var w warnings
			r, err := OpenRotator(path, 10, 2, w.add)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			r.Write([]byte("12345"))
			tc.damage(dir, path)
			if _, err := r.Write([]byte("67890")); err != nil { // crosses the limit: rotation
				t.Fatalf("Write: %v", err)
			}
			if _, err := r.Write([]byte("x")); err != nil {
				t.Fatal(err)
			}
			if got, _ := os.ReadFile(path); string(got) != "x" {
				t.Errorf("file = %q, want %q", got, "x")
			}
			if ws := w.all(); len(ws) == 0 || !strings.Contains(strings.Join(ws, "|"), tc.wantWarn) {
				t.Errorf("warnings %q, want %q", ws, tc.wantWarn)
			}
		})
	}
}

func TestRotatorClear(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.log")
	os.WriteFile(path, nil, 0o600)
	r, err := OpenRotator(path, 0, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	r.Write([]byte("old data"))
	if err := r.Clear(); err != nil {
		t.Fatal(err)
	}
	r.Write([]byte("n"))
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Size() != 1 {
		t.Errorf("size after clear+write = %d, want 1", st.Size())
	}
	// The new file gets the default mode, not the old 0600 (SPEC §4.5).
	ref, err := os.Create(filepath.Join(filepath.Dir(path), "ref"))
	if err != nil {
		t.Fatal(err)
	}
	ref.Close()
	rst, _ := os.Stat(ref.Name())
	if st.Mode() != rst.Mode() {
		t.Errorf("mode %v, want the default %v", st.Mode(), rst.Mode())
	}
}

func TestRotatorClose(t *testing.T) {
	r, err := OpenRotator(filepath.Join(t.TempDir(), "a.log"), 0, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	if _, err := r.Write([]byte("x")); !errors.Is(err, os.ErrClosed) {
		t.Errorf("Write after Close: %v, want ErrClosed", err)
	}
}

// A char device (reached through a symlink, so a buggy rename could only
// hit the link) is written but never rotated, truncated or removed.
func TestRotatorCharDeviceNeverRotated(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "null")
	if err := os.Symlink("/dev/null", path); err != nil {
		t.Fatal(err)
	}
	r, err := OpenRotator(path, 1, 2, func(s string) { t.Errorf("warning %q", s) })
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.Regular() {
		t.Fatal("Regular() = true for /dev/null")
	}
	for i := 0; i < 3; i++ {
		if _, err := r.Write([]byte("data")); err != nil {
			t.Fatalf("Write: %v", err)
		}
	}
	if err := r.Clear(); err != nil {
		t.Fatalf("Clear: %v", err)
	}
	if err := r.Reopen(); err != nil {
		t.Fatalf("Reopen: %v", err)
	}
	if _, err := r.Write([]byte("data")); err != nil {
		t.Fatalf("Write: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("dir holds %d entries, want only the link", len(entries))
	}
	if fi, err := os.Lstat(path); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		t.Errorf("link replaced: %v %v", fi, err)
	}
}

// A FIFO target: opening never blocks, writes are never seeked ("Illegal
// seek" in the original) nor rotated, and every byte reaches the reader.
func TestRotatorFIFO(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := OpenRotator(path, 10, 2, func(s string) { t.Errorf("warning %q", s) })
	if err != nil {
		t.Fatal(err)
	}
	rd, err := os.OpenFile(path, os.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	want := bytes.Repeat([]byte("0123456789abcdef"), 100)
	got := make(chan []byte)
	go func() {
		b, _ := io.ReadAll(io.LimitReader(rd, int64(len(want))))
		got <- b
	}()
	for i := 0; i < len(want); i += 16 {
		if _, err := r.Write(want[i : i+16]); err != nil {
			t.Fatalf("Write: %v", err)
		}
	}
	select {
	case b := <-got:
		if !bytes.Equal(b, want) {
			t.Errorf("reader got %d bytes, want %d", len(b), len(want))
		}
	case <-time.After(10 * time.Second):
		t.Fatal("reader did not receive the data")
	}
	r.Close()
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("dir holds %d entries, want only the fifo", len(entries))
	}
}

// Reopen while a writer holds the lock (a stalled disk) returns at once and
// is performed by the writer when it finishes.
func TestRotatorReopenDoesNotWaitForWriter(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.log")
	r, err := OpenRotator(path, 0, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	r.mu.Lock() // the "slow write"
	os.Remove(path)
	done := make(chan error)
	go func() { done <- r.Reopen() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Reopen blocked behind the writer")
	}
	if _, err := os.Stat(path); err == nil {
		t.Fatal("reopened before the writer finished")
	}
	r.mu.Unlock()
	r.servicePending() // what Write does after unlocking
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("deferred reopen not performed: %v", err)
	}
}
