package fleet

import (
	"errors"
	"fmt"
	"time"

	"github.com/gosupervisor/gosupervisor/pkg/config"
	"github.com/gosupervisor/gosupervisor/pkg/rpcclient"
)

// Target is one node to watch (from a config.Remote).
type Target struct {
	Name, Serverurl, Username, Password string
	TLS                                 config.CtlTLS
}

// Targets turns [remote:NAME] sections into targets, in their order.
func Targets(rs []config.Remote) []Target {
	out := make([]Target, len(rs))
	for i, r := range rs {
		out[i] = Target{Name: r.Name, Serverurl: r.Serverurl, Username: r.Username,
			Password: r.Password, TLS: r.CtlTLS}
	}
	return out
}

func (t Target) client() (*rpcclient.Client, error) {
	c, err := rpcclient.New(t.Serverurl, t.Username, t.Password, t.TLS)
	if err != nil {
		return nil, fmt.Errorf("node %s: %w", t.Name, err)
	}
	return c, nil
}

// Fault is an XML-RPC fault a node answered.
type Fault = rpcclient.Fault

// ErrNoNode is returned by Call for a name that is not a target.
var ErrNoNode = errors.New("no such node")

// Options tune the Watcher; zero values mean the defaults.
type Options struct {
	PollEvery  time.Duration // polling period for the original (0 = 1 s), start-to-start
	MaxBackoff time.Duration // back-off cap for an unreachable node (0 = 30 s; doubling from PollEvery)
	Timeout    time.Duration // per request (0 = 5 s)
}

func (o Options) withDefaults() Options {
	if o.PollEvery <= 0 {
		o.PollEvery = time.Second
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 30 * time.Second
	}
	if o.MaxBackoff < o.PollEvery {
		o.MaxBackoff = o.PollEvery
	}
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Second
	}
	return o
}

// nextBackoff doubles the wait after another failure, up to the cap.
func nextBackoff(cur time.Duration, o Options) time.Duration {
	return min(2*cur, o.MaxBackoff)
}
