// Package tls_test runs our supervisord with TLS on an [inet_http_server]
// (EXTENSIONS.md §7) and talks to it with real handshakes: our
// supervisorctl over https:// (ca_file, client certificates), Go clients
// that pin protocol versions, and the Python original's supervisorctl over
// the plain servers of the same daemon. Certificates are made by the test.
package tls_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gosupervisor/gosupervisor/internal/testutil"
	"github.com/gosupervisor/gosupervisor/tests/compat/harness"
)

var bins harness.Binaries

func TestMain(m *testing.M) {
	os.Exit(harness.RunWithBinaries(m, "gstls-bin-", &bins))
}

// setup is one daemon with a TLS inet server, a plain inet server and a
// unix socket, and the certificates around it.
type setup struct {
	dir       string
	ca        *ca
	server    leaf
	port      int // TLS
	plainPort int
	sock      string
	d         *harness.Daemon
}

type opts struct {
	serverCert func(s *setup) leaf // default: valid, serial 100
	clientCA   string              // client_ca file, "" for none
}

const daemonConf = `[supervisord]
logfile=%[1]s/supervisord.log
pidfile=%[1]s/supervisord.pid
childlogdir=%[1]s
loglevel=debug

[unix_http_server]
file=%[1]s/s.sock

[inet_http_server]
port=127.0.0.1:%[2]d
certfile=%[3]s
keyfile=%[4]s
%[5]s

[inet_http_server:plain]
port=127.0.0.1:%[6]d

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[program:sleeper]
command=/bin/sleep 1000
startsecs=0

[program:talker]
command=/bin/sh -c 'echo hello-tls; exec sleep 1000'
startsecs=0
`

func start(t *testing.T, o opts) *setup {
	t.Helper()
	dir := t.TempDir()
	s := &setup{dir: dir, ca: newCA(t, dir, "ca"), port: testutil.FreePort(t), plainPort: testutil.FreePort(t)}
	if o.serverCert != nil {
		s.server = o.serverCert(s)
	} else {
		s.server = s.ca.valid(t, dir, "server", 100)
	}
	s.sock = filepath.Join(dir, "s.sock")
	extra := ""
	if o.clientCA != "" {
		extra = "client_ca=" + o.clientCA
	}
	conf := filepath.Join(dir, "supervisord.conf")
	text := fmt.Sprintf(daemonConf, dir, s.port, s.server.certFile, s.server.keyFile, extra, s.plainPort)
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	s.d = harness.StartDaemon(t, "go", bins.Supervisord, conf, s.sock, nil)
	if _, err := s.d.RPC.WaitState("sleeper", "RUNNING", 10*time.Second, nil); err != nil {
		t.Fatal(err)
	}
	return s
}

func (s *setup) url() string { return fmt.Sprintf("https://127.0.0.1:%d", s.port) }

// ctl runs our supervisorctl with a [supervisorctl] section holding
// serverurl and the given extra lines, and returns its output and status.
func (s *setup) ctl(t *testing.T, extra string, args ...string) (string, int) {
	t.Helper()
	conf := filepath.Join(t.TempDir(), "ctl.conf")
	text := "[supervisorctl]\nserverurl=" + s.url() + "\n" + extra + "\n"
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return run(t, bins.Supervisorctl, append([]string{"-c", conf}, args...)...)
}

func run(t *testing.T, bin string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return out.String(), 0
	case errors.As(err, &ee):
		return out.String(), ee.ExitCode()
	}
	t.Fatalf("%s %v: %v", bin, args, err)
	return "", -1
}

// serial handshakes with the TLS server and returns the serial number of
// the certificate it presents (0 and the error if the handshake fails).
func (s *setup) serial(cfg *tls.Config) (int64, error) {
	c, err := tls.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", s.port), cfg)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	return c.ConnectionState().PeerCertificates[0].SerialNumber.Int64(), nil
}

func (s *setup) pool(t *testing.T) *x509.CertPool {
	t.Helper()
	p := x509.NewCertPool()
	p.AddCert(s.ca.cert)
	return p
}

func (s *setup) childPid(t *testing.T) int64 {
	t.Helper()
	info, err := s.d.RPC.ProcessInfo("sleeper")
	if err != nil {
		t.Fatal(err)
	}
	switch pid := info["pid"].(type) {
	case int:
		return int64(pid)
	case int64:
		return pid
	}
	t.Fatalf("pid %T %v", info["pid"], info["pid"])
	return 0
}

func TestStatusOverHTTPS(t *testing.T) {
	s := start(t, opts{})
	out, code := s.ctl(t, "ca_file="+s.ca.file, "status")
	if code != 0 || !strings.Contains(out, "sleeper") || !strings.Contains(out, "RUNNING") {
		t.Fatalf("status over https: exit %d\n%s", code, out)
	}
	// -s https://… on the command line, ca_file from the config.
	out, code = s.ctl(t, "serverurl=http://127.0.0.1:1\nca_file="+s.ca.file, "-s", s.url(), "pid")
	if code != 0 || strings.TrimSpace(out) != strconv.Itoa(s.d.Pid()) {
		t.Fatalf("-s https pid: exit %d\n%s", code, out)
	}
	// A plain-HTTP client on the TLS port gets an answer, not a hang.
	out, code = run(t, bins.Supervisorctl, "-s", fmt.Sprintf("http://127.0.0.1:%d", s.port), "status")
	if code == 0 || !strings.Contains(out, "400") {
		t.Fatalf("http:// on the TLS port: exit %d\n%s", code, out)
	}
	// https:// on a plain server is a clear TLS error.
	out, code = run(t, bins.Supervisorctl, "-s", fmt.Sprintf("https://127.0.0.1:%d", s.plainPort), "status")
	if code != 4 || !strings.Contains(out, "TLS error") {
		t.Fatalf("https:// on a plain port: exit %d\n%s", code, out)
	}
}

func TestWrongCARefused(t *testing.T) {
	s := start(t, opts{})
	other := newCA(t, s.dir, "other")
	out, code := s.ctl(t, "ca_file="+other.file, "status")
	want := s.url() + " TLS error: x509: certificate signed by unknown authority"
	if code != 4 || !strings.Contains(out, want) {
		t.Fatalf("wrong CA: exit %d, want 4 and %q\n%s", code, want, out)
	}
	// No ca_file: the system roots do not know our CA either.
	out, code = s.ctl(t, "", "status")
	if code != 4 || !strings.Contains(out, want) {
		t.Fatalf("system roots: exit %d, want 4 and %q\n%s", code, want, out)
	}
	// Same status as a refused connection, for scripts.
	_, refused := run(t, bins.Supervisorctl, "-s", "http://127.0.0.1:1", "status")
	if refused != code {
		t.Fatalf("refused connection exits %d, TLS failure %d", refused, code)
	}
	// A command that is not status: the same line and status.
	out, code = s.ctl(t, "ca_file="+other.file, "stop", "sleeper")
	if code != 4 || !strings.Contains(out, want) {
		t.Fatalf("stop with the wrong CA: exit %d\n%s", code, out)
	}
}

func TestExpiredServerCertRefused(t *testing.T) {
	s := start(t, opts{serverCert: func(s *setup) leaf {
		return s.ca.issue(t, s.dir, "server", 7, time.Now().Add(-48*time.Hour), time.Now().Add(-24*time.Hour))
	}})
	out, code := s.ctl(t, "ca_file="+s.ca.file, "status")
	if code != 4 || !strings.Contains(out, "TLS error: x509: certificate has expired") {
		t.Fatalf("expired certificate: exit %d\n%s", code, out)
	}
}

func TestMutualTLS(t *testing.T) {
	dir := t.TempDir()
	clients := newCA(t, dir, "clients")
	good := clients.valid(t, dir, "alice", 5)
	stranger := newCA(t, dir, "stranger").valid(t, dir, "mallory", 6)
	s := start(t, opts{clientCA: clients.file})

	out, code := s.ctl(t, "ca_file="+s.ca.file, "status")
	if code != 4 || !strings.Contains(out, s.url()+" TLS error: ") || !strings.Contains(out, "certificate required") {
		t.Fatalf("no client certificate: exit %d\n%s", code, out)
	}
	out, code = s.ctl(t, fmt.Sprintf("ca_file=%s\ncertfile=%s\nkeyfile=%s", s.ca.file, stranger.certFile, stranger.keyFile), "status")
	if code != 4 || !strings.Contains(out, "TLS error: ") {
		t.Fatalf("client certificate of another CA: exit %d\n%s", code, out)
	}
	out, code = s.ctl(t, fmt.Sprintf("ca_file=%s\ncertfile=%s\nkeyfile=%s", s.ca.file, good.certFile, good.keyFile), "status")
	if code != 0 || !strings.Contains(out, "RUNNING") {
		t.Fatalf("with a client certificate: exit %d\n%s", code, out)
	}
	// Streams (tail -f's /logtail) use the client certificate too.
	conf := filepath.Join(t.TempDir(), "ctl.conf")
	text := fmt.Sprintf("[supervisorctl]\nserverurl=%s\nca_file=%s\ncertfile=%s\nkeyfile=%s\n", s.url(), s.ca.file, good.certFile, good.keyFile)
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	var stream testutil.SyncBuffer
	tail := exec.Command(bins.Supervisorctl, "-c", conf, "tail", "-f", "talker")
	tail.Stdout, tail.Stderr = &stream, &stream
	if err := tail.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tail.Process.Kill(); _ = tail.Wait() }()
	if err := harness.Poll(10*time.Second, func() bool { return strings.Contains(stream.String(), "hello-tls") }); err != nil {
		t.Fatalf("tail -f over mutual TLS: %v\n%s", err, stream.String())
	}
	// The daemon logs refused handshakes at debug level.
	if err := harness.Poll(5*time.Second, func() bool {
		b, _ := os.ReadFile(filepath.Join(s.dir, "supervisord.log"))
		return strings.Contains(string(b), "DEBG TLS handshake error from 127.0.0.1:")
	}); err != nil {
		t.Fatalf("no handshake error in the main log: %v", err)
	}
}

func TestProtocolVersions(t *testing.T) {
	s := start(t, opts{})
	for _, v := range []uint16{tls.VersionTLS10, tls.VersionTLS11} {
		_, err := s.serial(&tls.Config{RootCAs: s.pool(t), MinVersion: v, MaxVersion: v})
		if err == nil {
			t.Fatalf("TLS version %x accepted", v)
		}
	}
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		if _, err := s.serial(&tls.Config{RootCAs: s.pool(t), MinVersion: v, MaxVersion: v}); err != nil {
			t.Fatalf("TLS version %x refused: %v", v, err)
		}
	}
}

// TestRenewOnSIGHUP: SIGHUP is the original's restart (children stopped
// and started again, servers bound again); the renewed certificate on disk
// is what the TLS server presents afterwards, in the same daemon process.
func TestRenewOnSIGHUP(t *testing.T) {
	s := start(t, opts{})
	cfg := &tls.Config{RootCAs: s.pool(t)}
	if got, err := s.serial(cfg); err != nil || got != 100 {
		t.Fatalf("serial %d, %v; want 100", got, err)
	}
	oldChild := s.childPid(t)
	s.ca.valid(t, s.dir, "server", 101)
	if err := syscall.Kill(s.d.Pid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	var last error
	if err := harness.Poll(20*time.Second, func() bool {
		got, err := s.serial(cfg)
		last = err
		return got == 101
	}); err != nil {
		t.Fatalf("renewed certificate not served after SIGHUP: %v (last: %v)\n%s", err, last, s.d.Output())
	}
	if s.d.Exited() {
		t.Fatal("daemon exited")
	}
	if _, err := s.d.RPC.WaitState("sleeper", "RUNNING", 10*time.Second, func(info map[string]any) bool {
		return fmt.Sprint(info["pid"]) != strconv.FormatInt(oldChild, 10)
	}); err != nil {
		t.Fatal(err)
	}
	if pid, err := s.d.RPC.Value("supervisor.getPID"); err != nil || fmt.Sprint(pid) != strconv.Itoa(s.d.Pid()) {
		t.Fatalf("getPID %v (%v), want the same daemon %d", pid, err, s.d.Pid())
	}
	// As the original, a restart restarts the children.
	if s.childPid(t) == oldChild {
		t.Fatalf("child pid %d unchanged across the restart", oldChild)
	}
	out, code := s.ctl(t, "ca_file="+s.ca.file, "status")
	if code != 0 || !strings.Contains(out, "RUNNING") {
		t.Fatalf("status after renewal: exit %d\n%s", code, out)
	}
}

// TestBrokenCertOnSIGHUP: a certificate file that no longer loads makes the
// SIGHUP's new config invalid: the daemon logs why and keeps running as it
// was — the old certificate served, the children and open connections
// untouched.
func TestBrokenCertOnSIGHUP(t *testing.T) {
	s := start(t, opts{})
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: s.pool(t)}, MaxIdleConnsPerHost: 1}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}
	// get answers GET /readyz and says whether it went over a connection
	// opened before.
	get := func() (string, bool) {
		var reused bool
		ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{
			GotConn: func(i httptrace.GotConnInfo) { reused = i.Reused },
		})
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url()+"/readyz", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatalf("GET /readyz over TLS: %v", err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return fmt.Sprintf("%d %s", resp.StatusCode, b), reused
	}
	before, _ := get()
	oldChild := s.childPid(t)
	if err := os.WriteFile(s.server.certFile, []byte("-----BEGIN CERTIFICATE-----\nbroken\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(s.d.Pid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	log := filepath.Join(s.dir, "supervisord.log")
	if err := harness.Poll(10*time.Second, func() bool {
		b, _ := os.ReadFile(log)
		return strings.Contains(string(b), "ERRO not restarting, the new config has errors") &&
			strings.Contains(string(b), "cannot load certfile "+s.server.certFile)
	}); err != nil {
		b, _ := os.ReadFile(log)
		t.Fatalf("no error logged for the broken certificate: %v\n%s", err, b)
	}
	if got, err := s.serial(&tls.Config{RootCAs: s.pool(t)}); err != nil || got != 100 {
		t.Fatalf("after a broken renewal: serial %d, %v; want the old 100", got, err)
	}
	if after, reused := get(); after != before || !reused {
		t.Fatalf("kept-alive connection: %q before, %q after (reused %v)", before, after, reused)
	}
	if s.d.Exited() || s.childPid(t) != oldChild {
		t.Fatalf("daemon exited (%v) or child restarted (%d → %d)", s.d.Exited(), oldChild, s.childPid(t))
	}
	// A good certificate and another SIGHUP recover.
	s.ca.valid(t, s.dir, "server", 102)
	if err := syscall.Kill(s.d.Pid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	if err := harness.Poll(20*time.Second, func() bool {
		got, _ := s.serial(&tls.Config{RootCAs: s.pool(t)})
		return got == 102
	}); err != nil {
		t.Fatalf("fixed certificate not served: %v", err)
	}
}

// TestPythonCtlOnPlainServers: the original's supervisorctl keeps working
// over the unix socket and the plain inet server of a daemon with TLS.
func TestPythonCtlOnPlainServers(t *testing.T) {
	if harness.NoPython() {
		t.Skip(harness.ErrNoPython)
	}
	if err := harness.CheckPython(); err != nil {
		t.Fatal(err)
	}
	s := start(t, opts{})
	for _, url := range []string{"unix://" + s.sock, fmt.Sprintf("http://127.0.0.1:%d", s.plainPort)} {
		out, code := run(t, harness.PySupervisorctl, "-s", url, "status")
		if code != 0 || !strings.Contains(out, "sleeper") || !strings.Contains(out, "RUNNING") {
			t.Fatalf("python supervisorctl -s %s status: exit %d\n%s", url, code, out)
		}
	}
	// Ours over the same plain servers, unchanged.
	for _, url := range []string{"unix://" + s.sock, fmt.Sprintf("http://127.0.0.1:%d", s.plainPort)} {
		out, code := run(t, bins.Supervisorctl, "-s", url, "status")
		if code != 0 || !strings.Contains(out, "RUNNING") {
			t.Fatalf("our supervisorctl -s %s status: exit %d\n%s", url, code, out)
		}
	}
}
