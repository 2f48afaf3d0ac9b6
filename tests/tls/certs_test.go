package tls_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// ca is a certificate authority the test makes up.
type ca struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	file string // PEM certificate
}

func newKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// newCA creates a self-signed CA and writes its certificate to dir/name.pem.
func newCA(t *testing.T, dir, name string) *ca {
	t.Helper()
	key := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	c := &ca{cert: cert, key: key, file: filepath.Join(dir, name+".pem")}
	writePEM(t, c.file, "CERTIFICATE", der)
	return c
}

// leaf is a certificate signed by a CA, with its key, on disk.
type leaf struct {
	certFile, keyFile string
	serial            int64
}

// issue signs a certificate for 127.0.0.1 (server and client use) with the
// given serial and validity, writing name.crt and name.key in dir. A file
// already there is replaced by a rename, as a renewal tool does.
func (c *ca) issue(t *testing.T, dir, name string, serial int64, notBefore, notAfter time.Time) leaf {
	t.Helper()
	key := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:     []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, c.cert, &key.PublicKey, c.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	l := leaf{certFile: filepath.Join(dir, name+".crt"), keyFile: filepath.Join(dir, name+".key"), serial: serial}
	writePEM(t, l.keyFile, "EC PRIVATE KEY", kder)
	writePEM(t, l.certFile, "CERTIFICATE", der)
	return l
}

// valid issues a certificate valid from an hour ago for a day.
func (c *ca) valid(t *testing.T, dir, name string, serial int64) leaf {
	return c.issue(t, dir, name, serial, time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour))
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}
