package cli

import (
	"log/slog"
	"maps"
	"net/http"

	"github.com/goimx/goim/internal/demo"
	"github.com/goimx/goim/server"
)

// Flag prefixes of the all-in-one binary.
const (
	CometPrefix = "comet."
	LogicPrefix = "logic."
	JobPrefix   = "job."
)

// AllInOne registers the flags of all three tiers, prefixed "comet.",
// "logic." and "job." (the same flags as the tiers' own binaries, less
// -logic: the comet and the job use this process's logic), and -links,
// and returns the Start of the all-in-one binary. With -links rpc (the
// default) the tiers talk over loopback RPC; with -links direct they call
// each other in process, every RPC listener still serving the comets and
// jobs of other processes. Unless -logic.tcp-port, -logic.ws-port or
// -logic.wss-port are given, /goim/nodes/weighted advertises the ports of
// -comet.tcp, -comet.ws and -comet.wss. The RPC listeners default to
// 127.0.0.1 (goim's ports): serving other processes' tiers is a choice,
// and one that needs -cluster-secret-file (or -insecure-rpc) as the
// separate binaries do.
func (a *App) AllInOne() Start {
	links := a.linksFlag()
	lf := a.Logic(LogicPrefix)
	cf := a.Comet(CometPrefix, false)
	jf := a.Job(JobPrefix, false)
	a.setDefault(lf.Name("rpc"), loopbackRPC(server.DefaultLogicRPCAddr))
	a.setDefault(cf.Name("rpc"), loopbackRPC(server.DefaultCometRPCAddr))
	a.setDefault(jf.Name("rpc"), loopbackRPC(server.DefaultJobRPCAddr))
	return func(g *Group) error {
		for _, check := range []func(*slog.Logger) error{lf.checkExposure, cf.checkExposure, jf.checkExposure} {
			if err := check(g.Logger()); err != nil {
				return err
			}
		}
		n, err := server.Start(a.allInOneConfig(*links, lf, cf, jf), g.Logger())
		if err != nil {
			return err
		}
		g.addLogic(n.Logic())
		g.addComet(n.Comet())
		g.addJob(n.Job())
		g.Logger().Info(a.name+": tiers linked", "links", string(n.Links()))
		return nil
	}
}

// allInOneConfig returns the node's configuration the flags describe;
// logic's advertised client ports not given on the command line are zero,
// so that they follow the comet's.
func (a *App) allInOneConfig(links string, lf *LogicFlags, cf *CometFlags, jf *JobFlags) server.Config {
	cfg := server.Config{Logic: lf.Config(), Comet: cf.Config(), Job: jf.Config(), Links: server.Links(links)}
	lc := &cfg.Logic.Logic
	lc.Handlers = maps.Clone(lc.Handlers)
	if lc.Handlers == nil {
		lc.Handlers = make(map[string]http.Handler)
	}
	lc.Handlers[demo.Path] = demo.Handler()
	for _, p := range []struct {
		flag string
		port *int
	}{{"tcp-port", &lc.TCPPort}, {"ws-port", &lc.WSPort}, {"wss-port", &lc.WSSPort}} {
		if !a.IsSet(lf.Name(p.flag)) {
			*p.port = 0
		}
	}
	return cfg
}

// linksFlag registers -links and its check.
func (a *App) linksFlag() *string {
	links := new(string)
	rpc, direct := string(server.LinksRPC), string(server.LinksDirect)
	flagger{fs: a.fs}.str(links, "links", rpc,
		"how this process's tiers reach each other: rpc (loopback RPC, as separate binaries) or direct (method calls in process)")
	a.checks = append(a.checks, func() error {
		if *links != rpc && *links != direct {
			return usageErr("links", "%q is not %s or %s", *links, rpc, direct)
		}
		return nil
	})
	return links
}

// loopbackRPC returns the default RPC listen address ":PORT" on
// 127.0.0.1.
func loopbackRPC(addr string) string { return "127.0.0.1" + addr }

// setDefault changes the default of the registered flag name to value.
func (a *App) setDefault(name, value string) {
	f := a.fs.Lookup(name)
	if err := f.Value.Set(value); err != nil {
		panic("cli: default of -" + name + ": " + err.Error()) // a constant, checked by the tests
	}
	f.DefValue = value
}
