// Package pyfmt reproduces the few pieces of Python's text formatting that
// the original supervisord leaks into its user-visible messages, so that our
// error strings match it byte for byte.
package pyfmt

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Repr returns Python 3's repr() of a str: single quotes unless the string
// contains a single quote and no double quote, with Python's escapes.
func Repr(s string) string {
	quote := byte('\'')
	if strings.IndexByte(s, '\'') >= 0 && strings.IndexByte(s, '"') < 0 {
		quote = '"'
	}
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte(quote)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			// Python strings hold code points; a lone bad byte shows as a surrogate escape.
			b.WriteString(`\udc`)
			b.WriteString(hex2(s[i]))
			i++
			continue
		}
		i += size
		switch {
		case r == rune(quote) || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20 || r == 0x7f:
			b.WriteString(`\x`)
			b.WriteString(hex2(byte(r)))
		case r < 0x7f || unicode.IsPrint(r):
			b.WriteRune(r)
		case r <= 0xff:
			b.WriteString(`\x`)
			b.WriteString(hex2(byte(r)))
		case r <= 0xffff:
			b.WriteString(`\u`)
			b.WriteString(hex2(byte(r>>8)) + hex2(byte(r)))
		default:
			b.WriteString(`\U`)
			b.WriteString(hex2(byte(r>>24)) + hex2(byte(r>>16)) + hex2(byte(r>>8)) + hex2(byte(r)))
		}
	}
	b.WriteByte(quote)
	return b.String()
}

// ReprList returns Python's repr() of a list of str, e.g. ['a', 'b'].
func ReprList(items []string) string {
	parts := make([]string, len(items))
	for i, s := range items {
		parts[i] = Repr(s)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func hex2(b byte) string {
	const digits = "0123456789abcdef"
	return string([]byte{digits[b>>4], digits[b&0xf]})
}
