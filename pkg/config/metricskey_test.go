package config

import "testing"

// metrics_public is a boolean of either kind of server section, like
// probes_public.
func TestMetricsPublic(t *testing.T) {
	c := mustLoad(t, sd+"[inet_http_server]\nport=127.0.0.1:9001\nmetrics_public=true\n[unix_http_server]\nfile=/tmp/x.sock\n")
	if len(c.HTTPServers) != 2 || !c.HTTPServers[0].MetricsPublic || c.HTTPServers[1].MetricsPublic || c.HTTPServers[0].ProbesPublic {
		t.Fatalf("servers: %+v", c.HTTPServers)
	}
	if !c.UsesExtensions() {
		t.Error("UsesExtensions() = false with metrics_public")
	}
	if o := ours(t, c); len(o) != 0 {
		t.Errorf("warnings %q", o)
	}
	if c := mustLoad(t, sd+"[unix_http_server]\nfile=/tmp/x.sock\nmetrics_public=false\n"); c.UsesExtensions() {
		t.Error("UsesExtensions() = true with metrics_public=false")
	}
	_, _, err := loadAt(t, map[string]string{"s.conf": sd + "[unix_http_server]\nfile=/tmp/x.sock\nmetrics_public=sometimes\n"})
	want := "invalid 'metrics_public' value 'sometimes': not a valid boolean value in section 'unix_http_server'"
	if err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
}
