package rpc

import (
	"encoding/binary"
	"fmt"
	"math"
)

// ErrTruncated is reported by a Decoder whose input ended before a value did.
var ErrTruncated = NewError(CodeTruncated, "rpc: payload truncated")

// ErrMalformed is reported by a Decoder for bytes that cannot be a value of
// the expected kind (an overlong varint, a negative or absurd length).
var ErrMalformed = NewError(CodeMalformed, "rpc: payload malformed")

// AppendUvarint appends v as an unsigned varint.
func AppendUvarint(b []byte, v uint64) []byte { return binary.AppendUvarint(b, v) }

// AppendVarint appends v as a zig-zag signed varint.
func AppendVarint(b []byte, v int64) []byte { return binary.AppendVarint(b, v) }

// AppendBool appends v as one byte, 1 or 0.
func AppendBool(b []byte, v bool) []byte {
	if v {
		return append(b, 1)
	}
	return append(b, 0)
}

// AppendBytes appends p prefixed by its length as a uvarint.
func AppendBytes(b []byte, p []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(p)))
	return append(b, p...)
}

// AppendString appends s prefixed by its length as a uvarint.
func AppendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// AppendStrings appends a count followed by each string of ss.
func AppendStrings(b []byte, ss []string) []byte {
	b = binary.AppendUvarint(b, uint64(len(ss)))
	for _, s := range ss {
		b = AppendString(b, s)
	}
	return b
}

// AppendInt64s appends a count followed by each value of vs as a varint.
func AppendInt64s(b []byte, vs []int64) []byte {
	b = binary.AppendUvarint(b, uint64(len(vs)))
	for _, v := range vs {
		b = binary.AppendVarint(b, v)
	}
	return b
}

// AppendInt32s appends a count followed by each value of vs as a varint.
func AppendInt32s(b []byte, vs []int32) []byte {
	b = binary.AppendUvarint(b, uint64(len(vs)))
	for _, v := range vs {
		b = binary.AppendVarint(b, int64(v))
	}
	return b
}

// AppendStringInt32Map appends a count followed by each key and value of m.
// The order of entries follows map iteration and is not stable.
func AppendStringInt32Map(b []byte, m map[string]int32) []byte {
	b = binary.AppendUvarint(b, uint64(len(m)))
	for k, v := range m {
		b = AppendString(b, k)
		b = binary.AppendVarint(b, int64(v))
	}
	return b
}

// maxPrealloc caps the capacity a decoder reserves from a count it read,
// so a forged count costs no more than the elements that really follow.
const maxPrealloc = 1024

// Decoder reads values written by the Append functions from a payload. The
// first error sticks: later reads return zero values, and Err reports it, so
// a message decoder may read every field and check Err once at the end.
// Byte slices it returns alias the payload; strings are copies.
type Decoder struct {
	buf []byte
	err error
}

// NewDecoder returns a Decoder over p. It does not copy p.
func NewDecoder(p []byte) Decoder { return Decoder{buf: p} }

// Reset points the decoder at p and clears its error.
func (d *Decoder) Reset(p []byte) { d.buf, d.err = p, nil }

// Err returns the first error met, or nil.
func (d *Decoder) Err() error { return d.err }

// Len returns how many bytes are left to read.
func (d *Decoder) Len() int { return len(d.buf) }

// Finish returns the first error met, or ErrMalformed when bytes are left
// over after the last field.
func (d *Decoder) Finish() error {
	if d.err == nil && len(d.buf) != 0 {
		d.err = fmt.Errorf("%w: %d trailing bytes", ErrMalformed, len(d.buf))
	}
	return d.err
}

func (d *Decoder) fail(err error) {
	if d.err == nil {
		d.err = err
	}
	d.buf = nil
}

// Uvarint reads an unsigned varint.
func (d *Decoder) Uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.buf)
	if n <= 0 {
		if n == 0 {
			d.fail(ErrTruncated)
		} else {
			d.fail(fmt.Errorf("%w: varint overflows 64 bits", ErrMalformed))
		}
		return 0
	}
	d.buf = d.buf[n:]
	return v
}

// Varint reads a zig-zag signed varint.
func (d *Decoder) Varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.buf)
	if n <= 0 {
		if n == 0 {
			d.fail(ErrTruncated)
		} else {
			d.fail(fmt.Errorf("%w: varint overflows 64 bits", ErrMalformed))
		}
		return 0
	}
	d.buf = d.buf[n:]
	return v
}

// Int32 reads a signed varint that must fit in 32 bits.
func (d *Decoder) Int32() int32 {
	v := d.Varint()
	if v < math.MinInt32 || v > math.MaxInt32 {
		d.fail(fmt.Errorf("%w: %d does not fit in int32", ErrMalformed, v))
		return 0
	}
	return int32(v)
}

// Bool reads one byte that must be 0 or 1.
func (d *Decoder) Bool() bool {
	if d.err != nil {
		return false
	}
	if len(d.buf) == 0 {
		d.fail(ErrTruncated)
		return false
	}
	c := d.buf[0]
	if c > 1 {
		d.fail(fmt.Errorf("%w: bool byte %d", ErrMalformed, c))
		return false
	}
	d.buf = d.buf[1:]
	return c == 1
}

// length reads a length or count prefix and checks that at least
// n*minSize bytes remain, so a forged count cannot make a caller allocate
// more than the payload could hold.
func (d *Decoder) length(minSize int) int {
	n := d.Uvarint()
	if d.err != nil {
		return 0
	}
	if n > uint64(len(d.buf)) || n*uint64(minSize) > uint64(len(d.buf)) {
		d.fail(fmt.Errorf("%w: length %d, %d bytes left", ErrTruncated, n, len(d.buf)))
		return 0
	}
	return int(n)
}

// Bytes reads a length-prefixed byte slice. The result aliases the payload
// and is nil when the length is zero.
func (d *Decoder) Bytes() []byte {
	n := d.length(1)
	if d.err != nil || n == 0 {
		return nil
	}
	p := d.buf[:n:n]
	d.buf = d.buf[n:]
	return p
}

// String reads a length-prefixed string (a copy).
func (d *Decoder) String() string { return string(d.Bytes()) }

// Strings reads a count followed by that many strings.
func (d *Decoder) Strings() []string {
	n := d.length(1)
	if d.err != nil || n == 0 {
		return nil
	}
	ss := make([]string, 0, min(n, maxPrealloc))
	for range n {
		ss = append(ss, d.String())
	}
	if d.err != nil {
		return nil
	}
	return ss
}

// Int64s reads a count followed by that many varints.
func (d *Decoder) Int64s() []int64 {
	n := d.length(1)
	if d.err != nil || n == 0 {
		return nil
	}
	vs := make([]int64, 0, min(n, maxPrealloc))
	for range n {
		vs = append(vs, d.Varint())
	}
	if d.err != nil {
		return nil
	}
	return vs
}

// Int32s reads a count followed by that many varints that fit in 32 bits.
func (d *Decoder) Int32s() []int32 {
	n := d.length(1)
	if d.err != nil || n == 0 {
		return nil
	}
	vs := make([]int32, 0, min(n, maxPrealloc))
	for range n {
		vs = append(vs, d.Int32())
	}
	if d.err != nil {
		return nil
	}
	return vs
}

// StringInt32Map reads a count followed by that many key/value pairs. A
// repeated key is malformed.
func (d *Decoder) StringInt32Map() map[string]int32 {
	n := d.length(2)
	if d.err != nil {
		return nil
	}
	m := make(map[string]int32, min(n, maxPrealloc))
	for range n {
		k := d.String()
		v := d.Int32()
		if d.err != nil {
			return nil
		}
		if _, dup := m[k]; dup {
			d.fail(fmt.Errorf("%w: repeated map key %q", ErrMalformed, k))
			return nil
		}
		m[k] = v
	}
	return m
}
