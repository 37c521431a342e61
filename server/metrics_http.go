package server

import (
	"context"
	"net"
	"net/http"
	"time"
)

// Timeouts of a metrics address's HTTP server.
const (
	metricsReadHeaderTimeout = 5 * time.Second
	metricsWriteTimeout      = 10 * time.Second
	metricsIdleTimeout       = time.Minute
)

// metricsServer serves /metrics, /healthz and /readyz of one tier on its
// metrics address (CometConfig.MetricsAddr, JobConfig.MetricsAddr).
type metricsServer struct {
	srv *http.Server
	ln  net.Listener
}

// listenMetrics binds addr for what's metrics, or returns nil when addr
// is empty or NoListen.
func listenMetrics(ls *listeners, what, addr string) (*metricsServer, error) {
	if addr == "" || addr == NoListen {
		return nil, nil
	}
	ln, err := ls.listen(what, addr, nil)
	if err != nil {
		return nil, err
	}
	return &metricsServer{ln: ln}, nil
}

// serve serves o's handlers on the loops of a tier.
func (m *metricsServer) serve(what string, o *observed, l *loops) {
	if m == nil {
		return
	}
	mux := http.NewServeMux()
	for path, h := range o.handlers() {
		mux.Handle(path, h)
	}
	m.srv = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: metricsReadHeaderTimeout,
		WriteTimeout:      metricsWriteTimeout,
		IdleTimeout:       metricsIdleTimeout,
	}
	l.goServe(what, func() error { return m.srv.Serve(m.ln) }, http.ErrServerClosed)
}

// addr returns the bound address, or nil for no metrics server.
func (m *metricsServer) addr() net.Addr {
	if m == nil {
		return nil
	}
	return m.ln.Addr()
}

// shutdown stops the server gracefully, bounded by ctx.
func (m *metricsServer) shutdown(ctx context.Context) error {
	if m == nil || m.srv == nil {
		return nil
	}
	return m.srv.Shutdown(ctx)
}

// close stops the server at once.
func (m *metricsServer) close() {
	if m != nil && m.srv != nil {
		m.srv.Close()
	}
}
