//go:build tools

package tools

import (
	_ "github.com/gorilla/mux"
	_ "github.com/kolo/xmlrpc"
	_ "github.com/peterh/liner"
	_ "github.com/spf13/pflag"
	_ "go.uber.org/goleak"
	_ "go.uber.org/zap"
	_ "golang.org/x/sys/unix"
	_ "gopkg.in/ini.v1"
)
