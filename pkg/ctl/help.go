package ctl

import (
	"strings"
	"unicode/utf8"
)

// doHelp lists the topics or shows one command's help. The layout (blank
// line, header, ruler, columns fitted to 79 characters, blank line) is the
// one Python's cmd module prints for the original.
func doHelp(c *Controller, arg string) (bool, error) {
	if strings.TrimSpace(arg) == "help" {
		helpHelp(c)
		return false, nil
	}
	if arg != "" {
		cmd, ok := commandTable()[arg]
		if !ok {
			cmd, ok = extraCommands()[arg]
		}
		if !ok || arg == "EOF" || arg == "help" {
			c.output("*** No help on " + arg)
			return false, nil
		}
		cmd.help(c)
		return false, nil
	}
	c.output("")
	header := "default commands (type help <topic>):"
	c.output(header)
	c.output(strings.Repeat("=", len(header)))
	for _, line := range columnize(topicNames(), 79) {
		c.output(line)
	}
	c.output("")
	return false, nil
}

// columnize arranges words in as few rows as fit width, filling columns
// top to bottom, two spaces between columns (Python cmd.Cmd.columnize).
func columnize(words []string, width int) []string {
	if len(words) == 0 {
		return []string{"<empty>"}
	}
	if len(words) == 1 {
		return []string{words[0]}
	}
	size := len(words)
	nrows, ncols := size, 1
	colwidths := []int{0}
	for rows := 1; rows < size; rows++ {
		cols := (size + rows - 1) / rows
		widths := make([]int, 0, cols)
		total := -2
		for col := 0; col < cols; col++ {
			w := 0
			for row := 0; row < rows; row++ {
				i := row + rows*col
				if i >= size {
					break
				}
				w = max(w, utf8.RuneCountInString(words[i]))
			}
			widths = append(widths, w)
			total += w + 2
			if total > width {
				break
			}
		}
		if total <= width {
			nrows, ncols, colwidths = rows, cols, widths
			break
		}
	}
	lines := make([]string, 0, nrows)
	for row := 0; row < nrows; row++ {
		var texts []string
		for col := 0; col < ncols; col++ {
			i := row + nrows*col
			if i < size {
				texts = append(texts, words[i])
			} else {
				texts = append(texts, "")
			}
		}
		for len(texts) > 0 && texts[len(texts)-1] == "" {
			texts = texts[:len(texts)-1]
		}
		for col := range texts {
			texts[col] = padRight(texts[col], colwidths[col])
		}
		lines = append(lines, strings.Join(texts, "  "))
	}
	return lines
}

func helpLines(c *Controller, lines ...string) {
	for _, l := range lines {
		c.output(l)
	}
}

// The help texts below are the original's, byte for byte (tabs, trailing
// spaces and odd wording included): scripts and the upstream tests match
// them, and commands print them after a usage error. Our additions to a
// command (status --json, update --dry-run) are described in the README,
// not here, so that "help <command>" stays the original's.

func helpHelp(c *Controller) {
	helpLines(c, "help\t\tPrint a list of available actions", "help <action>\tPrint help for <action>")
}

// helpEOF is the original Controller's help_EOF. "help EOF" never reaches
// it (the original looks topics up on its plugin, which has no help_EOF,
// and says "*** No help on EOF"); kept for the command table's shape.
func helpEOF(c *Controller) { c.output("To quit, type ^D or use the quit command") }

func helpQuit(c *Controller) { c.output("quit\tExit the supervisor shell.") }

func helpExit(c *Controller) { c.output("exit\tExit the supervisor shell.") }

func helpTail(c *Controller) {
	c.output("tail [-f] <name> [stdout|stderr] (default stdout)\n" +
		"Ex:\n" +
		"tail -f <name>\t\tContinuous tail of named process stdout\n" +
		"\t\t\tCtrl-C to exit.\n" +
		"tail -100 <name>\tlast 100 *bytes* of process stdout\n" +
		"tail <name> stderr\tlast 1600 *bytes* of process stderr")
}

func helpMaintail(c *Controller) {
	c.output("maintail -f \tContinuous tail of supervisor main log file" +
		" (Ctrl-C to exit)\n" +
		"maintail -100\tlast 100 *bytes* of supervisord main log file\n" +
		"maintail\tlast 1600 *bytes* of supervisor main log file\n")
}

func helpStatus(c *Controller) {
	helpLines(c,
		"status <name>\t\tGet status for a single process",
		"status <gname>:*\tGet status for all processes in a group",
		"status <name> <name>\tGet status for multiple named processes",
		"status\t\t\tGet all process status info")
}

func helpPid(c *Controller) {
	helpLines(c,
		"pid\t\t\tGet the PID of supervisord.",
		"pid <name>\t\tGet the PID of a single child process by name.",
		"pid all\t\t\tGet the PID of every child process, one per line.")
}

func helpStart(c *Controller) {
	helpLines(c,
		"start <name>\t\tStart a process",
		"start <gname>:*\t\tStart all processes in a group",
		"start <name> <name>\tStart multiple processes or groups",
		"start all\t\tStart all processes")
}

func helpStop(c *Controller) {
	helpLines(c,
		"stop <name>\t\tStop a process",
		"stop <gname>:*\t\tStop all processes in a group",
		"stop <name> <name>\tStop multiple processes or groups",
		"stop all\t\tStop all processes")
}

func helpSignal(c *Controller) {
	helpLines(c,
		"signal <signal name> <name>\t\tSignal a process",
		"signal <signal name> <gname>:*\t\tSignal all processes in a group",
		"signal <signal name> <name> <name>\tSignal multiple processes or groups",
		"signal <signal name> all\t\tSignal all processes")
}

func helpRestart(c *Controller) {
	helpLines(c,
		"restart <name>\t\tRestart a process",
		"restart <gname>:*\tRestart all processes in a group",
		"restart <name> <name>\tRestart multiple processes or groups",
		"restart all\t\tRestart all processes",
		"Note: restart does not reread config files. For that, see reread and update.")
}

func helpShutdown(c *Controller) { c.output("shutdown \tShut the remote supervisord down.") }

func helpReload(c *Controller) { c.output("reload \t\tRestart the remote supervisord.") }

func helpAvail(c *Controller) { c.output("avail\t\t\tDisplay all configured processes") }

func helpReread(c *Controller) {
	c.output("reread \t\t\tReload the daemon's configuration files without add/remove")
}

func helpAdd(c *Controller) {
	c.output("add <name> [...]\tActivates any updates in config for process/group")
}

func helpRemove(c *Controller) {
	c.output("remove <name> [...]\tRemoves process/group from active config")
}

func helpUpdate(c *Controller) {
	helpLines(c,
		"update\t\t\tReload config and add/remove as necessary, and will restart affected programs",
		"update all\t\tReload config and add/remove as necessary, and will restart affected programs",
		"update <gname> [...]\tUpdate specific groups")
}

func helpClear(c *Controller) {
	helpLines(c,
		"clear <name>\t\tClear a process' log files.",
		"clear <name> <name>\tClear multiple process' log files",
		"clear all\t\tClear all process' log files")
}

func helpOpen(c *Controller) {
	helpLines(c,
		"open <url>\tConnect to a remote supervisord process.",
		"\t\t(for UNIX domain socket, use unix:///socket/path)")
}

func helpVersion(c *Controller) {
	c.output("version\t\t\tShow the version of the remote supervisord process")
}

func helpFg(c *Controller) {
	helpLines(c, "fg <process>\tConnect to a process in foreground mode", "\t\tCtrl-C to exit")
}
