// Command stager stages images from an Oyster registry onto a compute
// node's local disk: a daemon (stager serve) and a CLI on one binary. See
// package stager/cli for the commands.
package main

import (
	"os"

	"github.com/oyster-registry/oyster/stager/cli"
)

func main() { os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr, os.Environ())) }
