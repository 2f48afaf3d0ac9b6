package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const sd = "[supervisord]\nlogfile=%(here)s/s.log\n"

// errorCases are invalid configs: the original's message must match ours.
var errorCases = []struct{ name, conf string }{
	{"garbage", sd + "[program:a]\ncommand=x\ngarbage line\nmore garbage\n"},
	{"noheader", "key=value\n" + sd},
	{"nosupervisord", "[program:a]\ncommand=x\n"},
	{"bool", sd + "[program:a]\ncommand=x\nautostart=maybe\n"},
	{"int", sd + "[program:a]\ncommand=x\nstartsecs=abc\n"},
	{"intspace", sd + "[program:a]\ncommand=x\nstartretries=1 2\n"},
	{"bytesize", sd + "[program:a]\ncommand=x\nstdout_logfile_maxbytes=10XB\n"},
	{"bytesizefloat", sd + "[program:a]\ncommand=x\nstderr_capture_maxbytes=1.5MB\n"},
	{"octal", sd + "[program:a]\ncommand=x\numask=999\n"},
	{"signame", sd + "[program:a]\ncommand=x\nstopsignal=FOO\n"},
	{"signum", sd + "[program:a]\ncommand=x\nstopsignal=99\n"},
	{"exitcodes", sd + "[program:a]\ncommand=x\nexitcodes=0,256\n"},
	{"autorestart", sd + "[program:a]\ncommand=x\nautorestart=Sometimes\n"},
	{"loglevel", "[supervisord]\nloglevel=warning\n"},
	{"name", sd + "[program:a b]\ncommand=x\n"},
	{"processname", sd + "[program:a]\ncommand=x\nprocess_name=a:b\n"},
	{"numprocs", sd + "[program:a]\ncommand=x\nnumprocs=2\n"},
	{"killasgroup", sd + "[program:a]\ncommand=x\nstopasgroup=true\nkillasgroup=false\n"},
	{"nocommand", sd + "[program:a]\nautostart=true\n"},
	{"user", sd + "[program:a]\ncommand=x\nuser=nosuchuser_xyz\n"},
	{"uid", sd + "[program:a]\ncommand=x\nuser=987654\n"},
	{"supervisorduser", "[supervisord]\nuser=nosuchuser_xyz\n"},
	{"unknownname", sd + "[program:a]\ncommand=%(foo)s\n"},
	{"badformat", sd + "[program:a]\ncommand=100%\n"},
	{"badformatchar", sd + "[program:a]\ncommand=%(program_name)y\n"},
	{"badformatkey", sd + "[program:a]\ncommand=%(program_name\n"},
	{"formatint", sd + "[program:a]\ncommand=%(program_name)d\n"},
	{"prioprogramname", sd + "[program:a]\ncommand=x\npriority=%(program_name)s\n"},
	{"groupunknown", sd + "[group:g]\nprograms=a,nope\n[program:a]\ncommand=x\n"},
	{"groupambiguous", sd + "[group:g]\nprograms=a\n[program:a]\ncommand=x\n[fcgi-program:a]\ncommand=x\nsocket=tcp://h:1\n"},
	{"noevents", sd + "[eventlistener:e]\ncommand=x\n"},
	{"unknownevent", sd + "[eventlistener:e]\ncommand=x\nevents=FOO\n"},
	{"buffersize", sd + "[eventlistener:e]\ncommand=x\nevents=TICK_5\nbuffer_size=0\n"},
	{"elredirect", sd + "[eventlistener:e]\ncommand=x\nevents=TICK_5\nredirect_stderr=true\n"},
	{"resulthandler", sd + "[eventlistener:e]\ncommand=x\nevents=TICK_5\nresult_handler=no.such:thing\n"},
	{"fcginosocket", sd + "[fcgi-program:f]\ncommand=x\n"},
	{"fcgirelative", sd + "[fcgi-program:f]\ncommand=x\nsocket=unix://rel.sock\n"},
	{"fcgibadformat", sd + "[fcgi-program:f]\ncommand=x\nsocket=udp://x\n"},
	{"fcgibacklog", sd + "[fcgi-program:f]\ncommand=x\nsocket=tcp://h:1\nsocket_backlog=0\n"},
	{"fcgiownertcp", sd + "[fcgi-program:f]\ncommand=x\nsocket=tcp://h:1\nsocket_mode=0600\n"},
	{"fcgiport", sd + "[fcgi-program:f]\ncommand=x\nsocket=tcp://h:70000\n"},
	{"unixnofile", sd + "[unix_http_server]\nchmod=0700\n"},
	{"unixchmod", sd + "[unix_http_server]\nfile=/tmp/x.sock\nchmod=abc\n"},
	{"unixchown", sd + "[unix_http_server]\nfile=/tmp/x.sock\nchown=nosuchuser_xyz\n"},
	{"inetnoport", sd + "[inet_http_server]\nusername=u\npassword=p\n"},
	{"inetport", sd + "[inet_http_server]\nport=abc\n"},
	{"inetport2", sd + "[inet_http_server]\nport=host:\n"},
	{"inetport3", sd + "[inet_http_server]\nport=:0\n"},
	{"inetport4", sd + "[inet_http_server]\nport=127.0.0.1:abc\n"},
	{"incompleteauth", sd + "[inet_http_server]\nport=9001\nusername=u\n"},
	{"includenofiles", sd + "[include]\n"},
	{"rpcnofactory", sd + "[rpcinterface:x]\nfoo=bar\n"},
	{"rpcunresolved", sd + "[rpcinterface:x]\nsupervisor.rpcinterface_factory=no.such:thing\n"},
	{"logfiledir", "[supervisord]\nlogfile=/nonexistent/dir/x.log\n"},
	{"childlogdir", sd + "childlogdir=/nonexistent/dir\n"},
	{"directory", sd + "directory=/nonexistent/dir\n"},
	{"programlogdir", sd + "[program:a]\ncommand=x\nstdout_logfile=/nonexistent/dir/x.log\n"},
	{"envpairs", sd + "[program:a]\ncommand=x\nenvironment=A=b=c\n"},
	{"envquote", sd + "[program:a]\ncommand=x\nenvironment=A=\"x\n"},
	{"logfilepercent", sd + "[program:a]\ncommand=x\nstdout_logfile=%(here)s/a%%.log\n"},
	{"envhostname", sd + "environment=H=%(host_node_name)s\n"},
	{"envpercent", sd + "environment=P=100%%\n"},
	{"envsupervisordpairs", sd + "environment=A\n"},
	{"includebad", sd + "[include]\nfiles=bad.ini\n"},
	{"minfds", "[supervisord]\nminfds=lots\n"},
	{"umaskstring", "[supervisord]\numask=0o8\n"},
	{"dictrepr", sd + "[program:a]\ncommand=x %s %s\n"},
	{"processnum", sd + "[program:a]\ncommand=x\ndirectory=%(process_num)s\nenvironment=K=%(nope)s\n"},
	{"grouppriority", sd + "[group:g]\npriority=x\n"},
	{"groupname", sd + "[group:a/b]\n"},
	// Numbers beyond 64 bits where the original has a message of its own
	// (issue 18, defect 7); those it accepts are in TestIntegerRange.
	{"bigsignal", sd + "[program:a]\ncommand=x\nstopsignal=99999999999999999999\n"},
	{"biguid", sd + "[program:a]\ncommand=x\nuser=99999999999999999999\n"},
	{"bignegativeuid", sd + "[program:a]\ncommand=x\nuser=-99999999999999999999\n"},
	{"bignumprocs", sd + "[program:a]\ncommand=x\nnumprocs=99999999999999999999\n"},
	{"bigexitcodes", sd + "[program:a]\ncommand=x\nexitcodes=0,99999999999999999999\n"},
	{"bigbuffersize", sd + "[eventlistener:e]\ncommand=x\nevents=TICK_5\nbuffer_size=-99999999999999999999\n"},
	{"bigfcgiport", sd + "[fcgi-program:f]\ncommand=x\nsocket=tcp://h:99999999999999999999\n"},
	{"bigfcgibacklog", sd + "[fcgi-program:f]\ncommand=x\nsocket=tcp://h:1\nsocket_backlog=+0_99999999999999999999\n"},
	{"biginetport", sd + "[inet_http_server]\nport=99999999999999999999\n"},
	{"biginetport2", sd + "[inet_http_server]\nport=127.0.0.1:99999999999999999999\n"},
	{"biginetport3", sd + "[inet_http_server]\nport=127.0.0.1:-99999999999999999999\n"},
}

func TestErrorsMatchPython(t *testing.T) {
	dir := t.TempDir()
	env := testEnv(dir)
	host, _ := os.Hostname()
	var paths []string
	for _, tc := range errorCases {
		d := filepath.Join(dir, tc.name)
		files := map[string]string{"s.conf": tc.conf, "bad.ini": "[program:x]\ncommand=x\n  \nnot a key\n"}
		writeTree(t, d, files)
		paths = append(paths, filepath.Join(d, "s.conf"))
	}
	results := pyLoad(t, paths, env)
	for i, tc := range errorCases {
		t.Run(tc.name, func(t *testing.T) {
			want, ok := results[i]["error"].(string)
			if !ok {
				t.Fatalf("the original accepts this config")
			}
			_, err := Load(paths[i], Options{Env: env, Hostname: host})
			if err == nil {
				t.Fatalf("Load succeeded, want error %q", want)
			}
			if _, ok := err.(*Error); !ok {
				t.Errorf("error type %T, want *config.Error", err)
			}
			if err.Error() != want {
				t.Errorf("error mismatch\n got: %s\nwant: %s", err, want)
			}
		})
	}
}

// TestPercentFormatMatchesPython compares the %-formatter on its own.
func TestAcceptedMatchesPython(t *testing.T) {
	// Configs that the original accepts in surprising ways.
	cases := []string{
		sd + "[program:a]\ncommand=x %s\n", // bare %s formats the whole mapping
		sd + "[program:a]\ncommand=%(program_name)5s|%(program_name)-5s|%(process_num)+d|%(numprocs)x\n",
		sd + "[program:a]\ncommand=%(process_num)#o %(numprocs).3d %(here).4s %(process_num)c%%\n",
		sd + "[program:a]\ncommand=%(numprocs)05.1f %(numprocs)e %(program_name)r\n",
	}
	dir := t.TempDir()
	env := testEnv(dir)
	var paths []string
	for i, c := range cases {
		p := filepath.Join(dir, strings.Repeat("x", i+1)+".conf")
		writeTree(t, dir, map[string]string{filepath.Base(p): c})
		paths = append(paths, p)
	}
	host, _ := os.Hostname()
	results := pyLoad(t, paths, env)
	for i := range cases {
		if e, ok := results[i]["error"]; ok {
			t.Errorf("case %d: original rejects: %v", i, e)
			continue
		}
		want := results[i]["configinfo"].([]any)[0].(map[string]any)["command"]
		c, err := Load(paths[i], Options{Env: env, Hostname: host})
		if err != nil {
			t.Errorf("case %d: %v", i, err)
			continue
		}
		if got := c.Groups[0].Processes[0].Command; got != want {
			t.Errorf("case %d: command\n got %q\nwant %q", i, got, want)
		}
	}
}
