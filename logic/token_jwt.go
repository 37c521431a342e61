package logic

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/goimx/goim/logic/logicrpc"
)

// Limits of signed tokens.
const (
	// MinTokenSecretLen is the shortest token secret accepted: 256 bits,
	// the size of an HS256 key.
	MinTokenSecretLen = 32
	// maxJWTLen bounds a signed token before anything is decoded.
	maxJWTLen = 4096
	// tokenClockSkew is how far exp and nbf are stretched for clocks that
	// disagree between the minting backend and logic.
	tokenClockSkew = 30 * time.Second
)

// jwtEncoding is base64url without padding, as JWS compact form uses
// (RFC 7515 section 2); Strict refuses non-zero trailing bits, so that one
// token has one spelling.
var jwtEncoding = base64.RawURLEncoding.Strict()

// jwtHeader is the JOSE header of a signed token.
type jwtHeader struct {
	Alg  string          `json:"alg"`
	Typ  string          `json:"typ"`
	Crit json.RawMessage `json:"crit"`
}

// jwtClaims are the claims of a signed token: goim's token fields plus
// the registered exp (required) and nbf (optional) claims, NumericDates in
// seconds since the Unix epoch.
type jwtClaims struct {
	Token
	Exp *json.Number `json:"exp,omitempty"`
	Nbf *json.Number `json:"nbf,omitempty"`
}

// ParseSignedToken verifies an HS256 JWT in compact form with one of
// secrets and returns its claims as a Token, checked and normalised as
// ParseToken does. It refuses, with an error wrapping logicrpc.ErrBadToken that
// names the problem: anything but three base64url parts, a header whose
// alg is not "HS256" ("none" included) or that lists crit extensions, a
// signature that no secret produced (compared in constant time), a
// missing or passed exp, a future nbf (both with 30s of clock skew), and
// claims ParseToken would refuse. now is the current time.
func ParseSignedToken(b []byte, secrets [][]byte, now time.Time) (Token, error) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return Token{}, fmt.Errorf("%w: empty", logicrpc.ErrBadToken)
	}
	if len(b) > maxJWTLen {
		return Token{}, fmt.Errorf("%w: longer than %d bytes", logicrpc.ErrBadToken, maxJWTLen)
	}
	if b[0] == '{' {
		return Token{}, fmt.Errorf("%w: unsigned token refused, a signed token (HS256 JWT) is required", logicrpc.ErrBadToken)
	}
	header, payload, sig, ok := splitJWT(b)
	if !ok {
		return Token{}, fmt.Errorf("%w: not a JWT in compact form", logicrpc.ErrBadToken)
	}
	if err := checkJWTHeader(header); err != nil {
		return Token{}, err
	}
	if err := verifyJWT(b[:len(header)+1+len(payload)], sig, secrets); err != nil {
		return Token{}, err
	}
	return decodeJWTClaims(payload, now)
}

// splitJWT splits a compact JWS into its three parts.
func splitJWT(b []byte) (header, payload, sig []byte, ok bool) {
	header, rest, ok1 := bytes.Cut(b, []byte{'.'})
	payload, sig, ok2 := bytes.Cut(rest, []byte{'.'})
	if !ok1 || !ok2 || bytes.IndexByte(sig, '.') >= 0 || len(header) == 0 || len(payload) == 0 {
		return nil, nil, nil, false
	}
	return header, payload, sig, true
}

// checkJWTHeader decodes the header part and refuses every alg but HS256.
func checkJWTHeader(part []byte) error {
	raw, err := decodeJWTPart(part, "header")
	if err != nil {
		return err
	}
	var h jwtHeader
	if err := json.Unmarshal(raw, &h); err != nil {
		return fmt.Errorf("%w: header: %v", logicrpc.ErrBadToken, err)
	}
	switch {
	case h.Alg != "HS256":
		return fmt.Errorf("%w: alg %q refused, only HS256 is accepted", logicrpc.ErrBadToken, h.Alg)
	case h.Typ != "" && !strings.EqualFold(h.Typ, "JWT"):
		return fmt.Errorf("%w: typ %q refused", logicrpc.ErrBadToken, h.Typ)
	case h.Crit != nil:
		return fmt.Errorf("%w: crit header extensions refused", logicrpc.ErrBadToken)
	}
	return nil
}

// verifyJWT checks that sig is the HMAC-SHA256 of signed under one of
// secrets. Every secret is tried, so the time taken does not tell which
// one matched.
func verifyJWT(signed, sig []byte, secrets [][]byte) error {
	got, err := decodeJWTPart(sig, "signature")
	if err != nil {
		return err
	}
	match := false
	for _, s := range secrets {
		m := hmac.New(sha256.New, s)
		m.Write(signed)
		if hmac.Equal(m.Sum(nil), got) {
			match = true
		}
	}
	if !match {
		return fmt.Errorf("%w: bad signature", logicrpc.ErrBadToken)
	}
	return nil
}

// decodeJWTClaims decodes and checks the payload of a verified token.
func decodeJWTClaims(part []byte, now time.Time) (Token, error) {
	raw, err := decodeJWTPart(part, "payload")
	if err != nil {
		return Token{}, err
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return Token{}, fmt.Errorf("%w: payload is not a JSON object", logicrpc.ErrBadToken)
	}
	var c jwtClaims
	if err := json.Unmarshal(raw, &c); err != nil {
		return Token{}, fmt.Errorf("%w: payload: %v", logicrpc.ErrBadToken, err)
	}
	if c.Exp == nil {
		return Token{}, fmt.Errorf("%w: no exp claim", logicrpc.ErrBadToken)
	}
	exp, err := numericDate(*c.Exp, "exp")
	if err != nil {
		return Token{}, err
	}
	if !now.Before(exp.Add(tokenClockSkew)) {
		return Token{}, fmt.Errorf("%w: expired at %s", logicrpc.ErrBadToken, exp.UTC().Format(time.RFC3339))
	}
	if c.Nbf != nil {
		nbf, err := numericDate(*c.Nbf, "nbf")
		if err != nil {
			return Token{}, err
		}
		if now.Add(tokenClockSkew).Before(nbf) {
			return Token{}, fmt.Errorf("%w: not valid before %s", logicrpc.ErrBadToken, nbf.UTC().Format(time.RFC3339))
		}
	}
	t := c.Token
	if err := t.check(); err != nil {
		return Token{}, err
	}
	t.Platform = strings.ToLower(strings.TrimSpace(t.Platform))
	return t, nil
}

// decodeJWTPart decodes one base64url part; name is for the error.
func decodeJWTPart(part []byte, name string) ([]byte, error) {
	out := make([]byte, jwtEncoding.DecodedLen(len(part)))
	n, err := jwtEncoding.Decode(out, part)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: bad base64url: %v", logicrpc.ErrBadToken, name, err)
	}
	return out[:n], nil
}

// numericDate converts a JWT NumericDate (seconds, maybe fractional).
func numericDate(n json.Number, name string) (time.Time, error) {
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil || f < 0 || f > 1<<40 {
		return time.Time{}, fmt.Errorf("%w: %s: not a NumericDate: %s", logicrpc.ErrBadToken, name, n)
	}
	sec := int64(f)
	return time.Unix(sec, int64((f-float64(sec))*1e9)), nil
}

// SignToken returns t as an HS256 JWT in compact form, signed with
// secret, expiring at exp: what a backend hands its clients when logic
// runs with a token secret (docs/client.md shows the same in a few
// lines). It is for tests and Go backends; the claims are t's JSON fields
// plus exp.
func SignToken(t Token, exp time.Time, secret []byte) (string, error) {
	claims, err := json.Marshal(jwtClaims{Token: t, Exp: ptr(json.Number(strconv.FormatInt(exp.Unix(), 10)))})
	if err != nil {
		return "", fmt.Errorf("logic: sign token: %w", err)
	}
	signed := jwtEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + jwtEncoding.EncodeToString(claims)
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(signed))
	return signed + "." + jwtEncoding.EncodeToString(m.Sum(nil)), nil
}

func ptr[T any](v T) *T { return &v }
