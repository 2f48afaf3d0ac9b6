// Command demo plays the three services of examples/services: a database
// that takes a moment to warm up, an app that needs it, and a worker that
// uses the app. They are stand-ins, so that the example runs anywhere Go
// does; the supervisord.conf beside this file is the point.
//
//	demo db      listen on $DB_ADDR after a warm-up of $WARMUP seconds
//	demo app     serve $APP_ADDR; /health is 200 only while the db answers
//	demo worker  call the app every 2 s; exit 1 after 3 failures in a row,
//	             or at once while the file $CRASH_FILE exists
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"
)

func main() {
	log.SetFlags(0)
	if len(os.Args) != 2 {
		log.Fatal("usage: demo db|app|worker")
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	var err error
	switch os.Args[1] {
	case "db":
		err = db(ctx, env("DB_ADDR", "127.0.0.1:15432"), envInt("WARMUP", 3))
	case "app":
		err = app(ctx, env("APP_ADDR", "127.0.0.1:18080"), env("DB_ADDR", "127.0.0.1:15432"))
	case "worker":
		err = worker(ctx, "http://"+env("APP_ADDR", "127.0.0.1:18080")+"/", os.Getenv("CRASH_FILE"))
	default:
		err = fmt.Errorf("unknown role %q", os.Args[1])
	}
	if err != nil {
		log.Fatalf("%s: %v", os.Args[1], err)
	}
	log.Printf("%s: stopped", os.Args[1])
}

// db accepts connections and answers each with one line.
func db(ctx context.Context, addr string, warmup int) error {
	log.Printf("db: warming up for %d s", warmup)
	select {
	case <-time.After(time.Duration(warmup) * time.Second):
	case <-ctx.Done():
		return nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	context.AfterFunc(ctx, func() { ln.Close() })
	log.Printf("db: accepting connections on %s", addr)
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		io.WriteString(c, "ok\n")
		c.Close()
	}
}

// app's /health reports whether the database answers, which is what the
// healthcheck= of its program asks.
func app(ctx context.Context, addr, dbAddr string) error {
	mux := http.NewServeMux()
	mux.HandleFunc("/health", func(w http.ResponseWriter, r *http.Request) {
		c, err := net.DialTimeout("tcp", dbAddr, time.Second)
		if err != nil {
			http.Error(w, "database: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		c.Close()
		io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello at %s\n", time.Now().Format(time.TimeOnly))
	})
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	context.AfterFunc(ctx, func() { srv.Close() })
	log.Printf("app: serving on %s", addr)
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// worker gives up after three failed calls in a row: supervisord restarts
// it, and as a critical program its going FATAL ends supervisord.
func worker(ctx context.Context, url, crashFile string) error {
	if _, err := os.Stat(crashFile); crashFile != "" && err == nil {
		return fmt.Errorf("%s exists", crashFile)
	}
	client := &http.Client{Timeout: 2 * time.Second}
	failures := 0
	for {
		select {
		case <-time.After(2 * time.Second):
		case <-ctx.Done():
			return nil
		}
		resp, err := client.Get(url)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			log.Printf("worker: %s", body)
			failures = 0
			continue
		}
		failures++
		log.Printf("worker: %v (%d in a row)", err, failures)
		if failures == 3 {
			return errors.New("the app is gone")
		}
	}
}

func env(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

func envInt(key string, def int) int {
	n, err := strconv.Atoi(os.Getenv(key))
	if err != nil {
		return def
	}
	return n
}
