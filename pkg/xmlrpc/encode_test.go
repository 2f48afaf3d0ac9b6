package xmlrpc

import (
	"bytes"
	"encoding/base64"
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

type myString string
type myInt int

func processInfo(i int) Struct {
	return Struct{
		{"name", "proc" + string(rune('a'+i%26))}, {"group", "grp"}, {"start", 1767366245}, {"stop", 0},
		{"now", 1767366300}, {"state", 20}, {"statename", "RUNNING"}, {"spawnerr", ""},
		{"exitstatus", 0}, {"logfile", "/var/log/x.log"}, {"stdout_logfile", "/var/log/x.log"},
		{"stderr_logfile", ""}, {"pid", 4242 + i}, {"description", "pid 4242, uptime 0:00:55"},
	}
}

func encodeCases() []struct {
	name string
	v    any
} {
	seven := 7
	return []struct {
		name string
		v    any
	}{
		{"int zero", 0}, {"int one", 1}, {"int negative", -1},
		{"int max32", math.MaxInt32}, {"int min32", math.MinInt32},
		{"int over", math.MaxInt32 + 1}, {"int under", math.MinInt32 - 1},
		{"int64 big", int64(math.MaxInt64)}, {"int8", int8(-5)}, {"uint16", uint16(7)},
		{"uint64 big", uint64(1) << 40}, {"named int", myInt(42)}, {"pointer", &seven},
		{"true", true}, {"false", false},
		{"string empty", ""}, {"string version", "3.0"}, {"string escapes", "a&b<c>d &amp; ]]>"},
		{"string quotes", `"double" 'single'`}, {"string unicode", "ünïcödé ✓ 🎉 \u2028"},
		{"string controls", "\r\n\t\x00\x01\x1f\x7f"}, {"string long", strings.Repeat("log line & <tag>\n", 700)},
		{"named string", myString("STOPPED")},
		{"float zero", 0.0}, {"float negzero", math.Copysign(0, -1)}, {"float one", 1.0}, {"float tenth", 0.1},
		{"float 1e15", 1e15}, {"float 1e16", 1e16}, {"float big", 123456789012345678.0}, {"float 1e22", 1e22},
		{"float 1e-4", 1e-4}, {"float 1e-5", 1e-5}, {"float 1.5e-7", 1.5e-7}, {"float max", math.MaxFloat64},
		{"float denormal", 5e-324}, {"float nan", math.NaN()}, {"float inf", math.Inf(1)}, {"float -inf", math.Inf(-1)},
		{"float pi", math.Pi}, {"float third", 1.0 / 3}, {"float hundred", 100.0}, {"float 2.5e300", 2.5e300},
		{"float32", float32(0.1)}, {"float -12345.678", -12345.678}, {"float 9999999999999998", 9999999999999998.0},
		{"bytes empty", []byte{}}, {"bytes abc", []byte("abc")}, {"bytes 57", bytes.Repeat([]byte{0xff}, 57)},
		{"bytes 58", bytes.Repeat([]byte("x"), 58)}, {"bytes 200", bytes.Repeat([]byte{0, 1, 2, 250}, 50)},
		{"datetime", time.Date(2026, 1, 2, 15, 4, 5, 999, time.UTC)}, {"datetime year 5", time.Date(5, 3, 4, 0, 0, 9, 0, time.UTC)},
		{"datetime max", time.Date(9999, 12, 31, 23, 59, 59, 0, time.FixedZone("x", 3600))},
		{"array empty", []any{}}, {"array mixed", []any{1, "a", true, 2.5, []any{"nested", []any{}}}},
		{"strings", []string{"a", "b<"}}, {"ints", []int{1, 2, 3}}, {"array of maps", []map[string]any{{"a": 1}, {}}},
		{"map empty", map[string]any{}}, {"map", map[string]any{"b": 1, "a": "x", "c": []any{true}}},
		{"map escaped keys", map[string]any{"a&b": 1, "<k>": "v", "ü": 2}}, {"map of strings", map[string]string{"z": "1", "y": "2"}},
		{"struct ordered", Struct{{"z", 1}, {"a", 2}, {"m", Struct{}}}}, {"struct empty", Struct{}},
		{"process info", processInfo(0)}, {"all process info", []Struct{processInfo(0), processInfo(1)}},
		{"multicall results", []any{"3.0", Fault{Code: 10, String: "BAD_NAME: x"}, []any{true}}},
		{"reload result", []any{[]any{[]string{"added"}, []string{}, []string{"gone"}}}},
		{"tail result", []any{"data\n", 123, false}},
		{"nil", nil}, {"nil in array", []any{1, nil}}, {"nil in map", map[string]any{"a": nil}},
		{"overflow in struct", Struct{{"start", int64(1) << 33}}},
	}
}

// TestEncodeMatchesPython compares our bytes with the original's
// xmlrpc_marshal for every case, including which cases fail.
func TestEncodeMatchesPython(t *testing.T) {
	cases := encodeCases()
	items := make([]any, len(cases))
	for i, c := range cases {
		items[i] = toTagged(c.v)
	}
	res := oracle(t, "marshal", items)
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := EncodeResponse(&buf, c.v)
			if res[i].Err != "" {
				if err == nil {
					t.Fatalf("python fails (%s), we encoded %q", res[i].Err, buf.String())
				}
				if buf.Len() != 0 {
					t.Errorf("wrote %d bytes despite error", buf.Len())
				}
				return
			}
			if err != nil {
				t.Fatalf("EncodeResponse: %v", err)
			}
			var b64 string
			if err := jsonUnmarshal(res[i].OK, &b64); err != nil {
				t.Fatal(err)
			}
			want, _ := base64.StdEncoding.DecodeString(b64)
			if !bytes.Equal(buf.Bytes(), want) {
				t.Errorf("bytes differ\n got: %q\nwant: %q", buf.String(), want)
			}
		})
	}
}

func TestEncodeFaultMatchesPython(t *testing.T) {
	cases := []struct {
		code int
		msg  string
	}{
		{1, "UNKNOWN_METHOD"}, {10, "BAD_NAME: nosuch"}, {2, "INCORRECT_PARAMETERS: <&>"},
		{21, "NOT_EXECUTABLE: command at '/tmp/sv2/supervisord.conf' is not executable"},
		{30, "FAILED: ünïcode ✓"}, {-1, ""}, {math.MaxInt32, "x"}, {math.MaxInt32 + 1, "overflow"},
	}
	items := make([]any, len(cases))
	for i, c := range cases {
		items[i] = map[string]any{"t": "fault", "v": []any{c.code, c.msg}}
	}
	res := oracle(t, "marshal", items)
	for i, c := range cases {
		var buf bytes.Buffer
		err := EncodeFault(&buf, c.code, c.msg)
		if res[i].Err != "" {
			if err == nil {
				t.Errorf("fault %d: python fails (%s), we encoded", c.code, res[i].Err)
			}
			continue
		}
		if err != nil {
			t.Errorf("fault %d: %v", c.code, err)
			continue
		}
		var b64 string
		if err := jsonUnmarshal(res[i].OK, &b64); err != nil {
			t.Fatal(err)
		}
		want, _ := base64.StdEncoding.DecodeString(b64)
		if !bytes.Equal(buf.Bytes(), want) {
			t.Errorf("fault %d differs\n got: %q\nwant: %q", c.code, buf.String(), want)
		}
	}
}

// TestEncodeExact pins the spec's example without the oracle.
func TestEncodeExact(t *testing.T) {
	var buf bytes.Buffer
	if err := EncodeResponse(&buf, "3.0"); err != nil {
		t.Fatal(err)
	}
	want := "<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n<value><string>3.0</string></value>\n</param>\n</params>\n</methodResponse>\n"
	if buf.String() != want {
		t.Errorf("got %q", buf.String())
	}
}

func TestEncodeErrors(t *testing.T) {
	loop := []any{1}
	loop[0] = loop
	cases := []struct {
		name string
		v    any
		want error
	}{
		{"nil", nil, ErrNil},
		{"nil pointer", (*int)(nil), ErrNil},
		{"nil fault", (*Fault)(nil), ErrNil},
		{"overflow", 1 << 31, ErrIntOverflow},
		{"uint overflow", uint32(1 << 31), ErrIntOverflow},
		{"invalid utf8", "caf\xc3", ErrBadString},
		{"invalid utf8 key", map[string]any{"\xff": 1}, ErrBadString},
		{"invalid utf8 fault-free nested", []any{Struct{{"a", "\xe2\x82"}}}, ErrBadString},
		{"int keys", map[int]any{1: 2}, ErrUnsupported},
		{"chan", make(chan int), ErrUnsupported},
		{"struct type", struct{ A int }{1}, ErrUnsupported},
		{"year 0", time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC), ErrUnsupported},
		{"recursive", loop, ErrUnsupported},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dst := []byte("keep")
			out, err := AppendResponse(dst, c.v)
			if !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
			if string(out) != "keep" {
				t.Errorf("dst changed to %q", out)
			}
		})
	}
}
