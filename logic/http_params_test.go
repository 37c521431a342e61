package logic

import (
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseParams(t *testing.T) {
	tests := []struct {
		raw     string
		want    params
		wantErr string
	}{
		{"", params{}, ""},
		{"operation=1000&keys=a&keys=b", params{op: 1000, hasOp: true, keys: []string{"a", "b"}}, ""},
		{"operation=-5&operation=7", params{op: -5, hasOp: true}, ""},
		{"keys=a%2Cb&keys=c+d&keys=", params{keys: []string{"a,b", "c d"}}, ""},
		{"mids=1,2&mids=3&mids=,4,", params{mids: []int64{1, 2, 3, 4}}, ""},
		{"mids=+5", params{mids: []int64{5}}, ""}, // '+' is a space, trimmed
		{"rooms=a,b&rooms=c", params{rooms: []string{"a", "b", "c"}}, ""},
		{"type=live&room=1000&platform=web&region=sh", params{typ: "live", room: "1000", platform: "web", region: "sh"}, ""},
		{"type=live&type=chat", params{typ: "live"}, ""},
		{"limit=10&speed=0", params{limit: 10, hasLimit: true, hasSpeed: true}, ""},
		{"&&unknown=1&=x&novalue", params{}, ""},
		{"operation=1.5", params{}, "operation: not an int32"},
		{"speed=-1", params{}, "speed: negative"},
		{"limit=-1", params{}, "limit: not a positive integer"},
		{"mids=9223372036854775808", params{}, "mids: not an int64"},
		{"keys=%", params{}, "keys: bad escape"},
		{"%zz=1", params{}, "bad escape in query"},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			var p params
			err := parseParams(tt.raw, &p)
			if tt.wantErr != "" {
				if !errors.Is(err, ErrBadParam) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want ErrBadParam with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, p, cmp.AllowUnexported(params{})); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestParamsReset(t *testing.T) {
	var p params
	must(t, parseParams("operation=1&keys=a&mids=1&rooms=r&type=t&limit=3", &p))
	p.reset()
	if diff := cmp.Diff(params{keys: []string{}, mids: []int64{}, rooms: []string{}}, p, cmp.AllowUnexported(params{})); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func FuzzParseParams(f *testing.F) {
	for _, s := range []string{
		"operation=1000&keys=a&keys=b", "mids=1,2,3&mids=4", "type=live&rooms=1000,2000&limit=5",
		"speed=10&operation=-1", "keys=%41%zz", "a=b=c&&=&keys=+", "mids=,,1,,", "keys=a;b",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		var p params
		err := parseParams(raw, &p)
		if err != nil {
			if !errors.Is(err, ErrBadParam) {
				t.Fatalf("error %v does not wrap ErrBadParam", err)
			}
			return
		}
		if slices.Contains(p.keys, "") || slices.Contains(p.rooms, "") {
			t.Fatalf("empty list item: %+v", p)
		}
		if p.speed < 0 || (p.hasLimit && p.limit <= 0) {
			t.Fatalf("out of range: %+v", p)
		}
		// Keys agree with the standard library's parser where it accepts
		// the query.
		if q, qerr := url.ParseQuery(raw); qerr == nil {
			want := slices.DeleteFunc(q["keys"], func(s string) bool { return s == "" })
			if !slices.Equal(want, p.keys) {
				t.Fatalf("keys %q, net/url says %q", p.keys, want)
			}
		}
	})
}
