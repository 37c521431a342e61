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
// a reply (KindReply) or an error (KindError, the payload is the message) with
// the same seq and method. A one-way message (KindOneway, seq 0) has no
// answer.
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
// Frames from many goroutines are batched: a writer that finds the
// connection idle writes its frame at once; frames queued while a write is in
// progress go out together in the next write, which a per-connection writer
// goroutine makes.
//
// A frame longer than the receiver's MaxFrameSize, shorter than the 7-byte
// header, or of an unknown kind closes that connection (and only it).
package rpc
