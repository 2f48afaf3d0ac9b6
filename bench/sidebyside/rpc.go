package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sort"
	"sync"
	"time"
)

// rpcClient posts raw XML-RPC calls to one daemon's /RPC2 over keep-alive
// connections; the body is built once so the client costs little CPU on a
// machine it shares with the daemon.
type rpcClient struct {
	url string
	hc  *http.Client
}

func newRPCClient(port, conns int) *rpcClient {
	tr := &http.Transport{MaxIdleConns: conns, MaxIdleConnsPerHost: conns, DisableCompression: true}
	return &rpcClient{url: fmt.Sprintf("http://127.0.0.1:%d/RPC2", port), hc: &http.Client{Transport: tr, Timeout: 60 * time.Second}}
}

func callBody(method string) []byte {
	return []byte("<?xml version='1.0'?>\n<methodCall>\n<methodName>" + method +
		"</methodName>\n<params>\n</params>\n</methodCall>\n")
}

// call posts body and returns the response body.
func (c *rpcClient) call(ctx context.Context, body []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("request %s: %w", c.url, err)
	}
	req.Header.Set("Content-Type", "text/xml")
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("post %s: %w", c.url, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", c.url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("post %s: HTTP %d", c.url, resp.StatusCode)
	}
	return out, nil
}

// checkAllProcessInfo verifies one getAllProcessInfo answer lists n
// processes, all RUNNING, so that a fast error page cannot pass for a result.
func (c *rpcClient) checkAllProcessInfo(n int) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := c.call(ctx, callBody("supervisor.getAllProcessInfo"))
	if err != nil {
		return err
	}
	if bytes.Contains(out, []byte("<fault>")) {
		return fmt.Errorf("getAllProcessInfo: fault %.200s", out)
	}
	got := bytes.Count(out, []byte("<string>RUNNING</string>"))
	if got != n {
		return fmt.Errorf("getAllProcessInfo: %d RUNNING entries, want %d", got, n)
	}
	return nil
}

// loadResult is the outcome of a fixed-duration load run.
type loadResult struct {
	CallsPerSec float64
	P50, P99    time.Duration
	Calls       int
}

// load runs `clients` concurrent callers of method for d and reports the
// throughput and latency percentiles. Any failed call fails the run.
func (c *rpcClient) load(method string, clients int, d time.Duration) (loadResult, error) {
	body := callBody(method)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var (
		mu      sync.Mutex
		lat     []time.Duration
		firstEr error
		wg      sync.WaitGroup
	)
	t0 := time.Now()
	stop := t0.Add(d)
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			for time.Now().Before(stop) {
				s := time.Now()
				if _, err := c.call(ctx, body); err != nil {
					mu.Lock()
					if firstEr == nil {
						firstEr = err
						cancel()
					}
					mu.Unlock()
					return
				}
				mine = append(mine, time.Since(s))
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(t0)
	if firstEr != nil {
		return loadResult{}, firstEr
	}
	if len(lat) == 0 {
		return loadResult{}, fmt.Errorf("%s: no call completed in %s", method, d)
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	return loadResult{
		CallsPerSec: float64(len(lat)) / elapsed.Seconds(),
		P50:         percentile(lat, 0.50),
		P99:         percentile(lat, 0.99),
		Calls:       len(lat),
	}, nil
}

// percentile of sorted durations (nearest rank).
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.999999) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// rpcReady reports whether the daemon's /RPC2 answers supervisor.getState.
func rpcReady(port int) bool {
	c := newRPCClient(port, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	out, err := c.call(ctx, callBody("supervisor.getState"))
	return err == nil && bytes.Contains(out, []byte("<name>statename</name>"))
}
