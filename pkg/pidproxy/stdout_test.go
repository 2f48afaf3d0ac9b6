package pidproxy

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// printSizes are line lengths whose prints cross TextIOWrapper's 8 KiB
// chunk and the BufferedWriter's st_blksize in different ways.
func printSizes() []int {
	sizes := []int{31, 31, 5000, 100, 3000, 9000, 10, 4095, 4096, 8191, 8192, 1, 20000}
	for i := 0; i < 300; i++ {
		sizes = append(sizes, 30+i%7)
	}
	return sizes
}

// TestStdoutBufferingMatchesPython prints the same lines through Python's
// sys.stdout and through pyStdout into regular files and compares how many
// bytes had reached the file after each print, and at exit.
func TestStdoutBufferingMatchesPython(t *testing.T) {
	const code = `
import json, os, sys
sizes = []
for n in json.loads(os.environ["SIZES"]):
    print("x" * n)
    sizes.append(os.fstat(1).st_size)
sys.stderr.write(json.dumps(sizes, separators=(",", ":")))
`
	sizes, err := json.Marshal(printSizes())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	pyFile := filepath.Join(dir, "python.out")
	f, err := os.Create(pyFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command(python(t), "-c", code)
	cmd.Env = []string{"LANG=C.UTF-8", "SIZES=" + string(sizes)}
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = f, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("python: %v\n%s", err, stderr.String())
	}
	want := stderr.String() + " " + fileSize(t, pyFile)
	if got := goSizes(t, filepath.Join(dir, "go.out")); got != want {
		t.Errorf("bytes in the file after each print, then at exit:\n ours   %s\n Python %s", got, want)
	}
}

// goSizes does the same prints through pyStdout.
func goSizes(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := newPyStdout(f, int(f.Fd()), false)
	var sizes []int64
	for _, n := range printSizes() {
		out.print(strings.Repeat("x", n))
		st, err := f.Stat()
		if err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, st.Size())
	}
	out.Flush()
	b, err := json.Marshal(sizes)
	if err != nil {
		t.Fatal(err)
	}
	return string(b) + " " + fileSize(t, path)
}

func fileSize(t *testing.T, path string) string {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return strconv.FormatInt(st.Size(), 10)
}

// TestStdoutModes: a terminal writes at each newline, PYTHONUNBUFFERED at
// each write (print's text and its newline separately).
func TestStdoutModes(t *testing.T) {
	var w recorder
	line := &pyStdout{raw: &w, mode: lineBuffered, bufSize: 4096}
	line.print("a")
	line.write("b")
	if got := strings.Join(w.writes, "|"); got != "a\n" {
		t.Errorf("line-buffered writes = %q", got)
	}
	w.writes = nil
	unbuf := &pyStdout{raw: &w, mode: unbuffered, bufSize: 4096}
	unbuf.print("c")
	if got := strings.Join(w.writes, "|"); got != "c|\n" {
		t.Errorf("unbuffered writes = %q", got)
	}
}

type recorder struct{ writes []string }

func (r *recorder) Write(p []byte) (int, error) {
	r.writes = append(r.writes, string(p))
	return len(p), nil
}
