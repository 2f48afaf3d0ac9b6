package compat

import (
	"bytes"
	"errors"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/gosupervisor/gosupervisor/tests/compat/harness"
)

// release is the version our binaries for TestVersions are linked with, as
// the Makefile does from `git describe --tags`.
const release = "v9.8.7-1-gabcdef0"

// TestVersions: clients see supervisor 4.2.5 from both daemons wherever the
// original reports its version (getSupervisorVersion, `supervisorctl
// version` through either supervisorctl); our own release is
// gosupervisor.getVersion and `supervisorctl --version`, which the original
// does not have. A config without extension keys lists the original's
// methods only.
func TestVersions(t *testing.T) {
	t.Parallel()
	requirePython(t)
	// Binaries of our own with the release linked in (the shared ones say
	// "dev"); this test checks ours, so GOSUPERVISOR_COMPAT_SUBJECT does not
	// apply.
	dir := t.TempDir()
	ldflags := "-X " + harness.Module + "/pkg/version.Version=" + release
	ourd, ourctl := filepath.Join(dir, "supervisord"), filepath.Join(dir, "supervisorctl")
	if err := harness.GoBuild(ourd, harness.Module+"/cmd/supervisord", ldflags); err != nil {
		t.Fatal(err)
	}
	if err := harness.GoBuild(ourctl, harness.Module+"/cmd/supervisorctl", ldflags); err != nil {
		t.Fatal(err)
	}
	py, ours := newSite(t, ""), newSite(t, "")
	py.start(t, "python", harness.PySupervisord)
	ours.start(t, "go", ourd)

	for _, s := range []*site{py, ours} {
		for _, c := range []string{harness.PySupervisorctl, ourctl} {
			out, code, err := runCtl(c, s.conf, "version")
			if err != nil || out != "4.2.5\n" || code != 0 {
				t.Errorf("%s daemon, %s version: %q exit %d %v; want \"4.2.5\\n\" exit 0", s.d.Name, c, out, code, err)
			}
		}
	}

	call := func(s *site, method string, args ...any) harness.Result {
		t.Helper()
		r, err := s.d.RPC.Call(method, args...)
		if err != nil {
			t.Fatalf("%s: %s: %v", s.d.Name, method, err)
		}
		return r
	}
	for _, m := range []string{"supervisor.getSupervisorVersion", "system.listMethods",
		"system.methodSignature supervisor.getSupervisorVersion"} {
		method, args := m, []any{}
		if m == "system.methodSignature supervisor.getSupervisorVersion" {
			method, args = "system.methodSignature", []any{"supervisor.getSupervisorVersion"}
		}
		want, got := call(py, method, args...), call(ours, method, args...)
		if !bytes.Equal(want.Raw, got.Raw) {
			t.Errorf("%s:\n--- python daemon\n%s\n--- our daemon\n%s", m, want.Raw, got.Raw)
		}
	}
	if v := call(ours, "supervisor.getSupervisorVersion").Value; v != "4.2.5" {
		t.Errorf("getSupervisorVersion = %#v", v)
	}

	// Ours only: the original answers UNKNOWN_METHOD.
	if r := call(py, "gosupervisor.getVersion"); r.Fault == nil || r.Fault.Code != 1 {
		t.Errorf("python daemon gosupervisor.getVersion: %+v, want fault 1 (UNKNOWN_METHOD)", r)
	}
	if r := call(ours, "gosupervisor.getVersion"); r.Fault != nil || r.Value != release[1:] {
		t.Errorf("gosupervisor.getVersion = %#v (fault %v), want %q", r.Value, r.Fault, release[1:])
	}
	if r := call(ours, "system.methodSignature", "gosupervisor.getVersion"); !reflect.DeepEqual(r.Value, []any{"string"}) {
		t.Errorf("methodSignature(gosupervisor.getVersion) = %#v (fault %v)", r.Value, r.Fault)
	}

	out, err := exec.Command(ourctl, "--version").CombinedOutput()
	if want := "gosupervisor 9.8.7-1-gabcdef0 (supervisor 4.2.5 compatible)\n"; err != nil || string(out) != want {
		t.Errorf("supervisorctl --version: %q, %v; want %q", out, err, want)
	}
	out, err = exec.Command(harness.PySupervisorctl, "--version").CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 || !bytes.HasPrefix(out, []byte("Error: option --version not recognized\n")) {
		t.Errorf("the original's supervisorctl --version: %q, %v; want the getopt error, exit 2", out, err)
	}
}
