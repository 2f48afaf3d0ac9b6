package xmlrpc

import (
	"encoding/base64"
	"fmt"
	"io"
	"math"
	"reflect"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"
)

// Byte-exact pieces of Python's xmlrpc.client.dumps output.
const (
	responseHead = "<?xml version='1.0'?>\n<methodResponse>\n"
	paramsHead   = "<params>\n<param>\n"
	paramsTail   = "</param>\n</params>\n"
	responseTail = "</methodResponse>\n"

	// maxEncodeDepth stops runaway recursion on self-referencing values
	// (Python raises "cannot marshal recursive sequences").
	maxEncodeDepth = 1000
)

// EncodeResponse writes the bytes of Python's
// xmlrpc.client.dumps((v,), methodresponse=True) — what the original sends
// for a successful call. Nothing is written when v cannot be encoded (the
// original answers HTTP 500 then).
func EncodeResponse(w io.Writer, v any) error {
	b, err := AppendResponse(nil, v)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// AppendResponse appends what EncodeResponse writes to dst; on error dst is
// returned unchanged.
func AppendResponse(dst []byte, v any) ([]byte, error) {
	n := len(dst)
	dst = append(dst, responseHead+paramsHead...)
	dst, err := appendValue(dst, v, 0)
	if err != nil {
		return dst[:n], err
	}
	return append(dst, paramsTail+responseTail...), nil
}

// EncodeFault writes the bytes of Python's xmlrpc.client.dumps(Fault(code,
// msg), methodresponse=True).
func EncodeFault(w io.Writer, code int, msg string) error {
	b, err := AppendFault(nil, code, msg)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// AppendFault appends what EncodeFault writes to dst.
func AppendFault(dst []byte, code int, msg string) ([]byte, error) {
	n := len(dst)
	dst = append(dst, responseHead+"<fault>\n"...)
	dst, err := appendFaultStruct(dst, code, msg)
	if err != nil {
		return dst[:n], err
	}
	return append(dst, "</fault>\n"+responseTail...), nil
}

func appendFaultStruct(dst []byte, code int, msg string) ([]byte, error) {
	// Python builds {'faultCode': ..., 'faultString': ...} in this order.
	dst = append(dst, "<value><struct>\n<member>\n<name>faultCode</name>\n"...)
	dst, err := appendInt(dst, int64(code))
	if err != nil {
		return dst, fmt.Errorf("faultCode: %w", err)
	}
	dst = append(dst, "</member>\n<member>\n<name>faultString</name>\n"...)
	if dst, err = appendString(dst, msg); err != nil {
		return dst, fmt.Errorf("faultString: %w", err)
	}
	return append(dst, "</member>\n</struct></value>\n"...), nil
}

func appendInt(dst []byte, i int64) ([]byte, error) {
	if i > math.MaxInt32 || i < math.MinInt32 {
		return dst, fmt.Errorf("%d: %w", i, ErrIntOverflow)
	}
	dst = append(dst, "<value><int>"...)
	dst = strconv.AppendInt(dst, i, 10)
	return append(dst, "</int></value>\n"...), nil
}

func appendUint(dst []byte, u uint64) ([]byte, error) {
	if u > math.MaxInt32 {
		return dst, fmt.Errorf("%d: %w", u, ErrIntOverflow)
	}
	return appendInt(dst, int64(u)) //nolint:gosec // range checked
}

func appendBool(dst []byte, b bool) []byte {
	if b {
		return append(dst, "<value><boolean>1</boolean></value>\n"...)
	}
	return append(dst, "<value><boolean>0</boolean></value>\n"...)
}

func appendDouble(dst []byte, f float64) []byte {
	dst = append(dst, "<value><double>"...)
	dst = appendPyFloatRepr(dst, f)
	return append(dst, "</double></value>\n"...)
}

// appendPyFloatRepr appends Python's repr(f): the shortest round-tripping
// digits, positional for decimal exponents -4..15 (always with a '.'),
// otherwise scientific with a signed two-digit-minimum exponent.
func appendPyFloatRepr(dst []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, "nan"...)
	case math.IsInf(f, 1):
		return append(dst, "inf"...)
	case math.IsInf(f, -1):
		return append(dst, "-inf"...)
	}
	exp := 0
	if f != 0 {
		var tmp [32]byte
		e := strconv.AppendFloat(tmp[:0], f, 'e', -1, 64)
		for i := len(e) - 1; i >= 0; i-- {
			if e[i] == 'e' {
				exp, _ = strconv.Atoi(string(e[i+1:]))
				break
			}
		}
		if exp < -4 || exp >= 16 {
			return append(dst, e...) // Go's 'e' form matches Python's: 1e+16, 1.5e-05
		}
	}
	start := len(dst)
	dst = strconv.AppendFloat(dst, f, 'f', -1, 64)
	for _, c := range dst[start:] {
		if c == '.' {
			return dst
		}
	}
	return append(dst, ".0"...)
}

func appendString(dst []byte, s string) ([]byte, error) {
	dst = append(dst, "<value><string>"...)
	dst, err := appendEscaped(dst, s)
	if err != nil {
		return dst, err
	}
	return append(dst, "</string></value>\n"...), nil
}

// appendEscaped escapes like Python's xmlrpc.client.escape: only &, < and >.
// Invalid UTF-8 is refused: the original's strings are decoded text, and
// reading a log slice that splits a character makes it answer HTTP 500.
func appendEscaped(dst []byte, s string) ([]byte, error) {
	last := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			// One pass validates and scans; dst is discarded on error.
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				return dst, fmt.Errorf("%.40q: %w", s, ErrBadString)
			}
			i += size
			continue
		}
		var esc string
		switch c {
		case '&':
			esc = "&amp;"
		case '<':
			esc = "&lt;"
		case '>':
			esc = "&gt;"
		default:
			i++
			continue
		}
		dst = append(dst, s[last:i]...)
		dst = append(dst, esc...)
		i++
		last = i
	}
	return append(dst, s[last:]...), nil
}

// appendBase64 is base64.encodebytes: lines of 76 characters, each ending
// in a newline.
func appendBase64(dst []byte, b []byte) []byte {
	dst = append(dst, "<value><base64>\n"...)
	const chunk = 57 // 57 bytes → 76 characters
	for len(b) > 0 {
		n := min(len(b), chunk)
		dst = base64.StdEncoding.AppendEncode(dst, b[:n])
		dst = append(dst, '\n')
		b = b[n:]
	}
	return append(dst, "</base64></value>\n"...)
}

func appendDateTime(dst []byte, t time.Time) ([]byte, error) {
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	if y < 1 || y > 9999 { // Python's datetime range
		return dst, fmt.Errorf("year %d: %w", y, ErrUnsupported)
	}
	dst = append(dst, "<value><dateTime.iso8601>"...)
	dst = appendPadded(dst, y, 4)
	dst = appendPadded(dst, int(mo), 2)
	dst = appendPadded(dst, d, 2)
	dst = append(dst, 'T')
	dst = appendPadded(dst, h, 2)
	dst = append(dst, ':')
	dst = appendPadded(dst, mi, 2)
	dst = append(dst, ':')
	dst = appendPadded(dst, s, 2)
	return append(dst, "</dateTime.iso8601></value>\n"...), nil
}

func appendPadded(dst []byte, v, width int) []byte {
	var buf [8]byte
	b := strconv.AppendInt(buf[:0], int64(v), 10)
	for i := len(b); i < width; i++ {
		dst = append(dst, '0')
	}
	return append(dst, b...)
}

func appendMemberName(dst []byte, name string) ([]byte, error) {
	dst = append(dst, "<member>\n<name>"...)
	dst, err := appendEscaped(dst, name)
	if err != nil {
		return dst, fmt.Errorf("struct member name: %w", err)
	}
	return append(dst, "</name>\n"...), nil
}

const (
	arrayHead  = "<value><array><data>\n"
	arrayTail  = "</data></array></value>\n"
	structHead = "<value><struct>\n"
	structTail = "</struct></value>\n"
	memberTail = "</member>\n"
)

// appendValue encodes one value; the common types are handled without
// reflection.
func appendValue(dst []byte, v any, depth int) ([]byte, error) {
	if depth > maxEncodeDepth {
		return dst, fmt.Errorf("nesting deeper than %d (recursive value?): %w", maxEncodeDepth, ErrUnsupported)
	}
	var err error
	switch x := v.(type) {
	case nil:
		return dst, ErrNil
	case string:
		return appendString(dst, x)
	case int:
		return appendInt(dst, int64(x))
	case bool:
		return appendBool(dst, x), nil
	case Struct:
		dst = append(dst, structHead...)
		for _, m := range x {
			if dst, err = appendMemberName(dst, m.Name); err != nil {
				return dst, err
			}
			if dst, err = appendValue(dst, m.Value, depth+1); err != nil {
				return dst, fmt.Errorf("member %q: %w", m.Name, err)
			}
			dst = append(dst, memberTail...)
		}
		return append(dst, structTail...), nil
	case []any:
		dst = append(dst, arrayHead...)
		for i, e := range x {
			if dst, err = appendValue(dst, e, depth+1); err != nil {
				return dst, fmt.Errorf("array item %d: %w", i, err)
			}
		}
		return append(dst, arrayTail...), nil
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		dst = append(dst, structHead...)
		for _, k := range keys {
			if dst, err = appendMemberName(dst, k); err != nil {
				return dst, err
			}
			if dst, err = appendValue(dst, x[k], depth+1); err != nil {
				return dst, fmt.Errorf("member %q: %w", k, err)
			}
			dst = append(dst, memberTail...)
		}
		return append(dst, structTail...), nil
	case []string:
		dst = append(dst, arrayHead...)
		for _, e := range x {
			if dst, err = appendString(dst, e); err != nil {
				return dst, err
			}
		}
		return append(dst, arrayTail...), nil
	case Stream:
		return appendStream(dst, x, depth)
	case []Struct:
		dst = append(dst, arrayHead...)
		for i, e := range x {
			if dst, err = appendValue(dst, e, depth+1); err != nil {
				return dst, fmt.Errorf("array item %d: %w", i, err)
			}
		}
		return append(dst, arrayTail...), nil
	case int64:
		return appendInt(dst, x)
	case int32:
		return appendInt(dst, int64(x))
	case float64:
		return appendDouble(dst, x), nil
	case []byte:
		return appendBase64(dst, x), nil
	case time.Time:
		return appendDateTime(dst, x)
	case Fault:
		return appendFaultStruct(dst, x.Code, x.String)
	case *Fault:
		if x == nil {
			return dst, ErrNil
		}
		return appendFaultStruct(dst, x.Code, x.String)
	case *Struct:
		if x == nil {
			return dst, ErrNil
		}
		return appendValue(dst, *x, depth)
	}
	return appendReflect(dst, reflect.ValueOf(v), depth)
}

// appendReflect handles named and less common types: any integer, float,
// bool or string kind, slices and arrays, maps keyed by strings, pointers.
func appendReflect(dst []byte, rv reflect.Value, depth int) ([]byte, error) {
	var err error
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return appendInt(dst, rv.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return appendUint(dst, rv.Uint())
	case reflect.Float32, reflect.Float64:
		return appendDouble(dst, rv.Float()), nil
	case reflect.Bool:
		return appendBool(dst, rv.Bool()), nil
	case reflect.String:
		return appendString(dst, rv.String())
	case reflect.Slice, reflect.Array:
		if rv.Kind() == reflect.Slice && rv.Type().Elem().Kind() == reflect.Uint8 {
			return appendBase64(dst, rv.Bytes()), nil
		}
		dst = append(dst, arrayHead...)
		for i := 0; i < rv.Len(); i++ {
			if dst, err = appendValue(dst, rv.Index(i).Interface(), depth+1); err != nil {
				return dst, fmt.Errorf("array item %d: %w", i, err)
			}
		}
		return append(dst, arrayTail...), nil
	case reflect.Map:
		if rv.Type().Key().Kind() != reflect.String {
			return dst, fmt.Errorf("map with %s keys: %w", rv.Type().Key(), ErrUnsupported)
		}
		keys := rv.MapKeys()
		slices.SortFunc(keys, func(a, b reflect.Value) int {
			switch as, bs := a.String(), b.String(); {
			case as < bs:
				return -1
			case as > bs:
				return 1
			}
			return 0
		})
		dst = append(dst, structHead...)
		for _, k := range keys {
			if dst, err = appendMemberName(dst, k.String()); err != nil {
				return dst, err
			}
			if dst, err = appendValue(dst, rv.MapIndex(k).Interface(), depth+1); err != nil {
				return dst, fmt.Errorf("member %q: %w", k.String(), err)
			}
			dst = append(dst, memberTail...)
		}
		return append(dst, structTail...), nil
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			return dst, ErrNil
		}
		return appendValue(dst, rv.Elem().Interface(), depth+1)
	case reflect.Invalid:
		return dst, ErrNil
	}
	return dst, fmt.Errorf("%s: %w", rv.Type(), ErrUnsupported)
}
