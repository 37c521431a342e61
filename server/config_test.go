package server

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goimx/goim/internal/testcert"
	"github.com/google/go-cmp/cmp"
)

// TestCometConfigDefaults: zero addresses take goim's ports, a
// certificate brings the WSS listener, and a comet without its RPC
// listener or with a bad certificate is refused.
func TestCometConfigDefaults(t *testing.T) {
	got, err := CometConfig{}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if !cmp.Equal(got.TCPAddrs, []string{":3101"}) || got.WSAddr != ":3102" || got.WSSAddr != "" ||
		got.TCPTLSAddr != "" || got.RPCAddr != ":3109" || got.LogicAddr != "127.0.0.1:3119" || got.TLSConfig != nil {
		t.Errorf("defaults %+v", got)
	}

	certFile, keyFile := testcert.New(t).WriteFiles(t)
	got, err = CometConfig{CertFile: certFile, KeyFile: keyFile}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if got.TLSConfig == nil || len(got.TLSConfig.Certificates) != 1 || got.WSSAddr != ":3103" {
		t.Errorf("with a certificate: TLSConfig %v, WSSAddr %q; want a certificate and :3103", got.TLSConfig, got.WSSAddr)
	}
	if got, err := (CometConfig{CertFile: certFile, KeyFile: keyFile, WSSAddr: NoListen}).withDefaults(); err != nil || got.WSSAddr != NoListen {
		t.Errorf("WSS off with a certificate: %q, %v", got.WSSAddr, err)
	}

	bad := filepath.Join(t.TempDir(), "bad.pem")
	if err := os.WriteFile(bad, []byte("not pem"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []CometConfig{
		{RPCAddr: NoListen},
		{CertFile: bad, KeyFile: bad},
		{CertFile: certFile},
	} {
		if _, err := c.withDefaults(); err == nil {
			t.Errorf("withDefaults(%+v) accepted", c)
		}
	}
	if _, err := LoadTLS(bad, bad); err == nil || !strings.HasPrefix(err.Error(), "server: load certificate") {
		t.Errorf("LoadTLS of a bad file: %v", err)
	}
}

func TestLogicAndJobConfigDefaults(t *testing.T) {
	if l := (LogicConfig{}).withDefaults(); l.HTTPAddr != ":3111" || l.RPCAddr != ":3119" {
		t.Errorf("logic defaults %+v", l)
	}
	if j := (JobConfig{}).withDefaults(); j.RPCAddr != ":3129" || j.LogicAddr != "127.0.0.1:3119" {
		t.Errorf("job defaults %+v", j)
	}
}

// TestFollowCometPorts: a node's logic advertises its comet's ports
// unless its own are set.
func TestFollowCometPorts(t *testing.T) {
	tests := []struct {
		name    string
		logic   [3]int // tcp, ws, wss given to logic
		tcp     []string
		ws, wss string
		want    [3]int
	}{
		{"follow", [3]int{}, []string{"-", ":4101"}, ":4102", ":4103", [3]int{4101, 4102, 4103}},
		{"given", [3]int{1, 2, 443}, []string{":4101"}, ":4102", ":4103", [3]int{1, 2, 443}},
		{"no fixed port", [3]int{}, []string{":0"}, ":0", ":0", [3]int{}},
		{"no listener", [3]int{}, []string{"-"}, "-", "", [3]int{-1, -1, -1}},
		{"no listener, port given", [3]int{0, 0, 443}, []string{":4101"}, ":4102", "", [3]int{4101, 4102, 443}},
	}
	for _, tt := range tests {
		l := LogicConfig{}
		l.Logic.TCPPort, l.Logic.WSPort, l.Logic.WSSPort = tt.logic[0], tt.logic[1], tt.logic[2]
		followCometPorts(&l, &CometConfig{TCPAddrs: tt.tcp, WSAddr: tt.ws, WSSAddr: tt.wss})
		if got := [3]int{l.Logic.TCPPort, l.Logic.WSPort, l.Logic.WSSPort}; got != tt.want {
			t.Errorf("%s: ports %v, want %v", tt.name, got, tt.want)
		}
	}
}
