package logic

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"github.com/goimx/goim/logic/logicrpc"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var (
	testSecret  = []byte("0123456789abcdef0123456789abcdef-test")
	otherSecret = []byte("fedcba9876543210fedcba9876543210-other")
	testNow     = time.Unix(1_800_000_000, 0)
)

// b64 is base64url without padding.
func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// mintJWT signs header.payload (given as JSON) with secret; a nil secret
// leaves the signature empty.
func mintJWT(header, payload string, secret []byte) string {
	signed := b64(header) + "." + b64(payload)
	if secret == nil {
		return signed + "."
	}
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(signed))
	return signed + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

const hs256 = `{"alg":"HS256","typ":"JWT"}`

func expIn(d time.Duration) string { return strconv.FormatInt(testNow.Add(d).Unix(), 10) }

func TestParseSignedToken(t *testing.T) {
	valid := `{"mid":123,"key":"k1","room_id":"live://1000","platform":" Web ","accepts":[1000,1001],"exp":` + expIn(time.Hour) + `}`
	good := mintJWT(hs256, valid, testSecret)
	parts := strings.Split(good, ".")
	tests := []struct {
		name    string
		in      string
		want    Token
		wantErr string // substring of the error; "" for success
	}{
		{"valid", good, Token{Mid: 123, Key: "k1", RoomID: "live://1000", Platform: "web", Accepts: []int32{1000, 1001}}, ""},
		{"valid resume claims", mintJWT(hs256, `{"room_id":"live://1","room_seq":7,"room_epoch":9,"exp":`+expIn(time.Minute)+`}`, testSecret),
			Token{RoomID: "live://1", Resume: Resume{RoomSeq: new(uint32(7)), RoomEpoch: 9}}, ""},
		{"valid no typ", mintJWT(`{"alg":"HS256"}`, `{"mid":1,"exp":`+expIn(time.Minute)+`}`, testSecret), Token{Mid: 1}, ""},
		{"valid fractional exp, nbf passed", mintJWT(hs256, `{"mid":2,"exp":`+expIn(time.Minute)+`.5,"nbf":`+expIn(-time.Minute)+`}`, testSecret), Token{Mid: 2}, ""},
		{"second secret", mintJWT(hs256, `{"mid":3,"exp":`+expIn(time.Minute)+`}`, otherSecret), Token{Mid: 3}, ""},
		{"within clock skew", mintJWT(hs256, `{"mid":4,"exp":`+expIn(-10*time.Second)+`}`, testSecret), Token{Mid: 4}, ""},
		{"unsigned JSON", `{"mid":123,"key":"victim"}`, Token{}, "unsigned token refused"},
		{"empty", ``, Token{}, "empty"},
		{"forged signature", mintJWT(hs256, valid, []byte("attacker-secret-attacker-secret-xx")), Token{}, "bad signature"},
		{"payload swapped", parts[0] + "." + b64(`{"mid":1,"key":"victim","exp":`+expIn(time.Hour)+`}`) + "." + parts[2], Token{}, "bad signature"},
		{"no signature", parts[0] + "." + parts[1] + ".", Token{}, "bad signature"},
		{"alg none", mintJWT(`{"alg":"none","typ":"JWT"}`, valid, nil), Token{}, `alg "none" refused`},
		{"alg None signed", mintJWT(`{"alg":"None"}`, valid, testSecret), Token{}, `alg "None" refused`},
		{"alg HS512", mintJWT(`{"alg":"HS512"}`, valid, testSecret), Token{}, `alg "HS512" refused`},
		{"alg RS256", mintJWT(`{"alg":"RS256"}`, valid, testSecret), Token{}, `alg "RS256" refused`},
		{"alg lower case", mintJWT(`{"alg":"hs256"}`, valid, testSecret), Token{}, `alg "hs256" refused`},
		{"no alg", mintJWT(`{"typ":"JWT"}`, valid, testSecret), Token{}, `alg "" refused`},
		{"crit", mintJWT(`{"alg":"HS256","crit":["b64"],"b64":false}`, valid, testSecret), Token{}, "crit"},
		{"typ other", mintJWT(`{"alg":"HS256","typ":"at+jwt"}`, valid, testSecret), Token{}, "typ"},
		{"expired", mintJWT(hs256, `{"mid":1,"exp":`+expIn(-time.Minute)+`}`, testSecret), Token{}, "expired at"},
		{"no exp", mintJWT(hs256, `{"mid":1}`, testSecret), Token{}, "no exp"},
		{"exp null", mintJWT(hs256, `{"mid":1,"exp":null}`, testSecret), Token{}, "no exp"},
		{"exp string", mintJWT(hs256, `{"mid":1,"exp":"soon"}`, testSecret), Token{}, "invalid number"},
		{"exp negative", mintJWT(hs256, `{"mid":1,"exp":-5}`, testSecret), Token{}, "exp: not a NumericDate"},
		{"not yet valid", mintJWT(hs256, `{"mid":1,"exp":`+expIn(time.Hour)+`,"nbf":`+expIn(time.Minute)+`}`, testSecret), Token{}, "not valid before"},
		{"negative mid", mintJWT(hs256, `{"mid":-1,"exp":`+expIn(time.Hour)+`}`, testSecret), Token{}, "negative mid"},
		{"long room", mintJWT(hs256, `{"room_id":"`+strings.Repeat("r", maxRoomLen+1)+`","exp":`+expIn(time.Hour)+`}`, testSecret), Token{}, "room_id longer"},
		{"payload not object", mintJWT(hs256, `[1]`, testSecret), Token{}, "payload is not a JSON object"},
		{"payload bad JSON", mintJWT(hs256, `{"mid":`, testSecret), Token{}, "payload"},
		{"header bad JSON", mintJWT(`{"alg":`, valid, testSecret), Token{}, "header"},
		{"two parts", parts[0] + "." + parts[1], Token{}, "not a JWT"},
		{"four parts", good + ".x", Token{}, "not a JWT"},
		{"empty header", "." + parts[1] + "." + parts[2], Token{}, "not a JWT"},
		{"padded base64", parts[0] + "=." + parts[1] + "." + parts[2], Token{}, "bad base64url"},
		{"std base64 alphabet", parts[0] + "." + parts[1] + "." + strings.NewReplacer("-", "+", "_", "/").Replace(parts[2]) + "+", Token{}, "bad base64url"},
		{"too long", good + strings.Repeat("A", maxJWTLen), Token{}, "longer than"},
	}
	secrets := [][]byte{testSecret, otherSecret}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseSignedToken([]byte(tt.in), secrets, testNow)
			if tt.wantErr != "" {
				if err == nil || !errors.Is(err, logicrpc.ErrBadToken) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want logicrpc.ErrBadToken containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("token (-want +got):\n%s", diff)
			}
		})
	}
}

// TestSignToken: SignToken's output is accepted until it expires, and
// only with its secret.
func TestSignToken(t *testing.T) {
	want := Token{Mid: 7, Key: "k7", RoomID: "live://7", Platform: "ios", Accepts: []int32{1000}}
	s, err := SignToken(want, testNow.Add(time.Hour), testSecret)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseSignedToken([]byte(s), [][]byte{testSecret}, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("token (-want +got):\n%s", diff)
	}
	if _, err := ParseSignedToken([]byte(s), [][]byte{otherSecret}, testNow); !errors.Is(err, logicrpc.ErrBadToken) {
		t.Errorf("other secret: err = %v, want logicrpc.ErrBadToken", err)
	}
	if _, err := ParseSignedToken([]byte(s), [][]byte{testSecret}, testNow.Add(2*time.Hour)); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Errorf("after exp: err = %v, want expired", err)
	}
}

// FuzzParseSignedToken: the parser never panics, and whatever it accepts
// is an HS256 token whose signature is the HMAC of its first two parts.
func FuzzParseSignedToken(f *testing.F) {
	f.Add(mintJWT(hs256, `{"mid":1,"key":"k","room_id":"live://1","platform":"web","accepts":[1],"exp":`+expIn(time.Hour)+`}`, testSecret))
	f.Add(mintJWT(`{"alg":"none"}`, `{"mid":1,"exp":`+expIn(time.Hour)+`}`, nil))
	f.Add(mintJWT(hs256, `{"mid":1,"exp":1}`, testSecret))
	f.Add(`{"mid":1}`)
	f.Add("a.b.c")
	f.Fuzz(func(t *testing.T, in string) {
		tok, err := ParseSignedToken([]byte(in), [][]byte{testSecret}, testNow)
		if err != nil {
			if !errors.Is(err, logicrpc.ErrBadToken) {
				t.Fatalf("error %v does not wrap logicrpc.ErrBadToken", err)
			}
			return
		}
		parts := strings.Split(strings.TrimSpace(in), ".")
		if len(parts) != 3 {
			t.Fatalf("accepted %q with %d parts", in, len(parts))
		}
		m := hmac.New(sha256.New, testSecret)
		m.Write([]byte(parts[0] + "." + parts[1]))
		if base64.RawURLEncoding.EncodeToString(m.Sum(nil)) != parts[2] {
			t.Fatalf("accepted %q with a signature the secret did not make", in)
		}
		if err := tok.check(); err != nil {
			t.Fatalf("accepted a token that fails its checks: %v", err)
		}
	})
}
