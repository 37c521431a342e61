package rpc

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
)

// ErrAuth is reported for a connection that failed the connect-time
// authentication: no handshake, a malformed one, a wrong cluster secret, a
// handshake offered to a side without a secret, or one not finished within
// its deadline. The connection is closed before any frame is read.
var ErrAuth = errors.New("rpc: authentication failed")

// MinSecretLen is the shortest cluster secret accepted, in bytes.
const MinSecretLen = 16

// The handshake. Both sides send a hello, helloLen bytes:
//
//	magic "\xffGOIMRPC" | version 1 | nonce (32 random bytes)
//
// the client first, then the server. The client then sends its proof,
// HMAC-SHA256(secret, clientLabel | Nc | Ns | binding), and the server,
// once it checked it, its own: HMAC-SHA256(secret, serverLabel | Nc | Ns |
// binding). binding is empty on a plain connection and a TLS exporter
// value on TLS, so a proof made for one TLS session is worthless on
// another. The labels differ, so a proof reflected back to its sender
// fails; the nonces are fresh on every connection, so a recorded proof
// fails on the next. The client proves first: an anonymous peer learns
// nothing computed from the secret.
//
// The magic's first byte 0xff read as a frame length is far over any frame
// limit, and a frame's first byte is 0 for any length under 16 MiB, so
// each side tells a hello from a frame at once and says which was missing.
const (
	authMagic   = "\xffGOIMRPC"
	authVersion = 1
	nonceLen    = 32
	macLen      = sha256.Size
	helloLen    = len(authMagic) + 1 + nonceLen
	clientLabel = "goim rpc v1 client proof\x00"
	serverLabel = "goim rpc v1 server proof\x00"
	// tlsExporterLabel names the TLS keying material that binds the proofs
	// to the TLS session.
	tlsExporterLabel = "EXPORTER-goim-rpc-auth"
)

// ValidateSecret checks a cluster secret: at least MinSecretLen bytes.
func ValidateSecret(secret []byte) error {
	if len(secret) < MinSecretLen {
		return fmt.Errorf("rpc: cluster secret of %d bytes, need at least %d", len(secret), MinSecretLen)
	}
	return nil
}

// appendHello appends a hello carrying nonce to b.
func appendHello(b, nonce []byte) []byte {
	b = append(b, authMagic...)
	b = append(b, authVersion)
	return append(b, nonce...)
}

// parseHello checks a hello of exactly helloLen bytes and returns its
// nonce, which aliases b. Errors wrap ErrAuth.
func parseHello(b []byte) ([]byte, error) {
	if len(b) != helloLen {
		return nil, fmt.Errorf("%w: hello of %d bytes, want %d", ErrAuth, len(b), helloLen)
	}
	if err := checkMagic(b[:len(authMagic)]); err != nil {
		return nil, err
	}
	if v := b[len(authMagic)]; v != authVersion {
		return nil, fmt.Errorf("%w: handshake version %d, want %d", ErrAuth, v, authVersion)
	}
	return b[len(authMagic)+1:], nil
}

// checkMagic checks the first len(authMagic) bytes a peer sent.
func checkMagic(b []byte) error {
	if string(b) == authMagic {
		return nil
	}
	if len(b) > 0 && b[0] == 0 {
		return fmt.Errorf("%w: peer sent an RPC frame without a handshake (is the cluster secret set on the peer?)", ErrAuth)
	}
	return fmt.Errorf("%w: peer sent no handshake: bad magic % x", ErrAuth, b)
}

// isHello reports whether b starts like a hello: a peer with a secret
// talking to a side without one.
func isHello(b []byte) bool { return bytes.HasPrefix(b, []byte(authMagic)) }

// authMAC returns the proof of the side named by label over the nonces and
// the channel binding.
func authMAC(secret []byte, label string, clientNonce, serverNonce, binding []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(label))
	m.Write(clientNonce)
	m.Write(serverNonce)
	m.Write(binding)
	return m.Sum(nil)
}

// newNonce returns nonceLen fresh random bytes.
func newNonce() ([]byte, error) {
	n := make([]byte, nonceLen)
	if _, err := rand.Read(n); err != nil {
		return nil, fmt.Errorf("rpc: handshake nonce: %w", err)
	}
	return n, nil
}

// serverAuth runs the server's side of the handshake on rw. The caller
// sets the deadline. Every failure wraps ErrAuth.
func serverAuth(rw io.ReadWriter, secret, binding []byte) error {
	hello := make([]byte, helloLen)
	if _, err := io.ReadFull(rw, hello[:len(authMagic)]); err != nil {
		return fmt.Errorf("%w: reading the client hello: %w", ErrAuth, err)
	}
	if err := checkMagic(hello[:len(authMagic)]); err != nil {
		return err
	}
	if _, err := io.ReadFull(rw, hello[len(authMagic):]); err != nil {
		return fmt.Errorf("%w: reading the client hello: %w", ErrAuth, err)
	}
	clientNonce, err := parseHello(hello)
	if err != nil {
		return err
	}
	serverNonce, err := newNonce()
	if err != nil {
		return fmt.Errorf("%w: %w", ErrAuth, err)
	}
	if _, err := rw.Write(appendHello(nil, serverNonce)); err != nil {
		return fmt.Errorf("%w: writing the server hello: %w", ErrAuth, err)
	}
	proof := make([]byte, macLen)
	if _, err := io.ReadFull(rw, proof); err != nil {
		return fmt.Errorf("%w: reading the client proof: %w", ErrAuth, err)
	}
	if !hmac.Equal(proof, authMAC(secret, clientLabel, clientNonce, serverNonce, binding)) {
		return fmt.Errorf("%w: wrong client proof (the peer has a different cluster secret)", ErrAuth)
	}
	if _, err := rw.Write(authMAC(secret, serverLabel, clientNonce, serverNonce, binding)); err != nil {
		return fmt.Errorf("%w: writing the server proof: %w", ErrAuth, err)
	}
	return nil
}

// clientAuth runs the client's side of the handshake on rw. The caller
// sets the deadline. Every failure wraps ErrAuth.
func clientAuth(rw io.ReadWriter, secret, binding []byte) error {
	clientNonce, err := newNonce()
	if err != nil {
		return fmt.Errorf("%w: %w", ErrAuth, err)
	}
	if _, err := rw.Write(appendHello(nil, clientNonce)); err != nil {
		return fmt.Errorf("%w: writing the client hello: %w", ErrAuth, err)
	}
	hello := make([]byte, helloLen)
	if _, err := io.ReadFull(rw, hello); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return fmt.Errorf("%w: the server closed the connection instead of answering the handshake (has it no cluster secret, or is it at its connection limit?): %w", ErrAuth, err)
		}
		return fmt.Errorf("%w: reading the server hello: %w", ErrAuth, err)
	}
	serverNonce, err := parseHello(hello)
	if err != nil {
		return err
	}
	if hmac.Equal(serverNonce, clientNonce) {
		return fmt.Errorf("%w: the server reflected the client nonce", ErrAuth)
	}
	if _, err := rw.Write(authMAC(secret, clientLabel, clientNonce, serverNonce, binding)); err != nil {
		return fmt.Errorf("%w: writing the client proof: %w", ErrAuth, err)
	}
	proof := make([]byte, macLen)
	if _, err := io.ReadFull(rw, proof); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return fmt.Errorf("%w: the server refused the client proof (the server's cluster secret differs): %w", ErrAuth, err)
		}
		return fmt.Errorf("%w: reading the server proof: %w", ErrAuth, err)
	}
	if !hmac.Equal(proof, authMAC(secret, serverLabel, clientNonce, serverNonce, binding)) {
		return fmt.Errorf("%w: wrong server proof (the server has a different cluster secret)", ErrAuth)
	}
	return nil
}

// channelBinding returns the value that binds the proofs to nc's TLS
// session, or nil for a connection without TLS.
func channelBinding(nc net.Conn) ([]byte, error) {
	tc, ok := nc.(*tls.Conn)
	if !ok {
		return nil, nil
	}
	cs := tc.ConnectionState()
	b, err := cs.ExportKeyingMaterial(tlsExporterLabel, nil, 32)
	if err != nil {
		return nil, fmt.Errorf("%w: TLS channel binding: %w", ErrAuth, err)
	}
	return b, nil
}
