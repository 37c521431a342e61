package cli

// Flag prefixes of the all-in-one binary.
const (
	CometPrefix = "comet."
	LogicPrefix = "logic."
	JobPrefix   = "job."
)

// AllInOne registers the flags of all three tiers, prefixed "comet.",
// "logic." and "job." (the same flags as the tiers' own binaries, less
// -logic: the comet and the job dial this process's logic over loopback
// RPC), and returns the Start of the all-in-one binary. Unless
// -logic.tcp-port, -logic.ws-port or -logic.wss-port are given,
// /goim/nodes/weighted advertises the ports of -comet.tcp, -comet.ws and
// -comet.wss.
func (a *App) AllInOne() Start {
	lf := a.Logic(LogicPrefix)
	cf := a.Comet(CometPrefix, false)
	jf := a.Job(JobPrefix, false)
	return func(g *Group) error {
		a.followCometPorts(lf, cf)
		lt, err := lf.Start(g)
		if err != nil {
			return err
		}
		logicAddr := advertise(lt.RPCAddr(), true)
		if _, err := cf.Start(g, logicAddr, true); err != nil {
			return err
		}
		_, err = jf.Start(g, logicAddr, true)
		return err
	}
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
