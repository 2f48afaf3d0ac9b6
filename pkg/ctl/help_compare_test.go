package ctl

import (
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
)

// originalTopics asks the original which commands its default plugin has
// (do_* methods) and which of them have a help_* text, so that a command
// added or dropped on either side fails the comparison.
func originalTopics(t *testing.T) (cmds, helped []string) {
	t.Helper()
	needPython(t)
	const script = `
from supervisor.supervisorctl import DefaultControllerPlugin as P
print(' '.join(sorted(n[3:] for n in dir(P) if n.startswith('do_'))))
print(' '.join(sorted(n[5:] for n in dir(P) if n.startswith('help_'))))
`
	out, err := exec.Command("/usr/bin/python3", "-c", script).Output()
	if err != nil {
		t.Fatalf("python3 with supervisor 4.2.5 is needed (set GOSUPERVISOR_NO_PYTHON=1 to skip): %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 2 {
		t.Fatalf("unexpected answer %q", out)
	}
	return strings.Fields(lines[0]), strings.Fields(lines[1])
}

// sameRun runs both supervisorctls with argv and stdin and reports any
// difference in stdout, stderr or exit status, byte for byte.
func sameRun(t *testing.T, stdin string, argv ...string) {
	t.Helper()
	var py runResult
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); py = runCtl(t, true, stdin, argv...) }()
	ours := runCtl(t, false, stdin, argv...)
	wg.Wait()
	if py != ours {
		t.Errorf("%q (stdin %q):\n--- original (exit %d)\n%s--- stderr\n%s--- ours (exit %d)\n%s--- stderr\n%s",
			argv, stdin, py.code, py.stdout, py.stderr, ours.code, ours.stdout, ours.stderr)
	}
}

// run is one supervisorctl invocation for sameRuns.
type run struct {
	stdin string
	argv  []string
}

// sameRuns is sameRun for several invocations, a few at a time (each
// Python run costs an interpreter start).
func sameRuns(t *testing.T, runs []run) {
	t.Helper()
	sem := make(chan struct{}, 6)
	var wg sync.WaitGroup
	for _, r := range runs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			sameRun(t, r.stdin, r.argv...)
		}()
	}
	wg.Wait()
}

// -h, -? and --help print the original's docstring on stdout, exit 0.
func TestCompareUsage(t *testing.T) {
	t.Parallel()
	needPython(t)
	var runs []run
	for _, argv := range [][]string{
		{"-h"}, {"-?"}, {"--help"}, {"--he"}, {"--hel"}, {"-h", "status"}, {"-i", "-h"}, {"-hi"},
		{"-s", "unix:///nonexistent", "-h"}, {"-c", "/dev/null", "--help"},
		// -v is an error in the original, and stays one (only --version is ours).
		{"-v"}, {"-iv"}, {"--", "-h"},
	} {
		runs = append(runs, run{argv: argv})
	}
	sameRuns(t, runs)
}

// Every help text, plain help and the error paths that print one, in argv
// mode and in the shell, against the original (no daemon needed: both fail
// the shell's first status the same way).
func TestCompareHelpTexts(t *testing.T) {
	t.Parallel()
	cmds, helped := originalTopics(t)
	// The command table is the original's: every do_* of its plugin, plus
	// EOF and help which its Controller itself has.
	var ours []string
	for n := range commandTable() {
		if n != "EOF" && n != "help" {
			ours = append(ours, n)
		}
	}
	slices.Sort(ours)
	wantCmds := slices.DeleteFunc(slices.Clone(cmds), func(s string) bool { return s == "help" })
	if !slices.Equal(ours, wantCmds) {
		t.Errorf("commands: ours %q, original %q", ours, wantCmds)
	}
	if !slices.Equal(topicNames(), helped) {
		t.Errorf("help topics: ours %q, original %q", topicNames(), helped)
	}

	srv := []string{"-s", "unix:///nonexistent/sv.sock"}
	topics := append(slices.Clone(cmds), "help", "EOF", "nosuch", "status extra", "-x", "")
	var runs []run
	var shell strings.Builder
	for _, topic := range topics {
		runs = append(runs, run{argv: append(append(slices.Clone(srv), "help"), strings.Fields(topic)...)})
		shell.WriteString("help " + topic + "\n? " + topic + "\n")
	}
	shell.WriteString("?\nhelp\n?help\nhelp   status  \n")
	runs = append(runs, run{stdin: shell.String(), argv: srv},
		run{stdin: "help\nquit\n", argv: append(slices.Clone(srv), "-i", "help", "stop")})
	// Commands that print their help after a usage error.
	for _, args := range []string{"version x", "maintail a b", "tail", "tail a b c d", "fg", "signal",
		"start", "stop", "restart", "clear", "pid a b", "avail x", "reread x", "shutdown x", "reload x"} {
		runs = append(runs, run{argv: append(slices.Clone(srv), strings.Fields(args)...)})
	}
	sameRuns(t, runs)
}
