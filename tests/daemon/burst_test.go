package daemon_test

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The test binary doubles as the children of these tests: with childModeVar
// set it runs the named child and exits before TestMain builds anything.
const childModeVar = "GOSUPERVISOR_DAEMON_TEST_CHILD"

func init() {
	switch os.Getenv(childModeVar) {
	case "":
		return
	case "burst":
		burstChild()
	case "fulldisk":
		fullDiskChild()
	default:
		fmt.Fprintf(os.Stderr, "unknown %s=%q\n", childModeVar, os.Getenv(childModeVar))
		os.Exit(2)
	}
	os.Exit(0)
}

// testBinary is this test binary, run as a child by the daemons under test.
func testBinary(t *testing.T) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(exe, " \t'\"\\%") {
		t.Skipf("test binary path %q cannot be used unquoted in command=", exe)
	}
	return exe
}

// lineLen is the length of one line of a numbered stream: a prefix byte, 14
// zero-padded decimal digits and a newline.
const lineLen = 16

// streamGen produces the numbered stream P00000000000000\nP00000000000001\n…
// from any offset, so what was captured can be checked position by position.
type streamGen struct {
	line [lineLen]byte
	pos  int // next byte of line to emit
}

func newStreamGen(prefix byte, off int64) *streamGen {
	g := &streamGen{}
	g.line[0] = prefix
	s := fmt.Sprintf("%014d", off/lineLen)
	copy(g.line[1:15], s)
	g.line[15] = '\n'
	g.pos = int(off % lineLen)
	return g
}

func (g *streamGen) fill(dst []byte) {
	for len(dst) > 0 {
		n := copy(dst, g.line[g.pos:])
		dst = dst[n:]
		g.pos += n
		if g.pos == lineLen {
			g.pos = 0
			for i := 14; i >= 1; i-- { // increment the decimal number in place
				if g.line[i] != '9' {
					g.line[i]++
					break
				}
				g.line[i] = '0'
			}
		}
	}
}

// burstWriteSizes is the cycle of write sizes the burst child uses: single
// bytes, sizes around the default 64 KiB pipe capacity and the 128 KiB read
// chunk, and writes larger than any pipe (split by the kernel), none of them
// aligned to lines.
var burstWriteSizes = []int{1, 7, 4095, 65535, 65536, 65537, 131071, 131072, 131073, 1 << 20, 3<<20 + 5, 13, 200_003, 2_000_001, 3}

// burstChild writes GOSUPERVISOR_BURST_LINES lines of the 'O' stream to
// stdout and, at the same time, of the 'E' stream to stderr, as fast as the
// pipes take them, then exits 0. The lines come from seq (this binary may
// be built with -race, too slow to produce them itself at full speed) and
// are passed on in the write sizes of burstWriteSizes.
func burstChild() {
	lines, err := strconv.ParseInt(os.Getenv("GOSUPERVISOR_BURST_LINES"), 10, 64)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var wg sync.WaitGroup
	write := func(f *os.File, prefix byte, phase int) {
		defer wg.Done()
		seq := exec.Command("seq", "-f", string(prefix)+"%014.0f", "0", strconv.FormatInt(lines-1, 10))
		r, err := seq.StdoutPipe()
		if err != nil {
			os.Exit(3)
		}
		if err := seq.Start(); err != nil {
			os.Exit(3)
		}
		buf := make([]byte, 4<<20)
		var total int64
		for i := phase; ; i++ {
			n, err := io.ReadFull(r, buf[:burstWriteSizes[i%len(burstWriteSizes)]])
			if n > 0 {
				if _, err := f.Write(buf[:n]); err != nil {
					os.Exit(4)
				}
				total += int64(n)
			}
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				break
			}
			if err != nil {
				os.Exit(5)
			}
		}
		if err := seq.Wait(); err != nil || total != lines*lineLen {
			os.Exit(6)
		}
	}
	wg.Add(2)
	go write(os.Stdout, 'O', 0)
	go write(os.Stderr, 'E', 5)
	wg.Wait()
}

// pipeMaxSize is /proc/sys/fs/pipe-max-size, the most one read of a pipe can
// return (what the daemon may write between two rotation checks).
func pipeMaxSize(t *testing.T) int64 {
	b, err := os.ReadFile("/proc/sys/fs/pipe-max-size")
	if err != nil {
		return 1 << 20
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// checkRotatedStream checks that base.N … base.1, base hold exactly the
// numbered stream with prefix, total bytes long (see rotatedStreamProblems).
func checkRotatedStream(t *testing.T, base string, prefix byte, total, maxBytes, backups int64) {
	t.Helper()
	for _, p := range rotatedStreamProblems(t, base, prefix, total, maxBytes, backups, pipeMaxSize(t)) {
		t.Error(p)
	}
}

// rotatedStreamProblems lists what is wrong with base.N … base.1, base as
// the capture of the numbered stream with prefix, total bytes long: every
// backup must have rotated at the first write that reached maxBytes (so it
// holds maxBytes plus less than one read of at most maxRead), the live file
// must be below maxBytes, and their concatenation byte-identical to the
// stream. The first difference is reported at its file and offset.
func rotatedStreamProblems(t *testing.T, base string, prefix byte, total, maxBytes, backups, maxRead int64) []string {
	var problems []string
	bad := func(format string, a ...any) { problems = append(problems, fmt.Sprintf(format, a...)) }
	files := rotatedFiles(t, base)
	if _, err := os.Stat(fmt.Sprintf("%s.%d", base, len(files))); err == nil {
		bad("%s.%d exists after a gap in the backup numbering", base, len(files))
	}
	if int64(len(files)-1) > backups {
		bad("%d backups, more than backups=%d", len(files)-1, backups)
	}
	if got := totalSize(files); got != total {
		bad("%s and its backups hold %d bytes, want exactly %d", base, got, total)
	}
	if least := total / (maxBytes + maxRead); int64(len(files)-1) < least {
		bad("%d backups, want at least %d for %d bytes at maxbytes=%d", len(files)-1, least, total, maxBytes)
	}
	g := newStreamGen(prefix, 0)
	want := make([]byte, 1<<20)
	got := make([]byte, 1<<20)
	var off int64 // offset in the stream
	for i, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			bad("%v", err)
			return problems
		}
		defer fh.Close()
		st, err := fh.Stat()
		if err != nil {
			bad("%v", err)
			return problems
		}
		size := st.Size()
		if i < len(files)-1 {
			if size < maxBytes || size >= maxBytes+maxRead {
				bad("backup %s has %d bytes, want maxbytes %d plus less than one pipe read (%d)", f, size, maxBytes, maxRead)
			}
		} else if size >= maxBytes {
			bad("live file %s has %d bytes, want < maxbytes %d (it should have rotated)", f, size, maxBytes)
		}
		var foff int64 // offset in this file
		for {
			n, err := io.ReadFull(fh, got)
			if n > 0 {
				if off+int64(n) > total {
					bad("%s: more than the %d bytes written (extra from file offset %d): %q",
						f, total, foff+total-off, truncate(string(got[total-off:n]), 64))
					return problems
				}
				g.fill(want[:n])
				if !bytes.Equal(got[:n], want[:n]) {
					j := 0
					for got[j] == want[j] {
						j++
					}
					lo := max(0, j-32)
					bad("%s differs at file offset %d (stream offset %d, line %d, file %d of %d):\n got  %q\n want %q",
						f, foff+int64(j), off+int64(j), (off+int64(j))/lineLen, i+1, len(files),
						got[lo:min(n, j+32)], want[lo:min(n, j+32)])
					return problems
				}
				off += int64(n)
				foff += int64(n)
			}
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				break
			}
			if err != nil {
				bad("%v", err)
				return problems
			}
		}
	}
	if off != total {
		bad("the files end at stream offset %d (line %d), want %d: the tail of the stream is missing", off, off/lineLen, total)
	}
	return problems
}

// TestRotatedStreamCheckFails: the check the burst test relies on notices a
// byte lost, duplicated or changed at a rotation boundary, files in the
// wrong order, a missing tail, data from the other stream and a rotation
// that came late.
func TestRotatedStreamCheckFails(t *testing.T) {
	const (
		maxBytes = 1000
		maxRead  = 300
		total    = 16 * 400 // 6,400 bytes
	)
	stream := make([]byte, total)
	newStreamGen('O', 0).fill(stream)
	// Backups of 1,000 + 0, 17, 299, 1, 100 bytes and the rest live.
	var good [][]byte
	rest := stream
	for _, extra := range []int{0, 17, 299, 1, 100} {
		good = append(good, rest[:maxBytes+extra])
		rest = rest[maxBytes+extra:]
	}
	good = append(good, rest)
	clone := func(parts [][]byte) [][]byte {
		out := make([][]byte, len(parts))
		for i, p := range parts {
			out[i] = bytes.Clone(p)
		}
		return out
	}
	cases := map[string]func(p [][]byte) [][]byte{
		"intact": func(p [][]byte) [][]byte { return p },
		"byte lost at a boundary": func(p [][]byte) [][]byte {
			p[2] = p[2][:len(p[2])-1]
			return p
		},
		"byte duplicated at a boundary": func(p [][]byte) [][]byte {
			p[3] = append([]byte{p[2][len(p[2])-1]}, p[3]...)
			p[5] = p[5][:len(p[5])-1] // same total
			return p
		},
		"two backups swapped": func(p [][]byte) [][]byte { p[1], p[2] = p[2], p[1]; return p },
		"a byte changed":      func(p [][]byte) [][]byte { p[4][500] ^= 1; return p },
		"tail missing":        func(p [][]byte) [][]byte { p[5] = p[5][:len(p[5])-16]; return p },
		"the other stream": func(p [][]byte) [][]byte {
			p[3][maxBytes/2/16*16] = 'E'
			return p
		},
		"late rotation": func(p [][]byte) [][]byte {
			p[0] = append(p[0], p[1][:maxRead]...)
			p[1] = p[1][maxRead:]
			return p
		},
		"extra bytes": func(p [][]byte) [][]byte { p[5] = append(p[5], "O00000000000400\n"...); return p },
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			base := filepath.Join(t.TempDir(), "x.log")
			parts := mutate(clone(good))
			for i, p := range parts {
				f := base
				if k := len(parts) - 1 - i; k > 0 {
					f = base + "." + strconv.Itoa(k)
				}
				if err := os.WriteFile(f, p, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			problems := rotatedStreamProblems(t, base, 'O', total, maxBytes, 30, maxRead)
			if name == "intact" {
				if len(problems) != 0 {
					t.Errorf("intact capture reported: %q", problems)
				}
			} else if len(problems) == 0 {
				t.Errorf("not noticed")
			} else {
				t.Logf("noticed: %s", problems[0])
			}
		})
	}
}

// TestLogBurstAcrossRotationsContiguous: issue 18 "what held" — a burst
// (2 × 96 MB, stdout and stderr at once, writes from 1 byte to 3 MiB that
// never line up with lines, pipe capacity or the read chunk) across 10 MB
// rotations with backups=30: concatenating .N … .1 and the live file gives
// each stream back exactly, nothing lost, duplicated, reordered or mixed
// between the streams, no gap at a rotation boundary. Unlike
// TestLogBurstByteExact (seq's 4 KiB writes, one stream, a hash), a
// failure names the file and offset where the capture first differs.
func TestLogBurstAcrossRotationsContiguous(t *testing.T) {
	t.Parallel()
	const (
		lines    = 6_000_000 // per stream: 96,000,000 bytes
		total    = lines * lineLen
		maxBytes = 10 << 20 // 10MB
		backups  = 30
	)
	bin := testBinary(t)
	dir := t.TempDir()
	out, errf := filepath.Join(dir, "burst.out"), filepath.Join(dir, "burst.err")
	conf := writeConf(t, dir, "", fmt.Sprintf(`
[program:burst]
command=%s
environment=%s="burst",GOSUPERVISOR_BURST_LINES="%d"
startsecs=0
autorestart=false
stdout_logfile=%s
stdout_logfile_maxbytes=10MB
stdout_logfile_backups=%d
stderr_logfile=%s
stderr_logfile_maxbytes=10MB
stderr_logfile_backups=%d
`, bin, childModeVar, lines, out, backups, errf, backups))
	start := time.Now()
	d := startForeground(t, dir, conf)
	d.waitLog(`INFO exited: burst \(exit status 0; expected\)`, 60*time.Second)
	t.Logf("child wrote 2 × %d bytes in %v", total, time.Since(start).Round(time.Millisecond))
	// The exit can be reaped before the last reads are written out.
	for _, base := range []string{out, errf} {
		if !waitUntil(20*time.Second, func() bool { return totalSize(rotatedFiles(t, base)) >= total }) {
			t.Errorf("%s: captured %d bytes, want %d", base, totalSize(rotatedFiles(t, base)), total)
		}
	}
	checkRotatedStream(t, out, 'O', total, maxBytes, backups)
	checkRotatedStream(t, errf, 'E', total, maxBytes, backups)
	for _, line := range regexp.MustCompile(`(?m)^.* (WARN|ERRO|CRIT) .*$`).FindAllString(d.log(), -1) {
		if !strings.Contains(line, "CRIT Supervisor is running as root") {
			t.Errorf("during the burst, the main log says %q", line)
		}
	}
}

// TestStreamGen checks the generator the burst test trusts, from any offset.
func TestStreamGen(t *testing.T) {
	var want bytes.Buffer
	for i := 0; i < 20_000; i++ {
		fmt.Fprintf(&want, "X%014d\n", i)
	}
	for _, off := range []int64{0, 1, 15, 16, 17, 9999*16 + 3, int64(want.Len()) - 1} {
		g := newStreamGen('X', off)
		got := make([]byte, int64(want.Len())-off)
		// In uneven pieces, as the child fills its writes.
		for p, k := got, 1; len(p) > 0; k = (k*3 + 1) % 1_000_003 {
			n := min(len(p), k%4099+1)
			g.fill(p[:n])
			p = p[n:]
		}
		if !bytes.Equal(got, want.Bytes()[off:]) {
			t.Fatalf("stream from offset %d differs", off)
		}
	}
}
