// Command job runs goim's job tier: it takes pushes from logic on its RPC
// service (:3129), batches room messages and fans them out to every comet
// it learns from logic (-logic).
//
// Run it with -h for the flags; docs/operations.md describes them.
package main

import (
	"os"

	"github.com/goimx/goim/internal/cli"
)

func main() {
	app := cli.NewApp("job", "job runs goim's job tier: pushes from logic, room batching, fan-out to the comets\n"+
		"listed by logic (-logic).")
	jf := app.Job("", true)
	os.Exit(app.Main(os.Args[1:], os.Stderr, func(g *cli.Group) error {
		_, err := jf.Start(g)
		return err
	}))
}
