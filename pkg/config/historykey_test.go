package config

import (
	"strings"
	"testing"
)

// history is a boolean of [supervisord]; it counts as one of our keys
// only when true.
func TestHistoryKey(t *testing.T) {
	c := mustLoad(t, "[supervisord]\nhistory=true\n")
	if !c.Supervisord.History || !c.UsesExtensions() {
		t.Fatalf("History %v, UsesExtensions %v", c.Supervisord.History, c.UsesExtensions())
	}
	if o := ours(t, c); len(o) != 0 {
		t.Errorf("warnings %q", o)
	}
	var b strings.Builder
	if err := c.Describe(&b); err != nil || !strings.Contains(b.String(), "supervisord history: true\n") {
		t.Errorf("Describe: %v\n%s", err, b.String())
	}
	if c := mustLoad(t, "[supervisord]\nhistory=false\n"); c.Supervisord.History || c.UsesExtensions() {
		t.Error("history=false counts")
	}
	_, _, err := loadAt(t, map[string]string{"s.conf": "[supervisord]\nhistory=always\n"})
	if err == nil || !strings.HasPrefix(err.Error(), "invalid 'history' value 'always': not a valid boolean value in section 'supervisord' (file: ") {
		t.Errorf("got %v", err)
	}
}
