// Package version names what a build is: the supervisor version it is
// compatible with, which clients see where the original reports its own
// version, and our release version, reported separately.
package version

import "strings"

// Compat is the supervisor release whose behaviour we reproduce. It is what
// getSupervisorVersion, `supervisorctl version` and `supervisord -v` report,
// because scripts and clients parse it as the original's version number.
const Compat = "4.2.5"

// Version is this build's release, set at link time by the Makefile from
// `git describe --tags` (v0.2.0, or v0.2.0-3-gabc1234 between tags); plain
// `go install` builds say "dev".
var Version = "dev"

// APIVersion is the XML-RPC API version the original's clients require.
const APIVersion = "3.0"

// Release is Version without the tag's leading "v": 0.2.0-3-gabc1234.
func Release() string { return strings.TrimPrefix(Version, "v") }

// String is the --version line: "gosupervisor 0.2.0 (supervisor 4.2.5 compatible)".
func String() string {
	return "gosupervisor " + Release() + " (supervisor " + Compat + " compatible)"
}
