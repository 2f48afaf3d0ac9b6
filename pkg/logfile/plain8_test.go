package logfile

import "testing"

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
