package rpcclient

import (
	"errors"
	"testing"

	"github.com/gosupervisor/gosupervisor/pkg/config"
)

func TestHTTPSEndpoint(t *testing.T) {
	for url, want := range map[string]string{
		"https://127.0.0.1:9443":           "https://127.0.0.1:9443/RPC2",
		"https://example.net":              "https://example.net:443/RPC2",
		"https://u@[::1]/x":                "https://[::1]:443/RPC2",
		"http://127.0.0.1":                 "http://127.0.0.1:80/RPC2",
		"unix:///run/supervisor.sock":      "http://localhost/RPC2",
		"https://127.0.0.1:9443/ignored?x": "https://127.0.0.1:9443/RPC2",
	} {
		c, err := New(url, "", "", config.CtlTLS{})
		if err != nil {
			t.Fatalf("%s: %v", url, err)
		}
		if c.Endpoint() != want {
			t.Errorf("%s: endpoint %s, want %s", url, c.Endpoint(), want)
		}
	}
	var bu *BadURLError
	if _, err := New("ftp://x", "", "", config.CtlTLS{}); !errors.As(err, &bu) {
		t.Fatalf("ftp://: %v", err)
	}
}
