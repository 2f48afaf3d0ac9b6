package ctl

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
// that is what the original prints in its generic error line and after
// "ERROR: " in fg.
func (f *Fault) Error() string {
	return fmt.Sprintf("<Fault %d: %s>", f.Code, pyfmt.Repr(f.String))
}

// ProtocolError is a non-200 HTTP answer to an XML-RPC call.
type ProtocolError struct {
	Status int
	Reason string
}

// Error mimics xmlrpc.client.ProtocolError's repr. The original always
// builds its proxy on "http://127.0.0.1" whatever the real server URL is.
func (e *ProtocolError) Error() string {
	return fmt.Sprintf("<ProtocolError for 127.0.0.1/RPC2: %d %s>", e.Status, e.Reason)
}

// badURLError is raised (like the original's ValueError) when the server URL
// is neither http://, https:// (ours) nor unix://.
type badURLError struct{ url string }

func (e *badURLError) Error() string { return "Unknown protocol for serverurl " + e.url }

// Client calls supervisord's XML-RPC interface over one kept-alive HTTP
// connection, on TCP or a unix socket.
type Client struct {
	serverURL string
	endpoint  string
	username  string
	password  string
	auth      bool
	httpc     *http.Client
	transport *http.Transport
}

// NewClient prepares a client for serverURL (http://host:port,
// https://host:port or unix:///path). No connection is made until the
// first call.
func NewClient(serverURL, username, password string) (*Client, error) {
	return NewClientTLS(serverURL, username, password, config.CtlTLS{})
}

// NewClientTLS is NewClient with the TLS files for an https:// URL
// ([supervisorctl] ca_file, certfile, keyfile).
func NewClientTLS(serverURL, username, password string, files config.CtlTLS) (*Client, error) {
	c := &Client{serverURL: serverURL, username: username, password: password,
		auth: username != "" && password != ""}
	tr := &http.Transport{MaxIdleConnsPerHost: 1, DisableCompression: true}
	base, err := transportFor(tr, serverURL, files)
	if err != nil {
		return nil, err
	}
	c.endpoint = base + "/RPC2"
	c.transport = tr
	c.httpc = &http.Client{Transport: tr}
	return c, nil
}

// hostPort returns host:port of what follows a URL's scheme, with port
// defPort when none is given.
func hostPort(rest, defPort string) (string, error) {
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
	return net.JoinHostPort(host, port), nil
}

// Close drops the kept-alive connection.
func (c *Client) Close() {
	c.transport.CloseIdleConnections()
}

// Call invokes method with args and decodes the answer into result (a
// pointer, or nil to discard it). Faults come back as *Fault, non-200
// answers as *ProtocolError, transport failures wrapped.
func (c *Client) Call(ctx context.Context, method string, result any, args ...any) error {
	body, err := xmlrpc.EncodeMethodCall(method, args...)
	if err != nil {
		return fmt.Errorf("encode %s call: %w", method, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, bytes.NewReader(body))
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
		if te := asTLSError(err, c.serverURL); te != nil {
			return te
		}
		return fmt.Errorf("call %s on %s: %w", method, c.serverURL, err)
	}
	data, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		// Like the original, forget the connection after an HTTP error.
		c.transport.CloseIdleConnections()
		reason := strings.TrimSpace(strings.TrimPrefix(resp.Status, fmt.Sprint(resp.StatusCode)))
		return &ProtocolError{Status: resp.StatusCode, Reason: reason}
	}
	if err != nil {
		return fmt.Errorf("read %s answer from %s: %w", method, c.serverURL, err)
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

// ProcessInfo is getProcessInfo's struct (SPEC §5.4); the JSON names are
// the XML-RPC member names, for `status --json`.
type ProcessInfo struct {
	Name          string `xmlrpc:"name" json:"name"`
	Group         string `xmlrpc:"group" json:"group"`
	Start         int64  `xmlrpc:"start" json:"start"`
	Stop          int64  `xmlrpc:"stop" json:"stop"`
	Now           int64  `xmlrpc:"now" json:"now"`
	State         int64  `xmlrpc:"state" json:"state"`
	Statename     string `xmlrpc:"statename" json:"statename"`
	Spawnerr      string `xmlrpc:"spawnerr" json:"spawnerr"`
	Exitstatus    int64  `xmlrpc:"exitstatus" json:"exitstatus"`
	Logfile       string `xmlrpc:"logfile" json:"logfile"`
	StdoutLogfile string `xmlrpc:"stdout_logfile" json:"stdout_logfile"`
	StderrLogfile string `xmlrpc:"stderr_logfile" json:"stderr_logfile"`
	Pid           int64  `xmlrpc:"pid" json:"pid"`
	Description   string `xmlrpc:"description" json:"description"`
}

// Result is one entry of a group/all operation's answer.
type Result struct {
	Name        string `xmlrpc:"name"`
	Group       string `xmlrpc:"group"`
	Status      int    `xmlrpc:"status"`
	Description string `xmlrpc:"description"`
}

// ConfigInfo holds the getAllConfigInfo members that avail prints.
type ConfigInfo struct {
	Name        string `xmlrpc:"name"`
	Group       string `xmlrpc:"group"`
	Inuse       bool   `xmlrpc:"inuse"`
	Autostart   bool   `xmlrpc:"autostart"`
	GroupPrio   int64  `xmlrpc:"group_prio"`
	ProcessPrio int64  `xmlrpc:"process_prio"`
}
