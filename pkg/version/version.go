// Package version holds the build's version string, set at link time.
package version

// Version is this build's version, reported by `supervisord -v`,
// getSupervisorVersion and `supervisorctl version`. The Makefile sets it
// from git describe; `go install` builds say "dev".
var Version = "dev"

// APIVersion is the XML-RPC API version the original's clients require.
const APIVersion = "3.0"
