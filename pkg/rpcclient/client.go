// Package rpcclient talks to a supervisord (ours or the Python original)
// over its HTTP API: XML-RPC calls on /RPC2 and plain GETs (our event
// stream), on http://, https:// or unix:// with basic auth. supervisorctl
// (pkg/ctl), top (pkg/top) and the fleet (pkg/fleet) share it; how errors
// are shown to a user is theirs.
package rpcclient

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"

	"github.com/kolo/xmlrpc"

	"github.com/gosupervisor/gosupervisor/pkg/config"
	"github.com/gosupervisor/gosupervisor/pkg/pyfmt"
)

// Fault is an XML-RPC fault answered by the server.
type Fault struct {
	Code   int
	String string
}

// Error renders the fault as Python's xmlrpc.client.Fault repr does, because
// that is what the original's clients print.
func (f *Fault) Error() string {
	return fmt.Sprintf("<Fault %d: %s>", f.Code, pyfmt.Repr(f.String))
}

// ProtocolError is a non-200 HTTP answer to a request.
type ProtocolError struct {
	URL    string // the server URL as given
	Status int
	Reason string // e.g. "Unauthorized"
}

func (e *ProtocolError) Error() string {
	return fmt.Sprintf("%s: HTTP %d %s", e.URL, e.Status, e.Reason)
}

// BadURLError is a server URL that is neither http://, https:// nor unix://.
type BadURLError struct{ URL string }

func (e *BadURLError) Error() string { return "Unknown protocol for serverurl " + e.URL }

// Client calls supervisord's XML-RPC interface over one kept-alive HTTP
// connection, on TCP or a unix socket.
type Client struct {
	serverURL string
	base      string // scheme://host:port that paths are appended to
	username  string
	password  string
	auth      bool
	httpc     *http.Client
	transport *http.Transport
}

// New prepares a client for serverURL (http://host:port, https://host:port
// or unix:///path) with the TLS files for an https:// URL. No connection is
// made until the first call.
func New(serverURL, username, password string, files config.CtlTLS) (*Client, error) {
	tr := &http.Transport{MaxIdleConnsPerHost: 1, DisableCompression: true}
	base, err := Transport(tr, serverURL, files)
	if err != nil {
		return nil, err
	}
	return &Client{serverURL: serverURL, base: base, username: username, password: password,
		auth: username != "" && password != "", transport: tr, httpc: &http.Client{Transport: tr}}, nil
}

// URL is the server URL the client was made for.
func (c *Client) URL() string { return c.serverURL }

// Endpoint is the URL XML-RPC calls are posted to.
func (c *Client) Endpoint() string { return c.base + "/RPC2" }

// hostPort returns host:port of what follows a URL's scheme, with port
// defPort when none is given.
func hostPort(rest, defPort string) string {
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	if i := strings.LastIndexByte(rest, '@'); i >= 0 {
		rest = rest[i+1:]
	}
	host, port, err := net.SplitHostPort(rest)
	if err != nil {
		host, port = strings.Trim(rest, "[]"), defPort
	}
	return net.JoinHostPort(host, port)
}

// Close drops the kept-alive connection.
func (c *Client) Close() {
	c.transport.CloseIdleConnections()
}

// Call invokes method with args and decodes the answer into result (a
// pointer, or nil to discard it). Faults come back as *Fault, non-200
// answers as *ProtocolError, TLS failures as *TLSError, transport failures
// wrapped.
func (c *Client) Call(ctx context.Context, method string, result any, args ...any) error {
	body, err := xmlrpc.EncodeMethodCall(method, args...)
	if err != nil {
		return fmt.Errorf("encode %s call: %w", method, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.Endpoint(), bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("build %s request: %w", method, err)
	}
	req.Header.Set("Content-Type", "text/xml")
	req.Header.Set("Accept", "text/xml")
	req.Header.Set("User-Agent", "Python-xmlrpc/3.11")
	if c.auth {
		req.SetBasicAuth(c.username, c.password)
	}
	resp, err := c.httpc.Do(req)
	if err != nil {
		if te := AsTLSError(err, c.serverURL); te != nil {
			return te
		}
		return fmt.Errorf("call %s on %s: %w", method, c.serverURL, err)
	}
	data, err := readBody(resp)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		// Like the original, forget the connection after an HTTP error.
		c.transport.CloseIdleConnections()
		return c.protocolError(resp)
	}
	if err != nil {
		return fmt.Errorf("read %s answer from %s: %w", method, c.serverURL, err)
	}
	return decode(method, data, result)
}

func (c *Client) protocolError(resp *http.Response) *ProtocolError {
	reason := strings.TrimSpace(strings.TrimPrefix(resp.Status, fmt.Sprint(resp.StatusCode)))
	return &ProtocolError{URL: c.serverURL, Status: resp.StatusCode, Reason: reason}
}

func decode(method string, data []byte, result any) error {
	if raw, ok := result.(*rawAnswer); ok {
		v, err := decodeFast(data)
		if !errors.Is(err, errFastUnknown) {
			raw.v = v
			return err
		}
		result = &raw.v
	}
	r := xmlrpc.Response(data)
	if err := r.Err(); err != nil {
		var fe xmlrpc.FaultError
		if errors.As(err, &fe) {
			return &Fault{Code: fe.Code, String: fe.String}
		}
		return fmt.Errorf("decode %s fault: %w", method, err)
	}
	if result == nil {
		return nil
	}
	if err := r.Unmarshal(result); err != nil {
		return fmt.Errorf("decode %s answer: %w", method, err)
	}
	return nil
}

// Get sends a GET of path (e.g. "/api/v1/events") to the server with the
// client's credentials; the caller closes the body.
func (c *Client) Get(ctx context.Context, path string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	if err != nil {
		return nil, fmt.Errorf("GET %s on %s: %w", path, c.serverURL, err)
	}
	req.Header.Set("Accept", "text/event-stream")
	if c.auth {
		req.SetBasicAuth(c.username, c.password)
	}
	return c.httpc.Do(req)
}

// readBody reads an answer into memory of its announced length (at once,
// rather than growing from 512 bytes: a getAllProcessInfo of 200
// processes is ~150 KB, and fleet status reads one from every node).
func readBody(resp *http.Response) ([]byte, error) {
	const maxPresize = 64 << 20
	if n := resp.ContentLength; n > 0 && n <= maxPresize {
		data := make([]byte, n)
		_, err := io.ReadFull(resp.Body, data)
		return data, err
	}
	return io.ReadAll(resp.Body)
}
