package cli

import (
	"context"
	"log/slog"
	"strings"
	"sync/atomic"
)

// stopQuietHandler logs through h, except that once stopping is set (the
// binary is stopping) it demotes to debug the warnings about its RPC
// links: lost connections, redials, and calls that failed because a peer
// went away. A binary stopped with its peers (Ctrl-C on a terminal
// running logic, comet and job) would otherwise end with a burst of
// reconnect warnings about peers that are stopping too.
type stopQuietHandler struct {
	h        slog.Handler
	stopping *atomic.Bool
}

// Enabled implements slog.Handler.
func (s stopQuietHandler) Enabled(ctx context.Context, l slog.Level) bool { return s.h.Enabled(ctx, l) }

// Handle implements slog.Handler.
func (s stopQuietHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level == slog.LevelWarn && s.stopping.Load() && isLinkNoise(r) {
		r.Level = slog.LevelDebug
		if !s.h.Enabled(ctx, r.Level) {
			return nil
		}
	}
	return s.h.Handle(ctx, r)
}

// WithAttrs implements slog.Handler.
func (s stopQuietHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return stopQuietHandler{h: s.h.WithAttrs(attrs), stopping: s.stopping}
}

// WithGroup implements slog.Handler.
func (s stopQuietHandler) WithGroup(name string) slog.Handler {
	return stopQuietHandler{h: s.h.WithGroup(name), stopping: s.stopping}
}

// isLinkNoise reports whether r is about an RPC link: an rpc client's own
// line, or a line whose err comes from the rpc package.
func isLinkNoise(r slog.Record) bool {
	if strings.HasPrefix(r.Message, "rpc: ") {
		return true
	}
	noise := false
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "err" && strings.Contains(a.Value.String(), "rpc: ") {
			noise = true
			return false
		}
		return true
	})
	return noise
}
