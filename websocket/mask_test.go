package websocket

import (
	"bytes"
	"testing"
)

// maskBytewise is the obvious masking loop, the reference for Mask.
func maskBytewise(key [4]byte, pos int, b []byte) int {
	for i := range b {
		b[i] ^= key[pos&3]
		pos++
	}
	return pos & 3
}

func TestMaskMatchesBytewise(t *testing.T) {
	key := [4]byte{0x01, 0x23, 0x45, 0xf7}
	src := make([]byte, 300)
	for i := range src {
		src[i] = byte(i * 7)
	}
	for n := range len(src) {
		for pos := range 6 {
			got, want := bytes.Clone(src[:n]), bytes.Clone(src[:n])
			gp, wp := Mask(key, pos, got), maskBytewise(key, pos, want)
			if !bytes.Equal(got, want) || gp != wp {
				t.Fatalf("n=%d pos=%d: Mask differs from bytewise (pos %d vs %d)", n, pos, gp, wp)
			}
		}
	}
}

func TestMaskInPieces(t *testing.T) {
	payload := bytes.Repeat([]byte("websocket!"), 100)
	whole := bytes.Clone(payload)
	Mask(testKey, 0, whole)
	for _, cut := range []int{0, 1, 3, 7, 8, 9, 63, 64, 65, 500, 999, 1000} {
		pieces := bytes.Clone(payload)
		pos := Mask(testKey, 0, pieces[:cut])
		Mask(testKey, pos, pieces[cut:])
		if !bytes.Equal(pieces, whole) {
			t.Errorf("cut %d: pieces differ from whole", cut)
		}
	}
	Mask(testKey, 0, whole)
	if !bytes.Equal(whole, payload) {
		t.Error("masking twice did not restore the payload")
	}
}
