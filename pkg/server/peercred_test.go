package server

import (
	"net"
	"os"
	"path/filepath"
	"testing"
)

type wrappedConn struct {
	net.Conn
	n int
}

// TestReadPeerCredThroughWrappers: the credentials are found under
// listener wrappers that embed the connection or expose it.
func TestReadPeerCredThroughWrappers(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "s")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := net.Dial("unix", sock)
		if err == nil {
			defer c.Close()
			var b [1]byte
			_, _ = c.Read(b[:])
		}
	}()
	c, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, conn := range []net.Conn{c, &wrappedConn{Conn: c}, wrappedConn{Conn: &wrappedConn{Conn: c}}} {
		pc, ok := readPeerCred(conn)
		if !ok || pc.uid != os.Getuid() || pc.pid != os.Getpid() {
			t.Errorf("%T: %+v %v", conn, pc, ok)
		}
	}
	if _, ok := readPeerCred(&wrappedConn{}); ok {
		t.Error("credentials from a wrapper of nothing")
	}
}
