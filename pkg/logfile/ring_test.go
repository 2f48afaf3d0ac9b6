package logfile

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

func TestRingReadAt(t *testing.T) {
	tests := []struct {
		name      string
		size      int
		writes    []string
		off       int64
		max       int
		want      string
		wantNext  int64
		wantTrunc bool
	}{
		{"empty", 8, nil, 0, 0, "", 0, false},
		{"all", 8, []string{"abc", "de"}, 0, 0, "abcde", 5, false},
		{"from middle", 8, []string{"abcde"}, 2, 0, "cde", 5, false},
		{"max", 8, []string{"abcde"}, 1, 2, "bc", 3, false},
		{"wrapped", 8, []string{"abcdef", "ghij"}, 2, 0, "cdefghij", 10, false},
		{"fell out", 8, []string{"abcdef", "ghij"}, 0, 0, "cdefghij", 10, true},
		{"fell out with max", 8, []string{"abcdef", "ghij"}, 1, 3, "cde", 5, true},
		{"one write bigger than the ring", 4, []string{"abcdefghij"}, 0, 0, "ghij", 10, true},
		{"beyond end", 8, []string{"abc"}, 7, 0, "", 7, false},
		{"at end", 8, []string{"abc"}, 3, 0, "", 3, false},
		{"exactly full", 4, []string{"ab", "cd"}, 0, 0, "abcd", 4, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := NewRing(tc.size)
			for _, w := range tc.writes {
				r.Write([]byte(w))
			}
			data, next, trunc := r.ReadAt(tc.off, tc.max)
			if string(data) != tc.want || next != tc.wantNext || trunc != tc.wantTrunc {
				t.Errorf("ReadAt(%d,%d) = %q,%d,%v want %q,%d,%v", tc.off, tc.max, data, next, trunc, tc.want, tc.wantNext, tc.wantTrunc)
			}
		})
	}
}

func TestRingReset(t *testing.T) {
	r := NewRing(8)
	r.Write([]byte("abc"))
	r.Reset()
	if data, next, trunc := r.ReadAt(0, 0); len(data) != 0 || next != 3 || !trunc {
		t.Errorf("after Reset: %q %d %v", data, next, trunc)
	}
	r.Write([]byte("d"))
	if data, _, _ := r.ReadAt(3, 0); string(data) != "d" || r.End() != 4 {
		t.Errorf("after Reset+Write: %q end %d", data, r.End())
	}
}

func TestRingWait(t *testing.T) {
	r := NewRing(16)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	const followers = 8
	var wg sync.WaitGroup
	errs := make(chan error, followers)
	for i := 0; i < followers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- r.Wait(ctx, 0)
		}()
	}
	r.Write([]byte("x"))
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("Wait: %v", err)
		}
	}
	// Already satisfied: returns immediately; cancelled: returns ctx's error.
	if err := r.Wait(ctx, 0); err != nil {
		t.Errorf("Wait on old offset: %v", err)
	}
	cctx, ccancel := context.WithCancel(context.Background())
	ccancel()
	if err := r.Wait(cctx, 1); !errors.Is(err, context.Canceled) {
		t.Errorf("Wait cancelled = %v", err)
	}
}

// One writer, several followers: each follower sees every byte in order (or a
// truncation flag), and the content at each absolute offset is the writer's.
func TestRingConcurrentFollowers(t *testing.T) {
	const total = 1 << 20
	r := NewRing(4096)
	at := func(off int64) byte { return byte(off*7 + off/251) }
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var off int64
			for off < total {
				if err := r.Wait(ctx, off); err != nil {
					t.Errorf("Wait: %v", err)
					return
				}
				data, next, trunc := r.ReadAt(off, 1000)
				if trunc {
					off = next - int64(len(data))
				}
				for j, b := range data {
					if b != at(off+int64(j)) {
						t.Errorf("byte at %d = %d, want %d", off+int64(j), b, at(off+int64(j)))
						return
					}
				}
				off = next
			}
		}()
	}
	buf := make([]byte, 100)
	for off := int64(0); off < total; off += int64(len(buf)) {
		for j := range buf {
			buf[j] = at(off + int64(j))
		}
		r.Write(buf)
	}
	wg.Wait()
	if r.End() < total || r.Start() < r.End()-4096 {
		t.Errorf("End %d Start %d", r.End(), r.Start())
	}
}
