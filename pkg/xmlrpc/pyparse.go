package xmlrpc

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// The original converts element text with Python's int(), float(),
// time.strptime() and base64.decodebytes(); these reproduce what those
// accept, which is more than the XML-RPC spec allows.

var errSyntax = errors.New("invalid literal")

// pyDigit returns the value of a Unicode decimal digit (category Nd), as
// Python's str.isdecimal()/int() see it. Nd characters come in runs of ten.
func pyDigit(r rune) (int, bool) {
	if r >= '0' && r <= '9' {
		return int(r - '0'), true
	}
	if r < utf8.RuneSelf || !unicode.Is(unicode.Nd, r) {
		return 0, false
	}
	for _, rg := range unicode.Nd.R16 {
		if r >= rune(rg.Lo) && r <= rune(rg.Hi) {
			return int(r-rune(rg.Lo)) % 10, true
		}
	}
	for _, rg := range unicode.Nd.R32 {
		if r >= rune(rg.Lo) && r <= rune(rg.Hi) {
			return int(r-rune(rg.Lo)) % 10, true
		}
	}
	return 0, false
}

// pyNumericASCII mirrors CPython's _PyUnicode_TransformDecimalAndSpaceToASCII
// followed by stripping: non-ASCII digits become ASCII digits, non-ASCII
// whitespace a space, anything else non-ASCII an invalid character.
func pyNumericASCII(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if !ascii {
		var b strings.Builder
		for _, r := range s {
			switch d, ok := pyDigit(r); {
			case r < utf8.RuneSelf:
				b.WriteByte(byte(r))
			case unicode.IsSpace(r):
				b.WriteByte(' ')
			case ok:
				b.WriteByte(byte('0' + d))
			default:
				b.WriteByte('?')
			}
		}
		s = b.String()
	}
	return strings.Trim(s, " \t\n\v\f\r")
}

// stripUnderscores removes underscores that sit between two digits, as
// Python's numeric literals allow; any other underscore is a syntax error.
func stripUnderscores(s string) (string, bool) {
	if strings.IndexByte(s, '_') < 0 {
		return s, true
	}
	isDigit := func(i int) bool { return i >= 0 && i < len(s) && s[i] >= '0' && s[i] <= '9' }
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '_' {
			if !isDigit(i-1) || !isDigit(i+1) {
				return "", false
			}
			continue
		}
		b = append(b, s[i])
	}
	return string(b), true
}

// parsePyInt is Python's int(text) limited to the int64 range (Python's
// ints are unbounded; a larger value is an error here).
func parsePyInt(text string) (int, error) {
	s := pyNumericASCII(text)
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	if s == "" || s[0] < '0' || s[0] > '9' {
		return 0, errSyntax
	}
	s, ok := stripUnderscores(s)
	if !ok {
		return 0, errSyntax
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, errSyntax
		}
		if n > (math.MaxUint64-9)/10 {
			return 0, strconv.ErrRange
		}
		n = n*10 + uint64(c-'0')
	}
	if neg {
		if n > 1<<63 {
			return 0, strconv.ErrRange
		}
		return int(-int64(n)), nil //nolint:gosec // range checked above
	}
	if n > math.MaxInt64 {
		return 0, strconv.ErrRange
	}
	return int(n), nil
}

// parsePyFloat is Python's float(text): decimal notation, inf, infinity and
// nan in any case, underscores between digits; overflow gives ±inf.
func parsePyFloat(text string) (float64, error) {
	s := pyNumericASCII(text)
	s, ok := stripUnderscores(s)
	if !ok || !validPyFloat(s) {
		return 0, errSyntax
	}
	if t := strings.TrimLeft(s, "+-"); strings.EqualFold(t, "nan") {
		// strconv rejects a signed nan; Python keeps the sign bit.
		if s[0] == '-' {
			return math.Copysign(math.NaN(), -1), nil
		}
		return math.NaN(), nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, err
	}
	return f, nil
}

func validPyFloat(s string) bool {
	if s != "" && (s[0] == '+' || s[0] == '-') {
		s = s[1:]
	}
	switch strings.ToLower(s) {
	case "inf", "infinity", "nan":
		return true
	}
	digits := func(i int) int {
		j := i
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		return j - i
	}
	i := 0
	n := digits(i)
	i += n
	if i < len(s) && s[i] == '.' {
		i++
		m := digits(i)
		i += m
		n += m
	}
	if n == 0 {
		return false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		m := digits(i)
		if m == 0 {
			return false
		}
		i += m
	}
	return i == len(s)
}

// parsePyDateTime is time.strptime(text, "%Y%m%dT%H:%M:%S") followed by
// datetime(*t[:6]). strptime matches a regular expression whose fields have
// variable width and whose \d accepts any Unicode digit; the first match in
// the expression's backtracking order wins and must consume the whole text.
func parsePyDateTime(text string) (time.Time, error) {
	rs := []rune(text)
	var v [6]int // Y m d H M S
	if !matchDate(rs, 0, 0, &v) {
		return time.Time{}, errSyntax
	}
	Y, m, d, H, M, S := v[0], v[1], v[2], v[3], v[4], v[5]
	if Y < 1 || d > daysIn(Y, m) || S > 59 {
		return time.Time{}, errSyntax
	}
	return time.Date(Y, time.Month(m), d, H, M, S, 0, time.UTC), nil
}

func daysIn(y, m int) int {
	return time.Date(y, time.Month(m)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// dateFields holds, per field, its alternatives in regex order; each
// alternative is a list of atoms: a literal digit set ("12" = [12], "0-2"
// handled as explicit sets) or 'D' for \d, or ' ' for a literal space.
var dateFields = [6][]string{
	{"DDDD"}, // %Y
	{"1[012]", "0[123456789]", "[123456789]"},                         // %m
	{"3[01]", "[12]D", "0[123456789]", "[123456789]", " [123456789]"}, // %d
	{"2[0123]", "[01]D", "D"},                                         // %H
	{"[012345]D", "D"},                                                // %M
	{"6[01]", "[012345]D", "D"},                                       // %S
}

// separator that precedes each field in the format ("" = none).
var dateSeps = [6]rune{0, 0, 0, 'T', ':', ':'}

// matchAtoms matches one alternative at rs[pos:]; it returns the field's
// value and the new position.
func matchAtoms(alt string, rs []rune, pos int) (val, next int, ok bool) {
	for i := 0; i < len(alt); {
		if pos >= len(rs) {
			return 0, 0, false
		}
		r := rs[pos]
		switch c := alt[i]; c {
		case 'D':
			d, isD := pyDigit(r)
			if !isD {
				return 0, 0, false
			}
			val = val*10 + d
			i++
		case '[':
			end := strings.IndexByte(alt[i:], ']') + i
			if r >= utf8.RuneSelf || strings.IndexByte(alt[i+1:end], byte(r)) < 0 {
				return 0, 0, false
			}
			val = val*10 + int(r-'0')
			i = end + 1
		case ' ':
			if r != ' ' {
				return 0, 0, false
			}
			i++
		default:
			if r != rune(c) {
				return 0, 0, false
			}
			val = val*10 + int(c-'0')
			i++
		}
		pos++
	}
	return val, pos, true
}

func matchDate(rs []rune, field, pos int, v *[6]int) bool {
	if field == len(dateFields) {
		return pos == len(rs)
	}
	if sep := dateSeps[field]; sep != 0 {
		if pos >= len(rs) || !(rs[pos] == sep || (sep == 'T' && rs[pos] == 't')) {
			return false
		}
		pos++
	}
	for _, alt := range dateFields[field] {
		val, next, ok := matchAtoms(alt, rs, pos)
		if !ok {
			continue
		}
		v[field] = val
		if field == len(dateFields)-1 {
			// re.match stops at the first match; leftover text is then
			// "unconverted data remains", not a reason to backtrack.
			return next == len(rs)
		}
		if matchDate(rs, field+1, next, v) {
			return true
		}
	}
	return false
}

// b64Value maps the standard alphabet; -1 elsewhere.
func b64Value(c byte) int {
	switch {
	case c >= 'A' && c <= 'Z':
		return int(c - 'A')
	case c >= 'a' && c <= 'z':
		return int(c-'a') + 26
	case c >= '0' && c <= '9':
		return int(c-'0') + 52
	case c == '+':
		return 62
	case c == '/':
		return 63
	}
	return -1
}

// decodePyBase64 is binascii.a2b_base64 in its default, non-strict mode:
// characters outside the alphabet are skipped, decoding stops at a complete
// pad sequence, and leftover bits are an error.
func decodePyBase64(s string) ([]byte, error) {
	out := make([]byte, 0, len(s)*3/4)
	quad, pads := 0, 0
	var left byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '=' {
			if quad >= 2 {
				pads++
				if quad+pads >= 4 {
					return out, nil
				}
			}
			continue
		}
		v := b64Value(c)
		if v < 0 {
			continue
		}
		b := byte(v)
		pads = 0
		switch quad {
		case 0:
			quad, left = 1, b
		case 1:
			out = append(out, left<<2|b>>4)
			quad, left = 2, b&0x0f
		case 2:
			out = append(out, left<<4|b>>2)
			quad, left = 3, b&0x03
		case 3:
			out = append(out, left<<6|b)
			quad, left = 0, 0
		}
	}
	if quad != 0 {
		return nil, errors.New("incorrect base64 padding")
	}
	return out, nil
}
