//go:build !race

package websocket

import (
	"testing"
	"unsafe"
)

// TestZeroAllocs pins the per-message paths at zero allocations.
func TestZeroAllocs(t *testing.T) {
	serverIn := &loopReader{data: repeatFrames(clientFrame(true, OpBinary, payload1K), 8)}
	server := NewServerConn(&discardConn{r: serverIn}, nil, ConnConfig{})
	clientIn := &loopReader{data: repeatFrames(serverFrame(true, OpBinary, payload1K), 8)}
	client := NewClientConn(&discardConn{r: clientIn}, nil, ConnConfig{})
	withPing := &loopReader{data: concat(clientFrame(false, OpText, []byte("frag")), clientFrame(true, OpPing, []byte("p")),
		clientFrame(true, OpContinuation, []byte("ment")))}
	pinged := NewServerConn(&discardConn{r: withPing}, nil, ConnConfig{})
	buf := make([]byte, 0, 4096)
	frame := make([]byte, 0, 2048)
	client.WriteMessage(OpBinary, payload1K) // grows the client's masking buffer once
	tests := []struct {
		name string
		f    func()
	}{
		{"AppendFrame", func() { frame = AppendFrame(frame[:0], OpBinary, payload1K) }},
		{"Mask", func() { Mask(testKey, 3, buf[:1024]) }},
		{"ReadMessage server 1K", func() { server.ReadMessage(buf[:0]) }},
		{"ReadMessage client 1K", func() { client.ReadMessage(buf[:0]) }},
		{"ReadMessage fragmented with ping", func() { pinged.ReadMessage(buf[:0]) }},
		{"WriteMessage server 1K", func() { server.WriteMessage(OpBinary, payload1K) }},
		{"WriteMessage client 1K", func() { client.WriteMessage(OpBinary, payload1K) }},
		{"WritePreparedFrame", func() { server.WritePreparedFrame(frame) }},
	}
	for _, tt := range tests {
		if n := testing.AllocsPerRun(200, tt.f); n != 0 {
			t.Errorf("%s: %v allocs per run, want 0", tt.name, n)
		}
	}
}

// TestConnSize keeps the per-connection struct small: an idle Conn is all
// the package holds for a connection.
func TestConnSize(t *testing.T) {
	size := unsafe.Sizeof(Conn{})
	t.Logf("sizeof(Conn) = %d bytes", size)
	if size > 224 {
		t.Errorf("sizeof(Conn) = %d bytes, want at most 224", size)
	}
}

// TestZeroAllocsTCP: on a real TCP connection the server's vectored write
// and the read path stay allocation free.
func TestZeroAllocsTCP(t *testing.T) {
	clients, servers := socketPairs(t, 1)
	defer closeAll(clients)
	defer closeAll(servers)
	server := NewServerConn(servers[0], nil, ConnConfig{})
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		buf := make([]byte, 64<<10)
		for {
			if _, err := clients[0].Read(buf); err != nil {
				return
			}
		}
	}()
	defer func() { clients[0].Close(); <-drained }()
	server.WriteMessage(OpBinary, payload1K) // caches the iovec array
	if n := testing.AllocsPerRun(200, func() { server.WriteMessage(OpBinary, payload1K) }); n != 0 {
		t.Errorf("WriteMessage over TCP: %v allocs per run, want 0", n)
	}
}
