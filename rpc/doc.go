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
// Frames from many goroutines are batched: a writer that finds the
// connection idle writes its frame at once; frames queued while a write is in
// progress go out together in the next write, which a per-connection writer
// goroutine makes.
//
// A frame longer than the receiver's MaxFrameSize, shorter than the 7-byte
// header, of an unknown kind, or an error frame without its code closes that
// connection (and only it).
package rpc
