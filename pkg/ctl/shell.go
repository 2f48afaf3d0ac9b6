package ctl

import (
	"errors"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/peterh/liner"
	"golang.org/x/sys/unix"
)

// isTerminal reports whether f is a terminal.
func isTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// linerReader reads lines with editing, history and completion.
type linerReader struct{ st *liner.State }

func (l *linerReader) ReadLine(prompt string) (string, error) {
	s, err := l.st.Prompt(prompt)
	if err == nil && strings.TrimSpace(s) != "" {
		l.st.AppendHistory(s)
	}
	return s, err
}

func (l *linerReader) ReadPassword(prompt string) (string, error) {
	return l.st.PasswordPrompt(prompt)
}

// shell runs the interactive loop: "status" first, then one command per
// line until quit, exit, EOF or Ctrl-C. On a terminal it uses liner; on a
// pipe it reads plain lines and still prints the prompts, as Python's
// input() does.
func (c *Controller) shell() {
	prompt := c.opts.Prompt + "> "
	if f, ok := c.stdinFile(); ok && isTerminal(f) && isTerminal(os.Stdout) {
		st := liner.NewLiner()
		defer st.Close()
		st.SetCtrlCAborts(true)
		st.SetTabCompletionStyle(liner.TabPrints)
		st.SetWordCompleter(c.completeWord)
		if c.opts.HistoryFile != "" {
			if hf, err := os.Open(c.opts.HistoryFile); err == nil {
				st.ReadHistory(hf)
				hf.Close()
			}
			defer func() {
				if hf, err := os.Create(c.opts.HistoryFile); err == nil {
					st.WriteHistory(hf)
					hf.Close()
				}
			}()
		}
		c.in = &linerReader{st: st}
	}
	if c.onecmd("status") {
		return
	}
	for {
		line, err := c.in.ReadLine(prompt)
		if errors.Is(err, liner.ErrPromptAborted) {
			c.output("") // Ctrl-C leaves the shell like KeyboardInterrupt does
			return
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				c.output("")
				return
			}
			line = "EOF"
		}
		if c.onecmd(line) {
			return
		}
	}
}

// completeWord offers command names for the first word and process or
// group names (fetched once per command) after the commands taking them.
// ':', '*' and '-' belong to words, as in the original's readline setup.
func (c *Controller) completeWord(line string, pos int) (head string, completions []string, tail string) {
	before := line[:pos]
	start := strings.LastIndexAny(before, " \t") + 1
	head, text, tail := before[:start], before[start:], line[pos:]
	words := strings.Fields(before)
	var candidates []string
	switch {
	case strings.TrimSpace(before) == "" || (len(words) == 1 && !strings.HasSuffix(before, " ")):
		candidates = append([]string{"help"}, topicNames()...)
	case words[0] == "help":
		candidates = append([]string{"help"}, topicNames()...)
	case words[0] == "add" || words[0] == "remove" || words[0] == "update":
		candidates = c.completeGroups()
	case contains([]string{"clear", "fg", "pid", "restart", "signal", "start", "status", "stop", "tail"}, words[0]):
		candidates = c.completeProcesses(text)
	}
	for _, cand := range candidates {
		if strings.HasPrefix(cand, text) {
			completions = append(completions, cand+" ")
		}
	}
	return head, completions, tail
}

func (c *Controller) completeInfo() []ProcessInfo {
	if c.complete == nil {
		var infos []ProcessInfo
		if err := c.call("supervisor.getAllProcessInfo", &infos); err != nil {
			return nil
		}
		c.complete = infos
	}
	return c.complete
}

func (c *Controller) completeGroups() []string {
	seen := map[string]bool{}
	var groups []string
	for _, info := range c.completeInfo() {
		if !seen[info.Group] {
			seen[info.Group] = true
			groups = append(groups, info.Group)
		}
	}
	sort.Strings(groups)
	return groups
}

func (c *Controller) completeProcesses(text string) []string {
	seen := map[string]bool{}
	var out []string
	add := func(s string) {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	for _, info := range c.completeInfo() {
		if strings.Contains(text, ":") || info.Name != info.Group {
			add(info.Group + ":" + info.Name)
			add(info.Group + ":*")
		} else {
			add(info.Name)
		}
	}
	return out
}
