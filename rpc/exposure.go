package rpc

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
)

// ErrExposed is returned by CheckExposure for an RPC address reachable
// from other machines with no peer authentication configured.
var ErrExposed = errors.New("rpc: RPC address not loopback and no cluster secret set")

// CheckExposure is the startup rule of a separate tier binary: an RPC
// listener on a non-loopback address (an empty host, 0.0.0.0 and :: listen
// on every interface) needs peer authentication, a cluster secret or
// mutual TLS, which authenticated reports. Without it CheckExposure returns
// an error wrapping ErrExposed that names the flags to set, unless
// insecure, in which case it logs a warning and returns nil. A loopback
// address (127.0.0.0/8, ::1, localhost) is always allowed. A host name
// other than localhost is not resolved: it counts as exposed.
func CheckExposure(addr string, authenticated, insecure bool, logger *slog.Logger) error {
	if authenticated || isLoopbackAddr(addr) {
		return nil
	}
	if insecure {
		if logger == nil {
			logger = slog.Default()
		}
		logger.Warn("rpc: serving the internal RPC without authentication on a non-loopback address (-insecure-rpc): anyone who reaches it can push to every client",
			"addr", addr)
		return nil
	}
	return fmt.Errorf("%w: %s listens beyond this machine; set -cluster-secret-file (or GOIM_CLUSTER_SECRET) on every tier, or pass -insecure-rpc to run unauthenticated", ErrExposed, addr)
}

// isLoopbackAddr reports whether addr ("host:port" or a bare host) names a
// loopback host.
func isLoopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// ReadSecretFile reads a cluster secret from path: the file's bytes, with
// surrounding white space (a trailing newline) removed. The secret must be
// at least MinSecretLen bytes (ValidateSecret); 32 random bytes, for
// example `openssl rand -hex 32`, is a good one.
func ReadSecretFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("rpc: cluster secret: %w", err)
	}
	secret := bytes.TrimSpace(b)
	if err := ValidateSecret(secret); err != nil {
		return nil, fmt.Errorf("%w (file %s)", err, path)
	}
	return secret, nil
}
