package pidproxy

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
	"testing"
)

// startupEnvs are environments whose effect on Python's start-up shows:
// PEP 538 locale coercion, its warnings, the digit limit, unbuffered stdio.
func startupEnvs() [][]string {
	return [][]string{
		{}, {"LANG=C"}, {"LANG=POSIX"}, {"LANG=xx_YY"}, {"LANG=C.UTF-8"}, {"LANG=C.utf8"}, {"LANG=C.UTF8"},
		{"LANG=c.utf8"}, {"LANG=en_US.UTF-8"}, {"LANG=en"}, {"LANG=UTF-8"}, {"LANG=C.UTF-8@euro"},
		{"LANG=C.utf-8"}, {"LANG=C.ISO-8859-1"}, {"LANG=/usr/lib/locale/C.utf8"}, {"LANG=../C.utf8"},
		{"LANG=C.utf8/"}, {"LC_ALL=C"}, {"LC_ALL=C", "LANG=C.UTF-8"}, {"LC_ALL=", "LANG=C"},
		{"LC_CTYPE=C", "LANG=foo"}, {"LANG=C.UTF-8", "LC_CTYPE=xx"}, {"LC_CTYPE=C.UTF-8", "LANG=C"},
		{"LC_CTYPE=", "LANG=C"}, {"LC_CTYPE=C", "X=1", "LC_CTYPE=foo"}, {"LOCPATH=/nonexistent", "LANG=C.UTF-8"},
		{"LOCPATH=/nonexistent", "LANG=xx"}, {"PYTHONCOERCECLOCALE=0"}, {"PYTHONCOERCECLOCALE=0", "LANG=C"},
		{"PYTHONCOERCECLOCALE=warn"}, {"PYTHONCOERCECLOCALE=warn", "LC_ALL=C"},
		{"PYTHONCOERCECLOCALE=warn", "LANG=C.UTF-8"}, {"PYTHONCOERCECLOCALE=1"}, {"PYTHONCOERCECLOCALE="},
		{"PYTHONINTMAXSTRDIGITS=5"}, {"PYTHONINTMAXSTRDIGITS=abc"}, {"PYTHONINTMAXSTRDIGITS= 700"},
		{"PYTHONINTMAXSTRDIGITS=700 "}, {"PYTHONINTMAXSTRDIGITS=0"}, {"PYTHONINTMAXSTRDIGITS=+640"},
		{"PYTHONINTMAXSTRDIGITS=-0"}, {"PYTHONINTMAXSTRDIGITS=99999999999"}, {"PYTHONINTMAXSTRDIGITS="},
		{"PYTHONCOERCECLOCALE=warn", "PYTHONINTMAXSTRDIGITS=5"}, {"PYTHONCOERCECLOCALE=warn", "LC_ALL=C", "PYTHONINTMAXSTRDIGITS=x"},
		{"PYTHONUNBUFFERED=1"}, {"PYTHONUNBUFFERED=0"}, {"PYTHONUNBUFFERED= 0"}, {"PYTHONUNBUFFERED=-1"},
		{"PYTHONUNBUFFERED=abc"}, {"PYTHONUNBUFFERED="}, {"PYTHONUNBUFFERED=+0"}, {"PYTHONUNBUFFERED=0x"},
	}
}

// startupProbe prints, once Python is up, its digit limit and whether
// stdout is unbuffered, then becomes env(1) to show the environment that
// os.spawnv hands on.
const startupProbe = `import os, sys
print(sys.get_int_max_str_digits(), type(sys.stdout.buffer).__name__ == "FileIO")
sys.stdout.flush()
os.execv("/usr/bin/env", ["env"])`

// TestStartupMatchesPython runs Python 3.11 under each environment and
// compares the environment a spawned command sees, stderr, the exit status
// and the two knobs with startPython.
func TestStartupMatchesPython(t *testing.T) {
	py := python(t)
	for _, env := range startupEnvs() {
		status, stdout, stderr, err := runRaw(py, []string{py, "-c", startupProbe}, env)
		if err != nil {
			t.Fatalf("run python with %q: %v", env, err)
		}
		want := fmt.Sprintf("status %d\nstderr %q\nstdout %q", status, stderr, stdout)
		if got := simulatedStartup(env); got != want {
			t.Errorf("environment %q:\n got: %s\nwant: %s", env, got, want)
		}
	}
}

// simulatedStartup renders startPython's verdict like the probe's output.
func simulatedStartup(env []string) string {
	pe := startPython(env)
	if pe.fatal {
		return fmt.Sprintf("status 1\nstderr %q\nstdout %q", pe.early, "")
	}
	var out strings.Builder
	fmt.Fprintf(&out, "%d %s\n", pe.maxDigits, map[bool]string{true: "True", false: "False"}[pe.unbuffered])
	for _, kv := range pe.env {
		out.WriteString(kv + "\n")
	}
	return fmt.Sprintf("status 0\nstderr %q\nstdout %q", pe.early+pe.late, out.String())
}

// runRaw runs path with exactly env: os/exec would drop duplicate keys.
func runRaw(path string, argv, env []string) (status int, stdout, stderr string, err error) {
	outR, outW, err := os.Pipe()
	if err != nil {
		return 0, "", "", fmt.Errorf("stdout pipe: %w", err)
	}
	defer outR.Close()
	errR, errW, err := os.Pipe()
	if err != nil {
		outW.Close()
		return 0, "", "", fmt.Errorf("stderr pipe: %w", err)
	}
	defer errR.Close()
	attr := &syscall.ProcAttr{Env: env, Files: []uintptr{^uintptr(0), outW.Fd(), errW.Fd()}}
	pid, err := syscall.ForkExec(path, argv, attr)
	outW.Close()
	errW.Close()
	if err != nil {
		return 0, "", "", fmt.Errorf("start %s: %w", path, err)
	}
	var errb bytes.Buffer
	done := make(chan struct{})
	go func() { _, _ = io.Copy(&errb, errR); close(done) }()
	out, _ := io.ReadAll(outR)
	<-done
	var ws syscall.WaitStatus
	if _, err := syscall.Wait4(pid, &ws, 0, nil); err != nil {
		return 0, "", "", fmt.Errorf("wait %s: %w", path, err)
	}
	return ws.ExitStatus(), string(out), errb.String(), nil
}

func TestSetenvReplacesFirst(t *testing.T) {
	in := []string{"A=1", "LC_CTYPE=C", "B=2", "LC_CTYPE=x"}
	got := strings.Join(setenv(in, "LC_CTYPE", "C.UTF-8"), " ")
	if got != "A=1 LC_CTYPE=C.UTF-8 B=2 LC_CTYPE=x" {
		t.Errorf("setenv = %s", got)
	}
	if in[1] != "LC_CTYPE=C" {
		t.Errorf("setenv changed its input: %q", in)
	}
}

func TestLocaleCandidates(t *testing.T) {
	got := strings.Join(localeCandidates("de_DE.UTF-8@euro"), " ")
	want := "de_DE.UTF-8@euro de_DE.UTF-8 de_DE.utf8@euro de_DE.utf8 de.UTF-8@euro de.UTF-8 de.utf8@euro de.utf8"
	if got != want {
		t.Errorf("candidates:\n got %s\nwant %s", got, want)
	}
	if n := normalizeCodeset("ISO_8859-1"); n != "iso88591" {
		t.Errorf("normalizeCodeset(ISO_8859-1) = %q", n)
	}
	if n := normalizeCodeset("8859-1"); n != "iso88591" {
		t.Errorf("normalizeCodeset(8859-1) = %q", n)
	}
}
