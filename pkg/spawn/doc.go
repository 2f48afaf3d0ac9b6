// Package spawn starts and reaps the supervised children on Linux.
//
// A child is started in its own process group in one of two ways:
//
//   - directly (fork/exec by the Go runtime, which applies credentials and
//     then the directory, in the original's order) when no umask is needed
//     and the daemon ignores IgnoredSignals, so the child inherits them
//     ignored as under Python; about 1 ms per spawn;
//   - through a re-exec shim otherwise, or when the direct start fails: the
//     daemon's own binary is started with a hidden marker as the last
//     environment entry, applies credentials, directory, umask and signal
//     dispositions in the original's order and execs the program, writing
//     the original's error texts to the child's stderr and exiting 127 when
//     a step fails; about 4 ms per spawn.
//
// A single Reaper is the only caller of wait4 in the process.
package spawn
