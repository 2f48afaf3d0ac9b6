package xmlrpc

import (
	"errors"
	"strings"
	"testing"
)

// The element cap refuses a body of many small values early, whatever its
// size in bytes.
func TestDecodeElementCap(t *testing.T) {
	body := func(n int) string {
		return "<methodCall><methodName>m</methodName><params><param><value><array><data>" +
			strings.Repeat("<value></value>", n) + "</data></array></value></param></params></methodCall>"
	}
	// methodCall, methodName, params, param, value, array, data: 7 more.
	if _, p, err := DecodeCall(strings.NewReader(body(93)), Limits{MaxElements: 100}); err != nil || len(p[0].([]any)) != 93 {
		t.Fatalf("at the cap: %v", err)
	}
	_, _, err := DecodeCall(strings.NewReader(body(94)), Limits{MaxElements: 100})
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "more than 100 elements") {
		t.Fatalf("over the cap: %v", err)
	}
	if _, _, err := DecodeCall(strings.NewReader(body(DefaultMaxElements)), Limits{}); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("default cap: %v", err)
	}
}

type countingWriter struct{ writes, bytes int }

func (c *countingWriter) Write(p []byte) (int, error) {
	c.writes++
	c.bytes += len(p)
	return len(p), nil
}

// A large Stream is written out as it is encoded, in pieces of about the
// spill size; it matches the collected encoding.
func TestWriteResponseSpills(t *testing.T) {
	const n = 10000
	item := Struct{{Name: "name", Value: strings.Repeat("x", 100)}}
	s := Stream(func(yield func(any) error) error {
		for range n {
			if err := yield(item); err != nil {
				return err
			}
		}
		return nil
	})
	want, err := AppendResponse(nil, s)
	if err != nil {
		t.Fatal(err)
	}
	var w countingWriter
	body, written, err := WriteResponse(&w, s, 64<<10, nil)
	if err != nil || !written || body != nil {
		t.Fatalf("WriteResponse: %v %v %d", written, err, len(body))
	}
	if w.bytes != len(want) || w.writes < len(want)/(65<<10) {
		t.Errorf("%d bytes in %d writes, want %d bytes in pieces of 64 KiB", w.bytes, w.writes, len(want))
	}
	// Not a Stream: never written, returned whole.
	body, written, err = WriteResponse(&w, []any{1, 2}, 10, nil)
	if err != nil || written || !strings.Contains(string(body), "<int>2</int>") {
		t.Errorf("plain value: %v %v %q", written, err, body)
	}
}
