package ctl

import (
	"fmt"

	"github.com/gosupervisor/gosupervisor/pkg/config"
	"github.com/gosupervisor/gosupervisor/pkg/rpcclient"
)

// The client is pkg/rpcclient's; the names stay here for the commands.
type (
	Client        = rpcclient.Client
	Fault         = rpcclient.Fault
	ProtocolError = rpcclient.ProtocolError
	TLSError      = rpcclient.TLSError
	badURLError   = rpcclient.BadURLError
)

// pyProtocolRepr mimics xmlrpc.client.ProtocolError's repr. The original
// always builds its proxy on "http://127.0.0.1" whatever the real server
// URL is.
func pyProtocolRepr(e *ProtocolError) string {
	return fmt.Sprintf("<ProtocolError for 127.0.0.1/RPC2: %d %s>", e.Status, e.Reason)
}

// NewClient prepares a client for serverURL (http://host:port,
// https://host:port or unix:///path). No connection is made until the
// first call.
func NewClient(serverURL, username, password string) (*Client, error) {
	return rpcclient.New(serverURL, username, password, config.CtlTLS{})
}

// NewClientTLS is NewClient with the TLS files for an https:// URL
// ([supervisorctl] ca_file, certfile, keyfile).
func NewClientTLS(serverURL, username, password string, files config.CtlTLS) (*Client, error) {
	return rpcclient.New(serverURL, username, password, files)
}

func asTLSError(err error, serverURL string) *TLSError { return rpcclient.AsTLSError(err, serverURL) }

// ProcessInfo is getProcessInfo's struct (SPEC §5.4); the JSON names are
// the XML-RPC member names, for `status --json`.
type ProcessInfo struct {
	Name          string `xmlrpc:"name" json:"name"`
	Group         string `xmlrpc:"group" json:"group"`
	Start         int64  `xmlrpc:"start" json:"start"`
	Stop          int64  `xmlrpc:"stop" json:"stop"`
	Now           int64  `xmlrpc:"now" json:"now"`
	State         int64  `xmlrpc:"state" json:"state"`
	Statename     string `xmlrpc:"statename" json:"statename"`
	Spawnerr      string `xmlrpc:"spawnerr" json:"spawnerr"`
	Exitstatus    int64  `xmlrpc:"exitstatus" json:"exitstatus"`
	Logfile       string `xmlrpc:"logfile" json:"logfile"`
	StdoutLogfile string `xmlrpc:"stdout_logfile" json:"stdout_logfile"`
	StderrLogfile string `xmlrpc:"stderr_logfile" json:"stderr_logfile"`
	Pid           int64  `xmlrpc:"pid" json:"pid"`
	Description   string `xmlrpc:"description" json:"description"`
}

// Result is one entry of a group/all operation's answer.
type Result struct {
	Name        string `xmlrpc:"name"`
	Group       string `xmlrpc:"group"`
	Status      int    `xmlrpc:"status"`
	Description string `xmlrpc:"description"`
}

// ConfigInfo holds the getAllConfigInfo members that avail prints.
type ConfigInfo struct {
	Name        string `xmlrpc:"name"`
	Group       string `xmlrpc:"group"`
	Inuse       bool   `xmlrpc:"inuse"`
	Autostart   bool   `xmlrpc:"autostart"`
	GroupPrio   int64  `xmlrpc:"group_prio"`
	ProcessPrio int64  `xmlrpc:"process_prio"`
}
