package client

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"time"
)

// NodesInfo is the data of logic's GET /goim/nodes/weighted: where a
// client should connect and how it should back off between reconnects.
type NodesInfo struct {
	Domain       string   `json:"domain"`
	TCPPort      int      `json:"tcp_port"`
	WSPort       int      `json:"ws_port"`
	WSSPort      int      `json:"wss_port"`
	Heartbeat    int      `json:"heartbeat"`     // seconds
	HeartbeatMax int      `json:"heartbeat_max"` // heartbeats a client may miss
	Nodes        []string `json:"nodes"`         // best first
	Backoff      Backoff  `json:"backoff"`
}

// maxNodesAnswer is the most bytes of a /nodes/weighted answer read.
const maxNodesAnswer = 1 << 20

// Nodes asks logic's /goim/nodes/weighted at url (query included, e.g.
// ?platform=android) for the comets to connect to.
func Nodes(ctx context.Context, hc *http.Client, url string) (NodesInfo, error) {
	var info NodesInfo
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return info, fmt.Errorf("client: nodes: %w", err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return info, fmt.Errorf("client: nodes: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxNodesAnswer))
	if err != nil {
		return info, fmt.Errorf("client: nodes: reading the answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return info, fmt.Errorf("client: nodes: HTTP %d: %.200s", resp.StatusCode, body)
	}
	return parseNodes(body)
}

// parseNodes decodes the JSON answer of /goim/nodes/weighted.
func parseNodes(body []byte) (NodesInfo, error) {
	var info NodesInfo
	var answer struct {
		Code    int             `json:"code"`
		Message string          `json:"message"`
		Data    json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &answer); err != nil {
		return info, fmt.Errorf("client: nodes: %w", err)
	}
	if answer.Code != 0 {
		return info, fmt.Errorf("client: nodes: code %d: %s", answer.Code, answer.Message)
	}
	if err := json.Unmarshal(answer.Data, &info); err != nil {
		return info, fmt.Errorf("client: nodes: data: %w", err)
	}
	return info, nil
}

// Addr returns the address to dial for transport: the first node (the
// list is best first) with the transport's advertised port. A node that
// already names a port is used as is. ok is false when there is no node
// or the transport's port is not offered (0).
func (n NodesInfo) Addr(transport string) (addr string, ok bool) {
	if len(n.Nodes) == 0 {
		return "", false
	}
	node := n.Nodes[0]
	if _, _, err := net.SplitHostPort(node); err == nil {
		return node, true
	}
	var port int
	switch transport {
	case TransportTCP, TransportTLS:
		port = n.TCPPort
	case TransportWS:
		port = n.WSPort
	case TransportWSS:
		port = n.WSSPort
	}
	if port <= 0 {
		return "", false
	}
	return net.JoinHostPort(node, strconv.Itoa(port)), true
}

// Backoff is the reconnect backoff advertised by /goim/nodes/weighted:
// the n-th retry (from 0) waits BaseDelay*Factor^n seconds, at most
// MaxDelay, moved by up to ±Jitter of itself at random.
type Backoff struct {
	MaxDelay  int32   `json:"max_delay"`  // seconds
	BaseDelay int32   `json:"base_delay"` // seconds
	Factor    float64 `json:"factor"`
	Jitter    float64 `json:"jitter"` // fraction, 0..1
}

// Delay returns the wait before retry n (from 0), capped at limit when
// limit > 0. r is a random number in [0, 1) that sets the jitter.
func (b Backoff) Delay(n int, r float64, limit time.Duration) time.Duration {
	d := float64(b.BaseDelay) * math.Pow(max(b.Factor, 1), float64(max(n, 0)))
	d = min(d, float64(max(b.MaxDelay, b.BaseDelay)))
	j := min(max(b.Jitter, 0), 1)
	d *= 1 + j*(2*r-1)
	out := time.Duration(d * float64(time.Second))
	if limit > 0 && out > limit {
		out = limit
	}
	return max(out, 0)
}

// RandomDelay is Delay with a random jitter.
func (b Backoff) RandomDelay(n int, limit time.Duration) time.Duration {
	return b.Delay(n, rand.Float64(), limit)
}
