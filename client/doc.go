// Package client is a Go client for goim's wire protocol (PROTOCOL.md): it
// connects to a comet over TCP, TCP+TLS, WebSocket or secure WebSocket,
// authenticates with a Token, and then reads pushed messages and sends
// heartbeats, room changes, subscriptions and application messages.
//
// A minimal session:
//
//	c, err := client.Dial(ctx, client.Config{
//		Addr:      "127.0.0.1:3101",
//		Token:     client.Token{Mid: 123, RoomID: "live://1000", Platform: "web", Accepts: []int32{1000}},
//		Heartbeat: 30 * time.Second,
//	})
//	if err != nil { ... }
//	defer c.Close()
//	for {
//		m, err := c.Read()
//		if err != nil { ... }
//		fmt.Println(m.Op, string(m.Body))
//	}
//
// Read returns one packet at a time: the server's batches (op 9, OpRaw,
// whose body is packets back to back) are unpacked transparently, so a
// caller sees the pushed packets themselves, and replies (heartbeat, room
// change, sub, acknowledgements) arrive through Read too, in stream order.
//
// Concurrency: one goroutine may call Read (and ReadOwned) at a time; the
// write methods (Heartbeat, ChangeRoom, Sub, Unsub, Send) and Close may be
// called from any goroutine, concurrently with Read and with each other.
//
// Footprint: a Conn starts no goroutine. The reader is the caller's, and
// Config.Heartbeat uses a runtime timer rather than a goroutine. A program
// holding many connections (a load generator) can heartbeat them all from a
// single goroutine with a Heartbeater instead. A TCP Conn holds one read
// buffer of HeaderLen+MaxBody bytes (4112 by default) and a small write
// scratch buffer.
package client
