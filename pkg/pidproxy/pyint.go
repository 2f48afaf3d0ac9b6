package pidproxy

import (
	"math"
	"math/big"
	"strings"
	"unicode"
	"unicode/utf8"
)

// defaultMaxDigits is Python 3.11's sys.get_int_max_str_digits() default:
// int() refuses longer decimal strings with a ValueError.
const defaultMaxDigits = 4300

// parsePid is int(f.read().strip()) on the pidfile's bytes, decoded as
// UTF-8 the way Python 3.11 reads text files under a UTF-8 (or coerced C)
// locale. It accepts what int() accepts: surrounding Unicode whitespace, a
// sign, leading zeros, single underscores between digits and any Unicode
// decimal digits; ok is false wherever Python raises.
func parsePid(b []byte, maxDigits int) (*big.Int, bool) {
	if !utf8.Valid(b) {
		return nil, false
	}
	ascii, ok := asciiDecimal(string(b))
	if !ok {
		return nil, false
	}
	s := strings.Trim(ascii, " ")
	neg := strings.HasPrefix(s, "-")
	if neg || strings.HasPrefix(s, "+") {
		s = s[1:]
	}
	digits, ok := joinDigits(s)
	if !ok || (maxDigits > 0 && len(digits) > maxDigits) {
		return nil, false
	}
	n, _ := new(big.Int).SetString(digits, 10)
	if neg {
		n.Neg(n)
	}
	return n, true
}

// asciiDecimal is _PyUnicode_TransformDecimalAndSpaceToASCII: whitespace
// becomes ' ', decimal digits become '0'-'9', other non-ASCII is an error.
func asciiDecimal(s string) (string, bool) {
	var out strings.Builder
	for _, r := range s {
		switch {
		case pySpace(r):
			out.WriteByte(' ')
		case r < utf8.RuneSelf:
			out.WriteRune(r)
		case pyDecimal(r):
			out.WriteByte(byte('0' + decimalValue(r)))
		default:
			return "", false
		}
	}
	return out.String(), true
}

// joinDigits checks "digit ( [_] digit )*" and returns the digits alone.
func joinDigits(s string) (string, bool) {
	if s == "" || s[0] == '_' || s[len(s)-1] == '_' || strings.Contains(s, "__") {
		return "", false
	}
	digits := strings.ReplaceAll(s, "_", "")
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return "", false
		}
	}
	return digits, true
}

// pySpace is str.isspace in Python 3.11: Unicode White_Space plus the
// information separators U+001C..U+001F (bidirectional class B or S).
func pySpace(r rune) bool {
	return unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f)
}

// pyDecimal is a Unicode decimal digit (category Nd) as of Unicode 14.0,
// Python 3.11's database: Go's newer tables also know Kawi and Nag Mundari.
func pyDecimal(r rune) bool {
	if (r >= 0x11F50 && r <= 0x11F59) || (r >= 0x1E4F0 && r <= 0x1E4F9) {
		return false
	}
	return unicode.IsDigit(r)
}

// decimalValue relies on Unicode laying out every decimal digit set as ten
// consecutive code points, zero first, runs of sets back to back.
func decimalValue(r rune) int {
	start := r
	for unicode.IsDigit(start - 1) {
		start--
	}
	return int(r-start) % 10
}

// pidError is the exception os.kill raises converting n to a pid_t (a C
// int, through a C long), or "" when it fits.
func pidError(n *big.Int) string {
	switch {
	case !n.IsInt64():
		return "OverflowError: Python int too large to convert to C long"
	case n.Int64() > math.MaxInt32:
		return "OverflowError: signed integer is greater than maximum"
	case n.Int64() < math.MinInt32:
		return "OverflowError: signed integer is less than minimum"
	}
	return ""
}
