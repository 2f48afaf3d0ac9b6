package fault

import (
	"errors"
	"fmt"
	"testing"
)

func TestError(t *testing.T) {
	if got := New(BadName, "nosuch").Error(); got != "BAD_NAME: nosuch" {
		t.Errorf("got %q", got)
	}
	if got := New(UnknownMethod, "").Error(); got != "UNKNOWN_METHOD" {
		t.Errorf("got %q", got)
	}
	var fe *Error
	wrapped := fmt.Errorf("starting x: %w", New(SpawnError, "x"))
	if !errors.As(wrapped, &fe) || fe.Code != SpawnError {
		t.Errorf("errors.As failed on %v", wrapped)
	}
	if Code(99).Name() != "UNKNOWN" {
		t.Error("unknown code name")
	}
}
