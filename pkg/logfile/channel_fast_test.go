package logfile

import (
	"bytes"
	"math/rand/v2"
	"os"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// A fast raw stream is read straight into its ring and its pipe grows to
// BigPipe; neither changes a byte of the log file or of the ring, which
// followers read meanwhile. Once the stream is quiet the pipe parks at its
// original size again.
func TestChannelFastStreamInPlace(t *testing.T) {
	p, rot, path, r, w := parkedPipe(t)
	orig, err := unix.FcntlInt(w.Fd(), unix.F_GETPIPE_SZ, 0)
	if err != nil {
		t.Skip("F_GETPIPE_SZ:", err)
	}
	const ringSize = 256 << 10
	ring := NewRing(ringSize)
	var logged bytes.Buffer // OnLog's copies: the same bytes, in order
	done := make(chan error, 1)
	NewChannel(ChannelOptions{Name: "p", Stream: "stdout", Rotator: rot, Ring: ring, Buffers: NewBufferPool(),
		Idle: p, IdleAfter: 20 * time.Millisecond, OnLog: func(b []byte) { logged.Write(b) }}).
		Start(r, func(err error) { r.Close(); done <- err })

	// Followers read the ring while it is written in place.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var off int64
			for {
				select {
				case <-stop:
					return
				default:
				}
				data, next, _ := ring.ReadAt(off, 64<<10)
				_ = data
				off = next
			}
		}()
	}

	rng := rand.New(rand.NewPCG(1, 2))
	stream := make([]byte, 8<<20)
	for i := range stream {
		stream[i] = byte('a' + rng.IntN(26))
		if rng.IntN(64) == 0 {
			stream[i] = '\n'
		}
	}
	grown := 0
	for off := 0; off < len(stream); off += 4096 {
		if _, err := w.Write(stream[off : off+4096]); err != nil {
			t.Fatal(err)
		}
		if off%(1<<20) == 0 {
			if sz, err := unix.FcntlInt(w.Fd(), unix.F_GETPIPE_SZ, 0); err == nil && sz > grown {
				grown = sz
			}
		}
	}
	if err := ring.Wait(t.Context(), int64(len(stream)-1)); err != nil {
		t.Fatal(err)
	}
	close(stop)
	wg.Wait()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, stream) {
		t.Fatalf("log file differs from the stream (%d bytes, want %d)", len(got), len(stream))
	}
	tail, next, _ := ring.ReadAt(0, 0)
	if next != int64(len(stream)) || !bytes.Equal(tail, stream[len(stream)-ringSize:]) {
		t.Fatalf("ring: end %d, tail differs from the stream's last %d bytes", next, ringSize)
	}
	if grown < BigPipe {
		// A machine where the writer never outruns the reader does not
		// grow the pipe; the bytes above are what matters.
		t.Logf("pipe never grew (largest seen %d)", grown)
	}
	deadline := time.Now().Add(5 * time.Second)
	for p.Parked() != 1 {
		if time.Now().After(deadline) {
			t.Fatal("pipe not parked within 5s of the stream's end")
		}
		time.Sleep(time.Millisecond)
	}
	if sz, err := unix.FcntlInt(w.Fd(), unix.F_GETPIPE_SZ, 0); err != nil || sz != orig {
		t.Errorf("parked pipe holds %d bytes (%v), want its original %d", sz, err, orig)
	}
	w.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(logged.Bytes(), stream) {
		t.Fatal("PROCESS_LOG copies differ from the stream")
	}
}
