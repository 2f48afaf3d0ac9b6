// Command monitor is the small service of the deployment write-up that
// examples/monitor supervises: an HTTP health endpoint on 127.0.0.1 and a
// heartbeat line on stdout, so that restarts and log rotation are visible.
package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

// version is the deployed version; the Makefile and the deploy test set it
// with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	addr := os.Getenv("MONITOR_ADDR")
	if addr == "" {
		addr = "127.0.0.1:9101"
	}
	mode := os.Getenv("RUN_MODE")
	if mode == "broken" {
		// Lets a user watch supervisord's BACKOFF -> FATAL path: RUN_MODE=broken make run.
		fmt.Fprintln(os.Stderr, "monitor: RUN_MODE=broken, refusing to start")
		os.Exit(1)
	}
	started := time.Now()
	mux := http.NewServeMux()
	mux.HandleFunc("/health", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "ok version=%s mode=%s pid=%d uptime=%s\n",
			version, mode, os.Getpid(), time.Since(started).Truncate(time.Second))
	})
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	go heartbeat(ctx, mode)

	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	fmt.Printf("monitor %s listening on http://%s/health (RUN_MODE=%s)\n", version, addr, mode)
	select {
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintln(os.Stderr, "monitor:", err)
			os.Exit(1)
		}
	case <-ctx.Done():
		fmt.Println("monitor: shutting down")
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdownCtx)
	}
}

func heartbeat(ctx context.Context, mode string) {
	interval := 10 * time.Second
	if d, err := time.ParseDuration(os.Getenv("MONITOR_HEARTBEAT")); err == nil && d > 0 {
		interval = d
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			fmt.Printf("%s heartbeat %s %s\n", now.Format(time.RFC3339), version, strings.ToLower(mode))
		}
	}
}
