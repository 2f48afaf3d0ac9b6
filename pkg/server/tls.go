package server

import (
	"crypto/tls"
	"fmt"
	stdlog "log"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/gosupervisor/gosupervisor/pkg/config"
	"github.com/gosupervisor/gosupervisor/pkg/loglevel"
)

// TLS on [inet_http_server*] (EXTENSIONS.md §7): certfile/keyfile make the
// server speak TLS 1.2 or later only; client_ca also requires a client
// certificate signed by it. The listener order is the raw TCP listener
// (with its connection cap), then TLS, then http.Server.
//
// A SIGHUP is the original's restart: the engine stops, the servers are
// closed and bound again from the new config, which reads the certificate
// again. The config loader refuses a new config whose certificate does not
// load (the daemon then keeps running as it was, certificate included);
// should the files break between that check and the rebind, the server
// keeps the last certificate that loaded for the section and logs an error,
// rather than take the daemon down.

// tlsMaterial is what one server's files held when they were last read.
type tlsMaterial struct {
	cert *tls.Certificate
	// perClient is the handshake config with the client CA pool, for
	// mutual TLS (nil without client_ca).
	perClient *tls.Config
}

// tlsServer holds one server's current material; handshakes read it
// atomically, so a reload never disturbs a handshake or a connection.
type tlsServer struct {
	sc   config.HTTPServer
	base *tls.Config
	cur  atomic.Pointer[tlsMaterial]
}

// lastGoodTLS is, per server section, the last material that loaded in
// this process: what a rebind falls back on when the files are broken.
var lastGoodTLS sync.Map // section -> *tlsMaterial

// withTLS wraps ln in TLS for sc; on error it closes ln. log receives the
// error when the files no longer load and an earlier certificate is kept.
func withTLS(ln net.Listener, sc config.HTTPServer, log Logger) (net.Listener, error) {
	t, err := newTLSServer(sc, log)
	if err != nil {
		ln.Close()
		return nil, err
	}
	return tls.NewListener(ln, t.base), nil
}

func newTLSServer(sc config.HTTPServer, log Logger) (*tlsServer, error) {
	t := &tlsServer{sc: sc}
	t.base = &tls.Config{
		MinVersion: tls.VersionTLS12,
		// HTTP/1.1 only, like the plain servers: the header timeouts and
		// the connection cap then mean the same on both.
		NextProtos:     []string{"http/1.1"},
		GetCertificate: t.getCertificate,
	}
	if sc.ClientCA != "" {
		t.base.ClientAuth = tls.RequireAndVerifyClientCert
		t.base.GetConfigForClient = t.configForClient
	}
	m, err := t.load()
	if err != nil {
		prev, ok := lastGoodTLS.Load(sc.Section)
		if !ok {
			return nil, &BindError{Msg: err.Error(), Err: err}
		}
		log.Log(loglevel.Error, err.Error()+"; keeping the certificate loaded before")
		m = prev.(*tlsMaterial)
	}
	t.cur.Store(m)
	return t, nil
}

// load reads the certificate, key and client CA from disk.
func (t *tlsServer) load() (*tlsMaterial, error) {
	sc := t.sc
	cert, err := tls.LoadX509KeyPair(sc.CertFile, sc.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("section [%s]: cannot load certfile %s and keyfile %s: %w",
			sc.Section, sc.CertFile, sc.KeyFile, err)
	}
	m := &tlsMaterial{cert: &cert}
	if sc.ClientCA != "" {
		pool, err := config.LoadCertPool(sc.ClientCA)
		if err != nil {
			return nil, fmt.Errorf("section [%s]: client_ca: %w", sc.Section, err)
		}
		c := t.base.Clone()
		c.GetConfigForClient, c.GetCertificate = nil, nil
		c.Certificates = []tls.Certificate{cert}
		c.ClientCAs = pool
		m.perClient = c
	}
	lastGoodTLS.Store(sc.Section, m)
	return m, nil
}

func (t *tlsServer) getCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return t.cur.Load().cert, nil
}

func (t *tlsServer) configForClient(*tls.ClientHelloInfo) (*tls.Config, error) {
	return t.cur.Load().perClient, nil
}

// serverErrorLog is http.Server's ErrorLog for sc: nil (the standard
// logger, as before) for a plain server; for a TLS server, failed
// handshakes (scanners, probes, clients that do not trust us or that we do
// not trust) go to the main log at debug level instead of stderr.
func serverErrorLog(sc config.HTTPServer, log Logger) *stdlog.Logger {
	if !sc.TLS() {
		return nil
	}
	return stdlog.New(handshakeLog{log}, "", 0)
}

type handshakeLog struct{ log Logger }

func (h handshakeLog) Write(p []byte) (int, error) {
	line := strings.TrimRight(string(p), "\n")
	if rest, ok := strings.CutPrefix(line, "http: TLS handshake error from "); ok {
		h.log.Log(loglevel.Debug, "TLS handshake error from "+rest)
		return len(p), nil
	}
	return os.Stderr.Write(p)
}
