package xmlrpc

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"math"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

// one wraps a <value> body in a call with a single parameter.
func one(value string) string {
	return "<?xml version='1.0'?>\n<methodCall>\n<methodName>m</methodName>\n<params>\n<param>\n" + value + "\n</param>\n</params>\n</methodCall>\n"
}

func v(inner string) string { return one("<value>" + inner + "</value>") }

// decodeBodies are hand-written requests, many of them odd, that the
// original's loader is asked about too.
var decodeBodies = []string{
	// every type
	v("<int>5</int>"), v("<i4>-7</i4>"), v("<int> 5 </int>"), v("<int>+5</int>"), v("<int>1_000</int>"),
	v("<int>1__0</int>"), v("<int>_1</int>"), v("<int>0005</int>"), v("<int>٣</int>"), v("<int>5.0</int>"),
	v("<int></int>"), v("<int>x</int>"), v("<int>0x10</int>"), v("<int>2147483648</int>"), v("<int>-9223372036854775808</int>"),
	v("<int>\n\t5\n</int>"), v("<int>5\u00a0</int>"), v("<int>- 5</int>"),
	v("<i8>5</i8>"), v("<i8/>"), v("<nil/>"), v("<ex:nil xmlns:ex='http://ws.apache.org/xmlrpc/namespaces/extensions'/>"),
	v("<boolean>1</boolean>"), v("<boolean>0</boolean>"), v("<boolean>true</boolean>"), v("<boolean> 1</boolean>"), v("<boolean/>"),
	v("<string>abc</string>"), v("<string></string>"), v("<string/>"), v(" x "), v(""), v("\n  <string>x</string>\n"),
	v("<string>a&amp;b&lt;c&gt;&quot;&apos;&#65;&#x42;</string>"), v("<string><![CDATA[<raw> & ]]></string>"),
	v("<string>a<!-- c -->b</string>"), v("<string>a<b>q</b>c</string>"), v("<string>a&#13;b\r\nc\rd</string>"),
	v("<string>ünï ✓ 🎉</string>"), v("<string>\u2028</string>"),
	v("<double>1.5</double>"), v("<double> -0.0 </double>"), v("<double>1e400</double>"), v("<double>inf</double>"),
	v("<double>-Infinity</double>"), v("<double>nan</double>"), v("<double>1_0.5</double>"), v("<double>.5</double>"),
	v("<double>5.</double>"), v("<double>1.e5</double>"), v("<double>1e</double>"), v("<double>0x1p3</double>"),
	v("<double>1e-400</double>"), v("<double></double>"), v("<double>١.٥</double>"), v("<double>1_e5</double>"),
	v("<dateTime.iso8601>20260102T15:04:05</dateTime.iso8601>"), v("<dateTime.iso8601>20260102t15:04:05</dateTime.iso8601>"),
	v("<dateTime.iso8601>2026123T1:2:3</dateTime.iso8601>"), v("<dateTime.iso8601>2026 1 2T01:02:03</dateTime.iso8601>"),
	v("<dateTime.iso8601>20260230T00:00:00</dateTime.iso8601>"), v("<dateTime.iso8601>20260102T15:04:60</dateTime.iso8601>"),
	v("<dateTime.iso8601>20260102T15:04:611</dateTime.iso8601>"), v("<dateTime.iso8601>00000101T00:00:00</dateTime.iso8601>"),
	v("<dateTime.iso8601>2026-01-02T15:04:05</dateTime.iso8601>"), v("<dateTime.iso8601>20260102T15:04:05Z</dateTime.iso8601>"),
	v("<dateTime.iso8601>20241131T00:00:00</dateTime.iso8601>"), v("<dateTime.iso8601>20240229T23:59:59</dateTime.iso8601>"),
	v("<dateTime.iso8601>٢٠٢٦0102T15:04:05</dateTime.iso8601>"), v("<dateTime.iso8601>2026111T1:1:1</dateTime.iso8601>"),
	v("<dateTime.iso8601/>"), v("<dateTime.iso8601> 20260102T15:04:05</dateTime.iso8601>"),
	v("<base64>aGVsbG8=</base64>"), v("<base64>\naGVs\nbG8=\n</base64>"), v("<base64>aGVsbG8</base64>"), v("<base64>aGVsbA</base64>"),
	v("<base64>a</base64>"), v("<base64></base64>"), v("<base64>aGVs*bG8=</base64>"), v("<base64>aGVsbG8=trailing</base64>"),
	v("<base64>aG=Vs</base64>"), v("<base64>/w==</base64>"), v("<base64>YQ==YQ==</base64>"), v("<base64>YQ=</base64>"),
	v("<base64>==YWJj</base64>"), v("<base64>w7w=</base64>"),
	v("<array><data><value><int>1</int></value><value>two</value><value><array><data/></array></value></data></array>"),
	v("<array><data></data></array>"), v("<array/>"), v("<array>\n</array>"), v("<array><value><int>1</int></value></array>"),
	v("<array><data><nil/></data></array>"),
	v("<struct><member><name>a</name><value><int>1</int></value></member><member><name>b</name><value>x</value></member></struct>"),
	v("<struct></struct>"), v("<struct><member><name></name><value>empty key</value></member></struct>"),
	v("<struct><member><name>a</name><value>1</value></member><member><name>a</name><value>2</value></member></struct>"),
	v("<struct><member><name>a</name></member></struct>"), v("<struct><member><value>x</value><name>a</name></member></struct>"),
	v("<struct><member><name> a </name><value/></member></struct>"), v("<struct><foo/></struct>"),
	v("<struct><member><name>a</name><value>1</value><extra/></member></struct>"),
	v("<foo>bar</foo>"), v("<foo><int>1</int></foo>"),
	// document shapes
	"<methodCall><methodName>supervisor.getState</methodName></methodCall>",
	"<methodCall><methodName>a</methodName><params/></methodCall>",
	"<methodCall><methodName></methodName></methodCall>", "<methodCall><params/></methodCall>",
	"<methodCall><methodName> spaced </methodName></methodCall>",
	"<methodName>bare</methodName>",
	"<methodCall><methodName>a</methodName><methodName>b</methodName></methodCall>",
	"<methodCall><methodName>a</methodName><params><param/></params></methodCall>",
	"<methodCall><methodName>a</methodName><params><value>direct</value></params></methodCall>",
	"<methodCall><methodName>a</methodName><params><param><value>1</value></param></params><params/></methodCall>",
	"<methodCall><methodName>a<x/>b</methodName></methodCall>",
	"<methodCall><methodName>a</methodName><params><param><value><methodName>inner</methodName></value></param></params></methodCall>",
	"<methodCall xmlns='urn:x'><methodName>a</methodName></methodCall>",
	"<x:methodCall xmlns:x='urn:x'><methodName>a</methodName></x:methodCall>",
	"<x:methodCall><methodName>a</methodName></x:methodCall>",
	"<methodCall a='1' a='2'><methodName>a</methodName></methodCall>",
	"<?xml version='1.0' encoding='iso-8859-1'?><methodCall><methodName>é</methodName></methodCall>",
	"<?xml version='1.0' encoding='bogus'?><methodCall><methodName>a</methodName></methodCall>",
	"\ufeff<methodCall><methodName>a</methodName></methodCall>",
	"  \n<methodCall><methodName>a</methodName></methodCall>\n  ",
	" <?xml version='1.0'?><methodCall><methodName>a</methodName></methodCall>",
	"<!DOCTYPE methodCall><methodCall><methodName>a</methodName></methodCall>",
	"<?pi x?><!-- c --><methodCall><methodName>a</methodName></methodCall><!-- c --><?pi?>",
	"<methodCall><methodName>a</methodName></methodCall><methodCall/>",
	"<methodCall><methodName>a</methodName></methodCall>junk",
	"junk<methodCall><methodName>a</methodName></methodCall>",
	"<methodCall><methodName>a</methodName>", "<methodCall><methodName>a</methodCall>",
	"<methodCall><methodName>a&bogus;</methodName></methodCall>", "<methodCall><methodName>a&#0;</methodName></methodCall>",
	"<methodCall><methodName>a\x01</methodName></methodCall>", "<methodCall><methodName>a\uFFFE</methodName></methodCall>",
	"", "   ", "not xml", "<", "<methodCall>",
}

// decodeDeviations are requests on which we knowingly differ from the
// original; the value is the error kind we return.
var decodeDeviations = map[string]error{
	// Python's int is unbounded; ours is int64.
	v("<int>9223372036854775808</int>"): ErrMalformed,
	// Non-string struct keys cannot live in a map[string]any.
	v("<struct><member><int>1</int><value>x</value></member></struct>"): ErrMalformed,
	// encoding/xml does not expand entities declared in a DTD.
	"<!DOCTYPE m [<!ENTITY e 'v'>]><methodCall><methodName>a&e;</methodName></methodCall>": ErrMalformed,
}

func decodeCanonical(body string) (any, error) {
	method, params, err := DecodeCall(strings.NewReader(body), Limits{})
	if err != nil {
		return nil, err
	}
	return map[string]any{"method": method, "params": canonical(params)}, nil
}

func checkAgainstOracle(t *testing.T, bodies []string) {
	t.Helper()
	items := make([]any, len(bodies))
	for i, b := range bodies {
		items[i] = base64.StdEncoding.EncodeToString([]byte(b))
	}
	res := oracle(t, "loads", items)
	for i, body := range bodies {
		got, err := decodeCanonical(body)
		if res[i].Err != "" {
			if err == nil {
				t.Errorf("%q: original fails (%s), we decoded %v", body, res[i].Err, got)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v; original decodes %s", body, err, res[i].OK)
			continue
		}
		if g, w, ok := sameJSON(t, got, res[i].OK); !ok {
			t.Errorf("%q:\n got %s\nwant %s", body, g, w)
		}
	}
}

func TestDecodeMatchesOriginal(t *testing.T) {
	checkAgainstOracle(t, decodeBodies)
}

func TestDecodeDeviations(t *testing.T) {
	var bodies []string
	for b := range decodeDeviations {
		bodies = append(bodies, b)
	}
	items := make([]any, len(bodies))
	for i, b := range bodies {
		items[i] = base64.StdEncoding.EncodeToString([]byte(b))
	}
	res := oracle(t, "loads", items)
	for i, b := range bodies {
		if res[i].Err != "" {
			t.Errorf("%q: no longer a deviation, the original fails too: %s", b, res[i].Err)
		}
		if _, _, err := DecodeCall(strings.NewReader(b), Limits{}); !errors.Is(err, decodeDeviations[b]) {
			t.Errorf("%q: err = %v, want %v", b, err, decodeDeviations[b])
		}
	}
}

// TestDecodePythonClientCalls decodes what Python's own client sends
// (xmlrpc.client.dumps), comparing with the original's reading of it.
func TestDecodePythonClientCalls(t *testing.T) {
	calls := []struct {
		method string
		params []any
	}{
		{"supervisor.getState", nil},
		{"supervisor.startProcess", []any{"grp:name", true}},
		{"supervisor.readProcessStdoutLog", []any{"x", -1024, 0}},
		{"supervisor.sendProcessStdin", []any{"x", "line & <stuff>\n\tü🎉"}},
		{"supervisor.signalProcess", []any{"x", "HUP"}},
		{"system.multicall", []any{[]any{
			map[string]any{"methodName": "supervisor.getAllProcessInfo", "params": []any{}},
			map[string]any{"methodName": "supervisor.stopProcess", "params": []any{"a", false}},
		}}},
		{"x.types", []any{1.5, -0.0, 1e300, math.Inf(-1), []byte("bytes ✓"), time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC),
			map[string]any{"": 1, "k": []any{}}, []any{}, nil, math.MaxInt32, math.MinInt32, "", "  spaces  "}},
	}
	items := make([]any, len(calls))
	for i, c := range calls {
		ps := []any{}
		for _, p := range c.params {
			ps = append(ps, toTagged(p))
		}
		items[i] = map[string]any{"method": c.method, "params": ps}
	}
	res := oracle(t, "call", items)
	bodies := make([]string, len(res))
	for i, r := range res {
		if r.Err != "" {
			t.Fatalf("python dumps %v: %s", calls[i], r.Err)
		}
		var b64 string
		if err := jsonUnmarshal(r.OK, &b64); err != nil {
			t.Fatal(err)
		}
		b, _ := base64.StdEncoding.DecodeString(b64)
		bodies[i] = string(b)
	}
	checkAgainstOracle(t, bodies)
	// And directly against the Go values that went in.
	for i, c := range calls {
		method, params, err := DecodeCall(strings.NewReader(bodies[i]), Limits{})
		if err != nil {
			t.Fatalf("%s: %v", c.method, err)
		}
		want := c.params
		if want == nil {
			want = []any{}
		}
		if method != c.method || !equalValues(params, want) {
			t.Errorf("%s: got %s %#v, want %#v", c.method, method, params, want)
		}
	}
}

// equalValues is DeepEqual except that ints of any width and NaN compare by value.
func equalValues(a, b any) bool {
	switch x := a.(type) {
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !equalValues(x[i], y[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k := range x {
			if _, ok := y[k]; !ok || !equalValues(x[k], y[k]) {
				return false
			}
		}
		return true
	case float64:
		y, ok := b.(float64)
		return ok && (x == y && math.Signbit(x) == math.Signbit(y) || math.IsNaN(x) && math.IsNaN(y))
	case time.Time:
		y, ok := b.(time.Time)
		return ok && x.Equal(y)
	}
	return reflect.DeepEqual(a, b)
}

func TestDecodeTypes(t *testing.T) {
	body := one(`<value><array><data>
<value><int>1</int></value><value><i4>2</i4></value><value><boolean>1</boolean></value>
<value><string>s</string></value><value>untyped</value><value><double>2.5</double></value>
<value><dateTime.iso8601>20260102T15:04:05</dateTime.iso8601></value><value><base64>aGk=</base64></value>
<value><struct><member><name>k</name><value><int>3</int></value></member></struct></value><value><nil/></value>
</data></array></value>`)
	method, params, err := DecodeCall(strings.NewReader(body), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	want := []any{[]any{1, 2, true, "s", "untyped", 2.5, time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC),
		[]byte("hi"), map[string]any{"k": 3}, nil}}
	if method != "m" || !equalValues(params, want) {
		t.Errorf("got %q %#v", method, params)
	}
}

func TestDecodeErrors(t *testing.T) {
	deep := strings.Repeat("<value><array><data>", 100) + strings.Repeat("</data></array></value>", 100)
	cases := []struct {
		name string
		body string
		lim  Limits
		want error
	}{
		{"no method", "<methodCall><params/></methodCall>", Limits{}, ErrNoMethod},
		{"empty method", "<methodCall><methodName/></methodCall>", Limits{}, ErrNoMethod},
		{"not xml", "hello", Limits{}, ErrMalformed},
		{"empty", "", Limits{}, ErrMalformed},
		{"truncated", "<methodCall><methodName>a</methodName>", Limits{}, ErrMalformed},
		{"bad int", v("<int>x</int>"), Limits{}, ErrMalformed},
		{"invalid utf8", "<methodCall><methodName>caf\xc3</methodName></methodCall>", Limits{}, ErrInvalidUTF8},
		{"invalid utf8 at end", "<methodCall><methodName>a</methodName></methodCall>\xe2\x82", Limits{}, ErrInvalidUTF8},
		{"surrogate", "<methodCall><methodName>\xed\xa0\x80</methodName></methodCall>", Limits{}, ErrInvalidUTF8},
		{"base64 not utf8", v("<base64>/w==</base64>"), Limits{}, ErrMalformed},
		{"too large", v(strings.Repeat("x", 1000)), Limits{MaxBytes: 500}, ErrTooLarge},
		{"too deep", one(deep), Limits{MaxDepth: 50}, ErrTooDeep},
		{"deep within limit", one(deep), Limits{MaxDepth: 400}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := DecodeCall(strings.NewReader(c.body), c.lim)
			if !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
			if err != nil {
				var de *DecodeError
				if !errors.As(err, &de) {
					t.Errorf("%T is not a *DecodeError", err)
				}
			}
		})
	}
}

// TestDecodeExactLimit: a body of exactly MaxBytes is fine, one more is not.
func TestDecodeExactLimit(t *testing.T) {
	body := "<methodCall><methodName>a</methodName></methodCall>"
	if _, _, err := DecodeCall(strings.NewReader(body), Limits{MaxBytes: int64(len(body))}); err != nil {
		t.Errorf("at limit: %v", err)
	}
	if _, _, err := DecodeCall(strings.NewReader(body), Limits{MaxBytes: int64(len(body) - 1)}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("over limit: %v", err)
	}
}

// TestDecodeSplitReads feeds the body one byte at a time so multibyte
// characters straddle reads.
func TestDecodeSplitReads(t *testing.T) {
	body := v("<string>ünï ✓ 🎉</string>")
	for _, r := range []io.Reader{iotest.OneByteReader(strings.NewReader(body)), iotest.DataErrReader(strings.NewReader(body)),
		iotest.HalfReader(strings.NewReader(body))} {
		_, params, err := DecodeCall(r, Limits{})
		if err != nil || !equalValues(params, []any{"ünï ✓ 🎉"}) {
			t.Errorf("%T: %v %#v", r, err, params)
		}
	}
	bad := v("<string>ü\xc3</string>")
	if _, _, err := DecodeCall(iotest.OneByteReader(strings.NewReader(bad)), Limits{}); !errors.Is(err, ErrInvalidUTF8) {
		t.Errorf("split invalid: %v", err)
	}
	if _, _, err := DecodeCall(iotest.OneByteReader(strings.NewReader("<methodCall><methodName>a</methodName></methodCall>\xf0\x9f")), Limits{}); !errors.Is(err, ErrInvalidUTF8) {
		t.Errorf("truncated at EOF: %v", err)
	}
}

func TestDecodeReaderError(t *testing.T) {
	r := io.MultiReader(strings.NewReader("<methodCall>"), iotest.ErrReader(io.ErrUnexpectedEOF))
	if _, _, err := DecodeCall(r, Limits{}); !errors.Is(err, ErrMalformed) || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("err = %v", err)
	}
}

var _ = bytes.Equal
