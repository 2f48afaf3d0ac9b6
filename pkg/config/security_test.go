package config

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// writeCert writes a self-signed certificate and its key into dir.
func writeCert(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kd, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kd}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

func TestSecurityKeys(t *testing.T) {
	dir := t.TempDir()
	cert, key := writeCert(t, dir)
	files := map[string]string{"s.conf": sd + `[inet_http_server]
port=127.0.0.1:9001
certfile=%(here)s/c.pem
keyfile=` + key + `
client_ca=%(here)s/c.pem
[unix_http_server]
file=%(here)s/s.sock
allow_uids=0, root 4242
allow_groups=root
[user:bob]
password={SHA}40bd001563085fc35165329ea1ff5c5ecbdbbeef
[user:alice]
password=secret
role=Operator
[supervisorctl]
serverurl=https://127.0.0.1:9001
ca_file=%(here)s/c.pem
certfile=%(here)s/c.pem
keyfile=%(here)s/k.pem
`}
	writeTree(t, dir, files)
	c, err := Load(filepath.Join(dir, "s.conf"), Options{Env: testEnv(dir), Hostname: "node1"})
	if err != nil {
		t.Fatal(err)
	}
	in, un := c.InetHTTP, c.UnixHTTP
	if in.CertFile != cert || in.KeyFile != key || in.ClientCA != cert || !in.TLS() || un.TLS() {
		t.Errorf("inet %+v", in.ServerSecurity)
	}
	if !slices.Equal(un.AllowUIDs, []int{0, 0, 4242}) || !slices.Equal(un.AllowGIDs, []int{0}) || in.AllowUIDs != nil {
		t.Errorf("unix %+v", un.ServerSecurity)
	}
	want := []User{{"alice", "secret", RoleOperator}, {"bob", "{SHA}40bd001563085fc35165329ea1ff5c5ecbdbbeef", RoleReadonly}}
	if !slices.Equal(c.Users, want) {
		t.Errorf("users %+v", c.Users)
	}
	if c.Ctl == nil || c.Ctl.CAFile != cert || c.Ctl.CertFile != cert || c.Ctl.KeyFile != key {
		t.Errorf("ctl %+v", c.Ctl)
	}
	if o := ours(t, c); len(o) != 0 {
		t.Errorf("warnings %q", o)
	}
	if !c.UsesExtensions() {
		t.Error("UsesExtensions() = false with TLS, users and peer credentials")
	}
	if ctl, err := LoadCtl(filepath.Join(dir, "s.conf"), Options{Env: testEnv(dir)}); err != nil || ctl.CAFile != cert {
		t.Errorf("LoadCtl: %+v %v", ctl, err)
	}
}

func TestSecurityKeyErrors(t *testing.T) {
	dir := t.TempDir()
	cert, key := writeCert(t, dir)
	bad := filepath.Join(dir, "bad.pem")
	if err := os.WriteFile(bad, []byte("not pem"), 0o600); err != nil {
		t.Fatal(err)
	}
	inet := "[inet_http_server]\nport=127.0.0.1:9001\n"
	tests := []struct{ conf, want string }{
		{inet + "certfile=" + cert + "\n", "section [inet_http_server] needs both certfile and keyfile for TLS"},
		{inet + "client_ca=" + cert + "\n", "section [inet_http_server] needs both certfile and keyfile for TLS"},
		{inet + "certfile=" + bad + "\nkeyfile=" + key + "\n", "section [inet_http_server]: cannot load certfile " + bad + " and keyfile " + key + ": tls: failed to find any PEM data in certificate input"},
		{inet + "certfile=" + cert + "\nkeyfile=" + key + "\nclient_ca=" + bad + "\n", "section [inet_http_server]: client_ca: " + bad + " holds no PEM certificate"},
		{"[unix_http_server]\nfile=/tmp/x.sock\nallow_uids=nosuchuser\n", "invalid 'allow_uids' value 'nosuchuser': Invalid user name nosuchuser in section 'unix_http_server'"},
		{"[unix_http_server]\nfile=/tmp/x.sock\nallow_groups=0,nosuchgroup\n", "invalid 'allow_groups' value '0,nosuchgroup': Invalid group name nosuchgroup in section 'unix_http_server'"},
		{"[user:x]\nrole=admin\n", "section [user:x] has no password value"},
		{"[user:x]\npassword=p\nrole=root\n", "invalid 'role' value 'root': not admin, operator or readonly in section 'user:x'"},
		{"[supervisorctl]\ncertfile=" + cert + "\n", ""},
	}
	for _, tt := range tests {
		_, _, err := loadAt(t, map[string]string{"s.conf": sd + tt.conf})
		if tt.want == "" {
			continue // [supervisorctl] is read by supervisorctl (LoadCtl), not the daemon
		}
		if err == nil || err.Error() != tt.want {
			t.Errorf("%q:\n got %v\nwant %s", tt.conf, err, tt.want)
		}
	}
	path := filepath.Join(dir, "ctl.conf")
	if err := os.WriteFile(path, []byte("[supervisorctl]\ncertfile="+cert+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadCtl(path, Options{}); err == nil || !strings.Contains(err.Error(), "needs both certfile and keyfile") {
		t.Errorf("LoadCtl with a certfile alone: %v", err)
	}
}
