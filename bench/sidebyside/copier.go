package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// copierMain ("sidebyside copy") is the smallest Go log capture: it copies
// its stdin pipe into a file until EOF or -bytes, and prints its own CPU per
// MB. It measures what the Go runtime costs on top of dd's plain loop, for
// docs/BENCHMARKS.md:
//
//	sidebyside writer -bytes 268435456 | sidebyside copy -mode poll -o /tmp/x.log
//
// Modes: poll (reads through the runtime poller, as the daemon's pumps do),
// block (blocking read(2) on the goroutine), splice (splice(2) pipe → file).
func copierMain(args []string) int {
	fs := flag.NewFlagSet("copy", flag.ContinueOnError)
	mode := fs.String("mode", "poll", "poll, block or splice")
	out := fs.String("o", "", "output file (truncated)")
	limit := fs.Int64("bytes", 256<<20, "stop after this many bytes (the writer idles after writing)")
	pipeSize := fs.Int("pipe", 0, "F_SETPIPE_SZ on stdin first (0: leave it)")
	nap := fs.Duration("nap", 0, "poll mode: after a read that drained at least -nap-min bytes, sleep this long before the next read")
	napMin := fs.Int("nap-min", 64<<10, "bytes a drain must have read for -nap to apply")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	f, err := os.OpenFile(*out, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		fmt.Fprintln(os.Stderr, "copy:", err)
		return 1
	}
	defer f.Close()
	if *pipeSize > 0 {
		if _, err := unix.FcntlInt(0, unix.F_SETPIPE_SZ, *pipeSize); err != nil {
			fmt.Fprintln(os.Stderr, "copy: F_SETPIPE_SZ:", err)
			return 1
		}
	}
	napDur, napBytes = *nap, *napMin
	n, err := copyStdin(*mode, f, *limit)
	if err != nil {
		fmt.Fprintln(os.Stderr, "copy:", err)
		return 1
	}
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		fmt.Fprintln(os.Stderr, "copy:", err)
		return 1
	}
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	fmt.Printf("%s: %d bytes, CPU %v, %.3f ms/MB\n", *mode, n, cpu, cpu.Seconds()*1000/(float64(n)/(1<<20)))
	return 0
}

var (
	napDur   time.Duration
	napBytes int
)

func copyStdin(mode string, f *os.File, limit int64) (int64, error) {
	if mode == "block" {
		if err := syscall.SetNonblock(0, false); err != nil {
			return 0, err
		}
		// A plain loop: io.Copy would hand the pipe to splice(2).
		buf := make([]byte, 128<<10)
		var total int64
		for total < limit {
			n, err := syscall.Read(0, buf[:min(int64(len(buf)), limit-total)])
			if err != nil || n <= 0 {
				return total, err
			}
			if _, err := f.Write(buf[:n]); err != nil {
				return total, err
			}
			total += int64(n)
		}
		return total, nil
	}
	if err := syscall.SetNonblock(0, true); err != nil {
		return 0, err
	}
	in := os.NewFile(0, "stdin") // non-blocking: registered with the runtime poller
	rc, err := in.SyscallConn()
	if err != nil {
		return 0, err
	}
	buf := make([]byte, 128<<10)
	var total int64
	drained := 0 // bytes read since the last EAGAIN
	for total < limit {
		var n int
		var opErr error
		err := rc.Read(func(fd uintptr) bool {
			switch mode {
			case "splice":
				var m int64
				m, opErr = unix.Splice(int(fd), nil, int(f.Fd()), nil, int(min(1<<20, limit-total)), unix.SPLICE_F_NONBLOCK)
				n = int(m)
			default:
				n, opErr = unix.Read(int(fd), buf[:min(int64(len(buf)), limit-total)])
			}
			if errors.Is(opErr, unix.EAGAIN) {
				if napDur > 0 && drained >= napBytes {
					drained = 0
					time.Sleep(napDur)
					return false
				}
				drained = 0
				return false
			}
			return true
		})
		if err != nil {
			return total, err
		}
		if opErr != nil {
			return total, opErr
		}
		if n == 0 {
			break
		}
		if mode != "splice" {
			if _, err := f.Write(buf[:n]); err != nil {
				return total, err
			}
		}
		total += int64(n)
		drained += n
	}
	return total, nil
}
