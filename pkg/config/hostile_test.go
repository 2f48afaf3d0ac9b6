package config

import (
	"errors"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Issue 18: configs a hostile (or careless) user can write. Each Load must
// end quickly with a *config.Error, never hang or read without bound.

// loadWithin runs Load and fails the test if it has not returned by d: a
// FIFO include used to block in open() forever.
func loadWithin(t *testing.T, d time.Duration, path string, env []string) (*Config, error) {
	t.Helper()
	type result struct {
		c     *Config
		err   error
		panic any
	}
	done := make(chan result, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				done <- result{panic: r}
			}
		}()
		c, err := Load(path, Options{Env: env, Hostname: "h"})
		done <- result{c: c, err: err}
	}()
	select {
	case r := <-done:
		if r.panic != nil {
			text, _ := os.ReadFile(path)
			t.Fatalf("Load panics: %v\nconfig:\n%s", r.panic, text)
		}
		return r.c, r.err
	case <-time.After(d):
		t.Fatalf("Load(%s) has not returned after %v", path, d)
		return nil, nil
	}
}

func mkfifo(t *testing.T, path string) {
	t.Helper()
	if err := syscall.Mkfifo(path, 0o644); err != nil {
		t.Fatalf("mkfifo %s: %v", path, err)
	}
}

func TestIncludeNotRegularFile(t *testing.T) {
	const main = sd + "[include]\nfiles=conf.d/*.conf\n"
	cases := []struct {
		name  string
		setup func(t *testing.T, target string)
		want  string // after `could not read included file "<target>": `
	}{
		{"devzero", func(t *testing.T, p string) {
			if err := os.Symlink("/dev/zero", p); err != nil {
				t.Fatal(err)
			}
		}, "not a regular file but a character device (symlink to /dev/zero)"},
		{"fifo", func(t *testing.T, p string) { mkfifo(t, p) }, "not a regular file but a named pipe (FIFO)"},
		{"fifosymlink", func(t *testing.T, p string) {
			mkfifo(t, p+".fifo")
			if err := os.Symlink(filepath.Base(p)+".fifo", p); err != nil {
				t.Fatal(err)
			}
		}, "not a regular file but a named pipe (FIFO) (symlink to x.conf.fifo)"},
		{"toolarge", func(t *testing.T, p string) {
			// Sparse: no disk used, and nothing of it is read.
			if err := os.WriteFile(p, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Truncate(p, 1<<40); err != nil {
				t.Fatal(err)
			}
		}, "larger than 16 MiB"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeTree(t, dir, map[string]string{"s.conf": main, "conf.d/a.conf": "[program:a]\ncommand=/bin/cat\n"})
			target := filepath.Join(dir, "conf.d", "x.conf")
			tc.setup(t, target)
			for range 2 { // a second read (a second reread) must not queue behind the first
				_, err := loadWithin(t, 10*time.Second, filepath.Join(dir, "s.conf"), testEnv(dir))
				var ce *Error
				if !errors.As(err, &ce) || err != error(ce) {
					t.Fatalf("Load: %T %v, want *config.Error", err, err)
				}
				want := fmt.Sprintf("could not read included file \"%s\": %s", target, tc.want)
				if err.Error() != want {
					t.Fatalf("error\n got: %s\nwant: %s", err, want)
				}
				if !isFileError(err) {
					t.Errorf("error does not wrap a *FileError")
				}
			}
		})
	}
}

// TestIncludeDevicesAndDirectories: what the original reads or skips
// without an error loads the same here: a symlink to /dev/null is an empty
// file, a directory or a socket matched by the glob is skipped (open fails).
func TestIncludeDevicesAndDirectories(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"s.conf":        sd + "[include]\nfiles=conf.d/*\n",
		"conf.d/a.conf": "[program:a]\ncommand=/bin/cat\n",
	})
	if err := os.Symlink("/dev/null", filepath.Join(dir, "conf.d", "null.conf")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "conf.d", "old"), 0o755); err != nil {
		t.Fatal(err)
	}
	fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fd)
	if err := syscall.Bind(fd, &syscall.SockaddrUnix{Name: filepath.Join(dir, "conf.d", "s.sock")}); err != nil {
		t.Fatal(err)
	}
	loadsOnlyA(t, dir)
}

// TestIncludeUnreadableSkipped: files the original's RawConfigParser.read
// cannot open (a dangling symlink; a mode-000 file for non-root) are still
// skipped without an error, as in the original.
func TestIncludeUnreadableSkipped(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"s.conf":        sd + "[include]\nfiles=conf.d/*.conf\n",
		"conf.d/a.conf": "[program:a]\ncommand=/bin/cat\n",
	})
	if err := os.Symlink(filepath.Join(dir, "nowhere"), filepath.Join(dir, "conf.d", "dangling.conf")); err != nil {
		t.Fatal(err)
	}
	loadsOnlyA(t, dir)
}

// loadsOnlyA checks that dir/s.conf loads, with program a alone, here and
// under the original.
func loadsOnlyA(t *testing.T, dir string) {
	t.Helper()
	paths := []string{filepath.Join(dir, "s.conf")}
	c, err := loadWithin(t, 10*time.Second, paths[0], testEnv(dir))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Groups) != 1 || c.Groups[0].Name != "a" {
		t.Fatalf("groups %+v, want [a]", c.Groups)
	}
	if res := pyLoad(t, paths, testEnv(dir)); res[0]["error"] != nil {
		t.Errorf("the original refuses it: %v", res[0]["error"])
	}
}

func TestMainConfigNotRegularFile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.conf")
	mkfifo(t, fifo)
	zero := filepath.Join(dir, "zero.conf")
	if err := os.Symlink("/dev/zero", zero); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.conf")
	if err := os.WriteFile(big, []byte(sd), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(big, MaxFileSize+1); err != nil {
		t.Fatal(err)
	}
	for path, what := range map[string]string{
		fifo: ": not a regular file but a named pipe (FIFO)",
		zero: ": not a regular file but a character device (symlink to /dev/zero)",
		dir:  "", // as before: the original cannot read it either
		big:  ": larger than 16 MiB",
	} {
		want := "could not read config file " + path + what
		_, err := loadWithin(t, 10*time.Second, path, testEnv(dir))
		if err == nil || err.Error() != want {
			t.Errorf("Load(%s): %v\nwant: %s", path, err, want)
		}
		// supervisorctl reads the same file for [supervisorctl].
		done := make(chan error, 1)
		go func() { _, err := LoadCtl(path, Options{}); done <- err }()
		select {
		case err := <-done:
			if err == nil || err.Error() != want {
				t.Errorf("LoadCtl(%s): %v\nwant: %s", path, err, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("LoadCtl(%s) hangs", path)
		}
	}
}

// TestReadRegularFileLimit: exactly MaxFileSize bytes are read, one more
// is refused (the size is checked on what is read too, not only on stat).
func TestReadRegularFileLimit(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	if err := os.WriteFile(p, make([]byte, MaxFileSize), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, err := readRegularFile(p); err != nil || len(b) != MaxFileSize {
		t.Fatalf("read %d bytes, %v", len(b), err)
	}
	if err := os.Truncate(p, MaxFileSize+1); err != nil {
		t.Fatal(err)
	}
	if _, err := readRegularFile(p); !isFileError(err) {
		t.Fatalf("got %v, want a *FileError", err)
	}
	if _, err := readRegularFile(filepath.Join(dir, "missing")); err == nil || err.Error() != "open "+dir+"/missing: no such file or directory" {
		t.Fatalf("missing file: %v", err)
	}
}

func TestEnvironmentFileNotRegular(t *testing.T) {
	dir := t.TempDir()
	mkfifo(t, filepath.Join(dir, "fifo.env"))
	if err := os.Symlink("/dev/zero", filepath.Join(dir, "zero.env")); err != nil {
		t.Fatal(err)
	}
	for name, what := range map[string]string{
		"fifo.env": "not a regular file but a named pipe (FIFO)",
		"zero.env": "not a regular file but a character device (symlink to /dev/zero)",
	} {
		for _, opt := range []string{"", "-"} { // optional files too: they exist
			conf := sd + "[program:a]\ncommand=x\nenvironment_file=" + opt + "%(here)s/" + name + "\n"
			writeTree(t, dir, map[string]string{"s.conf": conf})
			_, err := loadWithin(t, 10*time.Second, filepath.Join(dir, "s.conf"), testEnv(dir))
			want := fmt.Sprintf("environment_file '%s/%s' cannot be read: %s in section 'program:a'", dir, name, what)
			if err == nil || !strings.HasPrefix(err.Error(), want) {
				t.Errorf("%s%s: %v\nwant: %s…", opt, name, err, want)
			}
		}
	}
	// At spawn the file is read again (SpawnEnvironment): a FIFO swapped in
	// since the config was read must not block the daemon either.
	f := EnvFile{Path: filepath.Join(dir, "fifo.env")}
	done := make(chan error, 1)
	go func() { _, err := f.Read(); done <- err }()
	select {
	case err := <-done:
		if err == nil {
			t.Error("reading a FIFO environment file succeeded")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("EnvFile.Read on a FIFO hangs")
	}
}

// TestSocketChmodRange: issue 18 defect 6. The original takes any integer
// octal_type() parses (-1 and 777777777777 gave every mode bit); we refuse
// anything outside 0–0777 with its "Invalid chmod value" text.
func TestSocketChmodRange(t *testing.T) {
	ok := map[string]int{"0": 0, "-0": 0, "0700": 0o700, "777": 0o777, "0o755": 0o755, " 0660 ": 0o660, "0_7_7_7": 0o777}
	bad := []string{"-1", "777777777777", "07777", "1777", "4755", "01000", "7777777777777777777777777", "abc", "8", "0x1ff"}
	dir := t.TempDir()
	env := testEnv(dir)
	load := func(key, v string) (*Config, error) {
		var conf string
		if key == "chmod" {
			conf = sd + "[unix_http_server]\nfile=%(here)s/s.sock\nchmod=" + v + "\n"
		} else {
			conf = sd + "[fcgi-program:f]\ncommand=x\nsocket=unix://%(here)s/f.sock\nsocket_mode=" + v + "\n"
		}
		writeTree(t, dir, map[string]string{"s.conf": conf})
		return Load(filepath.Join(dir, "s.conf"), Options{Env: env, Hostname: "h"})
	}
	for v, want := range ok {
		c, err := load("chmod", v)
		if err != nil {
			t.Errorf("chmod=%s: %v", v, err)
		} else if c.UnixHTTP.Chmod != want {
			t.Errorf("chmod=%s: %#o, want %#o", v, c.UnixHTTP.Chmod, want)
		}
		c, err = load("socket_mode", v)
		if err != nil {
			t.Errorf("socket_mode=%s: %v", v, err)
		} else if m := c.Groups[0].Socket.Mode; m != want {
			t.Errorf("socket_mode=%s: %#o, want %#o", v, m, want)
		}
	}
	for _, v := range bad {
		if _, err := load("chmod", v); err == nil || err.Error() != "Invalid chmod value "+v {
			t.Errorf("chmod=%s: %v, want Invalid chmod value %s", v, err, v)
		}
		if _, err := load("socket_mode", v); err == nil || err.Error() != "Invalid socket_mode value "+v {
			t.Errorf("socket_mode=%s: %v, want Invalid socket_mode value %s", v, err, v)
		}
	}
}

// TestIntegerRange: issue 18 defect 7. Python's integers are unbounded, so
// the original accepts these; we cannot represent them and say so (its
// "invalid literal for int()" would be wrong: the literal is valid).
func TestIntegerRange(t *testing.T) {
	const in = " in section 'program:a' (file: '%s')"
	cases := []struct{ conf, want string }{
		{"[program:a]\ncommand=x\npriority=-9223372036854775809\n", "value -9223372036854775809 is out of range"},
		{"[program:a]\ncommand=x\npriority=9223372036854775808\n", "value 9223372036854775808 is out of range"},
		{"[program:a]\ncommand=x\nstdout_logfile_maxbytes=18446744073709551616\n", "value 18446744073709551616 is out of range" + in},
		{"[program:a]\ncommand=x\nstdout_logfile_maxbytes=9223372036854775807KB\n", "value 9223372036854775807KB is out of range" + in},
		{"[program:a]\ncommand=x\nstderr_capture_maxbytes=-9007199254740993gb\n", "value -9007199254740993gb is out of range" + in},
		{"[program:a]\ncommand=x\nstartsecs= 1_000_000_000_000_000_000_000 \n", "value 1_000_000_000_000_000_000_000 is out of range" + in},
		{"[program:a]\ncommand=x\nstartretries=99999999999999999999\n", "value 99999999999999999999 is out of range" + in},
		{"[program:a]\ncommand=x\nnumprocs=-99999999999999999999\n", "value -99999999999999999999 is out of range" + in},
		{"[program:a]\ncommand=x\nprocess_name=%(process_num)s\nnumprocs=99999999999999999999\n", "value 99999999999999999999 is out of range" + in},
		{"[program:a]\ncommand=x\numask=7777777777777777777777777\n", "value 7777777777777777777777777 is out of range" + in},
		{"[group:g]\nprograms=a\npriority=99999999999999999999\n[program:a]\ncommand=x\n", "value 99999999999999999999 is out of range"},
		{"minfds=99999999999999999999\n", "value 99999999999999999999 is out of range"},
		{"logfile_maxbytes=99999999999999999999mb\n", "value 99999999999999999999mb is out of range"},
		// Our own keys keep their bound messages.
		{"[program:a]\ncommand=x\nbackoff_max=99999999999999999999\n", ""},
	}
	dir := t.TempDir()
	env := testEnv(dir)
	var paths, pyPaths []string
	for i, tc := range cases {
		d := filepath.Join(dir, fmt.Sprint(i))
		writeTree(t, d, map[string]string{"s.conf": sd + tc.conf})
		paths = append(paths, filepath.Join(d, "s.conf"))
		// The original makes 10^20 processes of this one: not asked.
		if !strings.Contains(tc.conf, "process_name=%(process_num)s") {
			pyPaths = append(pyPaths, paths[i])
		}
	}
	pyRes := pyLoad(t, pyPaths, env)
	py := map[string]map[string]any{}
	for i, p := range pyPaths {
		py[p] = pyRes[i]
	}
	for i, tc := range cases {
		_, err := Load(paths[i], Options{Env: env, Hostname: "h"})
		want := tc.want
		if strings.Contains(want, "%s") {
			want = fmt.Sprintf(want, paths[i])
		}
		if tc.want == "" {
			if err == nil || !strings.Contains(err.Error(), "99999999999999999999 is above upper bound") {
				t.Errorf("case %d: %v, want an upper bound error", i, err)
			}
			continue
		}
		if err == nil || err.Error() != want {
			t.Errorf("case %d: %v\nwant: %s", i, err, want)
		}
		if _, ok := overflow(err); !ok {
			t.Errorf("case %d: error does not wrap a *RangeError", i)
		}
		if e, ok := py[paths[i]]["error"]; ok {
			t.Errorf("case %d: the original refuses it (%v): then its text should be ours", i, e)
		}
	}
	// The 64-bit extremes themselves are fine.
	writeTree(t, dir, map[string]string{"s.conf": sd + "[program:a]\ncommand=x\npriority=-9223372036854775808\nstdout_logfile_maxbytes=8589934591gb\n"})
	c, err := Load(filepath.Join(dir, "s.conf"), Options{Env: env, Hostname: "h"})
	if err != nil {
		t.Fatal(err)
	}
	if p := c.Groups[0].Processes[0]; p.Priority != -9223372036854775808 || p.Stdout.MaxBytes != 8589934591<<30 {
		t.Errorf("priority %d, maxbytes %d", p.Priority, p.Stdout.MaxBytes)
	}
}

// TestMutatedConfigs is the attack run's "400 mutated configs with 0
// panics" as a deterministic test (FuzzLoad explores further): every
// golden and error config, mutated by byte edits, line duplication and
// splicing, and the insertion of hostile values, loads or fails with a
// *config.Error, quickly.
func TestMutatedConfigs(t *testing.T) {
	// The golden trees' files, with their paths flattened into the one
	// directory the mutants are loaded from (so that most seeds load).
	flat := regexp.MustCompile(`%\(here\)s/[^\s;]*/`)
	var seeds []string
	for _, tc := range goldenCases {
		for _, v := range tc.files {
			if v != "" {
				seeds = append(seeds, flat.ReplaceAllString(v, "%(here)s/"))
			}
		}
	}
	for _, tc := range errorCases {
		seeds = append(seeds, tc.conf)
	}
	hostile := []string{
		"priority=-9223372036854775809", "stdout_logfile_maxbytes=18446744073709551616", "chmod=-1",
		"chmod=777777777777", "umask=07777777777777777777777", "startsecs=1e9", "stopsignal=99999999999999999999",
		"command=%(", "command=%%(ENV_X)s", "[include]\nfiles=/dev/zero", "[include]\nfiles=/dev/*",
		"[include]\nfiles=/proc/self/*", "[include]\nfiles=fifo.conf", "environment_file=/dev/zero",
		"environment_file=fifo.env", "socket_backlog=-99999999999999999999", "port=:99999999999999999999",
		"user=99999999999999999999", "[program:\x00]", "\xff\xfe", "exitcodes=,,,", "numprocs=-1",
		"process_name=%(process_num)0999999999d", "environment=A=\"", "[group:g]\nprograms=" + strings.Repeat("a,", 500),
	}
	dir := t.TempDir()
	mkfifo(t, filepath.Join(dir, "fifo.conf"))
	mkfifo(t, filepath.Join(dir, "fifo.env"))
	path := filepath.Join(dir, "m.conf")
	env := []string{"HOME=" + dir, "TMPDIR=" + dir}
	rng := rand.New(rand.NewSource(18))
	mutate := func(s string) string {
		b := []byte(s)
		for range 1 + rng.Intn(2) {
			switch rng.Intn(6) {
			case 0: // flip a byte
				if len(b) > 0 {
					b[rng.Intn(len(b))] = byte(rng.Intn(256))
				}
			case 1: // delete a span
				if len(b) > 1 {
					i := rng.Intn(len(b))
					j := min(len(b), i+rng.Intn(16))
					b = append(b[:i:i], b[j:]...)
				}
			case 2: // duplicate a line
				lines := strings.Split(string(b), "\n")
				i := rng.Intn(len(lines))
				lines = append(lines[:i+1], lines[i:]...)
				b = []byte(strings.Join(lines, "\n"))
			case 3: // insert a hostile line
				lines := strings.Split(string(b), "\n")
				i := rng.Intn(len(lines) + 1)
				lines = append(lines[:i], append([]string{hostile[rng.Intn(len(hostile))]}, lines[i:]...)...)
				b = []byte(strings.Join(lines, "\n"))
			case 4: // splice another seed
				o := seeds[rng.Intn(len(seeds))]
				b = append(b[:rng.Intn(len(b)+1)], o[rng.Intn(len(o)+1):]...)
			case 5: // insert a special character
				i := rng.Intn(len(b) + 1)
				c := []string{"%", "=", ":", "[", "]", "\n", " ", ";", "#", "\t", "\r", "%(here)s"}[rng.Intn(12)]
				b = append(b[:i:i], append([]byte(c), b[i:]...)...)
			}
		}
		return string(b)
	}
	huge := regexp.MustCompile(`(?i)numprocs\s*[=:]\s*\+?[0-9_]{4,}`) // slow but valid, as in FuzzLoad
	n, errs := 0, 0
	for n < 500 {
		text := mutate(seeds[rng.Intn(len(seeds))])
		if huge.MatchString(text) {
			continue
		}
		n++
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		func() {
			start := time.Now()
			c, err := loadWithin(t, 20*time.Second, path, env)
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("Load took %v on config:\n%s", d, text)
			}
			if err != nil {
				errs++
				if _, ok := err.(*Error); !ok {
					t.Errorf("error %T is not *config.Error: %v\nconfig:\n%s", err, err, text)
				}
				return
			}
			_ = c.ConfigInfo()
			Diff(c.Groups, c.Groups)
		}()
	}
	t.Logf("%d mutated configs, %d refused", n, errs)
}
