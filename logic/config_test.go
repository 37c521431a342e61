package logic

import (
	"errors"
	"strings"
	"testing"
)

// TestConfigDefaults: zero fields take the documented defaults and a
// negative value is refused, naming the field.
func TestConfigDefaults(t *testing.T) {
	c := DefaultConfig()
	if c.MaxMessageSize != DefaultMaxMessageSize || c.Heartbeat != DefaultHeartbeat ||
		c.HeartbeatMax != DefaultHeartbeatMax || c.SessionTTL != DefaultSessionTTL ||
		c.SessionSweep != DefaultSessionSweep || c.SessionShards != DefaultSessionShards ||
		c.NodeTTL != DefaultNodeTTL || c.RegionFactor != DefaultRegionFactor ||
		c.DefaultDomain != DefaultDomain || c.HostDomain != DefaultHostDomain ||
		c.TCPPort != DefaultTCPPort || c.WSPort != DefaultWSPort || c.WSSPort != DefaultWSSPort ||
		c.PushTimeout != DefaultPushTimeout || c.Now == nil ||
		c.Backoff != (Backoff{MaxDelay: 300, BaseDelay: 3, Factor: 1.8, Jitter: 0.3}) {
		t.Errorf("defaults %+v", c)
	}
	for _, tt := range []struct {
		cfg   Config
		field string
	}{
		{Config{MaxMessageSize: -1}, "MaxMessageSize"},
		{Config{Heartbeat: -1}, "Heartbeat"},
		{Config{HeartbeatMax: -1}, "HeartbeatMax"},
		{Config{SessionTTL: -1}, "SessionTTL"},
		{Config{SessionSweep: -1}, "SessionSweep"},
		{Config{SessionShards: -1}, "SessionShards"},
		{Config{NodeTTL: -1}, "NodeTTL"},
		{Config{RegionFactor: -1}, "RegionFactor"},
		{Config{PushTimeout: -1}, "PushTimeout"},
	} {
		l, err := New(tt.cfg, discardLogger())
		if err == nil {
			l.Close()
		}
		if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tt.field) {
			t.Errorf("New with negative %s: %v, want ErrConfig naming it", tt.field, err)
		}
	}
}
