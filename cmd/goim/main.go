// Command goim runs a whole goim server in one process: logic (HTTP push
// API :3111, RPC :3119), one comet (TCP :3101, WebSocket :3102 /sub,
// secure WebSocket :3103 with -comet.cert and -comet.key, RPC :3109) and
// one job (RPC :3129). By default (-links rpc) the tiers talk to each
// other over loopback RPC, exactly as the separate binaries (cmd/comet,
// cmd/logic, cmd/job) do; with -links direct they call each other in
// process, still serving their RPC to the comets and jobs of other
// processes.
//
// Every flag of the tiers' binaries is here with the tier's name as a
// prefix (-comet.tcp, -logic.http, -job.batch-size); run it with -h for
// the list, and see docs/operations.md.
package main

import (
	"os"

	"github.com/goimx/goim/internal/cli"
)

func main() {
	app := cli.NewApp("goim", "goim runs logic, one comet and one job in one process, talking over loopback RPC\n"+
		"(-links rpc, the default) or by method calls (-links direct).\n"+
		"Each tier's flags carry its name as a prefix: -comet.*, -logic.*, -job.*.")
	os.Exit(app.Main(os.Args[1:], os.Stderr, app.AllInOne()))
}
