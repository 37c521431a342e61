package cli

import (
	"bytes"
	"strings"
	"testing"
)

// TestLogicList: -logic of the comet and the job takes one address or a
// comma-separated list; an item that is not host:port is a usage error.
func TestLogicList(t *testing.T) {
	tests := []struct {
		arg  string
		want string // the value kept, or a piece of the usage error
		ok   bool
	}{
		{"a:3119", "a:3119", true},
		{"a:3119,b:3119", "a:3119,b:3119", true},
		{" a:3119 , b:3119 ,", "a:3119,b:3119", true},
		{"a:3119,b", `"b"`, false},
		{",", "no address", false},
	}
	for _, tt := range tests {
		for _, tier := range []string{"comet", "job"} {
			app := NewApp(tier, "")
			var got *string
			if tier == "comet" {
				cf := app.Comet("", true)
				got = &cf.cfg.LogicAddr
			} else {
				jf := app.Job("", true)
				got = &jf.cfg.LogicAddr
			}
			var out bytes.Buffer
			_, ok := app.parse([]string{"-logic", tt.arg}, &out)
			switch {
			case ok != tt.ok:
				t.Errorf("%s -logic %q: ok %v, want %v (%s)", tier, tt.arg, ok, tt.ok, out.String())
			case ok && *got != tt.want:
				t.Errorf("%s -logic %q = %q, want %q", tier, tt.arg, *got, tt.want)
			case !ok && !strings.Contains(out.String(), tt.want):
				t.Errorf("%s -logic %q: error %q does not name %s", tier, tt.arg, out.String(), tt.want)
			}
		}
	}
}
