package rpc

import (
	"bytes"
	"errors"
	"testing"
)

// scriptedPeer is the far side of a handshake that sends fixed bytes and
// records what it is sent.
type scriptedPeer struct {
	in  *bytes.Reader
	out bytes.Buffer
}

func (p *scriptedPeer) Read(b []byte) (int, error)  { return p.in.Read(b) }
func (p *scriptedPeer) Write(b []byte) (int, error) { return p.out.Write(b) }

// authSeeds are the seeds shared by the handshake fuzz targets; more are
// in testdata/fuzz.
func authSeeds(f *testing.F) {
	hello := appendHello(nil, bytes.Repeat([]byte{3}, nonceLen))
	f.Add(hello)
	f.Add(append(bytes.Clone(hello), make([]byte, macLen)...))
	f.Add(append(bytes.Clone(hello), authMAC(secretA, clientLabel, hello[9:], hello[9:], nil)...))
	f.Add(hello[:len(authMagic)])
	f.Add(appendFrame(nil, header{kind: KindCall, method: 1, seq: 1}, []byte("no handshake")))
	f.Add([]byte{})
}

// FuzzParseHello: any bytes are a hello that re-encodes to themselves, or
// an ErrAuth.
func FuzzParseHello(f *testing.F) {
	authSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		nonce, err := parseHello(b)
		if err != nil {
			if !errors.Is(err, ErrAuth) {
				t.Fatalf("error %v does not wrap ErrAuth", err)
			}
			return
		}
		if !bytes.Equal(appendHello(nil, nonce), b) {
			t.Fatalf("hello % x re-encodes differently", b)
		}
	})
}

// FuzzServerAuth: a peer without the secret never passes the server's
// handshake, whatever it sends; the server sends at most its hello (never
// a proof) and reads at most a hello and a proof.
func FuzzServerAuth(f *testing.F) {
	authSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		p := &scriptedPeer{in: bytes.NewReader(b)}
		err := serverAuth(p, secretA, nil)
		if err == nil || !errors.Is(err, ErrAuth) {
			t.Fatalf("serverAuth = %v, want an ErrAuth", err)
		}
		if n := p.out.Len(); n != 0 && n != helloLen {
			t.Fatalf("server wrote %d bytes, want none or a hello", n)
		}
		if read := len(b) - p.in.Len(); read > helloLen+macLen {
			t.Fatalf("server read %d bytes", read)
		}
	})
}

// FuzzClientAuth: a server without the secret never passes the client's
// handshake, whatever it answers; the client sends its hello and at most
// one proof.
func FuzzClientAuth(f *testing.F) {
	authSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		p := &scriptedPeer{in: bytes.NewReader(b)}
		err := clientAuth(p, secretA, nil)
		if err == nil || !errors.Is(err, ErrAuth) {
			t.Fatalf("clientAuth = %v, want an ErrAuth", err)
		}
		if n := p.out.Len(); n != helloLen && n != helloLen+macLen {
			t.Fatalf("client wrote %d bytes", n)
		}
		if read := len(b) - p.in.Len(); read > helloLen+macLen {
			t.Fatalf("client read %d bytes", read)
		}
	})
}
