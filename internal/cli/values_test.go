package cli

import (
	"errors"
	"flag"
	"io"
	"strings"
	"testing"
	"time"
)

func TestValues(t *testing.T) {
	var (
		addr  string
		none  string
		list  []string
		n     int
		n32   int32
		x     float64
		d     time.Duration
		anyD  time.Duration
		check = func(s string) error {
			if s == "bad" {
				return errors.New("bad item")
			}
			return nil
		}
	)
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	f := flagger{fs: fs, prefix: "p."}
	f.addr(&addr, "addr", ":1", false, "")
	f.addr(&none, "none", ":2", true, "")
	f.list(&list, "list", []string{"a"}, check, "")
	f.integer(&n, "n", 5, 1, 10, "")
	f.int32(&n32, "n32", 5, 1, 10, "")
	f.float(&x, "x", 1.5, 1, "")
	f.duration(&d, "d", time.Second, time.Millisecond, "")
	f.duration(&anyD, "any-d", time.Second, -1<<63, "")
	tests := []struct {
		name, value string
		ok          bool
	}{
		{"p.addr", "127.0.0.1:80", true},
		{"p.addr", ":0", true},
		{"p.addr", "[::1]:3101", true},
		{"p.addr", "host:http", true},
		{"p.addr", "3101", false},
		{"p.addr", "host:", false},
		{"p.addr", "host:70000", false},
		{"p.addr", "-", false},
		{"p.none", "-", true},
		{"p.list", "a, b,,c", true},
		{"p.list", "a,bad", false},
		{"p.n", "10", true},
		{"p.n", "11", false},
		{"p.n", "0", false},
		{"p.n", "x", false},
		{"p.n32", "1", true},
		{"p.n32", "99999999999", false},
		{"p.x", "1", true},
		{"p.x", "0.5", false},
		{"p.x", "nan?", false},
		{"p.d", "1ms", true},
		{"p.d", "1us", false},
		{"p.d", "5", false},
		{"p.any-d", "-1s", true},
	}
	for _, tt := range tests {
		err := fs.Set(tt.name, tt.value)
		if (err == nil) != tt.ok {
			t.Errorf("-%s %q: err %v, want ok %v", tt.name, tt.value, err, tt.ok)
		}
	}
	if strings.Join(list, "|") != "a|b|c" {
		t.Errorf("list = %q, want a|b|c", list)
	}
	if n != 10 || n32 != 1 || x != 1 || d != time.Millisecond || anyD != -time.Second {
		t.Errorf("values n=%d n32=%d x=%g d=%v anyD=%v", n, n32, x, d, anyD)
	}
}

// TestZeroValueStrings: flag.PrintDefaults calls String on zero values.
func TestZeroValueStrings(t *testing.T) {
	for _, v := range []flag.Value{&addrValue{}, &listValue{}, &intValue[int]{}, &floatValue{}, &durationValue{}} {
		_ = v.String()
	}
}

func TestUsageError(t *testing.T) {
	err := usageErr("comet.tcp", "bad %s", "value")
	if !errors.Is(err, ErrUsage) || err.Error() != "-comet.tcp: bad value" {
		t.Errorf("usageErr = %v (Is ErrUsage %v)", err, errors.Is(err, ErrUsage))
	}
}
