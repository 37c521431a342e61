// Package comet is the connection tier of the push server: it accepts
// client connections over TCP and WebSocket (each plain or over TLS),
// authenticates them through logic, keeps them in buckets and rooms, and
// delivers the pushes that jobs send it through its RPC service
// (cometrpc), speaking goim's wire protocol (PROTOCOL.md) byte for byte.
//
// # Use
//
//	cm, err := comet.New(cfg, logicClient, logger) // logicrpc.Service
//	go cm.ServeTCP(tcpListener)                     // and ServeWS, ServeRPC
//	...
//	err = cm.Shutdown(ctx)
//
// The comet listens on nothing itself: package server binds the
// listeners of a configuration (TLS included), dials logic and serves
// them. A *Comet implements cometrpc.Service in process too.
//
// # Connections
//
// A connection's life: upgrade (WebSocket), an op-7 auth packet answered
// by logic (Connect), the op-8 reply, registration in the bucket of its key
// (a previous connection with the same key is closed) and its rooms (the
// primary room and the token's additional ones), then heartbeats (op 2,
// answered with op 3 and the primary room's online count), room changes,
// joins and leaves of additional rooms (ops 20 and 22, at most
// Config.MaxRooms in all), sub/unsub and application messages forwarded
// to logic.
// Deadlines (handshake, heartbeat) live in a sharded heap timer, not in
// one runtime timer per connection. On close the connection leaves its
// rooms and bucket and logic is told (Disconnect, with the connection id
// so that a newer connection with the same key keeps its session) by a
// few goroutines of the comet, from a queue: a closed connection's own
// goroutine ends at once, so a mass close (a network cut) costs a queued
// request per connection while logic catches up, not a goroutine each.
//
// An idle plain TCP or WebSocket connection on Linux costs no goroutine:
// it is parked in an epoll set of one of a few poller goroutines
// (Config.ReadPollers), which start a transient reader when bytes arrive
// or the connection is closed. Elsewhere, for TLS, or with ReadPollers
// negative, it costs one goroutine (its reader, blocked on a 16-byte
// header read with a stack that stays at 2 KB for TCP). Either way it
// holds no buffer: buffers are taken from a pool only while a packet is
// read or written, and the writer goroutine exists only while messages
// wait.
//
// # Pushes
//
// Every pushed message or room batch is encoded once into an immutable
// byte slice that is a whole WebSocket frame (an op-9 packet around the
// pushed packets); TCP connections write its packet suffix. Connections
// share it: nothing is re-encoded or copied per connection. A room or
// broadcast message to a plain TCP connection whose writer is idle is
// written by the room worker itself (conn.flush: non-blocking writes,
// after its locks are released); what the socket does not take, pushes
// by key, and WebSocket and TLS writes go to the connection's writer
// goroutine. Each connection's send queue is bounded
// in bytes (Config.SendQueueBytes); a message that does not fit is
// dropped and counted (or the connection closed, per Config.SlowPolicy),
// so a slow reader never delays anyone else. Room pushes run on
// per-bucket room workers, one queue per room hash, so a room push
// spreads over cores while one room's messages stay in order; a worker
// queues a message to all its members, then writes to them in one pass.
//
// # Locking
//
// Lock order (docs/locking.md): Comet.reportMu, then bucket.mu, then
// conn.mu; Comet.mu, conn.wmu, the ip counter shards and the timers are
// leaves. Nothing blocks (socket write, logic call) under bucket.mu or
// conn.mu.
package comet
