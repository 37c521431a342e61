// Package server builds, links and runs the tiers of the push server: it
// is the one place that turns listen addresses into listeners, loads TLS
// certificates, dials logic, and links the tiers to each other either
// over the RPC or by method calls in process. The binaries (cmd/goim,
// cmd/comet, cmd/logic, cmd/job) only parse flags into its config types
// and run it; tests, benchmarks and other Go programs use it the same
// way.
//
// A whole node in one process (logic, one comet and one job):
//
//	node, err := server.Start(server.Config{}, logger) // goim's ports
//	if err != nil {
//		return err
//	}
//	defer node.Close()
//	...
//	err = node.Shutdown(ctx)
//
// or one tier: StartLogic, StartComet (dialing logic at
// CometConfig.LogicAddr), StartJob (likewise). Each config type holds the
// tier's own Config (comet.Config, logic.Config, job.Config) and the
// addresses the tier listens on and dials; the zero value of each is
// usable and means goim's ports.
//
// # Links
//
// With LinksRPC (the default) a node's tiers talk over loopback RPC,
// exactly as separate processes do. With LinksDirect logic hands pushes
// to its own job, the job pushes to its own comet, and the comet and the
// job call logic, all by method calls; every RPC listener still serves
// the comets and jobs of other processes. A tier never closes what it
// was lent: the services a tier closes when a node leaves (logic's job
// clients, the job's comet clients) are wrapped so that the process's own
// Job and Comet are not closed through them.
//
// # Stopping
//
// Shutdown stops a node gracefully (job, then comet, then logic), Close
// at once. Each running tier reports a serve loop that stopped on its own
// on its Err channel.
package server
