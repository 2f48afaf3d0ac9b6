package logfile

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gosupervisor/gosupervisor/pkg/idlepoll"
)

// helperEnv makes the test binary act as a child process writing a
// deterministic pseudo-random stream of the given size to stdout.
const helperEnv = "LOGFILE_TEST_HELPER_BYTES"

func TestMain(m *testing.M) {
	if n := os.Getenv(helperEnv); n != "" {
		size, _ := strconv.ParseInt(n, 10, 64)
		w := bufio.NewWriterSize(os.Stdout, 1<<16)
		io.Copy(w, io.LimitReader(stream(), size))
		w.Flush()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// stream is the helper's output, reproducible in the test.
func stream() io.Reader { return rand.NewChaCha8([32]byte{1, 2, 3}) }

// sink records what a channel's hooks received.
type sink struct {
	mu       sync.Mutex
	captures []string
	logs     []string
	debug    []string
}

func (s *sink) opts(o ChannelOptions) ChannelOptions {
	o.OnCapture = func(b []byte) { s.mu.Lock(); s.captures = append(s.captures, string(b)); s.mu.Unlock() }
	o.OnLog = func(b []byte) { s.mu.Lock(); s.logs = append(s.logs, string(b)); s.mu.Unlock() }
	o.Debug = func(m string) { s.mu.Lock(); s.debug = append(s.debug, m); s.mu.Unlock() }
	return o
}

func TestChannelStripANSI(t *testing.T) {
	tests := []struct{ in, want string }{
		{"\x1b[31mRED\x1b[0m plain\n", "RED plain\n"}, // item 48
		{"no escapes", "no escapes"},
		{"a\x1b[1;32;40mb\x1b[Kc", "abc"},
		{"a\x1b[2Jb\x1b[10;20Hc", "abc"},
		{"unterminated \x1b[12", "unterminated "},
		{"\x1b[xyzmtail", "tail"}, // anything up to a terminator goes
		{"esc alone \x1b done", "esc alone \x1b done"},
		{"\x1b[m\x1b[m", ""},
	}
	for _, tc := range tests {
		if got := string(StripANSI([]byte(tc.in))); got != tc.want {
			t.Errorf("StripANSI(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	// Through a channel into a real file.
	path := filepath.Join(t.TempDir(), "a.log")
	rot, err := OpenRotator(path, 0, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := NewChannel(ChannelOptions{Name: "p", Stream: "stdout", Rotator: rot, StripANSI: true})
	c.Pump(strings.NewReader("\x1b[31mRED\x1b[0m plain\n"))
	c.Close()
	if got, _ := os.ReadFile(path); string(got) != "RED plain\n" {
		t.Errorf("log = %q", got)
	}
}

// Capture mode gives the same result however the output is cut into chunks.
func TestChannelCaptureAcrossChunks(t *testing.T) {
	input := "before<!--XSUPERVISOR:BEGIN-->captured data<!--XSUPERVISOR:END-->after and more text\n"
	for i := 0; i <= len(input); i++ {
		for j := i; j <= len(input); j += 3 {
			chunks := []string{input[:i], input[i:j], input[j:]}
			ring := NewRing(1024)
			var s sink
			c := NewChannel(s.opts(ChannelOptions{Name: "p", Stream: "stdout", Ring: ring, CaptureMaxBytes: 1024}))
			for _, ch := range chunks {
				c.Feed([]byte(ch))
			}
			c.Flush()
			got, _, _ := ring.ReadAt(0, 0)
			if string(got) != "beforeafter and more text\n" {
				t.Fatalf("split %d/%d: log %q", i, j, got)
			}
			if len(s.captures) != 1 || s.captures[0] != "captured data" {
				t.Fatalf("split %d/%d: captures %q", i, j, s.captures)
			}
			if strings.Join(s.logs, "") != "beforecaptured dataafter and more text\n" {
				t.Fatalf("split %d/%d: PROCESS_LOG data %q", i, j, s.logs)
			}
		}
	}
}

func TestChannelCaptureDetails(t *testing.T) {
	t.Run("short output waits for more, like the original", func(t *testing.T) {
		ring := NewRing(64)
		c := NewChannel(ChannelOptions{Ring: ring, CaptureMaxBytes: 100})
		c.Feed([]byte("hi\n"))
		if ring.End() != 0 {
			t.Fatalf("logged %d bytes before more data arrived", ring.End())
		}
		c.Feed([]byte("there, more than a token's worth\n"))
		if got, _, _ := ring.ReadAt(0, 0); string(got) != "hi\nthere, more than a token's worth\n" {
			t.Fatalf("log %q", got)
		}
	})
	t.Run("token prefix at a chunk end is held back", func(t *testing.T) {
		ring := NewRing(64)
		c := NewChannel(ChannelOptions{Ring: ring, CaptureMaxBytes: 100})
		c.Feed([]byte("some text before <!--XSUPER"))
		if got, _, _ := ring.ReadAt(0, 0); string(got) != "some text before " {
			t.Fatalf("log %q", got)
		}
		c.Feed([]byte("nothing"))
		c.Flush()
		if got, _, _ := ring.ReadAt(0, 0); string(got) != "some text before <!--XSUPERnothing" {
			t.Fatalf("log %q", got)
		}
	})
	t.Run("capture buffer bounded like BoundIO", func(t *testing.T) {
		var s sink
		c := NewChannel(s.opts(ChannelOptions{Name: "p", Stream: "stderr", CaptureMaxBytes: 10}))
		c.Feed([]byte("<!--XSUPERVISOR:BEGIN-->0123456789abcdefghijklmnopqrstuvwxyz"))
		c.Feed([]byte("ABCDEFGH<!--XSUPERVISOR:END-->"))
		c.Flush()
		// Chunks logged: "0123456789abcdefghijklmnopqrstuvwxyz" minus the held
		// back prefix (none), then "ABCDEFGH": 36 bytes then 8 bytes into a
		// 10-byte BoundIO → the 36 kept whole, then 8 dropped from the front.
		want := "0123456789abcdefghijklmnopqrstuvwxyz"[8:] + "ABCDEFGH"
		if len(s.captures) != 1 || s.captures[0] != want {
			t.Fatalf("captures %q, want %q", s.captures, want)
		}
		if len(s.debug) == 0 || s.debug[len(s.debug)-1] != "'p' stderr emitted a comm event" {
			t.Fatalf("debug %q", s.debug)
		}
	})
	t.Run("Clear empties the capture buffer", func(t *testing.T) {
		var s sink
		c := NewChannel(s.opts(ChannelOptions{CaptureMaxBytes: 100}))
		c.Feed([]byte("<!--XSUPERVISOR:BEGIN-->lost data lost data lost data"))
		c.Clear()
		c.Feed([]byte("kept<!--XSUPERVISOR:END-->"))
		if len(s.captures) != 1 || s.captures[0] != "kept" {
			t.Fatalf("captures %q", s.captures)
		}
	})
}

func TestChannelDebugAndSyslog(t *testing.T) {
	var s sink
	var lines []string
	sl := NewSyslog("test")
	sl.send = func(line string) error { lines = append(lines, line); return fmt.Errorf("no syslog here") }
	c := NewChannel(s.opts(ChannelOptions{Name: "web", Stream: "stdout", Syslog: sl}))
	c.Feed([]byte("one\ntwo\n\n"))
	c.Feed([]byte("bad \xff byte"))
	if want := []string{"web one", "web two"}; fmt.Sprint(lines[:2]) != fmt.Sprint(want) || len(lines) != 3 {
		t.Errorf("syslog lines %q", lines)
	}
	want := []string{"'web' stdout output:\none\ntwo\n\n", `'web' stdout output:` + "\n" + `Undecodable: b'bad \xff byte'`}
	if fmt.Sprint(s.debug) != fmt.Sprint(want) {
		t.Errorf("debug %q, want %q", s.debug, want)
	}
}

func TestBytesRepr(t *testing.T) {
	tests := []struct{ in, want string }{
		{"abc", `b'abc'`},
		{"it's", `b"it's"`},
		{`'"`, `b'\'"'`},
		{"\x00\t\n\r\x7f\xff\\", `b'\x00\t\n\r\x7f\xff\\'`},
	}
	for _, tc := range tests {
		if got := BytesRepr([]byte(tc.in)); got != tc.want {
			t.Errorf("BytesRepr(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

// 200 MB from a real child process through Pump into a rotating file: the
// backups and the file, oldest first, are exactly what the child wrote.
func TestChannelPumpChildAcrossRotations(t *testing.T) {
	t.Run("own buffer", func(t *testing.T) { pumpChildAcrossRotations(t, nil, nil) })
	// The pooled path waits in the runtime poller and borrows its buffer.
	t.Run("pooled buffer", func(t *testing.T) { pumpChildAcrossRotations(t, NewBufferPool(), nil) })
	// Start with an idle time so short that the reader keeps parking the
	// pipe and coming back on a new goroutine whenever the child pauses.
	t.Run("parked when idle", func(t *testing.T) {
		p, err := idlepoll.New()
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		pumpChildAcrossRotations(t, NewBufferPool(), p)
	})
}

func pumpChildAcrossRotations(t *testing.T, bufs *BufferPool, idle *idlepoll.Poller) {
	size := int64(200 << 20)
	if testing.Short() {
		size = 20 << 20
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "child.log")
	const maxBytes, backups = 8 << 20, 40
	rot, err := OpenRotator(path, maxBytes, backups, func(s string) { t.Errorf("warning %q", s) })
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), helperEnv+"="+strconv.FormatInt(size, 10))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var logged int64
	opt := ChannelOptions{Name: "child", Stream: "stdout", Rotator: rot, Buffers: bufs,
		OnLog: func(b []byte) { logged += int64(len(b)) }}
	if idle == nil {
		if err := NewChannel(opt).Pump(out); err != nil {
			t.Fatal(err)
		}
	} else {
		opt.Idle, opt.IdleAfter = idle, 50*time.Microsecond
		done := make(chan error, 1)
		NewChannel(opt).Start(out.(*os.File), func(err error) { done <- err })
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	c := NewChannel(opt)
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	c.Close()

	want := sha256.New()
	io.Copy(want, io.LimitReader(stream(), size))
	got := sha256.New()
	var total int64
	rotations := 0
	for i := backups; i >= 0; i-- {
		name := path
		if i > 0 {
			name = path + "." + strconv.Itoa(i)
		}
		f, err := os.Open(name)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		n, _ := io.Copy(got, f)
		f.Close()
		total += n
		if i > 0 {
			rotations++
			// Rotation happens after the write that reached the limit; a
			// write is at most one 128 KiB chunk.
			if n < maxBytes || n >= maxBytes+ReadChunk {
				t.Errorf("%s: %d bytes, want [%d, %d)", name, n, maxBytes, maxBytes+ReadChunk)
			}
		}
	}
	if total != size || logged != size || !bytes.Equal(got.Sum(nil), want.Sum(nil)) {
		t.Fatalf("logged %d, files hold %d bytes of %d; sha256 equal: %v", logged, total, size, bytes.Equal(got.Sum(nil), want.Sum(nil)))
	}
	if wantRot := int(size / (maxBytes + ReadChunk)); rotations < wantRot {
		t.Errorf("%d rotations, want at least %d", rotations, wantRot)
	}
}

// parkedPipe is what a channel that parks needs: a poller, a rotator on
// out.log in a temp dir (no rotation, a warning fails t), and a pipe whose
// write end is closed at the end of the test (the channel closes r).
func parkedPipe(t *testing.T) (*idlepoll.Poller, *Rotator, string, *os.File, *os.File) {
	t.Helper()
	p, err := idlepoll.New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	path := filepath.Join(t.TempDir(), "out.log")
	rot, err := OpenRotator(path, 0, 0, func(s string) { t.Errorf("warning %q", s) })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rot.Close() })
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return p, rot, path, r, w
}

// Start leaves no reader goroutine behind while the pipe is quiet: the pipe
// waits parked in the poller between bursts, and every byte of every burst
// still reaches the log, in order, before done runs once at the end.
func TestChannelStartParksWhenIdle(t *testing.T) {
	p, rot, path, r, w := parkedPipe(t)
	ring := NewRing(1 << 20)
	done := make(chan error, 2)
	NewChannel(ChannelOptions{Name: "p", Stream: "stdout", Rotator: rot, Ring: ring, Buffers: NewBufferPool(),
		Idle: p, IdleAfter: 5 * time.Millisecond}).Start(r, func(err error) { r.Close(); done <- err })

	waitParked := func(what string) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for p.Parked() != 1 {
			if time.Now().After(deadline) {
				t.Fatalf("%s: pipe not parked within 5s", what)
			}
			time.Sleep(time.Millisecond)
		}
	}
	waitParked("before any output")
	var want bytes.Buffer
	for burst := range 5 {
		line := fmt.Sprintf("burst %d %s\n", burst, strings.Repeat("x", burst*1000))
		want.WriteString(line)
		if _, err := w.WriteString(line); err != nil {
			t.Fatal(err)
		}
		// The burst is logged, then the quiet pipe goes back to the poller.
		if err := ring.Wait(t.Context(), int64(want.Len()-1)); err != nil {
			t.Fatal(err)
		}
		waitParked(fmt.Sprintf("after burst %d", burst))
	}
	w.Write([]byte("last words"))
	want.WriteString("last words")
	w.Close()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("done(%v), want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("done not called within 5s of the writer closing")
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want.Bytes()) {
		t.Fatalf("log holds %q, want %q", got, want.Bytes())
	}
	select {
	case err := <-done:
		t.Fatalf("done called twice (second: %v)", err)
	case <-time.After(20 * time.Millisecond):
	}
}

// With the poller closed Start still pumps every byte, on one goroutine.
func TestChannelStartWithClosedPoller(t *testing.T) {
	p, err := idlepoll.New()
	if err != nil {
		t.Fatal(err)
	}
	p.Close()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	done := make(chan error, 1)
	NewChannel(ChannelOptions{Name: "p", Stream: "stdout", Buffers: NewBufferPool(), Idle: p,
		OnLog: func(b []byte) { got.Write(b) }}).Start(r, func(err error) { r.Close(); done <- err })
	w.Write([]byte("hello "))
	w.Write([]byte("world"))
	w.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got.String() != "hello world" {
		t.Fatalf("logged %q, want %q", got.String(), "hello world")
	}
}
