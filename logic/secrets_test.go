package logic

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/goimx/goim/logic/logicrpc"
	"github.com/goimx/goim/rpc"
)

// writeFile writes content to a new file in a test directory.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestTokenSecretRequired: with a token secret, Connect refuses every
// unsigned, forged, expired or alg-none token and accepts a signed one.
func TestTokenSecretRequired(t *testing.T) {
	secretFile := writeFile(t, "secret", "# rotated 2026-12\n"+string(testSecret)+"\n\n")
	e := newTestEnv(t, func(c *Config) { c.TokenSecretFile = secretFile })
	e.clock.Advance(testNow.Sub(e.clock.Now()))
	claims := `{"mid":9,"key":"victim","exp":` + expIn(time.Hour) + `}`
	refused := []struct{ name, token string }{
		{"unsigned JSON", `{"mid":9,"key":"victim"}`},
		{"forged", mintJWT(hs256, claims, otherSecret)},
		{"expired", mintJWT(hs256, `{"mid":9,"key":"victim","exp":`+expIn(-time.Hour)+`}`, testSecret)},
		{"alg none", mintJWT(`{"alg":"none"}`, claims, nil)},
		{"alg HS384", mintJWT(`{"alg":"HS384"}`, claims, testSecret)},
		{"no exp", mintJWT(hs256, `{"mid":9,"key":"victim"}`, testSecret)},
	}
	for _, tt := range refused {
		_, err := e.l.Connect(context.Background(), &logicrpc.ConnectReq{Server: "c1", ConnID: 1, Token: []byte(tt.token)})
		if !errors.Is(err, logicrpc.ErrBadToken) {
			t.Errorf("%s: err = %v, want logicrpc.ErrBadToken", tt.name, err)
		}
	}
	if got := e.l.Stats().ConnectsRefused; got != uint64(len(refused)) {
		t.Errorf("ConnectsRefused = %d, want %d", got, len(refused))
	}
	rep := e.connect(t, "c1", 1, mintJWT(hs256, claims, testSecret))
	if rep.Mid != 9 || rep.Key != "victim" {
		t.Errorf("reply %+v, want mid 9 key victim", rep)
	}
}

// TestTokenSecretOverRPC: a comet's Connect over the real RPC on loopback
// gets the refusal of an unsigned token as an error, and a signed token
// through.
func TestTokenSecretOverRPC(t *testing.T) {
	secretFile := writeFile(t, "secret", string(testSecret))
	l, err := New(Config{TokenSecretFile: secretFile}, discardLogger())
	must(t, err)
	ln := listen(t)
	done := make(chan error, 1)
	go func() { done <- l.ServeRPC(ln) }()
	client := logicrpc.NewClient(ln.Addr().String(), rpc.ClientConfig{}, discardLogger())
	t.Cleanup(func() {
		client.Close()
		l.Close()
		checkClosed(t, "ServeRPC", <-done)
	})
	ctx := context.Background()
	_, err = client.Connect(ctx, &logicrpc.ConnectReq{Server: "c1", ConnID: 1, Token: []byte(`{"mid":1,"key":"k"}`)})
	if err == nil || !strings.Contains(err.Error(), "unsigned token refused") {
		t.Errorf("unsigned token over RPC: err = %v, want the refusal", err)
	}
	tok, err := SignToken(Token{Mid: 1, Key: "k"}, time.Now().Add(time.Minute), testSecret)
	must(t, err)
	rep, err := client.Connect(ctx, &logicrpc.ConnectReq{Server: "c1", ConnID: 1, Token: []byte(tok)})
	if err != nil || rep.Key != "k" {
		t.Fatalf("signed token over RPC: %+v, %v", rep, err)
	}
}

// TestSecretFiles: New refuses missing, empty or weak files, naming them;
// without a token secret it warns once.
func TestSecretFiles(t *testing.T) {
	short := writeFile(t, "short", "too-short\n")
	empty := writeFile(t, "empty", "# nothing\n\n")
	for _, tt := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"missing secret", Config{TokenSecretFile: "/nonexistent/secret"}, "token secret file: open /nonexistent/secret"},
		{"short secret", Config{TokenSecretFile: short}, "shorter than 32 bytes"},
		{"empty secret", Config{TokenSecretFile: empty}, "no key in the file"},
		{"missing keys", Config{APIKeysFile: "/nonexistent/keys"}, "API keys file: open /nonexistent/keys"},
		{"empty keys", Config{APIKeysFile: empty}, "no key in the file"},
	} {
		l, err := New(tt.cfg, discardLogger())
		if err == nil {
			l.Close()
			t.Errorf("%s: New succeeded", tt.name)
		} else if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.want)
		}
	}
	var buf bytes.Buffer
	l, err := New(Config{}, slog.New(slog.NewTextHandler(&buf, nil)))
	must(t, err)
	l.Close()
	if n := strings.Count(buf.String(), "unsigned client tokens are accepted"); n != 1 {
		t.Errorf("%d warnings about unsigned tokens, want 1:\n%s", n, buf.String())
	}
	buf.Reset()
	l, err = New(Config{TokenSecretFile: writeFile(t, "s", string(testSecret))}, slog.New(slog.NewTextHandler(&buf, nil)))
	must(t, err)
	l.Close()
	if strings.Contains(buf.String(), "unsigned") || strings.Contains(buf.String(), "readable") {
		t.Errorf("warning with a private token secret:\n%s", buf.String())
	}
	buf.Reset()
	open := writeFile(t, "keys", "k\n")
	must(t, os.Chmod(open, 0o644))
	l, err = New(Config{APIKeysFile: open}, slog.New(slog.NewTextHandler(&buf, nil)))
	must(t, err)
	l.Close()
	if !strings.Contains(buf.String(), "secret file readable by other users") {
		t.Errorf("no warning for a keys file of mode 644:\n%s", buf.String())
	}
}

// authDo runs one request with an optional Authorization header.
func authDo(h http.Handler, method, target, auth string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, strings.NewReader("hi"))
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

const unauthorizedBody = `{"code":-401,"message":"missing or invalid API key: send Authorization: Bearer \u003ckey\u003e"}`

// TestAPIKeys: with a keys file every push needs a valid key, queries
// too unless PublicQueries, /goim/nodes/weighted never.
func TestAPIKeys(t *testing.T) {
	keys := writeFile(t, "keys", "# push callers\nkey-one\n\n  key-two  \n")
	for _, public := range []bool{false, true} {
		e := newTestEnv(t, func(c *Config) { c.APIKeysFile = keys; c.PublicQueries = public })
		e.addJob(t, "j1")
		e.addComet(t, "c1", nil)
		e.connect(t, "c1", 1, `{"mid":1,"key":"k1"}`)
		h := e.l.Handler()
		push := "/goim/push/keys?operation=1000&keys=k1"
		for _, tt := range []struct {
			name, method, target, auth string
			status                     int
		}{
			{"push no key", "POST", push, "", 401},
			{"push wrong key", "POST", push, "Bearer key-three", 401},
			{"push key prefix", "POST", push, "Bearer key-on", 401},
			{"push key longer", "POST", push, "Bearer key-one1", 401},
			{"push basic auth", "POST", push, "Basic a2V5LW9uZTo=", 401},
			{"push bare key", "POST", push, "key-one", 401},
			{"push key one", "POST", push, "Bearer key-one", 200},
			{"push key two, lower-case scheme", "POST", push, "bearer key-two", 200},
			{"push room no key", "POST", "/goim/push/room?operation=1&type=live&room=1", "", 401},
			{"push mids no key", "POST", "/goim/push/mids?operation=1&mids=1", "", 401},
			{"push all no key", "POST", "/goim/push/all?operation=1", "", 401},
			{"push wrong method no key", "GET", push, "", 401},
			{"weighted no key", "GET", "/goim/nodes/weighted", "", 200},
			{"online total no key", "GET", "/goim/online/total", "", map[bool]int{false: 401, true: 200}[public]},
			{"online top no key", "GET", "/goim/online/top?type=live&limit=1", "", map[bool]int{false: 401, true: 200}[public]},
			{"online room no key", "GET", "/goim/online/room?type=live&rooms=1", "", map[bool]int{false: 401, true: 200}[public]},
			{"instances no key", "GET", "/goim/nodes/instances", "", map[bool]int{false: 401, true: 200}[public]},
			{"old instances no key", "GET", "/nodes/instances", "", map[bool]int{false: 401, true: 200}[public]},
			{"online total key", "GET", "/goim/online/total", "Bearer key-two", 200},
		} {
			rec := authDo(h, tt.method, tt.target, tt.auth)
			if rec.Code != tt.status {
				t.Errorf("public=%v %s: status %d, want %d (%s)", public, tt.name, rec.Code, tt.status, rec.Body)
				continue
			}
			if tt.status == 401 {
				if got := rec.Body.String(); got != unauthorizedBody {
					t.Errorf("%s: body %s, want %s", tt.name, got, unauthorizedBody)
				}
				if rec.Header().Get("WWW-Authenticate") == "" {
					t.Errorf("%s: no WWW-Authenticate header", tt.name)
				}
			}
		}
		want := uint64(15)
		if public {
			want = 10
		}
		if got := e.l.Stats().Unauthorized; got != want {
			t.Errorf("public=%v: Unauthorized = %d, want %d", public, got, want)
		}
		if got := e.jobs.get("j1").received(); len(got) != 2 {
			t.Errorf("public=%v: %d pushes reached the job, want the 2 with a key", public, len(got))
		}
	}
}

// TestAPIKeysOff: without a keys file no key is needed.
func TestAPIKeysOff(t *testing.T) {
	e := newTestEnv(t, nil)
	e.addJob(t, "j1")
	if rec := authDo(e.l.Handler(), "POST", "/goim/push/all?operation=1", ""); rec.Code != 200 {
		t.Errorf("status %d, want 200: %s", rec.Code, rec.Body)
	}
}

// TestReload: Reload swaps keys and secrets; a bad file keeps the old.
func TestReload(t *testing.T) {
	dir := t.TempDir()
	keys := filepath.Join(dir, "keys")
	secret := filepath.Join(dir, "secret")
	must(t, os.WriteFile(keys, []byte("old-key\n"), 0o600))
	must(t, os.WriteFile(secret, []byte(testSecret), 0o600))
	e := newTestEnv(t, func(c *Config) { c.APIKeysFile = keys; c.TokenSecretFile = secret })
	e.clock.Advance(testNow.Sub(e.clock.Now()))
	h := e.l.Handler()
	status := func(auth string) int { return authDo(h, "GET", "/goim/online/total", auth).Code }
	signedBy := func(s []byte) []byte {
		return []byte(mintJWT(hs256, `{"mid":1,"key":"k","exp":`+expIn(time.Hour)+`}`, s))
	}
	connect := func(s []byte) error {
		_, err := e.l.Connect(context.Background(), &logicrpc.ConnectReq{Server: "c1", ConnID: 1, Token: signedBy(s)})
		return err
	}
	if status("Bearer old-key") != 200 || connect(testSecret) != nil {
		t.Fatal("old key or secret refused before reload")
	}
	must(t, os.WriteFile(keys, []byte("new-key\n"), 0o600))
	must(t, os.WriteFile(secret, []byte(string(otherSecret)+"\n"+string(testSecret)), 0o600))
	must(t, e.l.Reload())
	if status("Bearer old-key") != 401 || status("Bearer new-key") != 200 {
		t.Error("keys not swapped by Reload")
	}
	if connect(otherSecret) != nil || connect(testSecret) != nil {
		t.Error("both rotated secrets should be accepted")
	}
	must(t, os.WriteFile(keys, nil, 0o600))
	if err := e.l.Reload(); err == nil {
		t.Error("Reload of an empty keys file succeeded")
	}
	if status("Bearer new-key") != 200 {
		t.Error("a failed Reload dropped the keys in use")
	}
}
