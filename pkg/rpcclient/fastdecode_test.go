package rpcclient

import (
	"bytes"
	"errors"
	"reflect"
	"testing"

	"github.com/kolo/xmlrpc"

	ours "github.com/gosupervisor/gosupervisor/pkg/xmlrpc"
)

// decodeFast gives what kolo's decoder gives, on answers in our server's
// exact bytes (which are Python's), and leaves what it does not know to it.
// (kolo gives nil for an empty string or struct; decodeFast "" and {}.)
func TestDecodeFastAsKolo(t *testing.T) {
	values := []any{
		"plain", "a&b <c> \"d\" 'e' é ✓\n\ttab", int64(-42), true, false, 1.5,
		[]any{}, []any{"x", int64(1), []any{[]any{}}},
		ours.Struct{{Name: "name", Value: "app"}, {Name: "pid", Value: 12}, {Name: "description", Value: "pid 12, uptime 0:00:01"},
			{Name: "list", Value: []any{ours.Struct{{Name: "k", Value: "v&"}}}}},
	}
	for _, v := range values {
		var b bytes.Buffer
		if err := ours.EncodeResponse(&b, v); err != nil {
			t.Fatal(err)
		}
		got, err := decodeFast(b.Bytes())
		if err != nil {
			t.Fatalf("%v: %v\n%s", v, err, b.String())
		}
		var want any
		if err := xmlrpc.Response(b.Bytes()).Unmarshal(&want); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("decodeFast %#v, kolo %#v\n%s", got, want, b.String())
		}
	}
	var b bytes.Buffer
	_ = ours.EncodeResponse(&b, []any{"", ours.Struct{}})
	if got, err := decodeFast(b.Bytes()); err != nil || !reflect.DeepEqual(got, []any{"", map[string]any{}}) {
		t.Fatalf("empty string and struct: %#v %v", got, err)
	}
	b.Reset()
	_ = ours.EncodeFault(&b, 10, "BAD_NAME: x&y")
	var f *Fault
	if _, err := decodeFast(b.Bytes()); !errors.As(err, &f) || f.Code != 10 || f.String != "BAD_NAME: x&y" {
		t.Fatalf("fault: %v", err)
	}
	for _, odd := range []string{
		"<?xml version='1.0'?>\n<methodResponse><params><param><value><base64>eA==</base64></value></param></params></methodResponse>",
		"<?xml version='1.0'?>\n<methodResponse><params><param><value><string>a\r\nb</string></value></param></params></methodResponse>",
		"not xml",
	} {
		if _, err := decodeFast([]byte(odd)); !errors.Is(err, errFastUnknown) {
			t.Errorf("%q: %v, want the fallback", odd, err)
		}
	}
}
