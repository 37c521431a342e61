package cli

import (
	"crypto/tls"
	"log/slog"

	"github.com/goimx/goim/rpc"
)

// ClusterSecretEnv is the environment variable that may hold the cluster
// secret instead of -cluster-secret-file.
const ClusterSecretEnv = "GOIM_CLUSTER_SECRET"

// rpcSecurity are the flags that secure the internal RPC of every tier of
// a binary: registered once per App, unprefixed, and applied to every
// tier's RPC server and clients (the tiers of a cluster share one secret
// and one CA).
type rpcSecurity struct {
	secretFile string
	certFile   string
	keyFile    string
	caFile     string
	insecure   bool

	// Set by load, after parsing.
	secret    []byte
	serverTLS *tls.Config
	clientTLS *tls.Config
}

// rpcSecurity returns the App's RPC security flags, registering them and
// their check on first use.
func (a *App) rpcSecurity() *rpcSecurity {
	if a.sec == nil {
		a.sec = &rpcSecurity{}
		a.sec.register(flagger{fs: a.fs})
		a.checks = append(a.checks, func() error { return a.sec.load(a.getenv) })
	}
	return a.sec
}

// register registers -cluster-secret-file, -rpc-cert, -rpc-key, -rpc-ca
// and -insecure-rpc.
func (s *rpcSecurity) register(f flagger) {
	f.str(&s.secretFile, "cluster-secret-file", "",
		"file holding the cluster secret (at least 16 bytes, e.g. openssl rand -hex 32) that authenticates every internal RPC connection both ways; the same on every tier (empty: the "+ClusterSecretEnv+" environment variable, else none)")
	f.str(&s.certFile, "rpc-cert", "", "PEM certificate of this process on the internal RPC: turns on TLS for every RPC link (needs -rpc-key)")
	f.str(&s.keyFile, "rpc-key", "", "PEM private key of -rpc-cert")
	f.str(&s.caFile, "rpc-ca", "", "PEM CA certificates that sign the RPC certificates of every tier: with -rpc-cert, mutual TLS (peers must show a certificate it signed)")
	f.boolean(&s.insecure, "insecure-rpc", false,
		"allow an RPC listener on a non-loopback address without -cluster-secret-file or mutual TLS (anyone who reaches it can push to every client; a warning is logged)")
}

// load reads the secret and the certificates the flags name, getenv
// giving the environment. The secret
// comes from -cluster-secret-file or from GOIM_CLUSTER_SECRET; both at
// once is an error, so that a forgotten variable never overrides a file
// silently (or the reverse).
func (s *rpcSecurity) load(getenv func(string) string) error {
	env := getenv(ClusterSecretEnv)
	switch {
	case s.secretFile != "" && env != "":
		return usageErr("cluster-secret-file", "set -cluster-secret-file or %s, not both", ClusterSecretEnv)
	case s.secretFile != "":
		secret, err := rpc.ReadSecretFile(s.secretFile)
		if err != nil {
			return usageErr("cluster-secret-file", "%v", err)
		}
		s.secret = secret
	case env != "":
		if err := rpc.ValidateSecret([]byte(env)); err != nil {
			return usageErr("cluster-secret-file", "%s: %v", ClusterSecretEnv, err)
		}
		s.secret = []byte(env)
	}
	return s.loadTLS()
}

// loadTLS builds the RPC TLS configurations from -rpc-cert, -rpc-key and
// -rpc-ca.
func (s *rpcSecurity) loadTLS() error {
	switch {
	case (s.certFile == "") != (s.keyFile == ""):
		return usageErr("rpc-cert", "-rpc-cert and -rpc-key go together")
	case s.certFile == "" && s.caFile != "":
		return usageErr("rpc-ca", "needs -rpc-cert and -rpc-key (every tier serves the RPC and dials it)")
	case s.certFile == "":
		return nil
	}
	var err error
	if s.serverTLS, err = rpc.ServerTLSConfig(s.certFile, s.keyFile, s.caFile); err != nil {
		return usageErr("rpc-cert", "%v", err)
	}
	if s.clientTLS, err = rpc.ClientTLSConfig(s.certFile, s.keyFile, s.caFile); err != nil {
		return usageErr("rpc-cert", "%v", err)
	}
	return nil
}

// authenticated reports whether the RPC peers authenticate each other: a
// cluster secret, or mutual TLS (-rpc-ca with -rpc-cert).
func (s *rpcSecurity) authenticated() bool {
	return s.secret != nil || (s.serverTLS != nil && s.caFile != "")
}

// checkExposure applies the startup rule to the RPC listener that flag
// rpcFlag sets to addr: not loopback needs authenticated peers or
// -insecure-rpc (then logged as a warning). The error names the flag.
func (s *rpcSecurity) checkExposure(rpcFlag, addr string, logger *slog.Logger) error {
	if err := rpc.CheckExposure(addr, s.authenticated(), s.insecure, logger); err != nil {
		return usageErr(rpcFlag, "%v", err)
	}
	return nil
}

// mode describes the RPC security for the start log line.
func (s *rpcSecurity) mode() string {
	switch {
	case s.secret != nil && s.serverTLS != nil:
		return "secret+tls"
	case s.secret != nil:
		return "secret"
	case s.authenticated():
		return "mutual-tls"
	case s.serverTLS != nil:
		return "tls"
	}
	return "none"
}

// apply sets the secret and TLS of a server and a client configuration.
func (s *rpcSecurity) apply(sc *rpc.ServerConfig, cc *rpc.ClientConfig) {
	if s == nil {
		return
	}
	if sc != nil {
		sc.Secret, sc.TLSConfig = s.secret, s.serverTLS
	}
	if cc != nil {
		cc.Secret, cc.TLSConfig = s.secret, s.clientTLS
	}
}
