package cli

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
// -comet.tcp, -comet.ws and -comet.wss.
func (a *App) AllInOne() Start {
	links := a.linksFlag()
	lf := a.Logic(LogicPrefix)
	cf := a.Comet(CometPrefix, false)
	jf := a.Job(JobPrefix, false)
	return func(g *Group) error {
		a.followCometPorts(lf, cf)
		var d *directLinks
		if *links == LinksDirect {
			d = &directLinks{}
		}
		lt, err := lf.start(g, d)
		if err != nil {
			return err
		}
		logicAddr := advertise(lt.RPCAddr(), true)
		if _, err := cf.start(g, logicAddr, true, d); err != nil {
			return err
		}
		if _, err = jf.start(g, logicAddr, true, d); err != nil {
			return err
		}
		g.Logger().Info(a.name+": tiers linked", "links", *links)
		return nil
	}
}

// linksFlag registers -links and its check.
func (a *App) linksFlag() *string {
	links := new(string)
	flagger{fs: a.fs}.str(links, "links", LinksRPC,
		"how this process's tiers reach each other: rpc (loopback RPC, as separate binaries) or direct (method calls in process)")
	a.checks = append(a.checks, func() error {
		if *links != LinksRPC && *links != LinksDirect {
			return usageErr("links", "%q is not %s or %s", *links, LinksRPC, LinksDirect)
		}
		return nil
	})
	return links
}

// followCometPorts makes logic advertise the comet's listen ports where
// its port flags were not given.
func (a *App) followCometPorts(lf *LogicFlags, cf *CometFlags) {
	port := func(logicFlag, addr string) int {
		if a.IsSet(lf.Name(logicFlag)) {
			return 0
		}
		return portFromFlag(addr)
	}
	c := &cf.cfg
	tcp := ""
	if list := tcpAddrs(c.TCPAddrs); len(list) > 0 {
		tcp = list[0]
	}
	wss := c.WSSAddr
	if wss == "" && c.CertFile != "" {
		wss = defaultCometWSS
	}
	lf.SetAdvertisedPorts(port("tcp-port", tcp), port("ws-port", c.WSAddr), port("wss-port", wss))
}
