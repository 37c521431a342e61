package rpc

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestStringList(t *testing.T) {
	long := strings.Repeat("k", 200)
	tests := []struct {
		name string
		ss   []string
	}{
		{"none", nil},
		{"one", []string{"k1"}},
		{"empty string", []string{""}},
		{"several", []string{"a", "", "bc", long}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := MakeStringList(tt.ss...)
			if got := l.Len(); got != len(tt.ss) {
				t.Errorf("Len = %d, want %d", got, len(tt.ss))
			}
			if got := l.Strings(); !slices.Equal(got, tt.ss) {
				t.Errorf("Strings = %q, want %q", got, tt.ss)
			}
			var all []string
			for s := range l.All() {
				all = append(all, string(s))
			}
			if !slices.Equal(all, tt.ss) {
				t.Errorf("All = %q, want %q", all, tt.ss)
			}
			if got, want := AppendStringList(nil, l), AppendStrings(nil, tt.ss); string(got) != string(want) {
				t.Errorf("AppendStringList = %x, want AppendStrings' %x", got, want)
			}
		})
	}
}

// TestStringListAllStops checks that All ends when the loop breaks.
func TestStringListAllStops(t *testing.T) {
	n := 0
	for range MakeStringList("a", "b", "c").All() {
		if n++; n == 2 {
			break
		}
	}
	if n != 2 {
		t.Errorf("%d iterations, want 2", n)
	}
}

// TestDecoderStringListAliases checks that a decoded list aliases the
// payload and that a forged count is refused.
func TestDecoderStringListAliases(t *testing.T) {
	p := AppendStrings(nil, []string{"ab", "c"})
	d := NewDecoder(p)
	l := d.StringList()
	if err := d.Finish(); err != nil {
		t.Fatal(err)
	}
	p[2] = 'x'
	if got := l.Strings(); !slices.Equal(got, []string{"xb", "c"}) {
		t.Errorf("after changing the payload: %q, want it seen", got)
	}
	forged := AppendUvarint(nil, 3)
	forged = AppendString(forged, "a")
	forged = AppendString(forged, "b")
	d = NewDecoder(forged)
	if l := d.StringList(); l != nil || !errors.Is(d.Err(), ErrTruncated) {
		t.Errorf("count 3 with 2 strings: %q, %v, want nil and ErrTruncated", l, d.Err())
	}
}
