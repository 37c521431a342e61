package logic

import (
	"net/http"
	"testing"

	"github.com/goimx/goim/logic/logicrpc"
)

// TestPortsNotOffered: a negative port (a transport the comets do not
// offer, WSS without a certificate) is advertised as 0, the others as
// set; a comet without client addresses has no addrs in its metadata.
func TestPortsNotOffered(t *testing.T) {
	e := newTestEnv(t, func(c *Config) { c.TCPPort, c.WSPort, c.WSSPort = 4101, 4102, -1 })
	n := cometInfo("c1")
	n.Addrs = nil
	e.report(t, n, nil)
	_, v := do(t, e.l.Handler(), http.MethodGet, "/goim/nodes/weighted", "")
	data := v.(map[string]any)["data"].(map[string]any)
	if data["tcp_port"] != 4101.0 || data["ws_port"] != 4102.0 || data["wss_port"] != 0.0 {
		t.Errorf("ports tcp %v ws %v wss %v, want 4101 4102 0", data["tcp_port"], data["ws_port"], data["wss_port"])
	}
	_, v = do(t, e.l.Handler(), http.MethodGet, "/goim/nodes/instances", "")
	md := v.(map[string]any)["data"].([]any)[0].(map[string]any)["metadata"].(map[string]any)
	if _, ok := md["addrs"]; ok || md["weight"] != "10" {
		t.Errorf("metadata %v: want weight and no addrs", md)
	}
	e.report(t, logicrpc.NodeInfo{ID: "c2", Kind: logicrpc.KindComet, Addrs: []string{"1.2.3.4", "5.6.7.8"}}, nil)
	_, v = do(t, e.l.Handler(), http.MethodGet, "/goim/nodes/instances", "")
	md = v.(map[string]any)["data"].([]any)[1].(map[string]any)["metadata"].(map[string]any)
	if md["addrs"] != "1.2.3.4,5.6.7.8" {
		t.Errorf("metadata %v: want addrs 1.2.3.4,5.6.7.8", md)
	}
}
