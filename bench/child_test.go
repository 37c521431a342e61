package bench

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// childEnv turns the test binary into a process that holds client
// connections for BenchmarkIdleConn, so that they count against neither
// the measured process's memory nor its open-file limit. Its value is
// "transport,addr,n": the child connects n clients, prints "ready" (or
// "error: ...") and holds them until its stdin closes.
const childEnv = "GOIM_BENCH_CLIENTS"

// runClientChild is the child's main; it returns the exit code.
func runClientChild(spec string) int {
	parts := strings.Split(spec, ",")
	if len(parts) != 3 {
		fmt.Println("error: bad spec", spec)
		return 2
	}
	n, err := strconv.Atoi(parts[2])
	if err != nil {
		fmt.Println("error: bad count", parts[2])
		return 2
	}
	w := Workload{}.withDefaults()
	f := NewFleet(FleetConfig{Transport: parts[0], Addr: parts[1], N: n, Token: w.Token, Op: w.Op, LocalIPs: LoopbackIPs(4)})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := f.Connect(ctx); err != nil {
		fmt.Println("error:", err)
		f.Close()
		return 1
	}
	fmt.Println("ready")
	_, _ = io.Copy(io.Discard, os.Stdin)
	f.Close()
	return 0
}

// clientChild is a running child process holding connections.
type clientChild struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
}

// startClientChild starts a child holding n connections to addr and waits
// until they are all authenticated.
func startClientChild(tb testing.TB, transport, addr string, n int) *clientChild {
	tb.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s,%s,%d", childEnv, transport, addr, n))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	c := &clientChild{cmd: cmd, stdin: stdin}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "ready" {
		c.stop()
		tb.Fatalf("client child: %q, %v", line, err)
	}
	return c
}

// stop closes the child's connections and waits for it to exit.
func (c *clientChild) stop() {
	c.stdin.Close()
	_ = c.cmd.Wait()
}
