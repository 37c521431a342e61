package chromium

import (
	"strings"
	"testing"
)

// devtoolsOutput is what Chromium prints on start, with the URL line in
// the middle.
const devtoolsOutput = "[123:456:ERROR:bus.cc(407)] Failed to connect to the bus\n" +
	"\n" +
	"DevTools listening on ws://127.0.0.1:40123/devtools/browser/0f1e2d3c-aaaa-bbbb-cccc-123456789abc\n" +
	"[123:789:WARNING:other.cc(1)] later line\n"

const devtoolsURL = "ws://127.0.0.1:40123/devtools/browser/0f1e2d3c-aaaa-bbbb-cccc-123456789abc"

// TestStderrLogURL: the DevTools URL is found however the output is split
// into writes, and only once.
func TestStderrLogURL(t *testing.T) {
	for _, size := range []int{1, 2, 7, 64, len(devtoolsOutput)} {
		s := newStderrLog()
		for rest := devtoolsOutput; rest != ""; {
			n := min(size, len(rest))
			if _, err := s.Write([]byte(rest[:n])); err != nil {
				t.Fatal(err)
			}
			rest = rest[n:]
		}
		s.Write([]byte(devtoolsPrefix + "ws://second\n"))
		select {
		case u := <-s.url:
			if u != devtoolsURL {
				t.Errorf("writes of %d bytes: URL %q, want %q", size, u, devtoolsURL)
			}
		default:
			t.Errorf("writes of %d bytes: no URL found", size)
		}
		if len(s.url) != 0 {
			t.Errorf("writes of %d bytes: a second URL was sent", size)
		}
		if !strings.Contains(s.tail(), "later line") {
			t.Errorf("writes of %d bytes: tail lacks the output: %q", size, s.tail())
		}
	}
}

// TestStderrLogNoURL: lines that are not the DevTools line, or name no
// ws:// URL, or lack their newline, give no URL.
func TestStderrLogNoURL(t *testing.T) {
	for _, out := range []string{
		"",
		"DevTools listening on http://127.0.0.1:1/\n",
		"devtools listening on ws://127.0.0.1:1/\n",
		"DevTools listening on ws://127.0.0.1:1/ without newline",
	} {
		s := newStderrLog()
		s.Write([]byte(out))
		if len(s.url) != 0 {
			t.Errorf("%q: got URL %q, want none", out, <-s.url)
		}
	}
}

// TestStderrLogKeepsTail: the kept output is bounded.
func TestStderrLogKeepsTail(t *testing.T) {
	s := newStderrLog()
	line := strings.Repeat("x", 1000) + "\n"
	for range 200 {
		s.Write([]byte(line))
	}
	if n := len(s.tail()); n > stderrKeep {
		t.Errorf("kept %d bytes, want at most %d", n, stderrKeep)
	}
}

// FuzzStderrLog: any output, however split, never panics, and a URL found
// is a ws:// URL from a DevTools line.
func FuzzStderrLog(f *testing.F) {
	f.Add([]byte(devtoolsOutput), 3)
	f.Add([]byte("DevTools listening on ws://x\n"), 1)
	f.Add([]byte("\n\n\r\n"), 2)
	f.Fuzz(func(t *testing.T, out []byte, size int) {
		size = max(1, min(size, 1<<16))
		s := newStderrLog()
		for len(out) > 0 {
			n := min(size, len(out))
			s.Write(out[:n])
			out = out[n:]
		}
		select {
		case u := <-s.url:
			if !strings.HasPrefix(u, "ws://") {
				t.Errorf("URL %q is not ws://", u)
			}
		default:
		}
	})
}
