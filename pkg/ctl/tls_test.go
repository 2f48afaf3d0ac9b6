package ctl

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gosupervisor/gosupervisor/pkg/config"
)

func TestHTTPSBadFiles(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope.pem")
	for _, files := range []config.CtlTLS{{CAFile: missing}, {CertFile: missing, KeyFile: missing}} {
		_, err := NewClientTLS("https://127.0.0.1:1", "", "", files)
		var te *TLSError
		if !errors.As(err, &te) || !strings.HasPrefix(err.Error(), "https://127.0.0.1:1 TLS error: ") || !strings.Contains(err.Error(), missing) {
			t.Fatalf("%+v: %v", files, err)
		}
		if line := genericErrorLine(err, "https://127.0.0.1:1"); line != "error: "+err.Error() {
			t.Fatalf("generic line %q", line)
		}
	}
	// The TLS files do not matter for plain URLs.
	c, err := NewClientTLS("http://127.0.0.1:1", "", "", config.CtlTLS{CAFile: missing})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Call(context.Background(), "supervisor.getVersion", nil); asTLSError(err, "") != nil {
		t.Fatalf("plain connection refused reported as TLS: %v", err)
	}
}
