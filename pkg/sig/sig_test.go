package sig

import (
	"syscall"
	"testing"
)

func TestParse(t *testing.T) {
	good := map[string]syscall.Signal{
		"hup": 1, "sigterm": 15, " int ": 2, "SIGRTMIN": 34, "9": 9, "0": 0, "usr1": 10,
		"10": 10, "iot": 6, "TERM": 15, "64": 64,
	}
	for in, want := range good {
		got, err := Parse(in)
		if err != nil || got != want {
			t.Errorf("Parse(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	bad := map[string]string{
		"FOO": "value 'FOO' is not a valid signal name",
		"65":  "value '65' is not a valid signal number",
		"35":  "value '35' is not a valid signal number",
		"":    "value '' is not a valid signal name",
	}
	for in, want := range bad {
		if _, err := Parse(in); err == nil || err.Error() != want {
			t.Errorf("Parse(%q) error = %v; want %q", in, err, want)
		}
	}
}

func TestName(t *testing.T) {
	if Name(syscall.SIGTERM) != "SIGTERM" || Name(syscall.SIGKILL) != "SIGKILL" || Name(40) != "signal 40" {
		t.Errorf("unexpected names %s %s %s", Name(syscall.SIGTERM), Name(syscall.SIGKILL), Name(40))
	}
}
