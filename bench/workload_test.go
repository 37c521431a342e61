package bench

import (
	"errors"
	"testing"

	"github.com/goimx/goim/client"
	"github.com/google/go-cmp/cmp"
)

func TestWorkloadPaths(t *testing.T) {
	tests := []struct {
		w     Workload
		n     int
		seqs  []uint32
		paths []string
		per   int
	}{
		{Workload{Kind: KindRoom}, 10, []uint32{0, 7}, []string{
			"/goim/push/room?operation=1000&type=live&room=1000",
			"/goim/push/room?operation=1000&type=live&room=1000",
		}, 10},
		{Workload{Kind: KindRoom, RoomType: "a b", Room: "x&y", Op: 5}, 3, []uint32{1}, []string{
			"/goim/push/room?operation=5&type=a+b&room=x%26y",
		}, 3},
		{Workload{Kind: KindKeys, KeyPrefix: "k"}, 3, []uint32{0, 1, 2, 3}, []string{
			"/goim/push/keys?operation=1000&keys=k-0",
			"/goim/push/keys?operation=1000&keys=k-1",
			"/goim/push/keys?operation=1000&keys=k-2",
			"/goim/push/keys?operation=1000&keys=k-0",
		}, 1},
		{Workload{Kind: KindMids, Devices: 2, MidBase: 100}, 5, []uint32{0, 1, 2}, []string{
			"/goim/push/mids?operation=1000&mids=100",
			"/goim/push/mids?operation=1000&mids=101",
			"/goim/push/mids?operation=1000&mids=100",
		}, 2},
		{Workload{Kind: KindAll, Op: 7}, 4, []uint32{3}, []string{"/goim/push/all?operation=7"}, 4},
	}
	for _, tt := range tests {
		pb := newPathBuilder(tt.w, tt.n)
		var got []string
		for _, seq := range tt.seqs {
			got = append(got, string(pb.append(nil, seq)))
		}
		if d := cmp.Diff(tt.paths, got); d != "" {
			t.Errorf("%+v paths (-want +got):\n%s", tt.w, d)
		}
		if p := tt.w.PerPush(tt.n); p != tt.per {
			t.Errorf("%+v PerPush(%d) = %d, want %d", tt.w, tt.n, p, tt.per)
		}
	}
}

func TestWorkloadTokens(t *testing.T) {
	w := Workload{Kind: KindMids, Devices: 3, MidBase: 10, KeyPrefix: "p", Op: 9}
	want := []client.Token{
		{Mid: 10, Key: "p-0", RoomID: "live://1000", Platform: "web", Accepts: []int32{9}},
		{Mid: 10, Key: "p-2", RoomID: "live://1000", Platform: "web", Accepts: []int32{9}},
		{Mid: 11, Key: "p-3", RoomID: "live://1000", Platform: "web", Accepts: []int32{9}},
	}
	got := []client.Token{w.Token(0), w.Token(2), w.Token(3)}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("tokens (-want +got):\n%s", d)
	}
	if err := (Workload{Kind: "nope"}).check(); !errors.Is(err, ErrWorkload) {
		t.Errorf("check of an unknown kind: %v", err)
	}
}
