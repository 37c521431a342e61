package rpc

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// testPKI is a CA and a certificate it signed for 127.0.0.1, usable by
// servers and clients, written as PEM files.
type testPKI struct {
	caFile, certFile, keyFile string
}

// newTestPKI makes a CA named name and a leaf certificate for 127.0.0.1
// under dir.
func newTestPKI(t testing.TB, name string) testPKI {
	t.Helper()
	dir := filepath.Join(t.TempDir(), name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	caKey := newKey(t)
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name + " CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	key := newKey(t)
	leafTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: name + " node"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	p := testPKI{
		caFile:   filepath.Join(dir, "ca.pem"),
		certFile: filepath.Join(dir, "cert.pem"),
		keyFile:  filepath.Join(dir, "key.pem"),
	}
	writePEM(t, p.caFile, "CERTIFICATE", caDER)
	writePEM(t, p.certFile, "CERTIFICATE", leafDER)
	writePEM(t, p.keyFile, "EC PRIVATE KEY", keyDER)
	return p
}

func newKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func writePEM(t testing.TB, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

func (p testPKI) server(t *testing.T, mutual bool) ServerConfig {
	t.Helper()
	ca := ""
	if mutual {
		ca = p.caFile
	}
	cfg, err := ServerTLSConfig(p.certFile, p.keyFile, ca)
	if err != nil {
		t.Fatal(err)
	}
	return ServerConfig{TLSConfig: cfg}
}

func (p testPKI) client(t *testing.T, withCert bool) ClientConfig {
	t.Helper()
	cert, key := "", ""
	if withCert {
		cert, key = p.certFile, p.keyFile
	}
	cfg, err := ClientTLSConfig(cert, key, p.caFile)
	if err != nil {
		t.Fatal(err)
	}
	return ClientConfig{TLSConfig: cfg, MinBackoff: time.Hour, MaxBackoff: time.Hour}
}

// TestTLS: calls work over TLS, with and without a client certificate and
// a secret; a server with mutual TLS refuses a client without a
// certificate, a plain client, and a client that trusts another CA. With
// TLS 1.3 a client learns that the server refused its certificate only
// on its first read: its dial succeeds and the connection is then lost;
// where the client itself can tell (the server's certificate, a secret)
// its dial fails with ErrAuth.
func TestTLS(t *testing.T) {
	pki := newTestPKI(t, "cluster")
	other := newTestPKI(t, "other")
	tests := []struct {
		name      string
		server    ServerConfig
		client    ClientConfig
		ok        bool
		dialFails bool // the client's dial fails with ErrAuth
	}{
		{"server TLS", pki.server(t, false), pki.client(t, false), true, false},
		{"mutual TLS", pki.server(t, true), pki.client(t, true), true, false},
		{"mutual TLS and secret", withSecret(pki.server(t, true), secretA), withSecretC(pki.client(t, true), secretA), true, false},
		{"TLS and different secrets", withSecret(pki.server(t, false), secretA), withSecretC(pki.client(t, false), secretB), false, true},
		{"no client certificate", pki.server(t, true), pki.client(t, false), false, false},
		{"plain client", pki.server(t, false), ClientConfig{MinBackoff: time.Hour, MaxBackoff: time.Hour}, false, false},
		{"client trusts another CA", pki.server(t, false), other.client(t, false), false, true},
		{"certificate of another CA", pki.server(t, true), func() ClientConfig {
			c := other.client(t, true)
			c.TLSConfig.RootCAs = pki.client(t, false).TLSConfig.RootCAs
			return c
		}(), false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startGuarded(t, tt.server)
			c := newTestClient(t, s.addr, tt.client)
			got, err := c.Call(testCtx(t), 1, []byte("over tls"), nil)
			if tt.ok {
				if err != nil || string(got) != "over tls" {
					t.Fatalf("Call = %q, %v", got, err)
				}
				return
			}
			if err == nil {
				t.Fatal("call succeeded")
			}
			waitAuthFailures(t, s.testServer, 1)
			if s.ran.Load() != 0 {
				t.Fatal("handler ran")
			}
			if tt.dialFails && (!errors.Is(err, ErrAuth) || c.Stats().AuthFailures != 1) {
				t.Errorf("Call err = %v, client stats %+v: want ErrAuth, counted", err, c.Stats())
			}
		})
	}
}

func withSecret(c ServerConfig, secret []byte) ServerConfig {
	c.Secret = secret
	return c
}

func withSecretC(c ClientConfig, secret []byte) ClientConfig {
	c.Secret = secret
	return c
}

func TestTLSConfigFiles(t *testing.T) {
	pki := newTestPKI(t, "files")
	if _, err := ServerTLSConfig(pki.certFile, pki.keyFile, filepath.Join(t.TempDir(), "none")); err == nil {
		t.Error("missing CA file accepted")
	}
	if _, err := ServerTLSConfig(pki.caFile, pki.keyFile, ""); err == nil {
		t.Error("mismatched key accepted")
	}
	if _, err := ClientTLSConfig("", "", pki.keyFile); err == nil {
		t.Error("CA file without certificate accepted")
	}
	if _, err := ClientTLSConfig(pki.certFile, "", ""); err == nil {
		t.Error("certificate without key accepted")
	}
}
