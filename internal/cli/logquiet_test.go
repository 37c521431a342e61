package cli

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
)

// TestStopQuietHandler: once stopping, warnings about RPC links go to
// debug; other warnings, and everything before the stop, stay as they are.
func TestStopQuietHandler(t *testing.T) {
	linkErr := errors.New("logicrpc: method 4: rpc: not connected: connection refused")
	tests := []struct {
		name     string
		stopping bool
		log      func(*slog.Logger)
		want     string // level of the line, "" for none
	}{
		{"lost before stop", false, func(l *slog.Logger) { l.Warn("rpc: connection lost; reconnecting", "err", "EOF") }, "WARN"},
		{"lost while stopping", true, func(l *slog.Logger) { l.Warn("rpc: connection lost; reconnecting", "err", "EOF") }, ""},
		{"redial while stopping", true, func(l *slog.Logger) {
			l.With("addr", "127.0.0.1:3119").Warn("rpc: dial failed; retrying with backoff")
		}, ""},
		{"failed report while stopping", true, func(l *slog.Logger) { l.Warn("job: reporting to logic", "err", linkErr) }, ""},
		{"other warning while stopping", true, func(l *slog.Logger) { l.Warn("comet: graceful stop incomplete", "err", "deadline") }, "WARN"},
		{"rpc error while stopping", true, func(l *slog.Logger) { l.Error("rpc: something broke") }, "ERROR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, level := range []slog.Level{slog.LevelInfo, slog.LevelDebug} {
				var buf bytes.Buffer
				var stopping atomic.Bool
				stopping.Store(tt.stopping)
				l := slog.New(stopQuietHandler{h: slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: level}), stopping: &stopping})
				tt.log(l)
				want := tt.want
				if want == "" && level == slog.LevelDebug {
					want = "DEBUG"
				}
				got := buf.String()
				ok := got == ""
				if want != "" {
					ok = strings.Contains(got, "level="+want)
				}
				if !ok {
					t.Errorf("at -log-level %v logged %q, want level %q", level, got, want)
				}
			}
		})
	}
}
