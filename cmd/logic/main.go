// Command logic runs goim's logic tier: the HTTP push API (:3111), the
// session store, the registry of comets and jobs, and the logic RPC
// service (:3119) that comets and jobs dial.
//
// Run it with -h for the flags; docs/operations.md describes them.
package main

import (
	"os"

	"github.com/goimx/goim/internal/cli"
)

func main() {
	app := cli.NewApp("logic", "logic runs goim's logic tier: the HTTP push API, sessions, the node registry\n"+
		"and the RPC service that comets (-logic) and jobs (-logic) dial.")
	lf := app.Logic("")
	os.Exit(app.Main(os.Args[1:], os.Stderr, func(g *cli.Group) error {
		_, err := lf.Start(g)
		return err
	}))
}
