// pause is the pod sandbox's process: it holds the pod's namespaces open and does nothing else.
// kubelet's default pause image cannot be pulled here, so the cluster harness builds this one.
//
// Given arguments, it first prints the files they name to stdout (an error and exit 1 for one it
// cannot read): the images here hold no shell or cat, and a scenario reads a mounted volume's file
// from the container's log.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	for _, name := range os.Args[1:] {
		b, err := os.ReadFile(name)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Stdout.Write(b)
	}
	// As PID 1 of the sandbox: exit on TERM/INT, and reap any zombie that lands on us.
	sig := make(chan os.Signal, 4)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT, syscall.SIGCHLD)
	for s := range sig {
		if s == syscall.SIGCHLD {
			for {
				pid, err := syscall.Wait4(-1, nil, syscall.WNOHANG, nil)
				if pid <= 0 || err != nil {
					break
				}
			}
			continue
		}
		os.Exit(0)
	}
}
