package pidproxy

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"testing"
)

// debianPython is the interpreter Debian's /usr/bin/pidproxy runs under.
const debianPython = "/usr/bin/python3"

// python returns Debian's Python 3.11, failing the test when it is missing
// unless GOSUPERVISOR_NO_PYTHON=1 (then the comparison is skipped).
func python(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat(debianPython); err != nil {
		if os.Getenv("GOSUPERVISOR_NO_PYTHON") == "1" {
			t.Skipf("no Python oracle (GOSUPERVISOR_NO_PYTHON=1): %v", err)
		}
		t.Fatalf("the Python oracle %s is needed (set GOSUPERVISOR_NO_PYTHON=1 to skip the comparison): %v", debianPython, err)
	}
	return debianPython
}

// pyEval runs code under Python with env (not ours) and input on stdin,
// and decodes the JSON it prints.
func pyEval(t *testing.T, env []string, code string, input, out any) {
	t.Helper()
	in, err := json.Marshal(input)
	if err != nil {
		t.Fatalf("encode oracle input: %v", err)
	}
	cmd := exec.Command(python(t), "-c", code)
	cmd.Env = env
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	got, err := cmd.Output()
	if err != nil {
		t.Fatalf("python oracle: %v\n%s", err, stderr.String())
	}
	if err := json.Unmarshal(got, out); err != nil {
		t.Fatalf("decode oracle output %q: %v", got, err)
	}
}
