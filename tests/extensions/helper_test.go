package extensions_test

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// helperVar, set in a program's environment, makes this test binary a
// helper child instead of running tests:
//
//	http PORT DIR [DELAY]  after DELAY (a Go duration), serve GET /health on
//	                       127.0.0.1:PORT: 200 "ok", or 500 once DIR/fail-<pid>
//	                       exists (each 500 appends a line to DIR/served500-<pid>)
//	tcp PORT [DELAY]       after DELAY, accept and close connections on
//	                       127.0.0.1:PORT
const helperVar = "GSX_HELPER"

func helperMain(args []string) int {
	if len(args) < 2 {
		fmt.Fprintln(os.Stderr, "helper: want MODE PORT …")
		return 2
	}
	mode, port := args[0], args[1]
	delayArg := ""
	switch {
	case mode == "http" && len(args) > 3:
		delayArg = args[3]
	case mode == "tcp" && len(args) > 2:
		delayArg = args[2]
	}
	if delayArg != "" {
		d, err := time.ParseDuration(delayArg)
		if err != nil {
			fmt.Fprintln(os.Stderr, "helper:", err)
			return 2
		}
		time.Sleep(d) // the child's own startup delay, part of the scenario
	}
	l, err := net.Listen("tcp", "127.0.0.1:"+port)
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		return 1
	}
	fmt.Printf("helper %s listening on %s\n", mode, l.Addr())
	switch mode {
	case "http":
		if len(args) < 3 {
			fmt.Fprintln(os.Stderr, "helper: http wants PORT DIR")
			return 2
		}
		dir := args[2]
		pid := strconv.Itoa(os.Getpid())
		fail := filepath.Join(dir, "fail-"+pid)
		served := filepath.Join(dir, "served500-"+pid)
		mux := http.NewServeMux()
		mux.HandleFunc("GET /health", func(w http.ResponseWriter, r *http.Request) {
			if _, err := os.Stat(fail); err == nil {
				f, err := os.OpenFile(served, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
				if err == nil {
					fmt.Fprintln(f, "500")
					f.Close()
				}
				http.Error(w, "failing on purpose", http.StatusInternalServerError)
				return
			}
			fmt.Fprintln(w, "ok")
		})
		err = http.Serve(l, mux)
	case "tcp":
		for {
			c, err := l.Accept()
			if err != nil {
				break
			}
			c.Close()
		}
	default:
		err = fmt.Errorf("unknown mode %q", mode)
	}
	fmt.Fprintln(os.Stderr, "helper:", err)
	return 1
}
