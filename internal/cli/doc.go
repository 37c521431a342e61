// Package cli is what the goim binaries (cmd/goim, cmd/comet, cmd/logic,
// cmd/job) share: flag registration filling package server's config types
// (with an optional name prefix, so the all-in-one binary takes every
// tier's flags at once), log/slog setup, signal handling, graceful shutdown with a
// bound, periodic stats lines, and the opt-in debug server (net/http/pprof
// and a JSON stats page).
//
// A binary is an App: NewApp registers the common flags, the Comet, Logic
// and Job methods register a tier's flags, and Main parses the command
// line, starts the tiers through the function it is given, and stops them
// on SIGINT or SIGTERM. Building, linking and serving the tiers is
// package server's: this package only fills its config types and runs
// it.
//
//	app := cli.NewApp("comet", "runs the connection tier")
//	cf := app.Comet("", true)
//	os.Exit(app.Main(os.Args[1:], os.Stderr, func(g *cli.Group) error {
//		_, err := cf.Start(g)
//		return err
//	}))
//
// The package keeps no global state: flags live in the App's FlagSet,
// the logger is made per App run, and Main installs its signal handler
// only while it runs.
package cli
