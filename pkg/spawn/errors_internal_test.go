package spawn

import (
	"errors"
	"fmt"
	"syscall"
	"testing"
)

func TestErrorTexts(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{pipeError("p", fmt.Errorf("pipe: %w", syscall.EMFILE)), "too many open files to spawn 'p'"},
		{pipeError("p", fmt.Errorf("pipe: %w", syscall.ENFILE)), "unknown error making dispatchers for 'p': ENFILE"},
		{forkError("p", syscall.EAGAIN), "Too many processes in process table to spawn 'p'"},
		{forkError("p", syscall.ENOMEM), "unknown error during fork for 'p': ENOMEM"},
		{forkError("p", syscall.EDEADLK), "unknown error during fork for 'p': EDEADLOCK"}, // Python's alias
		{forkError("p", syscall.Errno(4095)), "unknown error during fork for 'p': 4095"},
	}
	for _, tc := range tests {
		if tc.err.Error() != tc.want {
			t.Errorf("got %q, want %q", tc.err, tc.want)
		}
		var errno syscall.Errno
		if !errors.As(tc.err, &errno) {
			t.Errorf("%q does not unwrap to its errno", tc.err)
		}
	}
}

func TestShimControlRoundTrip(t *testing.T) {
	entry, err := shimEntry(shimControl{Path: "/bin/x", Dir: "/d", Umask: 0o77, Cred: &Credential{UID: 1, GID: 2, Groups: []uint32{3}}})
	if err != nil {
		t.Fatal(err)
	}
	want := shimEnv + `={"p":"/bin/x","d":"/d","u":63,"c":{"u":1,"g":2,"s":[3]}}`
	if entry != want {
		t.Fatalf("entry %s, want %s", entry, want)
	}
}
