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

func helpHelp(c *Controller) {
	helpLines(c, "help\t\tList the available actions", "help <action>\tShow help for <action>")
}

func helpEOF(c *Controller) { c.output("To leave the shell, type ^D or quit") }

func helpQuit(c *Controller) { c.output("quit\tLeave the supervisor shell.") }

func helpExit(c *Controller) { c.output("exit\tLeave the supervisor shell.") }

func helpTail(c *Controller) {
	c.output("tail [-f] <name> [stdout|stderr] (default stdout)\n" +
		"Ex:\n" +
		"tail -f <name>\t\tFollow the named process's stdout\n" +
		"\t\t\tuntil Ctrl-C.\n" +
		"tail -100 <name>\tlast 100 *bytes* of the process's stdout\n" +
		"tail <name> stderr\tlast 1600 *bytes* of the process's stderr")
}

func helpMaintail(c *Controller) {
	c.output("maintail -f \tFollow supervisord's main log file (Ctrl-C to stop)\n" +
		"maintail -100\tlast 100 *bytes* of supervisord's main log file\n" +
		"maintail\tlast 1600 *bytes* of supervisord's main log file\n")
}

func helpStatus(c *Controller) {
	helpLines(c,
		"status <name>\t\tShow the status of one process",
		"status <gname>:*\tShow the status of every process in a group",
		"status <name> <name>\tShow the status of several processes",
		"status\t\t\tShow the status of every process",
		"status --json [...]\tThe same, as a JSON array of process info structs")
}

func helpPid(c *Controller) {
	helpLines(c,
		"pid\t\t\tShow supervisord's PID.",
		"pid <name>\t\tShow the PID of one child process.",
		"pid all\t\t\tShow the PID of every child process, one per line.")
}

func helpStart(c *Controller) {
	helpLines(c,
		"start <name>\t\tStart a process",
		"start <gname>:*\t\tStart every process in a group",
		"start <name> <name>\tStart several processes or groups",
		"start all\t\tStart every process")
}

func helpStop(c *Controller) {
	helpLines(c,
		"stop <name>\t\tStop a process",
		"stop <gname>:*\t\tStop every process in a group",
		"stop <name> <name>\tStop several processes or groups",
		"stop all\t\tStop every process")
}

func helpSignal(c *Controller) {
	helpLines(c,
		"signal <signal name> <name>\t\tSend a signal to a process",
		"signal <signal name> <gname>:*\t\tSend a signal to every process in a group",
		"signal <signal name> <name> <name>\tSend a signal to several processes or groups",
		"signal <signal name> all\t\tSend a signal to every process")
}

func helpRestart(c *Controller) {
	helpLines(c,
		"restart <name>\t\tRestart a process",
		"restart <gname>:*\tRestart every process in a group",
		"restart <name> <name>\tRestart several processes or groups",
		"restart all\t\tRestart every process",
		"Note: restart does not reread config files; use reread and update for that.")
}

func helpShutdown(c *Controller) { c.output("shutdown \tStop the remote supervisord.") }

func helpReload(c *Controller) { c.output("reload \t\tRestart the remote supervisord.") }

func helpAvail(c *Controller) { c.output("avail\t\t\tList every configured process") }

func helpReread(c *Controller) {
	c.output("reread \t\t\tRead the daemon's config files again, without adding or removing anything")
}

func helpAdd(c *Controller) {
	c.output("add <name> [...]\tActivate the config changes of a process/group")
}

func helpRemove(c *Controller) {
	c.output("remove <name> [...]\tRemove a process/group from the active config")
}

func helpUpdate(c *Controller) {
	helpLines(c,
		"update\t\t\tReread the config, add/remove groups as needed and restart changed ones",
		"update all\t\tThe same as update",
		"update <gname> [...]\tUpdate only the named groups",
		"update --dry-run [...]\tShow what update would add, change and remove, touching nothing")
}

func helpClear(c *Controller) {
	helpLines(c,
		"clear <name>\t\tClear a process's log files.",
		"clear <name> <name>\tClear several processes' log files",
		"clear all\t\tClear every process's log files")
}

func helpOpen(c *Controller) {
	helpLines(c,
		"open <url>\tConnect to another supervisord.",
		"\t\t(unix domain sockets: unix:///socket/path)")
}

func helpVersion(c *Controller) {
	c.output("version\t\t\tShow the remote supervisord's version")
}

func helpFg(c *Controller) {
	helpLines(c, "fg <process>\tAttach to a process in the foreground", "\t\tCtrl-C to leave")
}
