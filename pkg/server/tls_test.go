package server

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gosupervisor/gosupervisor/pkg/config"
	"github.com/gosupervisor/gosupervisor/pkg/loglevel"
)

// selfSigned writes a self-signed certificate for 127.0.0.1 with serial
// into dir/cert.pem and dir/key.pem and returns its pool.
func selfSigned(t *testing.T, dir string, serial int64) *x509.CertPool {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "cert.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "key.pem"), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return pool
}

type recLog struct {
	mu    sync.Mutex
	lines []string
}

func (r *recLog) Log(level loglevel.Level, msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lines = append(r.lines, level.String()+" "+msg)
}

func (r *recLog) text() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.lines, "\n")
}

// serveTLS wraps a fresh 127.0.0.1 listener for sc, answers handshakes on
// it, and returns its address.
func serveTLS(t *testing.T, sc config.HTTPServer, log Logger) (string, error) {
	t.Helper()
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln, err := withTLS(raw, sc, log)
	if err != nil {
		return "", err
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_ = c.(*tls.Conn).Handshake()
			}()
		}
	}()
	return ln.Addr().String(), nil
}

func servedSerial(t *testing.T, addr string, pool *x509.CertPool) int64 {
	t.Helper()
	c, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.ConnectionState().PeerCertificates[0].SerialNumber.Int64()
}

// TestTLSKeepsLastGoodCertificate: files that break between the config
// check and the rebind of a restart leave the server on the certificate it
// had, with an error in the log; a first start has nothing to fall back on.
func TestTLSKeepsLastGoodCertificate(t *testing.T) {
	dir := t.TempDir()
	sc := config.HTTPServer{Section: "inet_http_server:tls-test-" + t.Name()}
	sc.CertFile, sc.KeyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")

	if err := os.WriteFile(sc.CertFile, []byte("junk"), 0o600); err != nil {
		t.Fatal(err)
	}
	var be *BindError
	if _, err := serveTLS(t, sc, &recLog{}); !errors.As(err, &be) || !strings.Contains(err.Error(), "cannot load certfile") {
		t.Fatalf("first start with a broken certificate: %v", err)
	}

	pool := selfSigned(t, dir, 1)
	addr, err := serveTLS(t, sc, &recLog{})
	if err != nil {
		t.Fatal(err)
	}
	if got := servedSerial(t, addr, pool); got != 1 {
		t.Fatalf("serial %d, want 1", got)
	}

	if err := os.WriteFile(sc.CertFile, []byte("junk"), 0o600); err != nil {
		t.Fatal(err)
	}
	log := &recLog{}
	addr, err = serveTLS(t, sc, log)
	if err != nil {
		t.Fatalf("rebind with a broken certificate: %v", err)
	}
	if got := servedSerial(t, addr, pool); got != 1 {
		t.Fatalf("serial %d, want the kept 1", got)
	}
	if !strings.Contains(log.text(), "ERRO section [inet_http_server:tls-test-") || !strings.Contains(log.text(), "keeping the certificate loaded before") {
		t.Fatalf("log: %q", log.text())
	}

	pool = selfSigned(t, dir, 2)
	addr, err = serveTLS(t, sc, &recLog{})
	if err != nil {
		t.Fatal(err)
	}
	if got := servedSerial(t, addr, pool); got != 2 {
		t.Fatalf("serial %d, want the new 2", got)
	}
}

// TestTLSMinVersion: only TLS 1.2 and later are offered.
func TestTLSMinVersion(t *testing.T) {
	dir := t.TempDir()
	pool := selfSigned(t, dir, 3)
	sc := config.HTTPServer{Section: "inet_http_server:tls-test-" + t.Name()}
	sc.CertFile, sc.KeyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	addr, err := serveTLS(t, sc, &recLog{})
	if err != nil {
		t.Fatal(err)
	}
	if c, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, MaxVersion: tls.VersionTLS11}); err == nil {
		c.Close()
		t.Fatal("TLS 1.1 accepted")
	}
	c, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12, MaxVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatalf("TLS 1.2: %v", err)
	}
	if p := c.ConnectionState().NegotiatedProtocol; p != "" && p != "http/1.1" {
		t.Fatalf("ALPN %q", p)
	}
	c.Close()
}
