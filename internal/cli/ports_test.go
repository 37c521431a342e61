package cli

import (
	"strings"
	"testing"
)

// TestPortNotOffered: -wss-port 0 (and the other two) means the comets
// do not offer the transport: logic.Config gets -1, advertised as 0.
func TestPortNotOffered(t *testing.T) {
	app := NewApp("logic", "")
	lf := app.Logic("")
	parseApp(t, app, "-wss-port", "0", "-ws-port", "0")
	c := lf.Config().Logic
	if c.TCPPort != 3101 || c.WSPort != -1 || c.WSSPort != -1 {
		t.Errorf("ports tcp %d ws %d wss %d, want 3101 -1 -1", c.TCPPort, c.WSPort, c.WSSPort)
	}
}

// TestSelfSignedFlag: -wss needs -cert and -key unless -tls-self-signed,
// which the config carries to the server package.
func TestSelfSignedFlag(t *testing.T) {
	app := NewApp("comet", "")
	app.Comet("", true)
	var out strings.Builder
	if code, ok := app.parse([]string{"-wss", "127.0.0.1:0"}, &out); ok || code != ExitUsage || !strings.Contains(out.String(), "-tls-self-signed") {
		t.Errorf("-wss without a certificate: %d %v %q", code, ok, out.String())
	}
	app = NewApp("comet", "")
	cf := app.Comet("", true)
	parseApp(t, app, "-wss", "127.0.0.1:0", "-tls-self-signed")
	if c := cf.Config(); !c.TLSSelfSigned || c.WSSAddr != "127.0.0.1:0" {
		t.Errorf("config %+v", c)
	}
}
