package health

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/goleak"
)

// TestMain fails the package when any test leaves a goroutine behind: a
// probe must be gone when its ctx is.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// server is an httptest server on 127.0.0.1 that counts its connections.
func server(t *testing.T, h http.Handler) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, &conns
}

func probeCtx(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), d)
	t.Cleanup(cancel)
	return ctx
}

func TestHTTPHealthy(t *testing.T) {
	var ua atomic.Value
	srv, conns := server(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ua.Store(r.UserAgent())
		fmt.Fprint(w, "ok\n")
	}))
	p := NewProber()
	for range 2 {
		r := p.HTTP(probeCtx(t, 3*time.Second), srv.URL+"/health")
		if r != (Result{OK: true, Output: "ok\n"}) {
			t.Fatalf("200: %+v", r)
		}
	}
	if got := ua.Load(); got != userAgent {
		t.Errorf("User-Agent = %v", got)
	}
	if n := conns.Load(); n != 2 {
		t.Errorf("two checks used %d connections; want a fresh one each (no keep-alive)", n)
	}
}

func TestHTTPRedirectIsHealthyAndNotFollowed(t *testing.T) {
	var followed atomic.Bool
	mux := http.NewServeMux()
	mux.HandleFunc("/health", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/elsewhere", http.StatusFound)
	})
	mux.HandleFunc("/elsewhere", func(w http.ResponseWriter, r *http.Request) {
		followed.Store(true)
		w.WriteHeader(http.StatusInternalServerError)
	})
	srv, _ := server(t, mux)
	r := NewProber().HTTP(probeCtx(t, 3*time.Second), srv.URL+"/health")
	if !r.OK || r.Err != "" {
		t.Fatalf("302: %+v", r)
	}
	if followed.Load() {
		t.Fatal("the redirect was followed")
	}
}

func TestHTTPErrorStatus(t *testing.T) {
	for _, code := range []int{http.StatusInternalServerError, http.StatusServiceUnavailable, http.StatusNotFound, http.StatusBadRequest} {
		srv, _ := server(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(code)
			fmt.Fprint(w, "db down")
		}))
		r := NewProber().HTTP(probeCtx(t, 3*time.Second), srv.URL)
		want := Result{Err: fmt.Sprintf("HTTP %d", code), Output: "db down"}
		if r != want {
			t.Errorf("%d: %+v, want %+v", code, r, want)
		}
	}
}

func TestHTTPReadsAtMostAKilobyte(t *testing.T) {
	srv, _ := server(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		chunk := []byte(strings.Repeat("y", 1024))
		for range 1024 { // 1 MiB, far more than is read
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}))
	r := NewProber().HTTP(probeCtx(t, 3*time.Second), srv.URL)
	if !r.OK || len(r.Output) > MaxOutput || !strings.HasSuffix(r.Output, TruncatedMarker) {
		t.Fatalf("big body: ok %v, %d bytes, %q", r.OK, len(r.Output), r.Err)
	}
}

func TestHTTPHangingHandlerEndsAtTheTimeout(t *testing.T) {
	release := make(chan struct{})
	srv, _ := server(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	// A whole second, as config timeouts are: the name of a sub-second
	// budget counts the milliseconds lost before the call on a busy machine.
	begin := time.Now()
	r := NewProber().HTTP(probeCtx(t, time.Second), srv.URL)
	if took := time.Since(begin); took > 3*time.Second {
		t.Fatalf("the probe took %v with a 1s ctx", took)
	}
	if r.OK || r.Err != "timeout after 1s" {
		t.Fatalf("hang: %+v", r)
	}
	close(release)
	srv.Close()
	goleak.VerifyNone(t)
}

func TestHTTPSelfSignedIsChecked(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "tls ok")
	}))
	defer srv.Close()
	if r := NewProber().HTTP(probeCtx(t, 3*time.Second), srv.URL); !r.OK || r.Output != "tls ok" {
		t.Fatalf("https with a self-signed certificate: %+v", r)
	}
}

func TestHTTPConnectionRefused(t *testing.T) {
	r := NewProber().HTTP(probeCtx(t, 3*time.Second), "http://"+closedPort(t)+"/health")
	if r != (Result{Err: "connection refused"}) {
		t.Fatalf("closed port: %+v", r)
	}
}

func TestHTTPBadURL(t *testing.T) {
	r := NewProber().HTTP(probeCtx(t, time.Second), "http://[::1/health")
	if r.OK || !strings.HasPrefix(r.Err, `bad health check URL "http://[::1/health": `) {
		t.Fatalf("bad URL: %+v", r)
	}
	r = NewProber().HTTP(probeCtx(t, time.Second), "ftp://127.0.0.1/")
	if r.OK || !strings.Contains(r.Err, "unsupported protocol scheme") || strings.Contains(r.Err, "Get ") {
		t.Fatalf("ftp URL: %+v", r)
	}
}

func TestHTTPServerHangsUpWithoutAnswer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		buf := make([]byte, 512)
		c.Read(buf) // the request line, then hang up without a response
		c.Close()
	})
	defer func() { ln.Close(); wg.Wait() }()
	r := NewProber().HTTP(probeCtx(t, 3*time.Second), "http://"+ln.Addr().String()+"/")
	if r != (Result{Err: "connection closed by the server"}) {
		t.Fatalf("hang-up: %+v", r)
	}
}

func TestTCPConnects(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted := make(chan struct{}, 2)
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
			accepted <- struct{}{}
		}
	})
	defer func() { ln.Close(); wg.Wait() }()
	p := NewProber()
	for _, addr := range []string{ln.Addr().String(), "tcp://" + ln.Addr().String()} {
		if r := p.TCP(probeCtx(t, 3*time.Second), addr); r != (Result{OK: true}) {
			t.Fatalf("TCP %s: %+v", addr, r)
		}
		<-accepted
	}
}

func TestTCPClosedPort(t *testing.T) {
	if r := NewProber().TCP(probeCtx(t, 3*time.Second), closedPort(t)); r != (Result{Err: "connection refused"}) {
		t.Fatalf("closed port: %+v", r)
	}
}

func TestTCPTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		hang := func(ctx context.Context, _, _ string) (net.Conn, error) {
			<-ctx.Done()
			return nil, &net.OpError{Op: "dial", Net: "tcp", Err: ctx.Err()}
		}
		ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
		defer cancel()
		begin := time.Now()
		r := newProber(hang).TCP(ctx, "10.0.0.1:5432")
		if r != (Result{Err: "timeout after 3s"}) || time.Since(begin) != 3*time.Second {
			t.Fatalf("timeout: %+v after %v", r, time.Since(begin))
		}
	})
}

// TestHTTPTimeoutVirtual runs the whole client and server over in-memory
// pipes in a synctest bubble: the 3 s timeout passes in virtual time, the
// text is exact, and the bubble proves that no goroutine outlives it.
func TestHTTPTimeoutVirtual(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ln := newPipeListener()
		release := make(chan struct{})
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-release:
			}
		})}
		served := make(chan error, 1)
		go func() { served <- srv.Serve(ln) }()

		ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
		defer cancel()
		begin := time.Now()
		r := newProber(ln.dial).HTTP(ctx, "http://app.test/health")
		if r != (Result{Err: "timeout after 3s"}) || time.Since(begin) != 3*time.Second {
			t.Fatalf("timeout: %+v after %v", r, time.Since(begin))
		}
		close(release)
		srv.Close()
		if err := <-served; !errors.Is(err, http.ErrServerClosed) {
			t.Fatalf("Serve: %v", err)
		}
	})
}

func TestErrText(t *testing.T) {
	ctx := t.Context()
	cases := []struct {
		err  error
		want string
	}{
		{&url.Error{Op: "Get", URL: "http://db/", Err: &net.DNSError{Name: "db", Err: "no such host"}}, "lookup db: no such host"},
		{&url.Error{Op: "Get", URL: "http://x/", Err: &net.OpError{Op: "dial", Err: syscall.EHOSTUNREACH}}, "no route to host"},
		{&url.Error{Op: "Get", URL: "http://x/", Err: io.EOF}, "connection closed by the server"},
		{&url.Error{Op: "Get", URL: "http://x/", Err: errors.New("tls: handshake failure")}, "tls: handshake failure"},
		{context.Canceled, "canceled"},
		{context.DeadlineExceeded, "timeout after 2s"},
	}
	for _, tc := range cases {
		if got := errText(ctx, tc.err, 2*time.Second); got != tc.want {
			t.Errorf("errText(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}

func TestBudgetOf(t *testing.T) {
	if got := budgetOf(context.Background()); got != 0 {
		t.Errorf("no deadline: %v", got)
	}
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
		defer cancel()
		time.Sleep(20 * time.Millisecond) // the probe goroutine started a little late
		if got := budgetOf(ctx); got != 3*time.Second {
			t.Errorf("3s less 20ms: %v", got)
		}
		ctx2, cancel2 := context.WithTimeout(t.Context(), 250*time.Millisecond)
		defer cancel2()
		if got := budgetOf(ctx2); got != 250*time.Millisecond {
			t.Errorf("250ms: %v", got)
		}
	})
}

// closedPort is a 127.0.0.1 address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// pipeListener hands out the server ends of net.Pipe connections that its
// dial makes: an HTTP server and client with no sockets, which a synctest
// bubble can run in virtual time.
type pipeListener struct {
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func newPipeListener() *pipeListener {
	return &pipeListener{conns: make(chan net.Conn), done: make(chan struct{})}
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *pipeListener) Addr() net.Addr { return pipeAddr{} }

func (l *pipeListener) dial(ctx context.Context, _, _ string) (net.Conn, error) {
	client, srv := net.Pipe()
	select {
	case l.conns <- srv:
		return client, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-l.done:
		return nil, syscall.ECONNREFUSED
	}
}

type pipeAddr struct{}

func (pipeAddr) Network() string { return "pipe" }
func (pipeAddr) String() string  { return "pipe" }
