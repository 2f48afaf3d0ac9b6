package logfile

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestPlain8Exhaustive(t *testing.T) {
	for b := 0; b < 256; b++ {
		want := b >= 0x20 && b < 0x80 && b != '"' && b != '\\'
		for pos := 0; pos < 8; pos++ {
			w := uint64(0x6161616161616161)
			w &^= 0xff << (8 * pos)
			w |= uint64(b) << (8 * pos)
			if plain8(w) != want {
				t.Fatalf("byte %#x at %d: plain8=%v", b, pos, !want)
			}
		}
	}
}

// TestJSONBodyTails checks appendJSONBody against encoding/json for every
// length up to 40 with one byte that needs escaping (or is not ASCII) at
// every position: the overlapping last-eight-bytes test must not skip it.
func TestJSONBodyTails(t *testing.T) {
	for _, special := range []string{`"`, `\`, "\x01", "\t", "é", "\u2028", "\xff"} {
		for n := 0; n <= 40; n++ {
			for pos := -1; pos < n; pos++ {
				line := []byte(strings.Repeat("a", n))
				if pos >= 0 {
					line = append(append(append([]byte{}, line[:pos]...), special...), line[pos:]...)
				}
				got, valid := appendJSONBody(nil, line)
				want, _ := json.Marshal(strings.ToValidUTF8(string(line), "\ufffd"))
				want = bytes.ReplaceAll(want[1:len(want)-1], []byte(`\u2028`), []byte("\u2028"))
				want = bytes.ReplaceAll(want, []byte("\ufffd"), []byte(`\ufffd`)) // ours spells it escaped
				if !bytes.Equal(got, want) || valid != utf8.Valid(line) {
					t.Fatalf("%q: got %s (valid %v), want %s", line, got, valid, want)
				}
			}
		}
	}
}
