package config

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestRemotes(t *testing.T) {
	c := mustLoad(t, sd+"[remote:web2]\nserverurl=https://10.0.0.2:9001\nusername=u\npassword=p\nca_file=%(here)s/ca.pem\n"+
		"[remote:db1]\nserverurl=unix://~/db.sock\n")
	if len(c.Remotes) != 2 {
		t.Fatalf("Remotes = %+v", c.Remotes)
	}
	db, web := c.Remotes[0], c.Remotes[1]
	if db.Name != "db1" || !strings.HasPrefix(db.Serverurl, "unix:///") || !strings.HasSuffix(db.Serverurl, "/db.sock") {
		t.Errorf("db1 = %+v", db)
	}
	if web.Name != "web2" || web.Serverurl != "https://10.0.0.2:9001" || web.Username != "u" || web.Password != "p" ||
		filepath.Base(web.CAFile) != "ca.pem" || !filepath.IsAbs(web.CAFile) {
		t.Errorf("web2 = %+v", web)
	}
	for _, m := range c.Messages {
		if strings.Contains(m.Text, "remote") {
			t.Errorf("message about a remote: %s", m.Text)
		}
	}
}

func TestRemoteErrors(t *testing.T) {
	for conf, want := range map[string]string{
		"[remote:a]\nusername=u\n":                      "section [remote:a] has no serverurl",
		"[remote:a]\nserverurl=ftp://x\n":               `serverurl "ftp://x" is not http://, https:// or unix://`,
		"[remote:a b]\nserverurl=http://x\n":            "a remote's name must be non-empty",
		"[remote:a]\nserverurl=https://x\ncertfile=c\n": "needs both certfile and keyfile",
	} {
		_, err := load(t, sd+conf, nil)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: err = %v, want %q", conf, err, want)
		}
	}
	c := mustLoad(t, sd+"[remote:a]\nserverurl=http://x\nport=1\n")
	if !hasMessage(c.Messages, "Ignored unknown key 'port' in section [remote:a]") {
		t.Errorf("no warning for an unknown key: %+v", c.Messages)
	}
}

func hasMessage(ms []Message, text string) bool {
	for _, m := range ms {
		if m.Text == text {
			return true
		}
	}
	return false
}

func TestLoadRemotesWithoutSupervisord(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"fleet.conf":   "[include]\nfiles=nodes/*.conf\n[remote:a]\nserverurl=http://127.0.0.1:1\n",
		"nodes/b.conf": "[remote:b]\nserverurl=http://127.0.0.1:2\n",
	})
	rs, err := LoadRemotes(filepath.Join(dir, "fleet.conf"), Options{Env: testEnv(dir)})
	if err != nil {
		t.Fatal(err)
	}
	want := []Remote{{Name: "a", Serverurl: "http://127.0.0.1:1"}, {Name: "b", Serverurl: "http://127.0.0.1:2"}}
	if !reflect.DeepEqual(rs, want) {
		t.Errorf("LoadRemotes = %+v, want %+v", rs, want)
	}
}
