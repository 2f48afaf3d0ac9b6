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

// Written in place (Reserve, Publish, Release) the ring holds exactly what
// Write would have: the conversion from pages keeps the window, writes of
// both kinds mix, and a reservation never lends more than RingSlack or runs
// past the end of the memory.
func TestRingInPlaceMatchesWrite(t *testing.T) {
	const size = 256 << 10
	r, model := NewRing(size), NewRing(size)
	var all []byte
	put := func(p []byte) {
		model.Write(p)
		all = append(all, p...)
	}
	for i := 0; len(all) < size+5000; i++ { // fill past one wrap by Write
		chunk := bytes.Repeat([]byte{byte(i)}, 3000+i%7)
		r.Write(chunk)
		put(chunk)
	}
	if !r.Busy() {
		t.Fatal("a ring filled once is not busy")
	}
	for i := 0; i < 2000; i++ {
		if i%5 == 4 {
			chunk := bytes.Repeat([]byte{byte(i * 7)}, 1+i%300)
			r.Write(chunk)
			put(chunk)
			continue
		}
		want := 1 + (i*7919)%(RingSlack+1000)
		dst := r.Reserve(want)
		if len(dst) > RingSlack || len(dst) > want || len(dst) == 0 {
			t.Fatalf("reservation of %d for %d", len(dst), want)
		}
		n := len(dst) - i%3
		if n < 0 {
			n = 0
		}
		for k := range dst[:n] {
			dst[k] = byte(i + k)
		}
		put(dst[:n])
		r.Publish(n)
		r.Release()
		if i%97 == 0 {
			got, next, _ := r.ReadAt(0, 0)
			want, wnext, _ := model.ReadAt(0, 0)
			if next != wnext || !bytes.Equal(got, want) {
				t.Fatalf("step %d: ring differs from Write's (end %d, want %d)", i, next, wnext)
			}
		}
	}
	got, next, truncated := r.ReadAt(0, 0)
	if !truncated || next != int64(len(all)) || !bytes.Equal(got, all[len(all)-size:]) {
		t.Fatalf("final window differs: next %d of %d, truncated %v", next, len(all), truncated)
	}
	if r.Start() != int64(len(all)-size) || r.End() != int64(len(all)) {
		t.Fatalf("start %d end %d", r.Start(), r.End())
	}
}
