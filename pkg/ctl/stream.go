package ctl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"

	"github.com/gosupervisor/gosupervisor/pkg/rpcclient"
)

// streamURL builds the URL and HTTP client for one /logtail or /mainlogtail
// stream. Streams get their own connection: the body never ends.
func (c *Controller) streamClient(path string) (string, *http.Client, error) {
	// No DisableKeepAlives: its "Connection: close" makes the original's
	// server buffer the never-ending body instead of sending chunks.
	tr := &http.Transport{DisableCompression: true}
	base, err := rpcclient.Transport(tr, c.opts.ServerURL, c.opts.TLS)
	if err != nil {
		return "", nil, err
	}
	return base + path, &http.Client{Transport: tr}, nil
}

// stream copies one never-ending log stream to stdout until ctx ends or
// the server closes it. Problems go to stderr as "<url> <message>", the way
// the original's HTTP listener reports them.
func (c *Controller) stream(ctx context.Context, path string) {
	label := c.opts.ServerURL + path
	target, hc, err := c.streamClient(path)
	if err != nil {
		fmt.Fprintf(c.io.Stderr, "%s Cannot connect, error: %s\n", label, err)
		return
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		fmt.Fprintf(c.io.Stderr, "%s Cannot connect, error: %s\n", label, err)
		return
	}
	req.Header.Set("Accept-Encoding", "chunked")
	req.Header.Set("Accept", "*/*")
	req.Header.Set("User-Agent", "Supervisor HTTP Client")
	// The original's streaming client authenticates only when a password is
	// set, and formats a missing user name as Python's None.
	if c.opts.Password != "" {
		user := c.opts.Username
		if user == "" {
			user = "None"
		}
		req.SetBasicAuth(user, c.opts.Password)
	}
	resp, err := hc.Do(req)
	if err != nil {
		if ctx.Err() == nil {
			var errno syscall.Errno
			msg := err.Error()
			if errors.As(err, &errno) {
				msg = fmt.Sprintf("<class '%s'> ([Errno %d] %s)", pyErrnoClass(errno), int(errno), strerror(errno))
			}
			fmt.Fprintf(c.io.Stderr, "%s Cannot connect, error: %s\n", label, msg)
		}
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintf(c.io.Stderr, "%s Cannot read, status code %d\n", label, resp.StatusCode)
		return
	}
	io.Copy(c.out, resp.Body)
}

// interruptContext is cancelled by Ctrl-C (SIGINT) for the duration of a
// streaming command, as KeyboardInterrupt ends it in the original.
func interruptContext(parent context.Context) (context.Context, context.CancelFunc) {
	return signal.NotifyContext(parent, os.Interrupt)
}

// tailFollow implements tail -f and maintail -f.
func (c *Controller) tailFollow(path string) error {
	c.output("==> Press Ctrl-C to exit <==")
	ctx, stop := interruptContext(c.ctx)
	defer stop()
	c.stream(ctx, path)
	if ctx.Err() != nil && c.ctx.Err() == nil {
		c.output("")
	}
	return nil
}

// doFg attaches to a running process: its stdout and stderr are streamed
// while each input line is sent to its stdin.
func doFg(c *Controller, arg string) error {
	if ok, err := c.upcheck(); !ok {
		return err
	}
	names := strings.Fields(arg)
	if len(names) == 0 {
		c.output("ERROR: no process name supplied")
		c.exitStatus = exitGeneric
		helpFg(c)
		return nil
	}
	if len(names) > 1 {
		c.output("ERROR: too many process names supplied")
		c.exitStatus = exitGeneric
		return nil
	}
	name := names[0]
	var info ProcessInfo
	if err := c.call("supervisor.getProcessInfo", &info, name); err != nil {
		f, ok := faultOf(err)
		if !ok {
			return err
		}
		if f.Code == faultBadName {
			c.output("ERROR: bad process name supplied")
			c.exitStatus = exitGeneric
		} else {
			c.output("ERROR: " + f.Error())
		}
		return nil
	}
	if info.State != 20 {
		c.output("ERROR: process not running")
		c.exitStatus = exitGeneric
		return nil
	}
	c.output("==> Press Ctrl-C to exit <==")

	ctx, stop := interruptContext(c.ctx)
	defer stop()
	streamCtx, cancelStreams := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for _, ch := range []string{"stdout", "stderr"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.stream(streamCtx, "/logtail/"+name+"/"+ch)
		}()
	}
	defer func() {
		cancelStreams()
		wg.Wait()
	}()

	type lineOrErr struct {
		line string
		err  error
	}
	lines := make(chan lineOrErr, 1)
	for {
		go func() {
			l, err := c.in.ReadLine("")
			lines <- lineOrErr{l, err}
		}()
		var got lineOrErr
		select {
		case <-ctx.Done():
			c.output("Exiting foreground")
			return nil
		case got = <-lines:
		}
		if got.err != nil {
			c.output("Exiting foreground")
			return nil
		}
		if err := c.call("supervisor.sendProcessStdin", nil, name, got.line+"\n"); err != nil {
			f, ok := faultOf(err)
			if !ok {
				return err
			}
			if f.Code == faultNotRunning {
				c.output("Process got killed")
			} else {
				c.output("ERROR: " + f.Error())
			}
			c.output("Exiting foreground")
			return nil
		}
		if err := c.call("supervisor.getProcessInfo", &info, name); err != nil {
			return err
		}
		if info.State != 20 {
			c.output("Process got killed")
			c.output("Exiting foreground")
			return nil
		}
	}
}
