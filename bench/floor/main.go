// Command floor is the launch floor of the scale benchmark (issue 13): the
// least a supervisor must do to start N programs. It forks/execs -n copies
// of the command, each with its stdout and stderr on a pipe whose read end a
// goroutine copies into a log file of its own (as AUTO child logs are), and
// prints "ready N <seconds>" on stdout once every child is started. No
// config, no state machine, no RPC, no main log.
//
// On SIGTERM, SIGINT or EOF on stdin it SIGKILLs and reaps its children and
// exits. The pids of the children are written to -dir/pids as they start,
// so that a runner that had to kill the floor can clean up after it.
//
//	floor -n 1000 -dir /tmp/floor [-j 2] [-- sleep 100000]
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"time"
)

func main() { os.Exit(run(os.Args[1:])) }

type child struct {
	cmd   *exec.Cmd
	files []*os.File // log files, closed at exit
}

func run(args []string) int {
	t0 := time.Now()
	fs := flag.NewFlagSet("floor", flag.ContinueOnError)
	n := fs.Int("n", 1000, "children to start")
	dir := fs.String("dir", "", "directory for the log files and the pid list")
	jobs := fs.Int("j", runtime.NumCPU(), "children started in parallel")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	argv := fs.Args()
	if len(argv) == 0 {
		argv = []string{"sleep", "100000"}
	}
	if *dir == "" || *n < 1 || *jobs < 1 {
		fmt.Fprintln(os.Stderr, "floor: -dir, -n ≥ 1 and -j ≥ 1 are needed")
		return 2
	}
	path, err := exec.LookPath(argv[0]) // once, as a supervisor resolves a command once per spawn at most
	if err != nil {
		fmt.Fprintln(os.Stderr, "floor:", err)
		return 1
	}
	pidf, err := os.Create(filepath.Join(*dir, "pids"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "floor:", err)
		return 1
	}
	defer pidf.Close()

	children := make([]*child, *n)
	var (
		mu      sync.Mutex
		pidw    = bufio.NewWriter(pidf)
		firstEr error
		wg      sync.WaitGroup
		next    = make(chan int)
	)
	for range *jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				c, err := start(path, argv, *dir, i)
				mu.Lock()
				if err != nil && firstEr == nil {
					firstEr = err
				}
				if c != nil {
					children[i] = c
					fmt.Fprintln(pidw, c.cmd.Process.Pid)
				}
				mu.Unlock()
			}
		}()
	}
	for i := range *n {
		next <- i
	}
	close(next)
	wg.Wait()
	pidw.Flush()
	if firstEr != nil {
		fmt.Fprintln(os.Stderr, "floor:", firstEr)
		stop(children)
		return 1
	}
	fmt.Printf("ready %d %.6f\n", *n, time.Since(t0).Seconds())

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	eof := make(chan struct{})
	go func() { _, _ = io.Copy(io.Discard, os.Stdin); close(eof) }()
	select {
	case <-sig:
	case <-eof:
	}
	stop(children)
	return 0
}

// start spawns child i with stdout and stderr on pipes copied into
// dir/fI-stdout.log and dir/fI-stderr.log.
func start(path string, argv []string, dir string, i int) (*child, error) {
	c := &child{cmd: &exec.Cmd{Path: path, Args: argv, Dir: dir}}
	var wends []*os.File
	fail := func(err error) (*child, error) {
		for _, f := range append(c.files, wends...) {
			f.Close()
		}
		return nil, err
	}
	for _, stream := range []string{"stdout", "stderr"} {
		lf, err := os.OpenFile(filepath.Join(dir, fmt.Sprintf("f%d-%s.log", i, stream)), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return fail(err)
		}
		c.files = append(c.files, lf)
		r, w, err := os.Pipe()
		if err != nil {
			return fail(err)
		}
		c.files = append(c.files, r)
		wends = append(wends, w)
	}
	c.cmd.Stdout, c.cmd.Stderr = wends[0], wends[1] // *os.File: handed to the child as is
	if err := c.cmd.Start(); err != nil {
		return fail(fmt.Errorf("start %s: %w", path, err))
	}
	for _, w := range wends {
		w.Close()
	}
	go io.Copy(c.files[0], c.files[1])
	go io.Copy(c.files[2], c.files[3])
	return c, nil
}

// stop SIGKILLs and reaps every started child.
func stop(children []*child) {
	for _, c := range children {
		if c != nil {
			_ = c.cmd.Process.Kill()
		}
	}
	for _, c := range children {
		if c != nil {
			_ = c.cmd.Wait()
			for _, f := range c.files {
				f.Close()
			}
		}
	}
}
