//go:build !race

package websocket

import (
	"net"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/goimx/goim/internal/testwait"
)

// TestIdleConnMemory measures what an idle server connection costs on top
// of its socket: the Conn and the goroutine blocked in ReadMessage, before
// and after it read a message. It logs the numbers; a loose bound catches
// regressions (heap numbers vary).
func TestIdleConnMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("opens 500 loopback connections")
	}
	const n = 500
	clients, servers := socketPairs(t, n)
	defer closeAll(clients)
	sockets := memInUse()
	var wg sync.WaitGroup
	var reads atomic.Int64
	defer wg.Wait()
	defer closeAll(servers)       // ends the readers before wg.Wait
	scratch := make([]byte, 4096) // one pooled buffer serves every handshake
	request := strings.Replace(goodRequest, "Origin: https://app.example.com\r\n", "", 1)
	for i := range n {
		clients[i].Write([]byte(request))
		_, leftover, err := ServerHandshake(servers[i], scratch, &testHandshakeConfig)
		if err != nil {
			t.Fatal(err)
		}
		c := NewServerConn(servers[i], leftover, ConnConfig{})
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 0, 64)
			for {
				if _, _, err := c.ReadMessage(buf[:0]); err != nil {
					return
				}
				reads.Add(1)
			}
		}()
	}
	testwait.For(t, waitTimeout, "readers blocked", func() bool { return runtime.NumGoroutine() >= n })
	idle := memInUse()
	frame := concat(clientFrame(true, OpPing, []byte("p")), clientFrame(false, OpText, []byte("heart")), clientFrame(true, OpContinuation, []byte("beat")))
	for _, c := range clients {
		c.Write(frame)
	}
	testwait.For(t, waitTimeout, "messages read", func() bool { return reads.Load() == n })
	after := memInUse()
	perConn, perConnAfter := float64(idle-sockets)/n, float64(after-sockets)/n
	t.Logf("per idle server conn (Conn + reader goroutine with its buffer): %.0f bytes; after a ping and a fragmented message: %.0f bytes",
		perConn, perConnAfter)
	if perConn > 4000 || perConnAfter > 4000 {
		t.Errorf("idle conn costs %.0f / %.0f bytes, want under 4000", perConn, perConnAfter)
	}
}

// socketPairs opens n loopback TCP connections and returns both ends.
func socketPairs(t *testing.T, n int) (clients, servers []net.Conn) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	clients, servers = make([]net.Conn, n), make([]net.Conn, n)
	for i := range n {
		if clients[i], err = net.Dial("tcp", ln.Addr().String()); err != nil {
			t.Fatal(err)
		}
		if servers[i], err = ln.Accept(); err != nil {
			t.Fatal(err)
		}
	}
	return clients, servers
}

// memInUse returns heap and stack bytes in use after a GC.
func memInUse() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc + ms.StackInuse
}

// closeAll closes the non-nil conns.
func closeAll(conns []net.Conn) {
	for _, c := range conns {
		if c != nil {
			c.Close()
		}
	}
}
