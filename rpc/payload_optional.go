package rpc

// OptionalVarint reads a zig-zag signed varint if bytes remain, else
// returns 0. It reads a field appended at the end of a message by newer
// senders, so that messages of older senders, which end before it, still
// decode.
func (d *Decoder) OptionalVarint() int64 {
	if d.err != nil || len(d.buf) == 0 {
		return 0
	}
	return d.Varint()
}
