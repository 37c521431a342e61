// Package websocket is a small RFC 6455 WebSocket implementation for the
// comet connection tier (server role) and for the Go client and load
// generator (client role).
//
// It is built for many mostly idle connections:
//
//   - ServerHandshake runs the HTTP/1.1 upgrade over a raw net.Conn (no
//     net/http server per connection) with a scratch buffer the caller owns
//     and gets back.
//   - Conn holds no buffer while idle: ReadMessage reads the frame header
//     into a small array inside Conn and appends the payload to the caller's
//     buffer only once a frame has arrived.
//   - Server frames are unmasked, so AppendFrame encodes a frame once and the
//     same bytes can be written to many connections with WritePreparedFrame.
//
// Extensions (permessage-deflate) and subprotocols are not negotiated.
//
// Concurrency: one goroutine at a time may call ReadMessage. The write
// methods (WriteMessage, WritePreparedFrame, WriteClose) may be called from
// any goroutine; they and the pong and close replies that ReadMessage sends
// are serialized by a mutex inside Conn. Every write to the underlying
// net.Conn must therefore go through Conn, or replies could interleave with
// the caller's frames.
package websocket
