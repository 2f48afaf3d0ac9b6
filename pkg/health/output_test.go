package health

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
)

func TestOutputBufferKeepsTheFirstKilobyte(t *testing.T) {
	var b OutputBuffer
	if b.String() != "" {
		t.Fatalf("zero buffer = %q", b.String())
	}
	for i := range 30 {
		p := []byte(fmt.Sprintf("line %02d %s\n", i, strings.Repeat("-", 90)))
		if n, err := b.Write(p); n != len(p) || err != nil {
			t.Fatalf("Write = %d, %v; want the whole %d (never a short write)", n, err, len(p))
		}
	}
	out := b.String()
	if len(out) > MaxOutput || !strings.HasSuffix(out, TruncatedMarker) {
		t.Fatalf("kept %d bytes, suffix %q", len(out), out[max(len(out)-20, 0):])
	}
	if !strings.HasPrefix(out, "line 00 ") {
		t.Fatalf("the start was not kept: %q", out[:20])
	}
	if got, want := b.Dropped(), int64(30*99-MaxOutput); got != want {
		t.Fatalf("Dropped = %d, want %d", got, want)
	}
}

func TestOutputBufferExactlyFullIsNotMarked(t *testing.T) {
	var b OutputBuffer
	b.Write([]byte(strings.Repeat("a", MaxOutput)))
	if got := b.String(); len(got) != MaxOutput || strings.Contains(got, "truncated") {
		t.Fatalf("exactly %d bytes came back as %d bytes", MaxOutput, len(got))
	}
	b.Write([]byte("b"))
	if got := b.String(); len(got) != MaxOutput || !strings.HasSuffix(got, TruncatedMarker) {
		t.Fatalf("one byte past full: %d bytes, marked %v", len(got), strings.HasSuffix(got, TruncatedMarker))
	}
}

func TestOutputBufferValidUTF8(t *testing.T) {
	var b OutputBuffer
	b.Write([]byte("bad \xff byte\n"))
	// A 3-byte rune straddles the 1 KB cut.
	b.Write([]byte(strings.Repeat("x", MaxOutput-20-len("bad \xff byte\n"))))
	b.Write([]byte(strings.Repeat("€", 100)))
	out := b.String()
	if !utf8.ValidString(out) || len(out) > MaxOutput {
		t.Fatalf("invalid or too long (%d bytes): %q", len(out), out)
	}
	if !strings.HasPrefix(out, "bad \uFFFD byte") {
		t.Fatalf("invalid byte not replaced: %q", out[:12])
	}
}

func TestOutputBufferConcurrentWrites(t *testing.T) {
	var b OutputBuffer
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 100 {
				b.Write([]byte("0123456789"))
			}
		})
	}
	wg.Wait()
	if got := int64(len(b.String())) + b.Dropped(); got < 4000-int64(len(TruncatedMarker)) {
		t.Fatalf("bytes lost: kept+dropped = %d", got)
	}
	if b.Dropped() != 4000-MaxOutput {
		t.Fatalf("Dropped = %d", b.Dropped())
	}
}

func TestExecResult(t *testing.T) {
	var out OutputBuffer
	out.Write([]byte("db is down\n"))
	cases := []struct {
		name                string
		status              int
		signaled, timedOut  bool
		out                 *OutputBuffer
		wantOK              bool
		wantErr, wantOutput string
	}{
		{"exit 0", 0, false, false, &out, true, "", "db is down\n"},
		{"exit 0, no buffer", 0, false, false, nil, true, "", ""},
		{"exit 1", 1, false, false, &out, false, "exit status 1", "db is down\n"},
		{"signal", 15, true, false, nil, false, "killed by SIGTERM", ""},
		{"timeout wins over the kill", 9, true, true, &out, false, "timeout after 3s", "db is down\n"},
	}
	for _, tc := range cases {
		r := ExecResult(tc.status, tc.signaled, tc.timedOut, tc.out, 3*time.Second)
		want := Result{OK: tc.wantOK, Err: tc.wantErr, Output: tc.wantOutput}
		if r != want {
			t.Errorf("%s: %+v, want %+v", tc.name, r, want)
		}
	}
}

func TestTimeoutText(t *testing.T) {
	for d, want := range map[time.Duration]string{
		3 * time.Second:         "timeout after 3s",
		90 * time.Second:        "timeout after 90s",
		250 * time.Millisecond:  "timeout after 250ms",
		1500 * time.Millisecond: "timeout after 1.5s",
		0:                       "timeout",
	} {
		if got := TimeoutText(d); got != want {
			t.Errorf("TimeoutText(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestCutUTF8(t *testing.T) {
	if got := cutUTF8("short", 10, "…"); got != "short" {
		t.Errorf("fits: %q", got)
	}
	if got := cutUTF8("abcdefghij", 6, "…"); got != "abc…" {
		t.Errorf("cut: %q", got)
	}
	if got := cutUTF8("€€€", 5, ""); got != "€" {
		t.Errorf("mid-rune: %q", got)
	}
	if got := cutUTF8("abc", 1, "…"); got != "…" {
		t.Errorf("smaller than the ellipsis: %q", got)
	}
}
