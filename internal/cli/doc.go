// Package cli is what the goim binaries (cmd/goim, cmd/comet, cmd/logic,
// cmd/job) share: flag registration for each tier's Config (with an
// optional name prefix, so the all-in-one binary takes every tier's flags
// at once), log/slog setup, signal handling, graceful shutdown with a
// bound, periodic stats lines, and the opt-in debug server (net/http/pprof
// and a JSON stats page).
//
// A binary is an App: NewApp registers the common flags, the Comet, Logic
// and Job methods register a tier's flags, and Main parses the command
// line, starts the tiers through the function it is given, and stops them
// on SIGINT or SIGTERM:
//
//	app := cli.NewApp("comet", "runs the connection tier")
//	cf := app.Comet("", true)
//	os.Exit(app.Main(os.Args[1:], os.Stderr, func(g *cli.Group) error {
//		_, err := cf.Start(g, cf.LogicAddr(), false)
//		return err
//	}))
//
// The package keeps no global state: flags live in the App's FlagSet,
// the logger is made per App run, and Main installs its signal handler
// only while it runs.
package cli
