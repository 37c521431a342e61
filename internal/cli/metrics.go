package cli

// metricsUsage is the usage of a standalone comet's or job's
// -metrics-addr.
const metricsUsage = "listen address of /metrics (Prometheus), /healthz and /readyz over plain HTTP (empty: none; logic serves them on its -http port)"

// registerMetrics registers -metrics-addr on a standalone comet (the
// all-in-one serves every tier's metrics on logic's HTTP port).
func (cf *CometFlags) registerMetrics() {
	if cf.standalone {
		cf.f.addr(&cf.cfg.MetricsAddr, "metrics-addr", "", true, metricsUsage)
	}
}

// registerMetrics registers -metrics-addr on a standalone job.
func (jf *JobFlags) registerMetrics() {
	if jf.standalone {
		jf.f.addr(&jf.cfg.MetricsAddr, "metrics-addr", "", true, metricsUsage)
	}
}
