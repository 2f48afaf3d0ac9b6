package spawn_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gosupervisor/gosupervisor/pkg/spawn"
)

func TestResolve(t *testing.T) {
	dir := t.TempDir()
	write := func(rel string, mode os.FileMode) string {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("#!/bin/sh\n"), mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	exe := write("a/prog", 0o755)
	noexec := write("b/prog", 0o644)
	write("c/prog", 0o755)
	os.Mkdir(filepath.Join(dir, "d"), 0o755)
	os.Mkdir(filepath.Join(dir, "d", "prog"), 0o755)

	tests := []struct {
		name, argv0, path string
		want, wantErr     string
		is                error
	}{
		{"absolute ok", exe, "", exe, "", nil},
		{"absolute missing", "/nonexistent/cmd", "", "", "can't find command '/nonexistent/cmd'", spawn.ErrNotFound},
		{"absolute directory", dir, "", "", "command at '" + dir + "' is a directory", spawn.ErrNotExecutable},
		{"absolute no x bit", noexec, "", "", "command at '" + noexec + "' is not executable", spawn.ErrNotExecutable},
		{"search finds", "prog", dir + "/nowhere:" + dir + "/a", exe, "", nil},
		{"search keeps trailing slash", "prog", dir + "/a/", dir + "/a/prog", "", nil},
		{"search first stat wins even if not executable", "prog", dir + "/b:" + dir + "/c", "", "command at '" + noexec + "' is not executable", spawn.ErrNotExecutable},
		{"search hits a directory", "prog", dir + "/d:" + dir + "/a", "", "command at '" + dir + "/d/prog' is a directory", spawn.ErrNotExecutable},
		{"search misses", "nosuchprog", dir + "/a:" + dir + "/b", "", "can't find command 'nosuchprog'", spawn.ErrNotFound},
		{"repr of a quote", "it's", dir, "", `can't find command "it's"`, spawn.ErrNotFound},
		{"default path", "sh", spawn.DefaultPath, "/bin/sh", "", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := spawn.Resolve(tc.argv0, tc.path)
			if tc.wantErr == "" {
				if err != nil || got != tc.want {
					t.Fatalf("Resolve(%q, %q) = %q, %v; want %q", tc.argv0, tc.path, got, err, tc.want)
				}
				return
			}
			if err == nil || err.Error() != tc.wantErr {
				t.Fatalf("Resolve(%q, %q) error = %v; want %q", tc.argv0, tc.path, err, tc.wantErr)
			}
			if !errors.Is(err, tc.is) {
				t.Fatalf("errors.Is(%v, %v) = false", err, tc.is)
			}
		})
	}
}

func TestSearchPath(t *testing.T) {
	tests := []struct {
		prog    string
		progSet bool
		daemon  string
		want    string
	}{
		{"/p", true, "/d", "/p"},
		{"", true, "/d", ""}, // an empty program PATH is used as is
		{"", false, "/d", "/d"},
		{"", false, "", spawn.DefaultPath},
	}
	for _, tc := range tests {
		if got := spawn.SearchPath(tc.prog, tc.progSet, tc.daemon); got != tc.want {
			t.Errorf("SearchPath(%q, %v, %q) = %q, want %q", tc.prog, tc.progSet, tc.daemon, got, tc.want)
		}
	}
}

// "no permission" needs a non-root caller: a root-only executable resolved
// by a child running as nobody.
func TestResolveNoPermission(t *testing.T) {
	requireRoot(t)
	dir, err := os.MkdirTemp("", "spawn-noperm-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	prog := filepath.Join(dir, "rootonly")
	if err := os.WriteFile(prog, []byte("#!/bin/sh\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	h := startHarness(t)
	spec := roleSpec("resolve", prog)
	spec.Cred = nobody(t)
	spec.Path = publicExe(t)
	c, err := h.r.Spawn(spec)
	if err != nil {
		t.Fatal(err)
	}
	defer closeChild(c)
	out, errOut := readAll(t, c.Stdout), readAll(t, c.Stderr)
	if errOut != "" {
		t.Errorf("child stderr: %q", errOut)
	}
	h.mustExit(t, c.Pid)
	want := "no permission to run command '" + prog + "'\n"
	if out != want {
		t.Fatalf("child printed %q, want %q", out, want)
	}
}

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Getuid() != 0 {
		t.Skip("needs root (credential changes); run the tests as root to cover this")
	}
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
