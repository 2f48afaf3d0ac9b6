package health

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// userAgent names our checks in the checked program's access log.
const userAgent = "gosupervisor-healthcheck"

// dialFunc is net.Dialer.DialContext's shape; tests put in-memory
// connections behind it.
type dialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// Prober runs http and tcp checks. One Prober serves every process; its
// methods are safe for concurrent use and block until the check ends or
// its ctx is done, so the owner calls them off the loop with a ctx bounded
// by the check's timeout.
type Prober struct {
	dial   dialFunc
	client *http.Client
}

// NewProber returns a Prober with its own HTTP client.
func NewProber() *Prober {
	return newProber((&net.Dialer{}).DialContext)
}

// newProber builds the client around dial. It keeps no connection between
// checks (DisableKeepAlives: each check is a fresh connect, like the
// program's real clients' first request, and no idle pool outlives it),
// goes to the target directly whatever HTTP_PROXY says, and does not
// follow redirects, since a 3xx already counts as healthy. It does not
// verify certificates, as the kubelet's https probes do not: the check asks
// whether the program answers, and a local program's certificate is often
// self-signed or issued for another name.
func newProber(dial dialFunc) *Prober {
	tr := &http.Transport{
		Proxy:                  nil,
		DialContext:            dial,
		DisableKeepAlives:      true,
		MaxResponseHeaderBytes: 64 << 10,
		TLSClientConfig:        &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // see above
	}
	return &Prober{
		dial: dial,
		client: &http.Client{
			Transport: tr,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			},
		},
	}
}

// HTTP GETs rawURL: a 2xx or 3xx status is healthy (redirects are not
// followed); anything else fails with "HTTP 503". Up to MaxOutput bytes of
// the body become the Output either way.
func (p *Prober) HTTP(ctx context.Context, rawURL string) Result {
	budget := budgetOf(ctx)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return Result{Err: fmt.Errorf("bad health check URL %q: %w", rawURL, unwrapURL(err)).Error()}
	}
	req.Header.Set("User-Agent", userAgent)
	resp, err := p.client.Do(req)
	if err != nil {
		return Result{Err: errText(ctx, err, budget)}
	}
	defer resp.Body.Close()
	body, err := readAtMost(resp.Body, MaxOutput)
	switch {
	case resp.StatusCode < 200 || resp.StatusCode >= 400:
		return Result{Output: body, Err: fmt.Sprintf("HTTP %d", resp.StatusCode)}
	case err != nil: // a good status, but the body did not arrive
		return Result{Output: body, Err: errText(ctx, err, budget)}
	}
	return Result{OK: true, Output: body}
}

// readAtMost reads up to n bytes of r, and one more to learn whether the
// body goes on; the rest is left unread (the connection is not reused).
func readAtMost(r io.Reader, n int) (string, error) {
	b, err := io.ReadAll(io.LimitReader(r, int64(n)+1))
	return clip(string(b), false), err
}

// TCP connects to addr ("host:port"; a "tcp://" prefix is accepted) and
// closes the connection at once: connected is healthy.
func (p *Prober) TCP(ctx context.Context, addr string) Result {
	budget := budgetOf(ctx)
	conn, err := p.dial(ctx, "tcp", strings.TrimPrefix(addr, "tcp://"))
	if err != nil {
		return Result{Err: errText(ctx, err, budget)}
	}
	_ = conn.Close() // the connect was the check; nothing was written to lose
	return Result{OK: true}
}

// budgetOf is the time ctx allows from now, to name it in "timeout after
// 3s". Config timeouts are whole seconds and the owner makes the ctx just
// before the call, so a remainder within 50 ms of a whole second is that
// second; 0 when ctx has no deadline.
func budgetOf(ctx context.Context) time.Duration {
	dl, ok := ctx.Deadline()
	if !ok {
		return 0
	}
	left := time.Until(dl)
	if s := left.Round(time.Second); s > 0 && (left-s).Abs() < 50*time.Millisecond {
		return s
	}
	return left.Round(time.Millisecond)
}

// errText is the short reason of a failed probe: "timeout after 3s",
// "connection refused", "lookup db: no such host", without Go's
// `Get "http://…": dial tcp …:` prefixes that repeat the known target.
func errText(ctx context.Context, err error, budget time.Duration) string {
	var (
		ne    net.Error
		errno syscall.Errno
		dns   *net.DNSError
	)
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded), errors.Is(err, context.DeadlineExceeded):
		return TimeoutText(budget)
	case errors.Is(ctx.Err(), context.Canceled), errors.Is(err, context.Canceled):
		return "canceled"
	case errors.As(err, &dns):
		return "lookup " + dns.Name + ": " + dns.Err
	case errors.As(err, &errno):
		return errno.Error()
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "connection closed by the server"
	}
	return unwrapURL(err).Error()
}

// unwrapURL drops *url.Error's `Get "URL": ` prefix.
func unwrapURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) && ue.Err != nil {
		return ue.Err
	}
	return err
}
