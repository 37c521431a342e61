// Command comet runs goim's connection tier: it holds client connections
// (TCP :3101, WebSocket :3102 /sub, secure WebSocket :3103 with -cert and
// -key), authenticates them through logic (-logic) and serves pushes from
// jobs on its RPC service (:3109).
//
// Run it with -h for the flags; docs/operations.md describes them.
package main

import (
	"os"

	"github.com/goimx/goim/internal/cli"
)

func main() {
	app := cli.NewApp("comet", "comet runs goim's connection tier: client connections over TCP and WebSocket,\n"+
		"authenticated through logic (-logic), pushed to by jobs over its RPC service (-rpc).")
	cf := app.Comet("", true)
	os.Exit(app.Main(os.Args[1:], os.Stderr, func(g *cli.Group) error {
		_, err := cf.Start(g)
		return err
	}))
}
