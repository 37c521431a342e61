package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// debugServer is the opt-in debug HTTP server; nil when off. It serves
// until the tiers have stopped, so a slow stop can be profiled.
type debugServer struct {
	srv  *http.Server
	log  *slog.Logger
	done chan struct{} // closed when Serve returned
}

// startDebug serves debugHandler(g) on addr when addr is not empty. The
// listener is bound before it returns, so a busy port is a start error.
func startDebug(addr string, g *Group, logger *slog.Logger) (*debugServer, error) {
	if addr == "" {
		return nil, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("debug: listen %s: %w", addr, err)
	}
	d := &debugServer{
		srv: &http.Server{
			Handler:           debugHandler(g),
			ReadHeaderTimeout: 10 * time.Second,
			ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		},
		log:  logger,
		done: make(chan struct{}),
	}
	go func() {
		defer close(d.done)
		if err := d.srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			logger.Error("debug: stopped serving", "err", err)
		}
	}()
	logger.Info("debug: started", "addr", ln.Addr().String(), "pprof", "/debug/pprof/", "stats", "/debug/stats")
	return d, nil
}

// close stops the debug server, waiting at most a second for requests in
// progress (a running CPU profile is cut).
func (d *debugServer) close() {
	if d == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := d.srv.Shutdown(ctx); err != nil {
		d.srv.Close()
	}
	<-d.done
}

// debugHandler returns the debug pages: net/http/pprof under
// /debug/pprof/ and the tiers' Stats as JSON at /debug/stats (an object
// keyed by tier name).
func debugHandler(g *Group) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("/debug/stats", func(w http.ResponseWriter, r *http.Request) {
		stats := make(map[string]any)
		for _, t := range g.Tiers() {
			if s := t.Stats(); s != nil {
				stats[t.Name()] = s
			}
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(stats); err != nil && !errors.Is(err, http.ErrHandlerTimeout) {
			g.log.Debug("debug: write stats", "err", err)
		}
	})
	return mux
}
