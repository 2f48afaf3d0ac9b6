package procstat

import (
	"os"
	"path/filepath"
	"testing"
)

func TestSelf(t *testing.T) {
	pid := os.Getpid()
	ticks, start, err := Stat(Root, pid)
	if err != nil || start == 0 {
		t.Fatalf("Stat: %d %d %v", ticks, start, err)
	}
	rss, err := RSS(Root, pid, int64(os.Getpagesize()))
	if err != nil || rss <= 0 {
		t.Fatalf("RSS: %d %v", rss, err)
	}
	f, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n, err := OpenFDs(Root, pid)
	if err != nil || n < 4 { // stdin, stdout, stderr, f
		t.Fatalf("OpenFDs: %d %v", n, err)
	}
	if up, err := Uptime(Root); err != nil || up <= 0 {
		t.Fatalf("Uptime: %v %v", up, err)
	}
}

func TestFake(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "42")
	if err := os.MkdirAll(filepath.Join(dir, "fd"), 0o755); err != nil {
		t.Fatal(err)
	}
	// A command name with spaces and a ')' of its own.
	stat := "42 (a) b) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 1 0 12345 1000 10 0 0\n"
	write := func(name, data string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("stat", stat)
	write("statm", "100 7 3 1 0 5 0\n")
	for _, n := range []string{"0", "1", "2"} {
		write(filepath.Join("fd", n), "")
	}
	ticks, start, err := Stat(root, 42)
	if err != nil || ticks != 300 || start != 12345 {
		t.Fatalf("Stat = %d, %d, %v; want 300, 12345", ticks, start, err)
	}
	if rss, err := RSS(root, 42, 4096); err != nil || rss != 7*4096 {
		t.Fatalf("RSS = %d, %v", rss, err)
	}
	if n, err := OpenFDs(root, 42); err != nil || n != 3 {
		t.Fatalf("OpenFDs = %d, %v", n, err)
	}
	if _, _, err := Stat(root, 43); err == nil {
		t.Fatal("Stat of a missing pid: no error")
	}
	write("stat", "42 (x) S 1 2\n")
	if _, _, err := Stat(root, 42); err == nil {
		t.Fatal("short stat: no error")
	}
}

func TestReader(t *testing.T) {
	pid := os.Getpid()
	r := NewReader("")
	u, err := r.Read(pid)
	if err != nil {
		t.Fatal(err)
	}
	ticks, start, err := Stat(Root, pid)
	if err != nil {
		t.Fatal(err)
	}
	if u.StartTime != start || u.Ticks > ticks+50 || u.Ticks+50 < ticks {
		t.Errorf("Read = %+v; Stat = %d, %d", u, ticks, start)
	}
	if rss, _ := RSS(Root, pid, int64(os.Getpagesize())); u.RSS <= 0 || u.RSS > 2*rss || 2*u.RSS < rss {
		t.Errorf("Read RSS %d, statm %d", u.RSS, rss)
	}
	if n, _ := OpenFDs(Root, pid); u.FDs < n-2 || u.FDs > n+2 {
		t.Errorf("Read FDs %d, listing %d", u.FDs, n)
	}
	if _, err := r.Read(1 << 30); err == nil {
		t.Error("Read of a pid that cannot exist: no error")
	}

	// A fake /proc: the fd directory's size is 0 there (like before Linux
	// 6.2), so it is listed.
	root := t.TempDir()
	dir := filepath.Join(root, "42")
	if err := os.MkdirAll(filepath.Join(dir, "fd"), 0o755); err != nil {
		t.Fatal(err)
	}
	stat := "42 (a) b) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 1 0 12345 1000 10 0 0\n"
	if err := os.WriteFile(filepath.Join(dir, "stat"), []byte(stat), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"0", "1"} {
		if err := os.WriteFile(filepath.Join(dir, "fd", n), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	fr := NewReader(root)
	fr.PageSize = 4096
	got, err := fr.Read(42)
	if want := (Usage{Ticks: 300, StartTime: 12345, RSS: 10 * 4096, FDs: 2}); err != nil || got != want {
		t.Errorf("fake Read = %+v, %v; want %+v", got, err, want)
	}
}
