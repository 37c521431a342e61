package bench

import (
	"encoding/binary"
	"errors"
	"time"
)

// StampLen is the size of the stamp at the start of every message the
// benchmarks push: the send time (int64 Unix nanoseconds), the round
// (uint32) and the message's sequence number in its round (uint32), all
// big-endian.
const StampLen = 16

// ErrNoStamp is returned by ParseStamp for a body shorter than StampLen.
var ErrNoStamp = errors.New("bench: message has no stamp")

// Stamp is the header of a benchmark message.
type Stamp struct {
	Sent  int64  // send time, Unix nanoseconds
	Round uint32 // measurement round the message belongs to
	Seq   uint32 // sequence number within the round
}

// AppendStamp appends s to b, then pads it with 'x' up to size bytes in all
// (nothing is padded when size <= StampLen).
func AppendStamp(b []byte, s Stamp, size int) []byte {
	b = binary.BigEndian.AppendUint64(b, uint64(s.Sent))
	b = binary.BigEndian.AppendUint32(b, s.Round)
	b = binary.BigEndian.AppendUint32(b, s.Seq)
	for i := StampLen; i < size; i++ {
		b = append(b, 'x')
	}
	return b
}

// PutStamp overwrites the first StampLen bytes of b with s; b must be at
// least StampLen long.
func PutStamp(b []byte, s Stamp) {
	_ = b[StampLen-1]
	binary.BigEndian.PutUint64(b, uint64(s.Sent))
	binary.BigEndian.PutUint32(b[8:], s.Round)
	binary.BigEndian.PutUint32(b[12:], s.Seq)
}

// ParseStamp reads the stamp at the start of body.
func ParseStamp(body []byte) (Stamp, error) {
	if len(body) < StampLen {
		return Stamp{}, ErrNoStamp
	}
	return Stamp{
		Sent:  int64(binary.BigEndian.Uint64(body)),
		Round: binary.BigEndian.Uint32(body[8:]),
		Seq:   binary.BigEndian.Uint32(body[12:]),
	}, nil
}

// Age returns how long ago, at now, the stamped message was sent.
func (s Stamp) Age(now time.Time) time.Duration {
	return time.Duration(now.UnixNano() - s.Sent)
}
