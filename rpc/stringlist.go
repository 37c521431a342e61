package rpc

import (
	"encoding/binary"
	"fmt"
	"iter"
)

// StringList is a list of strings kept in its wire encoding, the one
// AppendStrings writes: a uvarint count, then each string prefixed by its
// length as a uvarint. A tier that passes a list on, or only looks its
// elements up, reads it in place: decoding costs no string per element
// and re-encoding is a copy. A StringList must be well formed: made by
// MakeStringList, AppendStrings or Decoder.StringList. The nil StringList
// is the empty list.
type StringList []byte

// MakeStringList returns the list of ss, nil when ss is empty.
func MakeStringList(ss ...string) StringList {
	if len(ss) == 0 {
		return nil
	}
	return StringList(AppendStrings(nil, ss))
}

// Len returns the number of strings in l.
func (l StringList) Len() int {
	n, size := binary.Uvarint(l)
	if size <= 0 {
		return 0
	}
	return int(n)
}

// All yields the strings of l in order, as byte slices aliasing l: a
// caller that keeps one copies it.
func (l StringList) All() iter.Seq[[]byte] {
	return func(yield func([]byte) bool) {
		n, size := binary.Uvarint(l)
		if size <= 0 {
			return
		}
		rest := l[size:]
		for ; n > 0; n-- {
			m, size := binary.Uvarint(rest)
			if size <= 0 || m > uint64(len(rest)-size) {
				return
			}
			end := size + int(m)
			if !yield(rest[size:end:end]) {
				return
			}
			rest = rest[end:]
		}
	}
}

// Strings returns a copy of the strings of l, nil when l is empty.
func (l StringList) Strings() []string {
	n := l.Len()
	if n == 0 {
		return nil
	}
	ss := make([]string, 0, min(n, maxPrealloc))
	for s := range l.All() {
		ss = append(ss, string(s))
	}
	return ss
}

// AppendStringList appends l, or the empty list when l is nil, in the
// encoding of AppendStrings.
func AppendStringList(b []byte, l StringList) []byte {
	if len(l) == 0 {
		return append(b, 0)
	}
	return append(b, l...)
}

// StringList reads a count followed by that many strings, as AppendStrings
// writes them, and returns them in place: the result aliases the payload
// and is nil when the count is zero.
func (d *Decoder) StringList() StringList {
	start := d.buf
	n := d.length(1)
	if d.err != nil || n == 0 {
		return nil
	}
	for range n {
		m := d.length(0)
		if d.err != nil {
			return nil
		}
		d.buf = d.buf[m:]
	}
	size := len(start) - len(d.buf)
	return StringList(start[:size:size])
}

// String returns the strings of l as fmt's %q prints a []string.
func (l StringList) String() string { return fmt.Sprintf("%q", l.Strings()) }
