package testcert

import (
	"crypto/tls"
	"io"
	"net"
	"testing"
	"time"
)

// handshake runs a TLS handshake between server and client over a
// loopback connection, the client asking for serverName, and returns the
// client's error.
func handshake(t *testing.T, server, client *tls.Config, serverName string) error {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		defer nc.Close()
		nc.SetDeadline(time.Now().Add(10 * time.Second))
		s := tls.Server(nc, server)
		if s.Handshake() == nil {
			io.Copy(io.Discard, s) // until the client closes
		}
	}()
	client = client.Clone()
	client.ServerName = serverName
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", ln.Addr().String(), client)
	if err == nil {
		c.Close()
	}
	<-done
	return err
}

func TestNew(t *testing.T) {
	tests := []struct {
		hosts      []string
		serverName string
		wantErr    bool
	}{
		{nil, "127.0.0.1", false},
		{nil, "localhost", true},
		{[]string{"localhost", "::1"}, "localhost", false},
		{[]string{"localhost", "::1"}, "::1", false},
		{[]string{"localhost", "::1"}, "127.0.0.1", true},
	}
	for _, tt := range tests {
		c := New(t, tt.hosts...)
		err := handshake(t, c.Server, c.Client(), tt.serverName)
		if (err != nil) != tt.wantErr {
			t.Errorf("hosts %q, server name %q: handshake error %v, want error %v", tt.hosts, tt.serverName, err, tt.wantErr)
		}
	}
}

func TestOtherCertNotTrusted(t *testing.T) {
	a, b := New(t), New(t)
	if err := handshake(t, a.Server, b.Client(), "127.0.0.1"); err == nil {
		t.Error("a client trusting another certificate completed the handshake")
	}
}

func TestWriteFiles(t *testing.T) {
	c := New(t)
	certFile, keyFile := c.WriteFiles(t)
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	server := &tls.Config{Certificates: []tls.Certificate{pair}}
	if err := handshake(t, server, c.Client(), "127.0.0.1"); err != nil {
		t.Errorf("handshake with the written files: %v", err)
	}
}
