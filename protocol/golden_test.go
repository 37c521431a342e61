package protocol_test

import (
	"bytes"
	"encoding/hex"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/goimx/goim/protocol"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// goldenCases are encoded packets whose bytes are pinned in
// testdata/<name>.golden as a hex dump.
func goldenCases() []struct {
	name string
	data []byte
} {
	auth := protocol.Packet{Ver: 1, Op: protocol.OpAuth, Seq: 1,
		Body: []byte(`{"mid":123,"key":"","room_id":"live://1000","platform":"web","accepts":[1000,1001]}`)}
	heartbeat := protocol.Packet{Ver: 1, Op: protocol.OpHeartbeat, Seq: 2}
	_, batch := buildBatch(0, 5)
	frame := append(protocol.AppendRawHeader(nil, len(batch)), batch...)
	return []struct {
		name string
		data []byte
	}{
		{"auth", auth.Append(nil)},
		{"heartbeat", heartbeat.Append(nil)},
		{"heartbeat_reply", protocol.AppendHeartbeatReply(nil, 2, 1234)},
		{"push", protocol.AppendPush(nil, 1000, []byte("danmaku"))},
		{"ws_raw_batch", frame},
	}
}

func TestGolden(t *testing.T) {
	for _, tc := range goldenCases() {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join("testdata", tc.name+".golden")
			got := hex.Dump(tc.data)
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if got != string(want) {
				t.Fatalf("encoding changed (run go test -update if intended):\ngot:\n%swant:\n%s", got, want)
			}
			var p protocol.Packet
			if err := p.Decode(tc.data, len(tc.data)); err != nil {
				t.Fatalf("golden packet does not decode: %v", err)
			}
			if again := p.Append(nil); !bytes.Equal(again, tc.data) {
				t.Fatalf("re-encoding = %x, want %x", again, tc.data)
			}
		})
	}
}
