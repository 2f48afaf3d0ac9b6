package logfile

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// fixedNow is the clock of the byte-exact tests.
var fixedTime = time.Date(2026, 12, 2, 17, 3, 4, 123_456_789, time.UTC)

func fixedNow() time.Time { return fixedTime }

// fakeForward records what a channel forwards.
type fakeForward struct {
	mu      sync.Mutex
	prefix  []byte
	batches []string
	lines   int
}

func (f *fakeForward) Prefix() []byte { return f.prefix }
func (f *fakeForward) Forward(b []byte, n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !bytes.HasSuffix(b, []byte("\n")) || bytes.Count(b, []byte("\n")) != n {
		panic("forwarded batch is not n whole lines")
	}
	f.batches = append(f.batches, string(b))
	f.lines += n
}

func (f *fakeForward) text() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return strings.Join(f.batches, "")
}

// fileChannel is a channel on a log file in a temp dir; read returns the file.
func fileChannel(t *testing.T, o ChannelOptions) (*Channel, func() string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "out.log")
	rot, err := OpenRotator(path, 0, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rot.Close() })
	if o.Name == "" {
		o.Name, o.Group, o.Stream, o.Pid = "web", "site", "stdout", 4242
	}
	o.Rotator = rot
	if o.Ring == nil {
		o.Ring = NewRing(4 << 20)
	}
	c := NewChannel(o)
	return c, func() string {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		data, _, _ := o.Ring.ReadAt(0, 0)
		if !bytes.HasSuffix(b, data) || (len(data) < len(b) && len(data) != o.Ring.Size()) {
			t.Fatalf("ring and file differ: %d vs %d bytes", len(data), len(b))
		}
		return string(b)
	}
}

func TestFormatTimestampedBytes(t *testing.T) {
	c, read := fileChannel(t, ChannelOptions{Format: FormatTimestamped, Now: fixedNow})
	c.Feed([]byte("one\ntwo\n\nthr"))
	c.Feed([]byte("ee\r\nbad \xff\xfe\n"))
	const ts = "2026-12-02T17:03:04.123Z "
	want := ts + "one\n" + ts + "two\n" + ts + "\n" + ts + "three\r\n" + ts + "bad \xff\xfe\n"
	if got := read(); got != want {
		t.Fatalf("file:\n%q\nwant\n%q", got, want)
	}
	c.Feed([]byte("tail without newline"))
	c.Flush()
	want += ts + "tail without newline\n"
	if got := read(); got != want {
		t.Fatalf("after flush:\n%q\nwant\n%q", got, want)
	}
}

func TestFormatJSONBytes(t *testing.T) {
	c, read := fileChannel(t, ChannelOptions{Format: FormatJSON, Now: fixedNow})
	c.Feed([]byte("hello \"world\" \\ \t\x01 é ✓\nbad \xff and \xc3(\n\n"))
	head := `{"time":"2026-12-02T17:03:04.123Z","program":"web","group":"site","stream":"stdout","pid":4242,"line":`
	want := head + `"hello \"world\" \\ \t\u0001 é ✓"}` + "\n" +
		head + `"bad \ufffd and \ufffd("` + `,"line_b64":"` + base64.StdEncoding.EncodeToString([]byte("bad \xff and \xc3(")) + `"}` + "\n" +
		head + `""}` + "\n"
	got := read()
	if got != want {
		t.Fatalf("file:\n%s\nwant\n%s", got, want)
	}
	// Every record is JSON, and the exact bytes come back from line_b64.
	lines := []string{"hello \"world\" \\ \t\x01 é ✓", "bad \xff and \xc3(", ""}
	for i, rec := range strings.Split(strings.TrimSuffix(got, "\n"), "\n") {
		var r struct {
			Time, Program, Group, Stream, Line, LineB64 string
			Pid                                         int
		}
		if err := json.Unmarshal([]byte(rec), &r); err != nil {
			t.Fatalf("record %d: %v: %s", i, err, rec)
		}
		exact := r.Line
		if b, ok := jsonField(rec, "line_b64"); ok {
			raw, err := base64.StdEncoding.DecodeString(b)
			if err != nil {
				t.Fatal(err)
			}
			exact = string(raw)
		}
		if exact != lines[i] || r.Program != "web" || r.Group != "site" || r.Stream != "stdout" || r.Pid != 4242 || r.Time != "2026-12-02T17:03:04.123Z" {
			t.Errorf("record %d = %+v, exact %q", i, r, exact)
		}
	}
}

func jsonField(rec, key string) (string, bool) {
	var m map[string]any
	_ = json.Unmarshal([]byte(rec), &m)
	s, ok := m[key].(string)
	return s, ok
}

// The formats split and join lines the same whatever the pipe reads were.
func TestFormatSplitAcrossReads(t *testing.T) {
	var in []byte
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 1000 {
		n := rng.IntN(300)
		if i%450 == 1 {
			n = MaxLine + rng.IntN(3*MaxLine) // long lines too
		}
		for range n {
			const alphabet = "abcdefgh\xffé\t\""
			in = append(in, alphabet[rng.IntN(len(alphabet))])
		}
		in = append(in, '\n')
	}
	in = append(in, "no newline at the end"...)
	for _, f := range []Format{FormatRaw, FormatTimestamped, FormatJSON} {
		var want string
		for _, chunking := range []int{len(in), 1 << 17, 4096, 61, 5} {
			fw := &fakeForward{prefix: []byte("web | ")}
			c, read := fileChannel(t, ChannelOptions{Format: f, Now: fixedNow, Forward: fw})
			for rest := in; len(rest) > 0; {
				n := min(len(rest), chunking)
				if chunking < 100 {
					n = min(len(rest), 1+rng.IntN(chunking*2)) // irregular
				}
				c.Feed(rest[:n])
				rest = rest[n:]
			}
			c.Flush()
			got := read()
			if f == FormatRaw && got != string(in) {
				t.Fatalf("raw file changed")
			}
			fwd := fw.text()
			if want == "" {
				want = fwd
				continue
			}
			if fwd != want {
				t.Fatalf("%v, reads of %d: forwarded bytes differ from one read", f, chunking)
			}
			if f != FormatRaw && got != strings.ReplaceAll(strings.TrimSuffix("\n"+fwd, "\n"), "\nweb | ", "\n")[1:]+"\n" {
				t.Fatalf("%v: file is not the forwarded lines without the prefix", f)
			}
		}
	}
}

// A 1 MB line is written as 16 records of MaxLine bytes, read in pieces.
func TestFormatMegabyteLine(t *testing.T) {
	line := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	for _, f := range []Format{FormatTimestamped, FormatJSON} {
		c, read := fileChannel(t, ChannelOptions{Format: f, Now: fixedNow})
		data := append(append([]byte("before\n"), line...), "\nafter\n"...)
		for len(data) > 0 {
			n := min(len(data), ReadChunk)
			c.Feed(data[:n])
			data = data[n:]
		}
		var want []byte
		want = append(want, FormatLine(f, fixedTime, "web", "site", "stdout", 4242, []byte("before"))...)
		for i := 0; i < len(line); i += MaxLine {
			want = append(want, FormatLine(f, fixedTime, "web", "site", "stdout", 4242, line[i:i+MaxLine])...)
		}
		want = append(want, FormatLine(f, fixedTime, "web", "site", "stdout", 4242, []byte("after"))...)
		if got := read(); got != string(want) {
			t.Fatalf("%v: %d bytes, want %d", f, len(got), len(want))
		}
		if n := strings.Count(read(), "\n"); n != 18 {
			t.Fatalf("%v: %d records, want 18", f, n)
		}
	}
	// The 64 KiB boundary: exactly MaxLine is one record, one byte more two.
	c, read := fileChannel(t, ChannelOptions{Format: FormatTimestamped, Now: fixedNow})
	c.Feed(bytes.Repeat([]byte("x"), MaxLine))
	c.Feed([]byte("\n"))
	c.Feed(bytes.Repeat([]byte("y"), MaxLine+1))
	c.Feed([]byte("\n"))
	ts := "2026-12-02T17:03:04.123Z "
	want := ts + strings.Repeat("x", MaxLine) + "\n" + ts + strings.Repeat("y", MaxLine) + "\n" + ts + "y\n"
	if got := read(); got != want {
		t.Fatalf("boundary: got %d bytes, want %d", len(got), len(want))
	}
}

// A partial line goes out as a line after PartialQuiet without output, in
// fake time: no sleeps.
func TestFormatPartialAfterQuiet(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fw := &fakeForward{prefix: []byte("web | ")}
		c, read := fileChannel(t, ChannelOptions{Format: FormatTimestamped, Forward: fw})
		stamp := func() string { return time.Now().UTC().Format(TimeLayout) + " " }
		c.Feed([]byte("done\nprompt> "))
		first := stamp()
		time.Sleep(PartialQuiet / 2)
		c.Feed([]byte("more")) // output restarts the quiet time
		last := stamp()
		time.Sleep(PartialQuiet - time.Millisecond)
		synctest.Wait()
		if got, want := read(), first+"done\n"; got != want {
			t.Fatalf("before quiet: %q, want %q", got, want)
		}
		time.Sleep(time.Millisecond)
		synctest.Wait()
		want := first + "done\n" + last + "prompt> more\n"
		if got := read(); got != want {
			t.Fatalf("after quiet: %q, want %q", got, want)
		}
		if got := fw.text(); got != "web | "+first+"done\nweb | "+last+"prompt> more\n" {
			t.Fatalf("forwarded %q", got)
		}
		// No timer is left once nothing waits.
		c.lines.mu.Lock()
		armed := c.lines.timer != nil
		c.lines.mu.Unlock()
		if armed {
			t.Fatal("timer still armed with no partial line")
		}
		c.Feed([]byte("x"))
		c.Flush() // end of stream: written now, the timer stops
		if got := read(); got != want+stamp()+"x\n" {
			t.Fatalf("flush: %q", got)
		}
	})
}

// Raw and forwarded: the file gets exactly the child's bytes, the forwarder
// whole prefixed lines; a partial line is forwarded after the quiet time.
func TestForwardRaw(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fw := &fakeForward{prefix: []byte("db    | ")}
		c, read := fileChannel(t, ChannelOptions{Forward: fw})
		c.Feed([]byte("a\nb"))
		c.Feed([]byte("c\n\xff\nd"))
		if got := read(); got != "a\nbc\n\xff\nd" {
			t.Fatalf("file %q", got)
		}
		if got := fw.text(); got != "db    | a\ndb    | bc\ndb    | \xff\n" {
			t.Fatalf("forwarded %q", got)
		}
		time.Sleep(PartialQuiet)
		synctest.Wait()
		if got := fw.text(); !strings.HasSuffix(got, "db    | d\n") || fw.lines != 4 {
			t.Fatalf("partial not forwarded: %q", got)
		}
		if got := read(); got != "a\nbc\n\xff\nd" {
			t.Fatalf("file changed by the forwarder: %q", got)
		}
		c.Flush()
	})
}

// Capture mode, the DEBG copy and PROCESS_LOG events see the child's bytes;
// the file and the ring the formatted ones.
func TestFormatCaptureAndEventsRaw(t *testing.T) {
	var s sink
	c, read := fileChannel(t, s.opts(ChannelOptions{Format: FormatJSON, Now: fixedNow, CaptureMaxBytes: 1000, Name: "w", Stream: "stdout"}))
	c.Feed([]byte("log line\n<!--XSUPERVISOR:BEGIN-->captured\n<!--XSUPERVISOR:END-->after\n"))
	c.Flush()
	if strings.Join(s.logs, "") != "log line\ncaptured\nafter\n" {
		t.Fatalf("OnLog got %q", s.logs)
	}
	if len(s.captures) != 1 || s.captures[0] != "captured\n" {
		t.Fatalf("captures %q", s.captures)
	}
	if strings.Contains(strings.Join(s.debug, ""), `{"time"`) {
		t.Fatalf("debug copy formatted: %q", s.debug)
	}
	got := read()
	if strings.Count(got, "\n") != 2 || !strings.Contains(got, `"line":"log line"`) || !strings.Contains(got, `"line":"after"`) || strings.Contains(got, "captured") {
		t.Fatalf("file %q", got)
	}
}

// Rotation counts the formatted bytes.
func TestFormatRotationCountsFormatted(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "r.log")
	rot, err := OpenRotator(path, 100, 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer rot.Close()
	c := NewChannel(ChannelOptions{Name: "w", Stream: "stdout", Rotator: rot, Format: FormatTimestamped, Now: fixedNow})
	// 3 lines of 10 bytes: 30 raw bytes, 3×35 = 105 formatted: one rotation.
	c.Feed([]byte("123456789\n123456789\n123456789\n"))
	cur, _ := os.ReadFile(path)
	old, err := os.ReadFile(path + ".1")
	if err != nil || len(old) != 105 || len(cur) != 0 {
		t.Fatalf("after 105 formatted bytes: r.log %d bytes, r.log.1 %d bytes (%v)", len(cur), len(old), err)
	}
}

// A raw, unforwarded channel has no line machinery at all.
func TestFormatRawHasNoLiner(t *testing.T) {
	if c := NewChannel(ChannelOptions{}); c.lines != nil {
		t.Fatal("raw channel got a liner")
	}
}
