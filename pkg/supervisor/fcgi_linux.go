package supervisor

import (
	"os"

	"golang.org/x/sys/unix"
)

// listenBacklog re-issues listen(2) with the configured backlog.
func listenBacklog(f *os.File, backlog int) error {
	return unix.Listen(int(f.Fd()), backlog)
}
