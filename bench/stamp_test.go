package bench

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

func TestStamp(t *testing.T) {
	tests := []struct {
		name string
		st   Stamp
		size int
		len  int
	}{
		{"bare", Stamp{Sent: 1, Round: 2, Seq: 3}, 0, StampLen},
		{"exact", Stamp{Sent: -5, Round: 1 << 31, Seq: 1<<32 - 1}, StampLen, StampLen},
		{"padded", Stamp{Sent: time.Now().UnixNano(), Round: 9, Seq: 10}, 100, 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := AppendStamp([]byte("prefix"), tt.st, tt.size)
			body := b[len("prefix"):]
			if len(body) != tt.len {
				t.Fatalf("len %d, want %d", len(body), tt.len)
			}
			if pad := body[StampLen:]; len(pad) > 0 && bytes.Count(pad, []byte("x")) != len(pad) {
				t.Errorf("padding %q", pad)
			}
			got, err := ParseStamp(body)
			if err != nil || got != tt.st {
				t.Errorf("ParseStamp = %+v, %v; want %+v", got, err, tt.st)
			}
			PutStamp(body, Stamp{Sent: 7})
			if got, _ := ParseStamp(body); got != (Stamp{Sent: 7}) {
				t.Errorf("after PutStamp: %+v", got)
			}
		})
	}
}

func TestParseStampShort(t *testing.T) {
	for n := range StampLen {
		if _, err := ParseStamp(make([]byte, n)); !errors.Is(err, ErrNoStamp) {
			t.Errorf("%d bytes: err %v, want ErrNoStamp", n, err)
		}
	}
}

func TestStampAge(t *testing.T) {
	now := time.Now()
	st := Stamp{Sent: now.Add(-3 * time.Millisecond).UnixNano()}
	if got := st.Age(now); got != 3*time.Millisecond {
		t.Errorf("Age = %v", got)
	}
}

// FuzzParseStamp checks that any body parses or is refused, and that a
// parsed stamp encodes back to the same bytes.
func FuzzParseStamp(f *testing.F) {
	f.Add([]byte{})
	f.Add(AppendStamp(nil, Stamp{Sent: 1, Round: 2, Seq: 3}, 40))
	f.Add([]byte("0123456789abcde"))
	f.Fuzz(func(t *testing.T, body []byte) {
		st, err := ParseStamp(body)
		if err != nil {
			if len(body) >= StampLen {
				t.Fatalf("%d bytes refused: %v", len(body), err)
			}
			return
		}
		if got := AppendStamp(nil, st, 0); !bytes.Equal(got, body[:StampLen]) {
			t.Fatalf("re-encoded %x, want %x", got, body[:StampLen])
		}
	})
}

func BenchmarkParseStamp(b *testing.B) {
	body := AppendStamp(nil, Stamp{Sent: 1, Round: 2, Seq: 3}, 64)
	b.ReportAllocs()
	var sum int64
	for b.Loop() {
		st, _ := ParseStamp(body)
		sum += st.Sent
	}
	_ = sum
}
