package server_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/goimx/goim/client"
	"github.com/goimx/goim/server"
)

// Example runs a whole node on loopback ports chosen by the system,
// connects a client, pushes to it through the HTTP push API and stops.
func Example() {
	const loop = "127.0.0.1:0"
	node, err := server.Start(server.Config{
		Logic: server.LogicConfig{HTTPAddr: loop, RPCAddr: loop},
		Comet: server.CometConfig{TCPAddrs: []string{loop}, WSAddr: server.NoListen, RPCAddr: loop},
		Job:   server.JobConfig{RPCAddr: loop},
	}, slog.New(slog.DiscardHandler))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer node.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := node.WaitReady(ctx); err != nil { // the job knows the comet
		fmt.Println(err)
		return
	}

	c, err := client.Dial(ctx, client.Config{
		Transport: client.TransportTCP,
		Addr:      node.Comet().Addrs().TCP[0].String(),
		Token:     client.Token{Key: "k1", Accepts: []int32{1000}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()

	url := "http://" + node.Logic().HTTPAddr().String() + "/goim/push/keys?operation=1000&keys=k1"
	resp, err := http.Post(url, "text/plain", strings.NewReader("hello"))
	if err != nil {
		fmt.Println(err)
		return
	}
	answer, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println(strings.TrimSpace(string(answer)))

	m, err := c.Read()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("op %d: %s\n", m.Op, m.Body)
	if err := node.Shutdown(ctx); err != nil {
		fmt.Println(err)
	}
	// Output:
	// {"code":0,"message":"","data":{"conns":1,"comets":1}}
	// op 1000: hello
}
