// Package web holds the web console's assets (HTML, CSS, JavaScript), embedded
// into the daemon so that the browser needs nothing from the network.
package web

import "embed"

// Assets is index.html plus static/ (served under /static/).
//
//go:embed index.html static
var Assets embed.FS
