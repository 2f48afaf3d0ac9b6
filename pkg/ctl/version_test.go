package ctl

import (
	"strings"
	"testing"

	"github.com/gosupervisor/gosupervisor/pkg/version"
)

// --version is ours: the original has no such option (getopt rejects it
// with exit 2); ours prints our release and the compatibility level.
func TestVersionOption(t *testing.T) {
	t.Parallel()
	needPython(t)
	py := runCtl(t, true, "", "--version")
	if py.code != 2 || py.stdout != "" || py.stderr != "Error: option --version not recognized\nFor help, use /usr/bin/supervisorctl -h\n" {
		t.Errorf("the original's --version: %+v", py)
	}
	want := runResult{stdout: version.String() + "\n"}
	for _, argv := range [][]string{{"--version"}, {"--vers"}, {"--version", "status"}, {"-i", "--version"},
		{"-c", "/dev/null", "--version"}} {
		if got := runCtl(t, false, "", argv...); got != want {
			t.Errorf("%q: %+v, want %+v", argv, got, want)
		}
	}
	// Options are handled in order, as the original's loop does: -h first
	// wins, and a bad value before --version is reported first.
	if got := runCtl(t, false, "", "-h", "--version"); got.code != 0 || !strings.HasPrefix(got.stdout, "supervisorctl -- control") {
		t.Errorf("-h --version: %+v", got)
	}
	if got := runCtl(t, false, "", "-s", "foo", "--version"); got.code != 2 ||
		got.stderr != "Error: invalid value for -s 'foo': value 'foo' is not a URL\nFor help, use /usr/bin/supervisorctl -h\n" {
		t.Errorf("-s foo --version: %+v", got)
	}
	if got := runCtl(t, false, "", "--version=1"); got.code != 2 ||
		got.stderr != "Error: option --version must not have an argument\nFor help, use /usr/bin/supervisorctl -h\n" {
		t.Errorf("--version=1: %+v", got)
	}
}

// version prints what the daemon's getSupervisorVersion says: 4.2.5 from
// the original, through either supervisorctl (our daemon: tests/compat).
func TestCompareVersion(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, daemonOpts{})
	for _, python := range []bool{true, false} {
		for _, stdin := range []string{"", "version\n"} {
			args := []string{"-s", d.unixURL(), "version"}
			want := runResult{stdout: "4.2.5\n"}
			if stdin != "" { // the shell: status first, then version at a prompt
				args = args[:2]
			}
			got := runCtl(t, python, stdin, args...)
			if stdin != "" {
				got.stdout = got.stdout[strings.Index(got.stdout, "supervisor> "):]
				want.stdout = "supervisor> 4.2.5\nsupervisor> \n"
			}
			if got != want {
				t.Errorf("python=%v stdin %q: %+v, want %+v", python, stdin, got, want)
			}
		}
	}
}
