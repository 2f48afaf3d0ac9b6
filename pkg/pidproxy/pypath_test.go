package pidproxy

import (
	"os"
	"strings"
	"testing"
)

// TestPathsMatchPython compares normpath, abspath (from the test's working
// directory) and programName with posixpath and the entry script's re.sub.
func TestPathsMatchPython(t *testing.T) {
	paths := []string{
		"", ".", "..", "/", "//", "///", "////x", "//x/../y", "/..", "/../x", "a/b/../../..", "../../a",
		"a//b/./c/", "./sl.sh", "x/./../y/", "/usr/bin/./pidproxy", "//usr//bin", "a/..", "/a/./b/../../c",
		"pidproxy", "pidproxy-script.py", "pidproxy-script.pyw", "pidproxy.exe", "x.exe.exe",
		"a-script.py\n", "a.exe\n", "a\n\n", "-script.py", ".exe", "p-script.pyc",
	}
	const code = `
import json, os, posixpath, re, sys
out = []
for p in json.load(sys.stdin):
    out.append([posixpath.normpath(p), os.path.abspath(p), re.sub(r'(-script\.pyw?|\.exe)?$', '', p)])
print(json.dumps(out))
`
	var want [][3]string
	pyEval(t, []string{"LANG=C.UTF-8"}, code, paths, &want)
	for i, p := range paths {
		abs, err := abspath(p)
		if err != nil {
			t.Fatalf("abspath(%q): %v", p, err)
		}
		got := [3]string{normpath(p), abs, programName(p)}
		if got != want[i] {
			t.Errorf("%q: normpath, abspath, programName = %q; Python %q", p, got, want[i])
		}
	}
}

// TestScriptFile is Python 3.11's absolute script name: cwd + "/" + path,
// not normalised.
func TestScriptFile(t *testing.T) {
	cwd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	if got := scriptFile("./pp"); got != cwd+"/./pp" {
		t.Errorf("scriptFile(./pp) = %q", got)
	}
	if got := scriptFile("/usr/bin/pidproxy"); got != "/usr/bin/pidproxy" {
		t.Errorf("scriptFile(/usr/bin/pidproxy) = %q", got)
	}
}

// TestExecFn reads the name the kernel ran the test binary as.
func TestExecFn(t *testing.T) {
	name, err := execFn()
	if err != nil {
		t.Fatalf("execFn: %v", err)
	}
	if !strings.HasSuffix(name, ".test") && !strings.Contains(name, "pidproxy") {
		t.Errorf("execFn = %q, want the test binary", name)
	}
}
