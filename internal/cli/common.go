package cli

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"
)

// DefaultShutdownTimeout bounds a graceful stop unless -shutdown-timeout
// says otherwise.
const DefaultShutdownTimeout = 10 * time.Second

// DefaultStatsInterval is the period of the stats log lines unless
// -stats-interval says otherwise.
const DefaultStatsInterval = time.Minute

// commonFlags are the flags of every binary.
type commonFlags struct {
	logLevel        string
	logFormat       string
	debugAddr       string
	shutdownTimeout time.Duration
	statsInterval   time.Duration
	stopping        atomic.Bool // set when the binary starts stopping: quiets link warnings
}

// register registers the common flags, unprefixed.
func (c *commonFlags) register(f flagger) {
	f.str(&c.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	f.str(&c.logFormat, "log-format", "text", "log format: text or json (log/slog handlers, on stderr)")
	f.addr(&c.debugAddr, "debug-addr", "", false,
		"debug HTTP listen address serving /debug/pprof/ and /debug/stats (empty: off; keep it private, e.g. 127.0.0.1:6060)")
	f.duration(&c.shutdownTimeout, "shutdown-timeout", DefaultShutdownTimeout, time.Millisecond,
		"bound on the graceful stop after SIGINT/SIGTERM (close clients, drain queues, tell logic); then connections are cut")
	f.duration(&c.statsInterval, "stats-interval", DefaultStatsInterval, 0, "period of the stats log line of each tier (0: none)")
}

// check checks the values that flag parsing cannot.
func (c *commonFlags) check() error {
	if _, err := parseLevel(c.logLevel); err != nil {
		return usageErr("log-level", "%v", err)
	}
	if c.logFormat != "text" && c.logFormat != "json" {
		return usageErr("log-format", "%q is not text or json", c.logFormat)
	}
	return nil
}

// logger returns the slog logger the flags ask for, writing to w; once
// stopping is set it logs warnings about RPC links at debug
// (stopQuietHandler).
func (c *commonFlags) logger(w io.Writer) *slog.Logger {
	level, _ := parseLevel(c.logLevel) // checked by check
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler = slog.NewTextHandler(w, opts)
	if c.logFormat == "json" {
		h = slog.NewJSONHandler(w, opts)
	}
	return slog.New(stopQuietHandler{h: h, stopping: &c.stopping})
}

// parseLevel parses a -log-level value.
func parseLevel(s string) (slog.Level, error) {
	switch strings.ToLower(s) {
	case "debug":
		return slog.LevelDebug, nil
	case "info":
		return slog.LevelInfo, nil
	case "warn", "warning":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return 0, fmt.Errorf("%q is not debug, info, warn or error", s)
}
