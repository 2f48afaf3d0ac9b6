// Package ctl is supervisorctl: global options, an XML-RPC client, and one
// command table shared by argv mode and the interactive shell. Output lines
// and exit codes follow the original supervisorctl 4.2.5 byte for byte.
package ctl

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"syscall"

	"github.com/gosupervisor/gosupervisor/pkg/fault"
	"github.com/gosupervisor/gosupervisor/pkg/version"
)

// Exit statuses (LSB init script conventions, as the original uses them).
const (
	exitSuccess       = 0
	exitGeneric       = 1
	exitInvalidArgs   = 2
	exitUnimplemented = 3
	exitPrivileges    = 4
	exitNotInstalled  = 5
	exitNotRunning    = 7

	statusNotRunning = 3
	statusUnknown    = 4
)

// Fault codes the client interprets (the original's, from pkg/fault; the
// results it compares them with carry plain ints).
const (
	faultUnknownMethod       = int(fault.UnknownMethod)
	faultShutdownState       = int(fault.ShutdownState)
	faultBadName             = int(fault.BadName)
	faultBadSignal           = int(fault.BadSignal)
	faultNoFile              = int(fault.NoFile)
	faultNotExecutable       = int(fault.NotExecutable)
	faultFailed              = int(fault.Failed)
	faultAbnormalTermination = int(fault.AbnormalTermination)
	faultSpawnError          = int(fault.SpawnError)
	faultAlreadyStarted      = int(fault.AlreadyStarted)
	faultNotRunning          = int(fault.NotRunning)
	faultSuccess             = int(fault.Success)
	faultAlreadyAdded        = int(fault.AlreadyAdded)
	faultStillRunning        = int(fault.StillRunning)
	faultCantReread          = int(fault.CantReread)
)

// apiVersion is what supervisorctl requires the server's getVersion to say.
const apiVersion = version.APIVersion

// IO is where the controller reads and writes.
type IO struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
}

// Controller runs commands against one server; it carries the exit status
// of the last failing command like the original's Controller.
type Controller struct {
	opts       *Options
	io         IO
	out        *lockedWriter
	in         lineReader // for confirmations, credentials and fg input
	client     *Client
	clientKey  string
	exitStatus int
	complete   []ProcessInfo // cached for tab completion until the next command
	ctx        context.Context
}

// lockedWriter serialises writes from fg's two stream readers and the
// command loop.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// lineReader reads one line after showing a prompt; io.EOF at end of input.
type lineReader interface {
	ReadLine(prompt string) (string, error)
}

// plainReader is the non-terminal reader: like Python's input() on a pipe it
// writes the prompt to stdout and reads up to a newline.
type plainReader struct {
	r   *bufio.Reader
	out io.Writer
}

func (p *plainReader) ReadLine(prompt string) (string, error) {
	if prompt != "" {
		io.WriteString(p.out, prompt)
	}
	line, err := p.r.ReadString('\n')
	if err != nil && (line == "" || !errors.Is(err, io.EOF)) {
		return "", err
	}
	return strings.TrimSuffix(line, "\n"), nil
}

// Main runs supervisorctl with argv (argv[0] is the program name) and
// returns the exit status.
func Main(argv []string, cfg ConfigSource, stdio IO) int {
	progname := "supervisorctl"
	if len(argv) > 0 {
		progname = argv[0]
		argv = argv[1:]
	}
	opts, err := parseOptions(progname, argv, cfg)
	if err != nil {
		var ex *exitRequest
		if errors.As(err, &ex) {
			if ex.code == 0 {
				io.WriteString(stdio.Stdout, ex.text)
			} else {
				io.WriteString(stdio.Stderr, ex.text)
			}
			return ex.code
		}
		fmt.Fprintf(stdio.Stderr, "Error: %v\n", err)
		return exitInvalidArgs
	}
	c := newController(opts, stdio)
	defer c.close()
	if len(opts.Args) > 0 {
		c.onecmd(strings.Join(opts.Args, " "))
		return c.exitStatus
	}
	c.shell()
	return exitSuccess // the shell always exits 0, like the original's
}

func newController(opts *Options, stdio IO) *Controller {
	c := &Controller{opts: opts, io: stdio, out: &lockedWriter{w: stdio.Stdout}, ctx: context.Background()}
	c.in = &plainReader{r: bufio.NewReader(stdio.Stdin), out: c.out}
	return c
}

func (c *Controller) close() {
	if c.client != nil {
		c.client.Close()
	}
}

// output prints one line.
func (c *Controller) output(s string) {
	io.WriteString(c.out, s+"\n")
}

// rpc returns the client for the current server URL and credentials.
func (c *Controller) rpc() (*Client, error) {
	key := c.opts.ServerURL + "\x00" + c.opts.Username + "\x00" + c.opts.Password
	if c.client != nil && c.clientKey == key {
		return c.client, nil
	}
	if c.client != nil {
		c.client.Close()
		c.client = nil
	}
	cl, err := NewClientTLS(c.opts.ServerURL, c.opts.Username, c.opts.Password, c.opts.TLS)
	if err != nil {
		return nil, err
	}
	c.client, c.clientKey = cl, key
	return cl, nil
}

// call is a shortcut for one XML-RPC call.
func (c *Controller) call(method string, result any, args ...any) error {
	cl, err := c.rpc()
	if err != nil {
		return err
	}
	return cl.Call(c.ctx, method, result, args...)
}

// setExitFromFault applies the original's result-code mapping (SPEC §7.1).
func (c *Controller) setExitFromFault(code, ignored int) {
	switch {
	case code == ignored || code == faultSuccess:
	case code == faultSpawnError || code == faultAbnormalTermination || code == faultNotRunning:
		c.exitStatus = exitNotRunning
	default:
		c.exitStatus = exitGeneric
	}
}

// upcheck verifies the server speaks our API. It returns (false, nil) after
// printing a known problem, or an error for the generic handler.
func (c *Controller) upcheck() (bool, error) {
	var api string
	err := c.call("supervisor.getVersion", &api)
	var f *Fault
	switch {
	case err == nil:
		if api != apiVersion {
			c.output(fmt.Sprintf("Sorry, this version of supervisorctl expects to talk to a server "+
				"with API version %s, but the remote version is %s.", apiVersion, api))
			c.exitStatus = exitNotInstalled
			return false, nil
		}
		return true, nil
	case errors.As(err, &f):
		if f.Code == faultUnknownMethod {
			c.output("Sorry, supervisord responded but did not recognize the supervisor namespace " +
				"commands that supervisorctl uses to control it.  Please check that the " +
				"[rpcinterface:supervisor] section is enabled in the configuration file (see sample.conf).")
			c.exitStatus = exitUnimplemented
			return false, nil
		}
	case isErrno(err, syscall.ECONNREFUSED):
		c.output(c.opts.ServerURL + " refused connection")
		c.exitStatus = exitPrivileges
		return false, nil
	case asTLSError(err, c.opts.ServerURL) != nil:
		// Ours (https://): reported and counted as a refused connection.
		c.output(asTLSError(err, c.opts.ServerURL).Error())
		c.exitStatus = exitPrivileges
		return false, nil
	case isErrno(err, syscall.ENOENT):
		c.output(c.opts.ServerURL + " no such file")
		c.exitStatus = exitNotRunning
		return false, nil
	}
	c.exitStatus = exitGeneric
	return false, err
}

// parseLine splits a line like Python's cmd.Cmd.parseline: the command is
// the leading run of identifier characters, "?" means help.
func parseLine(line string) (cmd, arg, full string) {
	line = strings.TrimSpace(line)
	if line == "" {
		return "", "", ""
	}
	if line[0] == '?' {
		line = "help " + line[1:]
	}
	i := 0
	for i < len(line) && isIdentChar(line[i]) {
		i++
	}
	return line[:i], strings.TrimSpace(line[i:]), line
}

func isIdentChar(b byte) bool {
	return b == '_' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9'
}

// onecmd runs one command line; it reports whether the shell should stop.
func (c *Controller) onecmd(line string) bool {
	name, arg, full := parseLine(line)
	if full == "" {
		return false
	}
	c.complete = nil
	cmd, ok := c.lookup(name)
	if !ok || name == "" {
		c.output("*** Unknown syntax: " + full)
		c.exitStatus = exitGeneric
		return false
	}
	stop, err := cmd.run(c, arg)
	if err == nil {
		return stop
	}
	var pe *ProtocolError
	if errors.As(err, &pe) && pe.Status == 401 {
		c.output("Server requires authentication")
		if c.opts.Interactive {
			user, _ := c.in.ReadLine("Username:")
			pass, _ := c.readPassword("Password:")
			c.output("")
			c.opts.Username, c.opts.Password = user, pass
			return c.onecmd(full)
		}
		c.exitStatus = exitGeneric
		// The original runs the command a second time here; when that
		// fails as well it prints the generic error line.
		stop, err = cmd.run(c, arg)
		if err == nil {
			return stop
		}
	}
	c.output(genericErrorLine(err, c.opts.ServerURL))
	c.exitStatus = exitGeneric
	return false
}

// readPassword prompts for a password, without echo on a terminal.
func (c *Controller) readPassword(prompt string) (string, error) {
	if pr, ok := c.in.(interface {
		ReadPassword(string) (string, error)
	}); ok {
		return pr.ReadPassword(prompt)
	}
	return c.in.ReadLine(prompt)
}

// stdinFile returns stdin as a file when it is one (for terminal checks).
func (c *Controller) stdinFile() (*os.File, bool) {
	f, ok := c.io.Stdin.(*os.File)
	return f, ok
}
