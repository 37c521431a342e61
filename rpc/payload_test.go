package rpc

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
)

// codecCase is one value written by an Append helper and read back.
type codecCase struct {
	name   string
	encode func(b []byte) []byte
	decode func(d *Decoder) any
	want   any
}

func decUvarint(d *Decoder) any        { return d.Uvarint() }
func decVarint(d *Decoder) any         { return d.Varint() }
func decInt32(d *Decoder) any          { return d.Int32() }
func decBool(d *Decoder) any           { return d.Bool() }
func decBytes(d *Decoder) any          { return d.Bytes() }
func decString(d *Decoder) any         { return d.String() }
func decStrings(d *Decoder) any        { return d.Strings() }
func decInt64s(d *Decoder) any         { return d.Int64s() }
func decInt32s(d *Decoder) any         { return d.Int32s() }
func decStringInt32Map(d *Decoder) any { return d.StringInt32Map() }
func decStringList(d *Decoder) any     { return d.StringList() }

func codecCases() []codecCase {
	long := strings.Repeat("x", 300)
	many := make([]string, 130)
	for i := range many {
		many[i] = strings.Repeat("s", i%5)
	}
	var cs []codecCase
	add := func(name string, enc func([]byte) []byte, dec func(*Decoder) any, want any) {
		cs = append(cs, codecCase{name, enc, dec, want})
	}
	for _, v := range []uint64{0, 1, 127, 128, 300, math.MaxUint32, math.MaxUint64} {
		add("uvarint", func(b []byte) []byte { return AppendUvarint(b, v) }, decUvarint, v)
	}
	for _, v := range []int64{0, 1, -1, 63, -64, 64, math.MaxInt64, math.MinInt64} {
		add("varint", func(b []byte) []byte { return AppendVarint(b, v) }, decVarint, v)
	}
	for _, v := range []int32{0, -1, 1000, math.MaxInt32, math.MinInt32} {
		add("int32", func(b []byte) []byte { return AppendVarint(b, int64(v)) }, decInt32, v)
	}
	for _, v := range []bool{false, true} {
		add("bool", func(b []byte) []byte { return AppendBool(b, v) }, decBool, v)
	}
	add("bytes nil", func(b []byte) []byte { return AppendBytes(b, nil) }, decBytes, []byte(nil))
	add("bytes empty", func(b []byte) []byte { return AppendBytes(b, []byte{}) }, decBytes, []byte(nil))
	add("bytes", func(b []byte) []byte { return AppendBytes(b, []byte{0, 1, 2}) }, decBytes, []byte{0, 1, 2})
	add("bytes long", func(b []byte) []byte { return AppendBytes(b, []byte(long)) }, decBytes, []byte(long))
	add("string empty", func(b []byte) []byte { return AppendString(b, "") }, decString, "")
	add("string", func(b []byte) []byte { return AppendString(b, "héllo") }, decString, "héllo")
	add("string long", func(b []byte) []byte { return AppendString(b, long) }, decString, long)
	add("strings nil", func(b []byte) []byte { return AppendStrings(b, nil) }, decStrings, []string(nil))
	add("strings", func(b []byte) []byte { return AppendStrings(b, []string{"", "a", "bc"}) }, decStrings, []string{"", "a", "bc"})
	add("strings many", func(b []byte) []byte { return AppendStrings(b, many) }, decStrings, many)
	add("string list nil", func(b []byte) []byte { return AppendStringList(b, nil) }, decStringList, StringList(nil))
	add("string list of none", func(b []byte) []byte { return AppendStrings(b, nil) }, decStringList, StringList(nil))
	add("string list", func(b []byte) []byte { return AppendStringList(b, MakeStringList("", "a", "bc")) }, decStringList, MakeStringList("", "a", "bc"))
	add("string list many", func(b []byte) []byte { return AppendStrings(b, many) }, decStringList, MakeStringList(many...))
	add("int64s nil", func(b []byte) []byte { return AppendInt64s(b, nil) }, decInt64s, []int64(nil))
	i64s := []int64{0, -1, 1, math.MaxInt64, math.MinInt64}
	add("int64s", func(b []byte) []byte { return AppendInt64s(b, i64s) }, decInt64s, i64s)
	add("int32s nil", func(b []byte) []byte { return AppendInt32s(b, nil) }, decInt32s, []int32(nil))
	i32s := []int32{0, -1, math.MaxInt32, math.MinInt32}
	add("int32s", func(b []byte) []byte { return AppendInt32s(b, i32s) }, decInt32s, i32s)
	add("map nil", func(b []byte) []byte { return AppendStringInt32Map(b, nil) }, decStringInt32Map, map[string]int32{})
	m := map[string]int32{"": 0, "a": 1, "room://1": math.MinInt32, "z": math.MaxInt32}
	add("map", func(b []byte) []byte { return AppendStringInt32Map(b, m) }, decStringInt32Map, m)
	return cs
}

func TestPayloadRoundTrip(t *testing.T) {
	for _, c := range codecCases() {
		t.Run(c.name, func(t *testing.T) {
			prefix := []byte("prefix")
			enc := c.encode(prefix)
			if !bytes.HasPrefix(enc, []byte("prefix")) {
				t.Fatalf("encode did not append: %q", enc)
			}
			d := NewDecoder(enc[len(prefix):])
			got := c.decode(&d)
			if err := d.Finish(); err != nil {
				t.Fatalf("decode: %v", err)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("got %#v, want %#v", got, c.want)
			}
		})
	}
}

// TestPayloadTruncated cuts every encoded value at every byte: the decoder
// reports ErrTruncated and a zero value.
func TestPayloadTruncated(t *testing.T) {
	for _, c := range codecCases() {
		enc := c.encode(nil)
		for i := range len(enc) {
			d := NewDecoder(enc[:i])
			got := c.decode(&d)
			if !errors.Is(d.Err(), ErrTruncated) {
				t.Fatalf("%s %v cut at %d of %d: err = %v, want ErrTruncated", c.name, c.want, i, len(enc), d.Err())
			}
			if !reflect.ValueOf(got).IsZero() {
				t.Fatalf("%s cut at %d: got %#v after an error, want the zero value", c.name, i, got)
			}
		}
	}
}

func TestPayloadTrailingBytes(t *testing.T) {
	for _, c := range codecCases() {
		d := NewDecoder(append(c.encode(nil), 0))
		c.decode(&d)
		if d.Err() != nil || d.Len() != 1 {
			t.Fatalf("%s: err %v, %d left", c.name, d.Err(), d.Len())
		}
		if err := d.Finish(); !errors.Is(err, ErrMalformed) {
			t.Fatalf("%s: Finish = %v, want ErrMalformed", c.name, err)
		}
	}
}

// overlong returns a varint of n continuation bytes then last: past 64
// bits when n >= 10, or when n == 9 and last > 1.
func overlong(n int, last byte) []byte {
	return append(bytes.Repeat([]byte{0xff}, n), last)
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func TestPayloadMalformed(t *testing.T) {
	u := func(v uint64) []byte { return binary.AppendUvarint(nil, v) }
	s := func(v int64) []byte { return binary.AppendVarint(nil, v) }
	str := func(v string) []byte { return AppendString(nil, v) }
	tests := []struct {
		name   string
		in     []byte
		decode func(*Decoder) any
		want   error
	}{
		{"uvarint 11 bytes", overlong(10, 1), decUvarint, ErrMalformed},
		{"uvarint 10th byte 2", overlong(9, 2), decUvarint, ErrMalformed},
		{"uvarint 20 bytes", overlong(19, 0), decUvarint, ErrMalformed},
		{"varint overlong", overlong(10, 0), decVarint, ErrMalformed},
		{"int32 overlong", overlong(9, 3), decInt32, ErrMalformed},
		{"bytes length overlong", overlong(10, 1), decBytes, ErrMalformed},
		{"string length overlong", overlong(10, 1), decString, ErrMalformed},
		{"strings count overlong", overlong(10, 1), decStrings, ErrMalformed},
		{"strings element overlong", cat(u(1), overlong(10, 1)), decStrings, ErrMalformed},
		{"int64s count overlong", overlong(10, 1), decInt64s, ErrMalformed},
		{"int64s element overlong", cat(u(2), s(1), overlong(10, 1)), decInt64s, ErrMalformed},
		{"int32s element overlong", cat(u(1), overlong(10, 1)), decInt32s, ErrMalformed},
		{"map count overlong", overlong(10, 1), decStringInt32Map, ErrMalformed},
		{"map value overlong", cat(u(1), str("k"), overlong(10, 1)), decStringInt32Map, ErrMalformed},

		{"bytes forged length", cat(u(1<<40), []byte("abc")), decBytes, ErrTruncated},
		{"bytes length one over", cat(u(4), []byte("abc")), decBytes, ErrTruncated},
		{"string forged length", cat(u(math.MaxUint64), []byte("abc")), decString, ErrTruncated},
		{"strings forged count", cat(u(math.MaxUint64), str("a")), decStrings, ErrTruncated},
		{"strings count over bytes", cat(u(3), str("a")), decStrings, ErrTruncated},
		{"int64s forged count", cat(u(1<<62), s(1)), decInt64s, ErrTruncated},
		{"int32s forged count", cat(u(1<<32), s(1)), decInt32s, ErrTruncated},
		{"map forged count", cat(u(1<<63), str("k"), s(1)), decStringInt32Map, ErrTruncated},
		{"map count over half the bytes", cat(u(2), str("k")), decStringInt32Map, ErrTruncated},

		{"map repeated key", cat(u(2), str("a"), s(1), str("a"), s(2)), decStringInt32Map, ErrMalformed},
		{"map repeated empty key", cat(u(3), str(""), s(1), str("b"), s(1), str(""), s(1)), decStringInt32Map, ErrMalformed},

		{"int32 max+1", s(math.MaxInt32 + 1), decInt32, ErrMalformed},
		{"int32 min-1", s(math.MinInt32 - 1), decInt32, ErrMalformed},
		{"int32 max int64", s(math.MaxInt64), decInt32, ErrMalformed},
		{"int32s element overflow", cat(u(2), s(1), s(1<<31)), decInt32s, ErrMalformed},
		{"map value overflow", cat(u(1), str("k"), s(-1<<31-1)), decStringInt32Map, ErrMalformed},

		{"bool 2", []byte{2}, decBool, ErrMalformed},
		{"bool 255", []byte{255}, decBool, ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := NewDecoder(tt.in)
			got := tt.decode(&d)
			if !errors.Is(d.Err(), tt.want) {
				t.Fatalf("err = %v, want %v", d.Err(), tt.want)
			}
			if !reflect.ValueOf(got).IsZero() {
				t.Fatalf("got %#v after an error, want the zero value", got)
			}
			if d.Len() != 0 {
				t.Fatalf("%d bytes left after an error, want 0", d.Len())
			}
		})
	}
}

// TestDecoderStickyError checks that after the first error every read
// returns a zero value and Err and Finish keep reporting that error.
func TestDecoderStickyError(t *testing.T) {
	in := cat([]byte{7}, AppendString(nil, "ok"), AppendUvarint(nil, 5))
	d := NewDecoder(in)
	if d.Bool(); !errors.Is(d.Err(), ErrMalformed) {
		t.Fatalf("Bool err = %v", d.Err())
	}
	first := d.Err()
	if v := d.String(); v != "" {
		t.Fatalf("String after error = %q", v)
	}
	if v := d.Uvarint(); v != 0 {
		t.Fatalf("Uvarint after error = %d", v)
	}
	if v := d.Int32(); v != 0 {
		t.Fatalf("Int32 after error = %d", v)
	}
	if v := d.StringInt32Map(); v != nil {
		t.Fatalf("map after error = %v", v)
	}
	if d.Err() != first || d.Finish() != first {
		t.Fatalf("error changed: %v, Finish %v, first %v", d.Err(), d.Finish(), first)
	}
	d.Reset(AppendUvarint(nil, 9))
	if v := d.Uvarint(); v != 9 || d.Finish() != nil {
		t.Fatalf("after Reset: %d, %v", v, d.Err())
	}
}

func TestDecoderSequence(t *testing.T) {
	var b []byte
	b = AppendUvarint(b, 42)
	b = AppendString(b, "room")
	b = AppendBool(b, true)
	b = AppendBytes(b, []byte{9, 8})
	b = AppendInt32s(b, []int32{3, -4})
	b = AppendVarint(b, -7)
	d := NewDecoder(b)
	if d.Len() != len(b) {
		t.Fatalf("Len = %d, want %d", d.Len(), len(b))
	}
	u, s, ok, p, is, v := d.Uvarint(), d.String(), d.Bool(), d.Bytes(), d.Int32s(), d.Varint()
	if err := d.Finish(); err != nil {
		t.Fatal(err)
	}
	if u != 42 || s != "room" || !ok || !bytes.Equal(p, []byte{9, 8}) || !reflect.DeepEqual(is, []int32{3, -4}) || v != -7 {
		t.Fatalf("got %v %q %v %v %v %v", u, s, ok, p, is, v)
	}
}

// TestDecoderAliasing checks Bytes aliases the payload but cannot be
// appended over the bytes after it, and String copies.
func TestDecoderAliasing(t *testing.T) {
	in := cat(AppendBytes(nil, []byte("ab")), AppendString(nil, "cd"))
	d := NewDecoder(in)
	p := d.Bytes()
	s := d.String()
	if &p[0] != &in[1] {
		t.Fatal("Bytes copied the payload")
	}
	_ = append(p, 'X')
	in[4] = 'Z' // the string's first byte
	if s != "cd" || in[3] != 2 {
		t.Fatalf("string %q, byte after bytes %d: aliasing broke the payload", s, in[3])
	}
}

// FuzzDecoder runs a script of reads (one op per byte of ops) over data.
// It must never panic; no slice may be longer than the input; and when the
// script succeeds, encoding the values read and reading them again must
// give the same values.
func FuzzDecoder(f *testing.F) {
	var b []byte
	b = AppendUvarint(b, 300)
	b = AppendString(b, "key")
	b = AppendStrings(b, []string{"a", "bb"})
	b = AppendInt64s(b, []int64{1, -1 << 40})
	b = AppendInt32s(b, []int32{7})
	b = AppendStringInt32Map(b, map[string]int32{"r": 2})
	b = AppendBool(b, true)
	b = AppendBytes(b, []byte{1, 2})
	b = AppendStrings(b, []string{"k", ""})
	f.Add([]byte{0, 5, 6, 7, 8, 9, 3, 4, 10}, b)
	f.Add([]byte{0, 1, 2, 3}, cat(AppendUvarint(nil, 1), AppendVarint(nil, -1), AppendVarint(nil, 5), []byte{1}))
	f.Add([]byte{9}, cat([]byte{2}, AppendString(nil, "a"), []byte{2}, AppendString(nil, "a"), []byte{4}))
	f.Add([]byte{6}, cat(AppendUvarint(nil, math.MaxUint64), []byte{1}))
	f.Add([]byte{0}, overlong(10, 1))
	f.Add([]byte{2}, AppendVarint(nil, math.MaxInt32+1))
	f.Fuzz(func(t *testing.T, ops, data []byte) {
		if len(ops) > 64 {
			ops = ops[:64]
		}
		d := NewDecoder(data)
		vals := runOps(&d, ops)
		for _, v := range vals {
			if rv := reflect.ValueOf(v); (rv.Kind() == reflect.Slice || rv.Kind() == reflect.Map) && rv.Len() > len(data) {
				t.Fatalf("%T of %d elements from %d bytes", v, rv.Len(), len(data))
			}
		}
		if d.Err() != nil {
			if !errors.Is(d.Err(), ErrTruncated) && !errors.Is(d.Err(), ErrMalformed) {
				t.Fatalf("unexpected error %v", d.Err())
			}
			return
		}
		var enc []byte
		for i, v := range vals {
			enc = encodeOp(enc, ops[i], v)
		}
		d2 := NewDecoder(enc)
		again := runOps(&d2, ops)
		if err := d2.Finish(); err != nil {
			t.Fatalf("re-decoding: %v", err)
		}
		if !reflect.DeepEqual(vals, again) {
			t.Fatalf("values %#v re-decoded as %#v", vals, again)
		}
	})
}

const numOps = 11

func runOps(d *Decoder, ops []byte) []any {
	vals := make([]any, 0, len(ops))
	for _, op := range ops {
		var v any
		switch op % numOps {
		case 0:
			v = d.Uvarint()
		case 1:
			v = d.Varint()
		case 2:
			v = d.Int32()
		case 3:
			v = d.Bool()
		case 4:
			v = d.Bytes()
		case 5:
			v = d.String()
		case 6:
			v = d.Strings()
		case 7:
			v = d.Int64s()
		case 8:
			v = d.Int32s()
		case 9:
			v = d.StringInt32Map()
		case 10:
			v = d.StringList()
		}
		vals = append(vals, v)
	}
	return vals
}

func encodeOp(b []byte, op byte, v any) []byte {
	switch op % numOps {
	case 0:
		return AppendUvarint(b, v.(uint64))
	case 1:
		return AppendVarint(b, v.(int64))
	case 2:
		return AppendVarint(b, int64(v.(int32)))
	case 3:
		return AppendBool(b, v.(bool))
	case 4:
		return AppendBytes(b, v.([]byte))
	case 5:
		return AppendString(b, v.(string))
	case 6:
		return AppendStrings(b, v.([]string))
	case 7:
		return AppendInt64s(b, v.([]int64))
	case 8:
		return AppendInt32s(b, v.([]int32))
	case 9:
		return AppendStringInt32Map(b, v.(map[string]int32))
	default:
		return AppendStringList(b, v.(StringList))
	}
}
