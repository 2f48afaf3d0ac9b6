package rpc

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gosupervisor/gosupervisor/pkg/fault"
	"github.com/gosupervisor/gosupervisor/pkg/pyfmt"
)

// The original does no type checking of XML-RPC parameters: whatever Python
// does with a value of the wrong type is what the client sees. A TypeError
// anywhere in a call becomes INCORRECT_PARAMETERS (xmlrpc.traverse catches
// it); other exceptions escape the handler (HTTP 500) or, inside
// system.multicall, become FAILED: <class 'X'>:<message>. The helpers below
// reproduce the cases a client can reach.

// pyError is an unexpected Python exception; Error() is multicall's
// "<class 'X'>:message" rendering.
type pyError struct {
	Type, Msg string
}

func (e *pyError) Error() string { return "<class '" + e.Type + "'>:" + e.Msg }

// incorrectParameters is what a Python TypeError turns into.
func incorrectParameters() error { return fault.New(fault.IncorrectParameters, "") }

// pyTypeName is Python's type(v).__name__ for decoded XML-RPC values.
func pyTypeName(v any) string {
	switch v.(type) {
	case nil:
		return "NoneType"
	case bool:
		return "bool"
	case int, int32, int64:
		return "int"
	case float64:
		return "float"
	case string:
		return "str"
	case time.Time:
		return "datetime"
	case []any:
		return "list"
	case map[string]any:
		return "dict"
	}
	return fmt.Sprintf("%T", v)
}

// noAttr is the AttributeError Python raises for v.attr.
func noAttr(v any, attr string) error {
	return &pyError{"AttributeError", fmt.Sprintf("'%s' object has no attribute '%s'", pyTypeName(v), attr)}
}

// pyStr is Python's str(v) ('%s' % v).
func pyStr(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case time.Time:
		return x.Format("2006-01-02 15:04:05") // naive datetime from make_datetime
	}
	return pyRepr(v)
}

// pyRepr is Python's repr(v).
func pyRepr(v any) string {
	switch x := v.(type) {
	case nil:
		return "None"
	case string:
		return pyfmt.Repr(x)
	case bool:
		if x {
			return "True"
		}
		return "False"
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return floatRepr(x)
	case time.Time:
		s := fmt.Sprintf("datetime.datetime(%d, %d, %d, %d, %d", x.Year(), int(x.Month()), x.Day(), x.Hour(), x.Minute())
		if x.Second() != 0 {
			s += fmt.Sprintf(", %d", x.Second())
		}
		return s + ")"
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = pyRepr(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case map[string]any:
		// Python keeps the document's member order; a Go map has lost it, so
		// sort for a stable text.
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = pyfmt.Repr(k) + ": " + pyRepr(x[k])
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	return fmt.Sprint(v)
}

// floatRepr is Python's repr(float): shortest round-trip digits, fixed
// notation for exponents in [-4, 16), always with a fractional part.
func floatRepr(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		return "nan"
	}
	e := strconv.FormatFloat(f, 'e', -1, 64) // "-1.2345e+06"
	mant, expText, _ := strings.Cut(e, "e")
	exp, _ := strconv.Atoi(expText)
	if exp < -4 || exp >= 16 {
		sign := "+"
		if exp < 0 {
			sign, exp = "-", -exp
		}
		return fmt.Sprintf("%se%s%02d", mant, sign, exp)
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.ContainsAny(s, ".") {
		s += ".0"
	}
	return s
}

// truthy is Python's bool(v).
func truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case int:
		return x != 0
	case int64:
		return x != 0
	case float64:
		return x != 0
	case string:
		return x != ""
	case []any:
		return len(x) > 0
	case map[string]any:
		return len(x) > 0
	}
	return true
}

// hashable reports whether v can be a dict key (lists and dicts cannot;
// looking them up raises TypeError).
func hashable(v any) bool {
	switch v.(type) {
	case []any, map[string]any:
		return false
	}
	return true
}

// valueError is a Python ValueError; callers decide what it becomes.
type valueError struct{ msg string }

func (e *valueError) Error() string { return e.msg }

// pyInt is Python's int(v). It returns INCORRECT_PARAMETERS for a TypeError,
// a *valueError for a ValueError and a *pyError for an OverflowError.
func pyInt(v any) (int64, error) {
	switch x := v.(type) {
	case bool:
		if x {
			return 1, nil
		}
		return 0, nil
	case int:
		return int64(x), nil
	case int64:
		return x, nil
	case float64:
		switch {
		case math.IsNaN(x):
			return 0, &valueError{"cannot convert float NaN to integer"}
		case math.IsInf(x, 0):
			return 0, &pyError{"OverflowError", "cannot convert float infinity to integer"}
		case math.Abs(x) >= 1<<63:
			// Python ints are unbounded; clamp (no caller cares beyond this).
			if x < 0 {
				return math.MinInt64, nil
			}
			return math.MaxInt64, nil
		}
		return int64(x), nil // truncation toward zero, as int() does
	case string:
		n, ok := parsePyInt(x)
		if !ok {
			return 0, &valueError{"invalid literal for int() with base 10: " + pyfmt.Repr(x)}
		}
		return n, nil
	}
	return 0, incorrectParameters()
}

// parsePyInt parses a base-10 literal as int(str) does: surrounding
// whitespace, a sign, and single underscores between digits.
func parsePyInt(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	body := strings.TrimLeft(s, "+-")
	if len(s)-len(body) > 1 || body == "" || body[0] == '_' || body[len(body)-1] == '_' || strings.Contains(body, "__") {
		return 0, false
	}
	n, err := strconv.ParseInt(strings.ReplaceAll(s, "_", ""), 10, 64)
	if err != nil {
		return 0, false
	}
	return n, true
}

// asString is the original's as_string(bytes): strict UTF-8 decoding, whose
// failure escapes the handler (HTTP 500 in the original; SPEC §10 item 49).
func asString(b []byte) (string, error) {
	if utf8.Valid(b) {
		return string(b), nil
	}
	pos := 0
	for pos < len(b) {
		r, size := utf8.DecodeRune(b[pos:])
		if r == utf8.RuneError && size == 1 {
			break
		}
		pos += size
	}
	why := "invalid start byte"
	switch {
	case b[pos] < 0xc2 || b[pos] > 0xf4:
	case !utf8.FullRune(b[pos:]):
		why = "unexpected end of data"
	default:
		why = "invalid continuation byte"
	}
	return "", &pyError{"UnicodeDecodeError",
		fmt.Sprintf("'utf-8' codec can't decode byte 0x%02x in position %d: %s", b[pos], pos, why)}
}

// normalize turns decoded base64 values ([]byte) into strings, as the
// original's loader does, at any depth.
func normalize(v any) any {
	switch x := v.(type) {
	case []byte:
		return string(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalize(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = normalize(e)
		}
		return out
	}
	return v
}
