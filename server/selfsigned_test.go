package server

import (
	"crypto/tls"
	"crypto/x509"
	"log/slog"
	"testing"
	"time"

	"github.com/goimx/goim/client"
)

// TestSelfSignedTLS: the generated certificate verifies for localhost and
// 127.0.0.1 against itself and is short-lived.
func TestSelfSignedTLS(t *testing.T) {
	cfg, err := SelfSignedTLS("example.test", "10.1.2.3")
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(cfg.Certificates[0].Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	for _, name := range []string{"localhost", "127.0.0.1", "::1", "example.test", "10.1.2.3"} {
		if _, err := cert.Verify(x509.VerifyOptions{Roots: pool, DNSName: name}); err != nil {
			t.Errorf("verify for %s: %v", name, err)
		}
	}
	if _, err := cert.Verify(x509.VerifyOptions{Roots: pool, DNSName: "other.test"}); err == nil {
		t.Error("verifies for a name it was not made for")
	}
	if life := time.Until(cert.NotAfter); life > selfSignedLifetime || life < selfSignedLifetime-time.Hour {
		t.Errorf("valid for %v more, want about %v", life, selfSignedLifetime)
	}
}

// TestCometSelfSigned: a comet with TLSSelfSigned serves WSS, and a client
// that skips verification gets pushes over it.
func TestCometSelfSigned(t *testing.T) {
	n, err := Start(Config{
		Logic: LogicConfig{HTTPAddr: loop, RPCAddr: loop},
		Comet: CometConfig{TCPAddrs: []string{NoListen}, WSAddr: NoListen, WSSAddr: loop, RPCAddr: loop, TLSSelfSigned: true},
		Job:   JobConfig{RPCAddr: loop},
	}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	waitReady(t, n)
	wss := n.Comet().Addrs().WSS
	if wss == nil {
		t.Fatal("no WSS listener")
	}
	conn := dial(t, client.TransportWSS, wss, &tls.Config{InsecureSkipVerify: true}, "self-signed")
	push(t, n.Logic().HTTPAddr().String(), "self-signed", "over wss")
	expect(t, conn, "over wss")
}
