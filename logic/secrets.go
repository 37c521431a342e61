package logic

import (
	"crypto/sha256"
	"crypto/subtle"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
)

// secrets holds what Logic loads from Config.TokenSecretFile and
// Config.APIKeysFile. Both are swapped whole by Reload, so readers never
// lock.
type secrets struct {
	tokenFile string
	keysFile  string
	tokens    atomic.Pointer[[][]byte]            // token secrets; nil: unsigned tokens accepted
	keys      atomic.Pointer[[][sha256.Size]byte] // SHA-256 of the API keys; nil: no key needed
}

// load reads the files named by cfg. Without a token secret it logs the
// one warning that unsigned tokens are trusted; it warns about a file
// that other users may read.
func (s *secrets) load(cfg *Config, logger *slog.Logger) error {
	s.tokenFile, s.keysFile = cfg.TokenSecretFile, cfg.APIKeysFile
	if err := s.reload(); err != nil {
		return err
	}
	if s.tokenFile == "" {
		logger.Warn("logic: no token secret file: unsigned client tokens are accepted, any client can claim any mid and key")
	}
	for _, path := range []string{s.tokenFile, s.keysFile} {
		if path == "" {
			continue
		}
		if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
			logger.Warn("logic: secret file readable by other users; chmod 600 it", "file", path, "mode", fi.Mode().Perm().String())
		}
	}
	return nil
}

// reload reads both files again; on error nothing changes.
func (s *secrets) reload() error {
	var tokens [][]byte
	var keys [][sha256.Size]byte
	if s.tokenFile != "" {
		t, err := readKeyFile(s.tokenFile, "token secret file", MinTokenSecretLen)
		if err != nil {
			return err
		}
		tokens = t
	}
	if s.keysFile != "" {
		k, err := readKeyFile(s.keysFile, "API keys file", 0)
		if err != nil {
			return err
		}
		for _, key := range k {
			keys = append(keys, sha256.Sum256(key))
		}
	}
	if s.tokenFile != "" {
		s.tokens.Store(&tokens)
	}
	if s.keysFile != "" {
		s.keys.Store(&keys)
	}
	return nil
}

// Reload reads Config.TokenSecretFile and Config.APIKeysFile again (the
// commands call it on SIGHUP), so keys and secrets rotate without a
// restart. On error (a file missing, empty, or with a secret too short)
// the ones in use are kept. Without either file it does nothing.
func (l *Logic) Reload() error {
	if l.secrets.tokenFile == "" && l.secrets.keysFile == "" {
		return nil
	}
	if err := l.secrets.reload(); err != nil {
		return err
	}
	l.log.Info("logic: reloaded token secrets and API keys", "token_secret_file", l.secrets.tokenFile, "api_keys_file", l.secrets.keysFile)
	return nil
}

// parseToken parses a client token: a signed one when a token secret is
// configured, else goim's unsigned JSON.
func (l *Logic) parseToken(b []byte) (Token, error) {
	if p := l.secrets.tokens.Load(); p != nil {
		return ParseSignedToken(b, *p, l.cfg.Now())
	}
	return ParseToken(b)
}

// authorized reports whether r carries one of the API keys in an
// "Authorization: Bearer KEY" header, or no key is configured. The key is
// hashed and compared with every configured hash in constant time, so
// the time taken tells neither the key's length nor which key matched.
func (s *secrets) authorized(r *http.Request) bool {
	p := s.keys.Load()
	if p == nil {
		return true
	}
	scheme, key, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	sum := sha256.Sum256([]byte(strings.TrimSpace(key)))
	match := 0
	for i := range *p {
		match |= subtle.ConstantTimeCompare(sum[:], (*p)[i][:])
	}
	return match == 1
}

// CodeUnauthorized is the result code of a request to the HTTP API without
// a valid API key (with HTTP 401).
const CodeUnauthorized = -401

// requireKey wraps h so that it answers -401 (HTTP 401) unless the request
// carries a valid API key (see Config.APIKeysFile).
func (l *Logic) requireKey(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !l.secrets.authorized(r) {
			l.stats.unauthorized.Add(1)
			w.Header().Set("WWW-Authenticate", `Bearer realm="goim"`)
			msg := "missing or invalid API key: send Authorization: Bearer <key>"
			writeError(w, http.StatusUnauthorized, CodeUnauthorized, msg)
			return
		}
		h.ServeHTTP(w, r)
	})
}
