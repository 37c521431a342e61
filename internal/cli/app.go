package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"
)

// Exit statuses of Run.
const (
	ExitOK      = 0 // stopped by a signal (or its context), or -h
	ExitFailure = 1 // a tier failed to start or stopped serving on its own
	ExitUsage   = 2 // bad command line
)

// App is one binary: its flags and the checks to run on them after
// parsing. Make it with NewApp, register tiers with Comet, Logic and Job,
// then call Main (or Run).
type App struct {
	name   string
	about  string
	fs     *flag.FlagSet
	common commonFlags
	checks []func() error
	getenv func(string) string // os.Getenv; the environment tests see
	sec    *rpcSecurity        // the RPC security flags, once a tier registered them
	reload chan struct{}       // a SIGHUP received by Main (never ready in Run alone)
	drains <-chan os.Signal    // SIGUSR1 from Main: drain the comet; nil in Run alone
}

// NewApp returns an App named name (the binary's name, used in usage and
// errors) whose -h text starts with about. It registers the common flags:
// -log-level, -log-format, -debug-addr, -shutdown-timeout,
// -stats-interval.
func NewApp(name, about string) *App {
	a := &App{name: name, about: about, fs: flag.NewFlagSet(name, flag.ContinueOnError), getenv: os.Getenv,
		reload: make(chan struct{}, 1)}
	a.common.register(flagger{fs: a.fs})
	a.checks = append(a.checks, a.common.check)
	return a
}

// FlagSet returns the App's flags, for registering more.
func (a *App) FlagSet() *flag.FlagSet { return a.fs }

// IsSet reports whether flag name was given on the command line; valid
// after parsing.
func (a *App) IsSet(name string) bool {
	set := false
	a.fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// Start starts an App's tiers, adding each to g; on error the tiers
// already added are closed.
type Start func(g *Group) error

// Main runs the App until SIGINT or SIGTERM and returns its exit status.
// A second signal during the graceful stop kills the process the
// default way. SIGHUP reloads what the tiers can reload (logic's token
// secrets and API keys) and is logged; it never stops the process.
// SIGUSR1 drains the App's comet (see comet.Comet.Drain).
func (a *App) Main(args []string, stderr io.Writer, start Start) int {
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	hups := make(chan os.Signal, 1)
	signal.Notify(hups, syscall.SIGHUP)
	defer signal.Stop(hups)
	go func() {
		for {
			select {
			case s := <-sigs:
				signal.Stop(sigs) // a second signal ends the process at once
				a.common.stopping.Store(true)
				cancel(fmt.Errorf("received %v", s))
				return
			case <-hups:
				select {
				case a.reload <- struct{}{}:
				default: // a reload is already pending
				}
			case <-ctx.Done():
				signal.Stop(sigs)
				return
			}
		}
	}()
	drains, stopDrains := notifyDrain()
	defer stopDrains()
	a.drains = drains
	return a.Run(ctx, args, stderr, start)
}

// Run parses args, starts the tiers with start, serves until ctx ends or
// a tier fails, then stops every tier within -shutdown-timeout. Logs go
// to stderr. It returns the exit status: ExitOK after a stop asked by ctx
// (context.Cause says why in the log), ExitFailure when a tier could not
// start or stopped on its own, ExitUsage for a bad command line.
func (a *App) Run(ctx context.Context, args []string, stderr io.Writer, start Start) int {
	if code, ok := a.parse(args, stderr); !ok {
		return code
	}
	logger := a.common.logger(stderr)
	g := newGroup(a.name, logger)
	if err := start(g); err != nil {
		logger.Error(a.name+": start failed", "err", err)
		g.close()
		if errors.Is(err, ErrUsage) {
			return ExitUsage
		}
		return ExitFailure
	}
	debug, err := startDebug(a.common.debugAddr, g, logger)
	if err != nil {
		logger.Error(a.name+": start failed", "err", err)
		g.close()
		return ExitFailure
	}
	stopDrain := watchDrain(ctx, g, a.drains)
	code := g.wait(ctx, a.common.statsInterval, a.reload)
	a.common.stopping.Store(true)
	stopDrain()
	stopping := time.Now()
	g.shutdown(a.common.shutdownTimeout)
	debug.close()
	logger.Info(a.name+": exiting", "status", code, "shutdown_took", time.Since(stopping).Round(time.Millisecond))
	return code
}

// parse parses args and runs the checks. It returns false with the exit
// status when the App must not run: after -h (ExitOK) or a bad command
// line (ExitUsage).
func (a *App) parse(args []string, stderr io.Writer) (int, bool) {
	a.fs.SetOutput(stderr)
	a.fs.Usage = func() {} // the flag package has printed its error; the hint follows
	if err := a.fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			a.usage(stderr)
			return ExitOK, false
		}
		fmt.Fprintf(stderr, "run %s -h for the flags\n", a.name)
		return ExitUsage, false
	}
	if a.fs.NArg() > 0 {
		fmt.Fprintf(stderr, "%s: unexpected arguments %q (run %s -h for the flags)\n", a.name, a.fs.Args(), a.name)
		return ExitUsage, false
	}
	for _, check := range a.checks {
		if err := check(); err != nil {
			fmt.Fprintf(stderr, "%s: %v (run %s -h for the flags)\n", a.name, err, a.name)
			return ExitUsage, false
		}
	}
	return 0, true
}

// usage prints the -h text: the App's description and every flag with
// its type and default, the common flags first, then each tier's.
func (a *App) usage(w io.Writer) {
	fmt.Fprintf(w, "Usage: %s [flags]\n\n%s\n", a.name, a.about)
	groups := map[string][]*flag.Flag{}
	a.fs.VisitAll(func(f *flag.Flag) {
		prefix, _, ok := strings.Cut(f.Name, ".")
		if !ok {
			prefix = ""
		}
		groups[prefix] = append(groups[prefix], f)
	})
	for _, prefix := range slices.Sorted(maps.Keys(groups)) {
		if prefix == "" {
			fmt.Fprintf(w, "\nFlags:\n")
		} else {
			fmt.Fprintf(w, "\nFlags of the %s tier:\n", prefix)
		}
		for _, f := range groups[prefix] {
			printFlag(w, f)
		}
	}
}

// printFlag prints one flag as flag.PrintDefaults does, with our value
// types named.
func printFlag(w io.Writer, f *flag.Flag) {
	typ, usage := flag.UnquoteUsage(f)
	if t, ok := f.Value.(interface{ typeName() string }); ok {
		typ = t.typeName()
	}
	line := "  -" + f.Name
	if typ != "" {
		line += " " + typ
	}
	line += "\n    \t" + strings.ReplaceAll(usage, "\n", "\n    \t")
	if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0s" && f.DefValue != "0" {
		if typ == "string" {
			line += fmt.Sprintf(" (default %q)", f.DefValue)
		} else {
			line += fmt.Sprintf(" (default %s)", f.DefValue)
		}
	}
	fmt.Fprintln(w, line)
}
