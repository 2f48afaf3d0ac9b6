// Command fdcost measures the physical floor under `start all` at scale:
// what one fork/exec costs while the parent holds K open descriptors. The
// kernel copies the descriptor table into each child and execve then
// closes every close-on-exec entry, so a supervisor holding 5 descriptors
// per program pays per spawn in proportion to the programs it already runs,
// and starting N programs costs O(N²) however the supervisor is written.
//
//	go run ./bench/fdcost [-spawns 200] [-fds 0,2000,6000,12000,18000]
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

func main() { os.Exit(run(os.Args[1:])) }

func run(args []string) int {
	fs := flag.NewFlagSet("fdcost", flag.ContinueOnError)
	spawns := fs.Int("spawns", 200, "fork/execs of /bin/true per size")
	sizes := fs.String("fds", "0,2000,6000,12000,18000", "descriptor counts to hold open (pipes, close-on-exec)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	var held []*os.File
	fmt.Println("| descriptors open | per fork/exec | vs none |")
	fmt.Println("|---|---|---|")
	var base time.Duration
	for _, field := range strings.Split(*sizes, ",") {
		k, err := strconv.Atoi(strings.TrimSpace(field))
		if err != nil || k < 0 {
			fmt.Fprintf(os.Stderr, "fdcost: bad size %q\n", field)
			return 2
		}
		for len(held) < k {
			r, w, err := os.Pipe()
			if err != nil {
				fmt.Fprintf(os.Stderr, "fdcost: holding %d descriptors: %v\n", len(held), err)
				return 1
			}
			held = append(held, r, w)
		}
		per, err := timeSpawns(*spawns)
		if err != nil {
			fmt.Fprintln(os.Stderr, "fdcost:", err)
			return 1
		}
		if base == 0 {
			base = per
		}
		fmt.Printf("| %d | %v | %.2f× |\n", len(held), per.Round(time.Microsecond), float64(per)/float64(base))
	}
	return 0
}

// timeSpawns is the mean wall time of n sequential fork/exec/wait of /bin/true.
func timeSpawns(n int) (time.Duration, error) {
	start := time.Now()
	for range n {
		if err := exec.Command("/bin/true").Run(); err != nil {
			return 0, fmt.Errorf("running /bin/true: %w", err)
		}
	}
	return time.Since(start) / time.Duration(n), nil
}
