package cli

import "testing"

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
