// Package rpc is the tiny length-prefixed, multiplexed RPC the tiers use to
// talk to each other. It knows nothing of the tiers: a method is a uint16, a
// payload is bytes encoded by hand with the Append functions and read back
// with a Decoder.
//
// # Wire format
//
// Every frame is
//
//	uint32 BE length of the rest | kind uint8 | method uint16 BE | seq uint32 BE | payload
//
// so the length is 7 plus the payload size. A call (KindCall) is answered by
// a reply (KindReply) or an error (KindError) with the same seq and method.
// A one-way message (KindOneway) carries in seq a tag of the sender's
// choosing (0 from Send) and has no answer unless its handler fails: then
// the server sends back a KindOnewayError frame with the message's method
// and tag. The payload of both error kinds is
//
//	code uint16 BE | error text
//
// where code is that of the *Error the handler's error wraps (0: none).
//
// # Errors
//
// A package that owns a service's errors declares them with NewError, each
// with a code unique in the module (rpc 1-99, comet/cometrpc 100-199,
// logic/logicrpc 200-299, job/jobrpc 300-399). The caller's RemoteError
// carries the code and matches, with errors.Is, the *Error of that code, so
// a service behaves the same called in process or over the RPC.
//
// # Semantics
//
// Many calls are in flight on one connection at once and the server runs
// them concurrently (at most ServerConfig.MaxInflight per connection). One-way
// messages on one connection are handled strictly in arrival order, on the
// connection's read goroutine; Sends made by one goroutine on one Client reach
// the wire in the order they were made. Together this keeps, for example, a
// room's messages in order end to end.
//
// Frames from many goroutines are batched: a caller or replier that finds
// the connection idle writes on its own goroutine, after yielding the
// processor once so that goroutines ready to write join that write; frames
// queued while a write is in progress go out together in the next write,
// which a per-connection writer goroutine makes. ClientStats and
// ServerStats count frames and writes.
//
// A frame longer than the receiver's MaxFrameSize, shorter than the 7-byte
// header, of an unknown kind, or an error frame without its code closes
// that connection (and only it). A receiver never allocates ahead of the bytes that arrived: a frame bigger
// than the 64 KiB read buffer is read into a buffer that starts at twice
// that once the read buffer is full and doubles as it fills, so a peer
// that claims a large frame and sends little of it holds little memory.
//
// # Authentication and TLS
//
// With a cluster secret (ServerConfig.Secret, ClientConfig.Secret, the same
// on every tier) every connection is authenticated, in both directions, at
// connect time, before any frame:
//
//	client -> server  hello:  "\xffGOIMRPC" | version 1 | Nc (32 random bytes)
//	server -> client  hello:  "\xffGOIMRPC" | version 1 | Ns (32 random bytes)
//	client -> server  proof:  HMAC-SHA256(secret, "goim rpc v1 client proof\x00" | Nc | Ns | binding)
//	server -> client  proof:  HMAC-SHA256(secret, "goim rpc v1 server proof\x00" | Nc | Ns | binding)
//
// The secret never crosses the wire. Both nonces are fresh on every
// connection, so a recorded proof is worthless on the next one; the role
// labels differ, so a proof reflected to its sender fails; proofs are
// compared in constant time. The client proves first, so an anonymous peer
// gets nothing computed from the secret. On TLS, binding is 32 bytes of
// the session's exported keying material (label "EXPORTER-goim-rpc-auth"),
// so proofs cannot be relayed into another TLS session; on plain TCP it is
// empty. The server allows ServerConfig.HandshakeTimeout for the TLS and
// secret handshakes together. A connection that fails (no handshake, a
// malformed one, a wrong secret, the deadline) is closed before any
// handler runs and counted in ServerStats.AuthFailures; a client's failed
// handshake is a failed dial, counted in ClientStats.AuthFailures.
//
// A secret set on one side only fails closed: a server with a secret
// refuses a peer that sends frames without a hello (its first byte is 0,
// a hello's 0xff), and a server without one refuses a peer that offers a
// hello; both log why and count it. Without a secret on either side there
// is no handshake.
//
// TLS (ServerConfig.TLSConfig, ClientConfig.TLSConfig; ServerTLSConfig and
// ClientTLSConfig build them from PEM files, mutual when given a CA) wraps
// the connection before the secret's handshake. The secret alone
// authenticates connections but does not protect the frames after the
// handshake: on a network where someone can read or alter traffic, use TLS
// as well.
//
// # Limits
//
// A server closes a connection on which nothing arrives for
// ServerConfig.IdleTimeout (30s by default; counted in IdleClosed); a
// client sends a keepalive, a one-way frame of the reserved PingMethod
// that the server drops, on a connection it has written nothing to for
// ClientConfig.PingInterval (10s), so quiet links stay up. Each listener
// serves at most ServerConfig.MaxConns connections (1024 by default,
// counting those in their handshake), and at most
// ServerConfig.MaxHandshakesPerIP (64) of one remote IP in their
// handshake; one accepted over either is closed at once and counted in
// ConnsRefused. CheckExposure is the startup rule for
// a listener reachable from other machines without authentication.
package rpc
