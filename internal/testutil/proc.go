package testutil

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// WaitUntil polls cond every 20 ms until it holds or timeout passes.
func WaitUntil(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// ProcStat is pid's state letter, parent pid and process group from
// /proc/<pid>/stat; state is "" if the process is gone.
func ProcStat(pid int) (state string, ppid, pgrp int) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return "", 0, 0
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')') // the command name may hold spaces
	if i < 0 {
		return "", 0, 0
	}
	f := strings.Fields(s[i+1:]) // state ppid pgrp …
	if len(f) < 3 {
		return "", 0, 0
	}
	ppid, _ = strconv.Atoi(f[1])
	pgrp, _ = strconv.Atoi(f[2])
	return f[0], ppid, pgrp
}

// Alive reports whether pid exists and is not a zombie.
func Alive(pid int) bool {
	st, _, _ := ProcStat(pid)
	return st != "" && st != "Z" && st != "X"
}
