package version

import "testing"

func TestString(t *testing.T) {
	old := Version
	defer func() { Version = old }()
	for v, want := range map[string]string{
		"v0.2.0":            "gosupervisor 0.2.0 (supervisor 4.2.5 compatible)",
		"v0.2.0-3-gabc1234": "gosupervisor 0.2.0-3-gabc1234 (supervisor 4.2.5 compatible)",
		"dev":               "gosupervisor dev (supervisor 4.2.5 compatible)",
	} {
		Version = v
		if got := String(); got != want {
			t.Errorf("Version %q: String() = %q; want %q", v, got, want)
		}
	}
}
