package mainlog

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/gosupervisor/gosupervisor/pkg/loglevel"
)

var fixed = time.Date(2026, 1, 2, 15, 4, 5, 123999999, time.Local)

func clock() time.Time { return fixed }

// lockedBuf is a concurrency-safe stdout stand-in.
type lockedBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
func (l *lockedBuf) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

func TestFormatAndLevels(t *testing.T) {
	tests := []struct {
		level loglevel.Level
		want  string // lines written, each "<level word> <msg>"
	}{
		{loglevel.Info, "CRIT c|ERRO e|WARN w|INFO i"},
		{0, "CRIT c|ERRO e|WARN w|INFO i"}, // the default
		{loglevel.Warn, "CRIT c|ERRO e|WARN w"},
		{loglevel.Error, "CRIT c|ERRO e"},
		{loglevel.Critical, "CRIT c"},
		{loglevel.Debug, "CRIT c|ERRO e|WARN w|INFO i|DEBG d"},
		{loglevel.Trace, "CRIT c|ERRO e|WARN w|INFO i|DEBG d|TRAC t"},
		{loglevel.Blather, "CRIT c|ERRO e|WARN w|INFO i|DEBG d|TRAC t|BLAT b"},
	}
	for _, tc := range tests {
		t.Run(tc.level.String(), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "supervisord.log")
			var out lockedBuf
			l, err := New(Options{Path: path, Level: tc.level, Stdout: &out, Clock: clock, RingSize: 4096})
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			l.Crit("c")
			l.Error("e")
			l.Warn("w")
			l.Info("i")
			l.Debug("d")
			l.Trace("t")
			l.Blather("b")
			var want string
			for _, line := range strings.Split(tc.want, "|") {
				want += "2026-01-02 15:04:05,123 " + line + "\n"
			}
			file, _ := os.ReadFile(path)
			ring, _, _ := l.Ring().ReadAt(0, 0)
			if string(file) != want || out.String() != want || string(ring) != want {
				t.Errorf("file %q\nstdout %q\nring %q\nwant %q", file, out.String(), ring, want)
			}
		})
	}
}

// Every level prints its own word, whether logged through Log or a zap
// logger on the core; zap's levels above DPanic print CRIT.
func TestLevelWords(t *testing.T) {
	for _, l := range loglevel.Levels() {
		if got := levelWord(zapLevel(l)); got != l.String() {
			t.Errorf("%v prints %q", l, got)
		}
	}
	for _, z := range []zapcore.Level{zapcore.PanicLevel, zapcore.FatalLevel} {
		if got := levelWord(z); got != "CRIT" {
			t.Errorf("zap %v prints %q", z, got)
		}
	}
}

// A *zap.Logger on the core writes the same format (custom levels included).
func TestZapLogger(t *testing.T) {
	var out lockedBuf
	l, err := New(Options{Level: loglevel.Blather, Stdout: &out})
	if err != nil {
		t.Fatal(err)
	}
	z := zap.New(l.Core())
	z.Info("hello", zap.String("ignored", "field"))
	z.Log(zapLevel(loglevel.Trace), "deep")
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 || !strings.HasSuffix(lines[0], " INFO hello") || !strings.HasSuffix(lines[1], " TRAC deep") {
		t.Errorf("lines %q", lines)
	}
	if _, err := time.ParseInLocation("2006-01-02 15:04:05,000", lines[0][:23], time.Local); err != nil {
		t.Errorf("timestamp %q: %v", lines[0][:23], err)
	}
}

// SPEC §10 item 35: logfile_maxbytes=1KB, logfile_backups=0 → truncated in place.
func TestRotationBackupsZero(t *testing.T) {
	path := filepath.Join(t.TempDir(), "supervisord.log")
	l, err := New(Options{Path: path, MaxBytes: 1024, Backups: 0, Level: loglevel.Info, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	msg := strings.Repeat("m", 60)
	for i := 0; i < 40; i++ {
		l.Info(msg)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	lineLen := int64(len("2026-01-02 15:04:05,123 INFO \n") + len(msg))
	// 40 lines of 90 bytes = 3600; rotation after the write reaching 1024
	// (12th line = 1080 bytes) → 3600 mod 1080 = 360.
	if want := 40 % 12 * lineLen; st.Size() != want {
		t.Errorf("size %d, want %d", st.Size(), want)
	}
	if _, err := os.Stat(path + ".1"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf(".1 exists: %v", err)
	}
}

// SPEC §10 item 36 and §4.5: after mv + reopen, the lines logged before the
// reopen are in the moved file and a new log is created; a removed
// directory is recreated and the warning lands in the new file.
func TestReopenAndClear(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "logs")
	os.Mkdir(dir, 0o755)
	path := filepath.Join(dir, "supervisord.log")
	l, err := New(Options{Path: path, Level: loglevel.Info, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	l.Info("first")
	if err := os.Rename(path, path+".moved"); err != nil {
		t.Fatal(err)
	}
	l.Info("received SIGUSR2 indicating log reopen request")
	l.Info("supervisord logreopen")
	if err := l.Reopen(); err != nil {
		t.Fatal(err)
	}
	moved, _ := os.ReadFile(path + ".moved")
	if strings.Count(string(moved), "\n") != 3 || !strings.Contains(string(moved), "logreopen") {
		t.Errorf("moved file %q", moved)
	}
	if st, err := os.Stat(path); err != nil || st.Size() != 0 {
		t.Fatalf("new log: %v %v", st, err)
	}

	os.RemoveAll(dir)
	if err := l.Reopen(); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	if !strings.Contains(string(got), " WARN log directory "+dir+" was removed") {
		t.Errorf("after directory removal the log holds %q", got)
	}

	if err := l.Clear(); err != nil {
		t.Fatal(err)
	}
	l.Info("reopening log file")
	if got, _ := os.ReadFile(path); string(got) != "2026-01-02 15:04:05,123 INFO reopening log file\n" {
		t.Errorf("after Clear: %q", got)
	}
}

func TestMissingDirectory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nodir", "supervisord.log")
	if _, err := New(Options{Path: path}); err == nil || !strings.Contains(err.Error(), path) || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("err = %v", err)
	}
}

func TestSyslogEncoderOneLinePerLine(t *testing.T) {
	buf, err := newEncoder(true).EncodeEntry(zapcore.Entry{Level: zapLevel(loglevel.Info), Time: fixed, Message: "a\nb\n"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := "2026-01-02 15:04:05,123 INFO a\n2026-01-02 15:04:05,123 INFO b\n"; buf.String() != want {
		t.Errorf("%q, want %q", buf.String(), want)
	}
}
