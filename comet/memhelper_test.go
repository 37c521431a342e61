package comet

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/goimx/goim/protocol"
	"github.com/goimx/goim/websocket"
)

// memClientEnv names the environment variable that turns the test binary
// into a client-holding child process for the memory benchmark:
// "tcp|ws,ADDR,N". The child opens N authenticated idle connections,
// prints "ready", and holds them until its stdin closes.
const memClientEnv = "COMET_MEM_CLIENT"

// maxClientsPerChild keeps a child under the 20,000 open-file limit.
const maxClientsPerChild = 9900

// TestMemClientHelper is the child process of BenchmarkIdleConnMemory; it
// is skipped in a normal run.
func TestMemClientHelper(t *testing.T) {
	spec := os.Getenv(memClientEnv)
	if spec == "" {
		t.Skip("only runs as a child of BenchmarkIdleConnMemory")
	}
	f := strings.Split(spec, ",")
	n, _ := strconv.Atoi(f[2])
	conns, err := holdClients(f[0] == "ws", f[1], n)
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	fmt.Println("ready")
	io.Copy(io.Discard, os.Stdin)
	for _, nc := range conns {
		nc.Close()
	}
	os.Exit(0)
}

// holdClients opens n authenticated connections to addr with 16 dialers.
func holdClients(ws bool, addr string, n int) ([]net.Conn, error) {
	conns := make([]net.Conn, n)
	errs := make(chan error, 16)
	var wg sync.WaitGroup
	for w := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 16 {
				nc, err := dialAuthed(ws, addr, i)
				if err != nil {
					errs <- err
					return
				}
				conns[i] = nc
			}
		}()
	}
	wg.Wait()
	close(errs)
	return conns, <-errs
}

// dialAuthed opens one connection and authenticates it into one of 100
// rooms, with a key assigned by logic.
func dialAuthed(ws bool, addr string, i int) (net.Conn, error) {
	nc, err := net.DialTimeout("tcp", addr, 30*time.Second)
	if err != nil {
		return nil, err
	}
	nc.SetDeadline(time.Now().Add(60 * time.Second))
	defer nc.SetDeadline(time.Time{})
	var r io.Reader = nc
	tk := fmt.Sprintf(`{"mid":%d,"room_id":"live://%d","platform":"web","accepts":[1000,1001]}`, i+1, i%100)
	pkt := (&protocol.Packet{Ver: 1, Op: protocol.OpAuth, Seq: 1, Body: []byte(tk)}).Append(nil)
	if ws {
		leftover, err := websocket.ClientHandshake(nc, nil, addr, "/sub", "")
		if err != nil {
			nc.Close()
			return nil, err
		}
		r = io.MultiReader(strings.NewReader(string(leftover)), nc)
		pkt = websocket.AppendMaskedFrame(nil, websocket.OpBinary, [4]byte{9, 8, 7, 6}, pkt)
	}
	if _, err := nc.Write(pkt); err != nil {
		nc.Close()
		return nil, err
	}
	want := protocol.HeaderLen
	if ws {
		want += 2
	}
	if _, err := io.ReadFull(r, make([]byte, want)); err != nil {
		nc.Close()
		return nil, fmt.Errorf("auth reply: %w", err)
	}
	return nc, nil
}

// memSample is the process's memory at one moment.
type memSample struct {
	heap, stacks, rss uint64
}

// readMem samples the process memory after a full collection.
func readMem(free bool) memSample {
	runtime.GC()
	runtime.GC()
	if free {
		debug.FreeOSMemory()
	}
	s := []metrics.Sample{
		{Name: "/memory/classes/heap/objects:bytes"},
		{Name: "/memory/classes/heap/stacks:bytes"},
	}
	metrics.Read(s)
	return memSample{heap: s[0].Value.Uint64(), stacks: s[1].Value.Uint64(), rss: vmRSS()}
}

// vmRSS returns the resident set size from /proc/self/status, or 0.
func vmRSS() uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// startingStack returns the runtime's current starting goroutine stack
// size.
func startingStack() uint64 {
	s := []metrics.Sample{{Name: "/gc/stack/starting-size:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// clientProcs runs child processes holding n connections to addr in all.
type clientProcs struct {
	cmds []*exec.Cmd
	ins  []io.WriteCloser
}

// spawnClients starts the children and waits until all are ready.
func spawnClients(b *testing.B, ws bool, addr string, n int) *clientProcs {
	b.Helper()
	kind := "tcp"
	if ws {
		kind = "ws"
	}
	cp := &clientProcs{}
	for left := n; left > 0; {
		k := min(left, maxClientsPerChild)
		left -= k
		cmd := exec.Command(os.Args[0], "-test.run=^TestMemClientHelper$", "-test.count=1")
		cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s,%s,%d", memClientEnv, kind, addr, k))
		cmd.Stderr = os.Stderr
		in, _ := cmd.StdinPipe()
		out, _ := cmd.StdoutPipe()
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		cp.cmds, cp.ins = append(cp.cmds, cmd), append(cp.ins, in)
		line, _ := bufio.NewReader(out).ReadString('\n')
		if strings.TrimSpace(line) != "ready" {
			cp.stop()
			b.Fatalf("client process: %q", line)
		}
	}
	return cp
}

// stop ends the children (they close their connections) and waits.
func (cp *clientProcs) stop() {
	for _, in := range cp.ins {
		in.Close()
	}
	for _, cmd := range cp.cmds {
		cmd.Wait()
	}
}
