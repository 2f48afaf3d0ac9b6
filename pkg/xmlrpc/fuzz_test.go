package xmlrpc

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestDecodeRandomAgainstOriginal throws generated scalar texts at both
// decoders; the Python-compatible parsers have many corners.
func TestDecodeRandomAgainstOriginal(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	pick := func(s []string) string { return s[rng.IntN(len(s))] }
	numAtoms := []string{"0", "1", "2", "5", "9", "_", "+", "-", ".", "e", "E", " ", "\t", "٣", "x", "inf", "nan", "\u00a0"}
	dateAtoms := []string{"0", "1", "2", "3", "5", "6", "9", "T", "t", ":", " ", "٢", "-", "Z"}
	b64Atoms := []string{"A", "Q", "w", "8", "+", "/", "=", "==", "\n", " ", "*", "YQ", "YWJj"}
	gen := func(atoms []string, max int) string {
		var b strings.Builder
		for n := rng.IntN(max); n >= 0; n-- {
			b.WriteString(pick(atoms))
		}
		return b.String()
	}
	var bodies []string
	for range 400 {
		bodies = append(bodies, v("<int>"+gen(numAtoms, 6)+"</int>"), v("<double>"+gen(numAtoms, 8)+"</double>"),
			v("<base64>"+gen(b64Atoms, 8)+"</base64>"))
		// Dates: mostly well-shaped, with a digit count that varies.
		digits := func(lo, hi int) string {
			var b strings.Builder
			for n := lo + rng.IntN(hi-lo+1); n > 0; n-- {
				b.WriteString(pick([]string{"0", "1", "2", "3", "5", "9", "0", "1", "٢"}))
			}
			return b.String()
		}
		d := pick([]string{"2026", "1999", "0000", "2024", "202"}) +
			pick([]string{"0102", "1231", "123", "111", "0230", "12 3", "1 1", "0229", digits(1, 4), digits(2, 3)}) + pick([]string{"T", "t", " ", ""}) +
			digits(1, 2) + ":" + digits(1, 2) + ":" + pick([]string{"", "", "", "6", "5"}) + digits(1, 2)
		bodies = append(bodies, v("<dateTime.iso8601>"+d+"</dateTime.iso8601>"),
			v("<dateTime.iso8601>"+gen(dateAtoms, 18)+"</dateTime.iso8601>"))
	}
	checkAgainstOracle(t, bodies)
	// The corpus must exercise both outcomes of every parser.
	for kind := range 4 { // the fifth generator is noise
		ok := 0
		for i := kind; i < len(bodies); i += 5 {
			if _, _, err := DecodeCall(strings.NewReader(bodies[i]), Limits{}); err == nil {
				ok++
			}
		}
		if ok < 20 || ok > 380 {
			t.Errorf("generator %d: %d of 400 decode; the corpus is too one-sided", kind, ok)
		}
	}
}

var fuzzSeeds = []string{
	v("<int>5</int>"), v("<string>x</string>"), v(" x "), v("<nil/>"), v("<double>1e5</double>"),
	v("<dateTime.iso8601>20260102T15:04:05</dateTime.iso8601>"), v("<base64>aGk=</base64>"),
	v("<array><data><value>1</value><value><boolean>1</boolean></value></data></array>"),
	v("<struct><member><name>a</name><value><i4>1</i4></value></member></struct>"),
	"<methodCall><methodName>a</methodName></methodCall>", "<x:a xmlns:x='u'/>", "\ufeff<a/>",
}

// FuzzDecodeCall: any input yields values or a *DecodeError, never a panic.
func FuzzDecodeCall(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		method, params, err := DecodeCall(strings.NewReader(string(body)), Limits{MaxBytes: 1 << 16, MaxDepth: 64})
		if err != nil {
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("%T %v is not a *DecodeError", err, err)
			}
			return
		}
		if method == "" || params == nil {
			t.Fatalf("success with method %q params %v", method, params)
		}
	})
}

// FuzzRoundTrip: whatever decodes and can be encoded decodes again to the
// same values when sent back as a call.
func FuzzRoundTrip(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		method, params, err := DecodeCall(strings.NewReader(string(body)), Limits{MaxBytes: 1 << 16, MaxDepth: 64})
		if err != nil {
			return
		}
		call, err := appendCall(nil, method, params)
		if err != nil {
			return // nil, ints beyond int32, and names/strings the encoder refuses
		}
		m2, p2, err := DecodeCall(strings.NewReader(string(call)), Limits{})
		if err != nil {
			t.Fatalf("re-decode of %q: %v", call, err)
		}
		if m2 != method || !equalValues(p2, params) {
			t.Fatalf("round trip changed %q %#v into %q %#v via %q", method, params, m2, p2, call)
		}
	})
}

// appendCall builds a methodCall the way Python's client does, from our
// value encoder. Characters that XML would normalise (CR) or that expat
// refuses make no sense to round-trip, so such inputs are skipped.
func appendCall(dst []byte, method string, params []any) ([]byte, error) {
	if !xmlSafe(method) {
		return nil, errUnsafe
	}
	dst = append(dst, "<?xml version='1.0'?>\n<methodCall>\n<methodName>"...)
	dst, err := appendEscaped(dst, method)
	if err != nil {
		return nil, err
	}
	dst = append(dst, "</methodName>\n<params>\n"...)
	for _, p := range params {
		if !valueSafe(p) {
			return nil, errUnsafe
		}
		dst = append(dst, "<param>\n"...)
		if dst, err = appendValue(dst, p, 0); err != nil {
			return nil, err
		}
		dst = append(dst, "</param>\n"...)
	}
	return append(dst, "</params>\n</methodCall>\n"...), nil
}

var errUnsafe = errors.New("not representable in XML text")

func xmlSafe(s string) bool {
	for _, r := range s {
		if r == '\r' || (r < 0x20 && r != '\t' && r != '\n') || r == 0xFFFE || r == 0xFFFF {
			return false
		}
	}
	return true
}

func valueSafe(v any) bool {
	switch x := v.(type) {
	case string:
		return xmlSafe(x)
	case []byte:
		return true
	case []any:
		for _, e := range x {
			if !valueSafe(e) {
				return false
			}
		}
	case map[string]any:
		for k, e := range x {
			if !xmlSafe(k) || !valueSafe(e) {
				return false
			}
		}
	}
	return true
}
