package logfile

import (
	"bytes"
	"io"
	"path/filepath"
	"testing"
)

func benchRotator(b *testing.B, chunk int) {
	r, err := OpenRotator(filepath.Join(b.TempDir(), "bench.log"), 10<<20, 3, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	p := bytes.Repeat([]byte("x"), chunk-1)
	p = append(p, '\n')
	b.SetBytes(int64(chunk))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := r.Write(p); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRotatorLines64(b *testing.B)   { benchRotator(b, 64) }
func BenchmarkRotatorChunk128K(b *testing.B) { benchRotator(b, ReadChunk) }

func BenchmarkRingWrite(b *testing.B) {
	r := NewRing(1 << 20)
	p := bytes.Repeat([]byte("x"), 4096)
	b.SetBytes(int64(len(p)))
	for i := 0; i < b.N; i++ {
		r.Write(p)
	}
}

func BenchmarkRingReadAt(b *testing.B) {
	r := NewRing(1 << 20)
	r.Write(bytes.Repeat([]byte("x"), 1<<20))
	b.SetBytes(4096)
	for i := 0; i < b.N; i++ {
		r.ReadAt(int64(i*4096)%(1<<20), 4096)
	}
}

// chunkReader yields n bytes in reads of at most size bytes, like a pipe.
type chunkReader struct {
	p    []byte
	left int64
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if c.left == 0 {
		return 0, io.EOF
	}
	n := copy(p, c.p)
	if int64(n) > c.left {
		n = int(c.left)
	}
	c.left -= int64(n)
	return n, nil
}

func benchPump(b *testing.B, capture int) {
	r, err := OpenRotator(filepath.Join(b.TempDir(), "bench.log"), 10<<20, 3, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	c := NewChannel(ChannelOptions{Name: "bench", Stream: "stdout", Rotator: r, Ring: NewRing(1 << 20), CaptureMaxBytes: capture})
	const total = 64 << 20
	b.SetBytes(total)
	src := bytes.Repeat([]byte("log line of text\n"), ReadChunk/17)
	for i := 0; i < b.N; i++ {
		if err := c.Pump(&chunkReader{p: src, left: total}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkChannelPump(b *testing.B)        { benchPump(b, 0) }
func BenchmarkChannelPumpCapture(b *testing.B) { benchPump(b, 1<<20) }
