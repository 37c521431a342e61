package bench

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/goimx/goim/client"
	"github.com/goimx/goim/logic"
)

// TestSignedTokensEndToEnd runs logic with a token secret and API keys,
// and a comet and a job, over the RPC on loopback: a client with a token
// signed by the backend's secret connects and gets a push made with an
// API key; unsigned, forged and expired tokens are refused and the
// client closed; a push without the key is a 401.
func TestSignedTokensEndToEnd(t *testing.T) {
	dir := t.TempDir()
	secret := []byte("e2e-secret-e2e-secret-e2e-secret-0123")
	secretFile, keysFile := filepath.Join(dir, "token-secret"), filepath.Join(dir, "api-keys")
	if err := os.WriteFile(secretFile, secret, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keysFile, []byte("push-key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := startTestCluster(t, ClusterConfig{Logic: logic.Config{TokenSecretFile: secretFile, APIKeysFile: keysFile}})

	mint := func(tok logic.Token, exp time.Time, s []byte) string {
		signed, err := logic.SignToken(tok, exp, s)
		if err != nil {
			t.Fatal(err)
		}
		return signed
	}
	victim := logic.Token{Mid: 42, Key: "victim", Accepts: []int32{1000}}
	for _, tt := range []struct {
		name   string
		token  client.Token
		signed string
	}{
		{"unsigned", client.Token{Mid: 42, Key: "victim", Accepts: []int32{1000}}, ""},
		{"forged", client.Token{}, mint(victim, time.Now().Add(time.Hour), []byte("attacker-attacker-attacker-attacker"))},
		{"expired", client.Token{}, mint(victim, time.Now().Add(-time.Hour), secret)},
	} {
		for _, transport := range []string{client.TransportTCP, client.TransportWS} {
			addr := map[string]string{client.TransportTCP: c.TCPAddr, client.TransportWS: c.WSAddr}[transport]
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			conn, err := client.Dial(ctx, client.Config{Transport: transport, Addr: addr, Token: tt.token, SignedToken: tt.signed})
			cancel()
			if err == nil {
				conn.Close()
				t.Errorf("%s token over %s: connected", tt.name, transport)
			} else if !errors.Is(err, client.ErrAuth) {
				t.Errorf("%s token over %s: err = %v, want client.ErrAuth", tt.name, transport, err)
			}
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := client.Dial(ctx, client.Config{Addr: c.TCPAddr, SignedToken: mint(victim, time.Now().Add(time.Hour), secret)})
	if err != nil {
		t.Fatalf("signed token: %v", err)
	}
	defer conn.Close()

	push := func(key string) (int, string) {
		req, _ := http.NewRequest("POST", "http://"+c.HTTPAddr+"/goim/push/mids?operation=1000&mids=42", strings.NewReader("hello"))
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(body)
	}
	if status, body := push(""); status != http.StatusUnauthorized || !strings.Contains(body, `"code":-401`) {
		t.Errorf("push without key: %d %s, want 401 and code -401", status, body)
	}
	if status, body := push("push-key"); status != http.StatusOK || !strings.Contains(body, `"conns":1`) {
		t.Fatalf("push with key: %d %s", status, body)
	}
	m, err := conn.Read()
	if err != nil || m.Op != 1000 || string(m.Body) != "hello" {
		t.Fatalf("read push: op %d body %q err %v", m.Op, m.Body, err)
	}
	st := c.Logic.Stats()
	if st.ConnectsRefused != 6 || st.Unauthorized != 1 {
		t.Errorf("logic stats: ConnectsRefused %d, Unauthorized %d; want 6, 1", st.ConnectsRefused, st.Unauthorized)
	}
	http.DefaultClient.CloseIdleConnections()
}
