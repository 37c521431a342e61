// Package testcert makes self-signed TLS certificates for tests.
//
// New returns a fresh certificate valid for the given hosts (127.0.0.1 by
// default) with a server configuration that presents it, a pool that
// trusts it, and a way to write it to PEM files for code that loads
// certificates from disk. Only the standard library is used, and only test
// files may import this package.
package testcert

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Cert is a self-signed certificate and its key.
type Cert struct {
	// Server is a server configuration presenting the certificate; each
	// New returns its own, free for the caller to change.
	Server *tls.Config
	// Roots holds the certificate alone, for a client's RootCAs.
	Roots *x509.CertPool

	der []byte            // the certificate, DER-encoded
	key *ecdsa.PrivateKey // the certificate's key
}

// New returns a fresh self-signed ECDSA P-256 server certificate, valid
// from an hour ago to an hour from now, for hosts: IP addresses become IP
// subject alternative names, anything else DNS names. No hosts means
// "127.0.0.1". New fails the test on error.
func New(t testing.TB, hosts ...string) *Cert {
	t.Helper()
	if len(hosts) == 0 {
		hosts = []string{"127.0.0.1"}
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("testcert: generate key: %v", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "goim test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatalf("testcert: create certificate: %v", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("testcert: parse certificate: %v", err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(cert)
	return &Cert{
		Server: &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}}},
		Roots:  roots,
		der:    der,
		key:    key,
	}
}

// Client returns a new client configuration that trusts only c.
func (c *Cert) Client() *tls.Config {
	return &tls.Config{RootCAs: c.Roots}
}

// WriteFiles writes the certificate and its key as PEM files ("cert.pem",
// "key.pem" with an "EC PRIVATE KEY" block) to a fresh t.TempDir and
// returns their paths. It fails the test on error.
func (c *Cert) WriteFiles(t testing.TB) (certFile, keyFile string) {
	t.Helper()
	keyDER, err := x509.MarshalECPrivateKey(c.key)
	if err != nil {
		t.Fatalf("testcert: marshal key: %v", err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	files := []struct {
		path string
		pem  *pem.Block
	}{
		{certFile, &pem.Block{Type: "CERTIFICATE", Bytes: c.der}},
		{keyFile, &pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}},
	}
	for _, f := range files {
		if err := os.WriteFile(f.path, pem.EncodeToMemory(f.pem), 0o600); err != nil {
			t.Fatalf("testcert: %v", err)
		}
	}
	return certFile, keyFile
}
