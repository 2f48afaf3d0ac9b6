package harness

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/kolo/xmlrpc"
)

// Client is a small XML-RPC client on supervisord's unix socket.
type Client struct {
	http *http.Client
	url  string
}

// NewUnixClient talks to the /RPC2 of the HTTP server on the unix socket.
func NewUnixClient(sock string) *Client {
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		},
		DisableCompression: true,
	}
	// Python clients send Host: localhost on unix sockets.
	return &Client{http: &http.Client{Transport: tr, Timeout: 30 * time.Second}, url: "http://localhost/RPC2"}
}

// Result is one XML-RPC answer: the exact body, the decoded value, or the fault.
type Result struct {
	Status int
	Raw    []byte
	Value  any
	Fault  *xmlrpc.FaultError
}

// Call invokes method with args; faults are in the Result, transport errors
// and undecodable answers are returned as err.
func (c *Client) Call(method string, args ...any) (Result, error) {
	req, err := xmlrpc.NewRequest(c.url, method, []any(args))
	if err != nil {
		return Result{}, fmt.Errorf("encode %s: %w", method, err)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return Result{}, fmt.Errorf("call %s: %w", method, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return Result{}, fmt.Errorf("read %s answer: %w", method, err)
	}
	r := Result{Status: resp.StatusCode, Raw: body}
	if resp.StatusCode != http.StatusOK {
		return r, nil
	}
	if ferr := xmlrpc.Response(body).Err(); ferr != nil {
		f, ok := ferr.(xmlrpc.FaultError)
		if !ok {
			return r, fmt.Errorf("decode %s fault %q: %w", method, body, ferr)
		}
		r.Fault = &f
		return r, nil
	}
	if err := xmlrpc.Response(body).Unmarshal(&r.Value); err != nil {
		return r, fmt.Errorf("decode %s answer %q: %w", method, body, err)
	}
	return r, nil
}

// Value calls method and returns its value; a fault or HTTP error is an error.
func (c *Client) Value(method string, args ...any) (any, error) {
	r, err := c.Call(method, args...)
	if err != nil {
		return nil, err
	}
	if r.Status != http.StatusOK {
		return nil, fmt.Errorf("call %s: HTTP %d", method, r.Status)
	}
	if r.Fault != nil {
		return nil, fmt.Errorf("call %s: %w", method, *r.Fault)
	}
	return r.Value, nil
}

// ProcessInfo returns getProcessInfo(name) as a map.
func (c *Client) ProcessInfo(name string) (map[string]any, error) {
	v, err := c.Value("supervisor.getProcessInfo", name)
	if err != nil {
		return nil, err
	}
	return asMap(v), nil
}

// WaitState polls until process name is in state (e.g. "RUNNING") and cond
// (may be nil) holds for its info.
func (c *Client) WaitState(name, state string, timeout time.Duration, cond func(map[string]any) bool) (map[string]any, error) {
	var info map[string]any
	var last error
	err := Poll(timeout, func() bool {
		info, last = c.ProcessInfo(name)
		return last == nil && info["statename"] == state && (cond == nil || cond(info))
	})
	if err != nil {
		return info, fmt.Errorf("%s never reached %s: %w (last info %v, err %v)", name, state, err, info, last)
	}
	return info, nil
}

// WaitSettled polls until no process is STARTING, STOPPING or BACKOFF.
func (c *Client) WaitSettled(timeout time.Duration) error {
	var last any
	err := Poll(timeout, func() bool {
		v, err := c.Value("supervisor.getAllProcessInfo")
		if err != nil {
			last = err
			return false
		}
		last = v
		for _, i := range asSlice(v) {
			switch asMap(i)["statename"] {
			case "STARTING", "STOPPING", "BACKOFF":
				return false
			}
		}
		return true
	})
	if err != nil {
		return fmt.Errorf("processes never settled: %w (last %v)", err, last)
	}
	return nil
}
