package events

import (
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Envelope is what a listener reads on its stdin for one event: the header
// line of the original (SPEC §9.2) and the payload.
func Envelope(server string, serial, poolSerial int64, pool, name, payload string) string {
	var b strings.Builder
	b.Grow(96 + len(payload))
	b.WriteString("ver:3.0 server:")
	b.WriteString(server)
	b.WriteString(" serial:")
	b.WriteString(strconv.FormatInt(serial, 10))
	b.WriteString(" pool:")
	b.WriteString(pool)
	b.WriteString(" poolserial:")
	b.WriteString(strconv.FormatInt(poolSerial, 10))
	b.WriteString(" eventname:")
	b.WriteString(name)
	b.WriteString(" len:")
	b.WriteString(strconv.Itoa(PayloadLen(payload)))
	b.WriteByte('\n')
	b.WriteString(payload)
	return b.String()
}

// PayloadLen is Python's len() of the payload string: code points, not
// bytes (listeners read the payload in text mode, so they count the same).
func PayloadLen(payload string) int { return utf8.RuneCountInString(payload) }

// DecodeOutput renders child output for a PROCESS_LOG_* or
// PROCESS_COMMUNICATION_* payload as the original does: the text when it is
// valid UTF-8, else "Undecodable: " and Python's repr() of the bytes.
func DecodeOutput(data []byte) string {
	if utf8.Valid(data) {
		return string(data)
	}
	return "Undecodable: " + bytesRepr(data)
}

// bytesRepr is Python's repr() of a bytes object.
func bytesRepr(data []byte) string {
	quote := byte('\'')
	if strings.IndexByte(string(data), '\'') >= 0 && strings.IndexByte(string(data), '"') < 0 {
		quote = '"'
	}
	var b strings.Builder
	b.WriteByte('b')
	b.WriteByte(quote)
	const hex = "0123456789abcdef"
	for _, c := range data {
		switch {
		case c == quote || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '\t':
			b.WriteString(`\t`)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\r':
			b.WriteString(`\r`)
		case c < ' ' || c >= 0x7f:
			b.WriteString(`\x`)
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte(quote)
	return b.String()
}

// Counter is the original's new_serial(): it hands out 0, 1, 2, … and wraps
// to 0 after the largest int. The zero value is ready to use.
type Counter struct{ next int64 }

// Next returns the next serial.
func (c *Counter) Next() int64 {
	v := c.next
	if v == math.MaxInt64 {
		c.next = 0
	} else {
		c.next++
	}
	return v
}
