package rpcclient

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/gosupervisor/gosupervisor/pkg/config"
)

// https:// server URLs (EXTENSIONS.md §7): the server is verified against
// ca_file, else the system roots; certfile/keyfile are the client
// certificate for a server that requires one (mutual TLS).

// TLSError is a failed TLS connection (or unusable TLS files): the text
// names the server URL and the reason, e.g.
// "https://127.0.0.1:9443 TLS error: x509: certificate signed by unknown
// authority". supervisorctl reports it as it does a refused connection.
type TLSError struct {
	URL string
	Err error
}

func (e *TLSError) Error() string { return e.URL + " TLS error: " + tlsReason(e.Err) }
func (e *TLSError) Unwrap() error { return e.Err }

// tlsReason is the innermost useful text of a TLS failure.
func tlsReason(err error) string {
	var cve *tls.CertificateVerificationError
	if errors.As(err, &cve) {
		return cve.Err.Error()
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "remote error" {
		return "the server refused the connection: " + op.Err.Error()
	}
	var fe *tlsFileError
	if errors.As(err, &fe) {
		return fe.Error()
	}
	if errors.Is(err, http.ErrSchemeMismatch) {
		return "the server speaks plain HTTP"
	}
	var rhe tls.RecordHeaderError
	if errors.As(err, &rhe) {
		return rhe.Msg
	}
	return err.Error()
}

// tlsFileError is a ca_file, certfile or keyfile that does not load.
type tlsFileError struct{ err error }

func (e *tlsFileError) Error() string { return e.err.Error() }

// AsTLSError returns err as a *TLSError when it is a TLS failure (with the
// URL the user gave), nil otherwise.
func AsTLSError(err error, serverURL string) *TLSError {
	var te *TLSError
	if errors.As(err, &te) {
		return te
	}
	var (
		cve     *tls.CertificateVerificationError
		uae     x509.UnknownAuthorityError
		cie     x509.CertificateInvalidError
		hne     x509.HostnameError
		rhe     tls.RecordHeaderError
		op      *net.OpError
		isAlert bool
	)
	if errors.As(err, &op) && op.Op == "remote error" && strings.HasPrefix(op.Err.Error(), "tls: ") {
		isAlert = true
	}
	if errors.As(err, &cve) || errors.As(err, &uae) || errors.As(err, &cie) ||
		errors.As(err, &hne) || errors.As(err, &rhe) || isAlert || errors.Is(err, http.ErrSchemeMismatch) {
		return &TLSError{URL: serverURL, Err: err}
	}
	return nil
}

// clientTLSConfig builds the client side of an https:// connection.
func clientTLSConfig(files config.CtlTLS) (*tls.Config, error) {
	c := &tls.Config{MinVersion: tls.VersionTLS12}
	if files.CAFile != "" {
		pool, err := config.LoadCertPool(files.CAFile)
		if err != nil {
			return nil, &tlsFileError{fmt.Errorf("ca_file: %w", err)}
		}
		c.RootCAs = pool
	}
	if files.CertFile != "" || files.KeyFile != "" {
		cert, err := tls.LoadX509KeyPair(files.CertFile, files.KeyFile)
		if err != nil {
			return nil, &tlsFileError{fmt.Errorf("cannot load certfile %s and keyfile %s: %w", files.CertFile, files.KeyFile, err)}
		}
		c.Certificates = []tls.Certificate{cert}
	}
	return c, nil
}

// Transport prepares tr to reach serverURL and returns the URL prefix
// ("http://host:port", "https://host:port" or "http://localhost" for a
// unix socket) that request paths are appended to.
func Transport(tr *http.Transport, serverURL string, files config.CtlTLS) (string, error) {
	switch {
	case strings.HasPrefix(serverURL, "http://"):
		return "http://" + hostPort(serverURL[len("http://"):], "80"), nil
	case strings.HasPrefix(serverURL, "https://"):
		hostport := hostPort(serverURL[len("https://"):], "443")
		tc, err := clientTLSConfig(files)
		if err != nil {
			return "", &TLSError{URL: serverURL, Err: err}
		}
		tr.TLSClientConfig = tc
		return "https://" + hostport, nil
	case strings.HasPrefix(serverURL, "unix://"):
		path := serverURL[len("unix://"):]
		var d net.Dialer
		tr.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
			return d.DialContext(ctx, "unix", path)
		}
		// The original sends "Host: localhost" over unix sockets.
		return "http://localhost", nil
	}
	return "", &BadURLError{URL: serverURL}
}
