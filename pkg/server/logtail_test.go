package server

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gosupervisor/gosupervisor/pkg/config"
)

// rawStream is a raw HTTP/1.1 GET whose chunked body is read chunk by chunk.
type rawStream struct {
	conn   net.Conn
	br     *bufio.Reader
	status string
	header http.Header
}

func openStream(t *testing.T, addr, path string) *rawStream {
	t.Helper()
	return openStreamOn(t, "tcp", addr, path)
}

func openStreamOn(t *testing.T, network, addr, path string) *rawStream {
	t.Helper()
	conn, err := net.Dial(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	// What supervisorctl's http_client sends.
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: \r\nAccept-Encoding: chunked\r\n\r\n", path)
	s := &rawStream{conn: conn, br: bufio.NewReader(conn), header: http.Header{}}
	line, err := s.br.ReadString('\n')
	if err != nil {
		t.Fatalf("status line: %v", err)
	}
	s.status = strings.TrimSpace(line)
	for {
		line, err := s.br.ReadString('\n')
		if err != nil {
			t.Fatalf("headers: %v", err)
		}
		line = strings.TrimSpace(line)
		if line == "" {
			break
		}
		k, v, _ := strings.Cut(line, ":")
		s.header.Add(k, strings.TrimSpace(v))
	}
	return s
}

// chunk reads one chunk and returns its declared size and data.
func (s *rawStream) chunk(t *testing.T) (int, string) {
	t.Helper()
	line, err := s.br.ReadString('\n')
	if err != nil {
		t.Fatalf("chunk size: %v", err)
	}
	n, err := strconv.ParseInt(strings.TrimSpace(line), 16, 64)
	if err != nil {
		t.Fatalf("chunk size line %q: %v", line, err)
	}
	buf := make([]byte, n+2)
	if _, err := io.ReadFull(s.br, buf); err != nil {
		t.Fatalf("chunk data: %v", err)
	}
	if string(buf[n:]) != "\r\n" {
		t.Fatalf("chunk not terminated by CRLF: %q", buf[n:])
	}
	return int(n), string(buf[:n])
}

// read collects chunks until want has been received in total.
func (s *rawStream) read(t *testing.T, want string) {
	t.Helper()
	var got strings.Builder
	for got.Len() < len(want) {
		_, data := s.chunk(t)
		got.WriteString(data)
	}
	if got.String() != want {
		t.Fatalf("stream got %q, want %q", got.String(), want)
	}
}

// serve runs h on a real loopback server; at cleanup it checks that every
// request handler has returned (streams end when their client leaves).
func serve(t *testing.T, h http.Handler) *httptest.Server {
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		done := make(chan struct{})
		go func() { srv.Close(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Error("a handler is still running after its client left")
		}
	})
	return srv
}

func appendFile(t *testing.T, path, data string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(data); err != nil {
		t.Fatal(err)
	}
}

func TestLogtailFollow(t *testing.T) {
	e := newEngine(t, progConf)
	srv := serve(t, e.handler(config.HTTPServer{}))
	addr := srv.Listener.Addr().String()
	out := filepath.Join(e.dir, "prog.out")
	appendFile(t, out, strings.Repeat("a", 976)+strings.Repeat("b", 1024))

	s := openStream(t, addr, "/logtail/prog")
	defer s.conn.Close()
	if s.status != "HTTP/1.1 200 OK" {
		t.Fatalf("status %q", s.status)
	}
	for k, want := range map[string]string{
		"Content-Type": "text/plain;charset=utf-8", "X-Accel-Buffering": "no",
		"Transfer-Encoding": "chunked", "Server": "Medusa/1.12",
	} {
		if got := s.header.Get(k); got != want {
			t.Errorf("%s: %q, want %q", k, got, want)
		}
	}
	if _, err := time.Parse(http.TimeFormat, s.header.Get("Last-Modified")); err != nil {
		t.Errorf("Last-Modified %q: %v", s.header.Get("Last-Modified"), err)
	}
	if s.header.Get("Content-Length") != "" {
		t.Errorf("Content-Length on a stream")
	}
	if n, data := s.chunk(t); n != 0x400 || data != strings.Repeat("b", 1024) {
		t.Fatalf("first chunk: %x bytes %q...", n, data[:min(len(data), 20)])
	}
	appendFile(t, out, "more\n")
	s.read(t, "more\n")

	// Shrink: notice, then the file from its start.
	if err := os.Truncate(out, 0); err != nil {
		t.Fatal(err)
	}
	appendFile(t, out, "new\n")
	s.read(t, truncatedNotice+"new\n")

	// Rotation: the name now points to a new file, streamed from its start.
	if err := os.Rename(out, out+".1"); err != nil {
		t.Fatal(err)
	}
	appendFile(t, out, "rotated\n")
	s.read(t, "rotated\n")
	// Once on the new file, the old one's growth is never sent. (Written
	// before the switch is seen, it could be: the follower still reads the
	// descriptor it has until it notices the new name.)
	appendFile(t, out+".1", "old\n")
	appendFile(t, out, "after\n")
	s.read(t, "after\n")
}

func TestLogtailStderrAndEncodedName(t *testing.T) {
	e := newEngine(t, progConf+"\n[group:grp]\nprograms=ga\n[program:ga]\ncommand=/bin/cat\nautostart=false\nstderr_logfile=%(dir)s/ga.err\n")
	srv := serve(t, e.handler(config.HTTPServer{}))
	appendFile(t, filepath.Join(e.dir, "ga.err"), "short\n")
	s := openStream(t, srv.Listener.Addr().String(), "/logtail/grp%3Aga/stderr")
	defer s.conn.Close()
	if n, data := s.chunk(t); n != 6 || data != "short\n" {
		t.Fatalf("first chunk %d %q", n, data)
	}
}

func TestMainLogtail(t *testing.T) {
	e := newEngine(t, progConf)
	srv := serve(t, e.handler(config.HTTPServer{}))
	for i := range 40 {
		e.log.Info(fmt.Sprintf("filler line %d", i))
	}
	s := openStream(t, srv.Listener.Addr().String(), "/mainlogtail")
	defer s.conn.Close()
	if s.header.Get("X-Accel-Buffering") != "" || s.header.Get("Content-Type") != "text/plain;charset=utf-8" {
		t.Errorf("headers %v", s.header)
	}
	if n, data := s.chunk(t); n != 0x400 || !strings.HasSuffix(data, "INFO filler line 39\n") {
		t.Fatalf("first chunk %x %q", n, data)
	}
	e.log.Info("after the stream began")
	var got strings.Builder
	for !strings.Contains(got.String(), "INFO after the stream began\n") {
		_, data := s.chunk(t)
		got.WriteString(data)
	}
}

func TestLogtailRingTarget(t *testing.T) {
	// A target that is no regular file is streamed from the engine's ring.
	e := newEngine(t, rpcSection+"[program:dev]\ncommand=/bin/cat\nautostart=false\nstdout_logfile=/dev/null\n")
	srv := serve(t, e.handler(config.HTTPServer{}))
	ring, err := e.sup.Ring("dev", "stdout")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = ring.Write([]byte(strings.Repeat("z", 2000) + "held\n"))
	s := openStream(t, srv.Listener.Addr().String(), "/logtail/dev")
	defer s.conn.Close()
	if s.status != "HTTP/1.1 200 OK" {
		t.Fatalf("status %q", s.status)
	}
	s.read(t, strings.Repeat("z", 1024-5)+"held\n")
	_, _ = ring.Write([]byte("live\n"))
	s.read(t, "live\n")
}

func TestLogtailHTTP10(t *testing.T) {
	e := newEngine(t, progConf)
	srv := serve(t, e.handler(config.HTTPServer{}))
	appendFile(t, filepath.Join(e.dir, "prog.out"), "plain\n")
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(conn, "GET /logtail/prog HTTP/1.0\r\n\r\n")
	br := bufio.NewReader(conn)
	var all strings.Builder
	for !strings.HasSuffix(all.String(), "\r\n\r\nplain\n") {
		b, err := br.ReadByte()
		if err != nil {
			t.Fatalf("reading: %v (got %q)", err, all.String())
		}
		all.WriteByte(b)
	}
	if strings.Contains(all.String(), "chunked") {
		t.Fatalf("HTTP/1.0 response is chunked: %q", all.String())
	}
}
