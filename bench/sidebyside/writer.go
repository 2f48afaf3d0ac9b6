package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// writerMain is the chatty child of the log capture scenarios (the bench
// binary re-executed as "writer"): it announces itself, blocks on the gate
// FIFO until the bench opens it, writes -bytes of 64-byte lines to stdout
// through a pipe-sized buffer like stdio would, then idles until SIGTERM so
// that the daemon has nothing else to do.
func writerMain(args []string) int {
	fs := flag.NewFlagSet("writer", flag.ContinueOnError)
	total := fs.Int64("bytes", 1<<20, "bytes to write")
	lineLen := fs.Int("line", 64, "line length including the newline")
	chunk := fs.Int("chunk", 4096, "write(2) size")
	gate := fs.String("gate", "", "FIFO to open before writing")
	ready := fs.String("ready", "", "file to create once started")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM, syscall.SIGINT)
	if *ready != "" {
		if err := os.WriteFile(*ready, nil, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	if *gate != "" {
		g, err := os.Open(*gate) // blocks until the bench opens the write side
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		g.Close()
	}
	line := append(bytes.Repeat([]byte("x"), *lineLen-1), '\n')
	w := bufio.NewWriterSize(os.Stdout, *chunk)
	// Whole lines up to total, the last one being the end mark the bench
	// looks for at the end of the log file.
	for left := *total / int64(len(line)); left > 0; left-- {
		if left == 1 {
			line = endLine(len(line))
		}
		if _, err := w.Write(line); err != nil {
			return 1
		}
	}
	if err := w.Flush(); err != nil {
		return 1
	}
	<-term
	return 0
}

// endLine is the last line a writer writes: n bytes, newline included.
func endLine(n int) []byte {
	return append(append([]byte("END"), bytes.Repeat([]byte("-"), n-4)...), '\n')
}
