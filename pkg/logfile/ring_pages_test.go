package logfile

import (
	"bytes"
	"testing"
)

// A ring only holds memory for what was written to it: most programs print
// little, and a full-size buffer per stream would be the bulk of the
// daemon's memory with many programs.
func TestRingAllocatesPagesOnDemand(t *testing.T) {
	r := NewRing(256 << 10)
	allocated := func() int {
		n := 0
		for _, p := range r.pages {
			if p != nil {
				n++
			}
		}
		return n
	}
	if allocated() != 0 {
		t.Fatalf("a new ring holds %d pages", allocated())
	}
	r.Write([]byte("hello\n"))
	if allocated() != 1 {
		t.Fatalf("6 bytes took %d pages", allocated())
	}
	// Cross a page boundary and wrap around the end, byte-exact.
	var all []byte
	for i := 0; i < 300; i++ {
		chunk := bytes.Repeat([]byte{byte(i)}, 1000+i)
		r.Write(chunk)
		all = append(all, chunk...)
	}
	all = append([]byte("hello\n"), all...)
	got, next, truncated := r.ReadAt(0, 0)
	if !truncated || next != int64(len(all)) {
		t.Fatalf("truncated=%v next=%d, want true %d", truncated, next, len(all))
	}
	if want := all[len(all)-r.Size():]; !bytes.Equal(got, want) {
		t.Fatalf("ring content differs from the last %d bytes written", r.Size())
	}
	if allocated() != len(r.pages) {
		t.Fatalf("a full ring holds %d of %d pages", allocated(), len(r.pages))
	}
}
