package e2e

import (
	"bufio"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
)

// curlLine matches the README's curl commands: an optional -d 'body' and
// a quoted URL.
var curlLine = regexp.MustCompile(`^curl (?:-d '([^']*)'\s+)?'(http://127\.0\.0\.1:3111[^']*)'$`)

// TestReadmeTour runs the README's quick tour against the all-in-one
// binary (on free ports instead of the defaults): the client of the tour
// receives what the tour says, and every curl command answers code 0.
func TestReadmeTour(t *testing.T) {
	t.Parallel()
	f, err := os.Open("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	type curl struct{ body, url string }
	var curls []curl
	var prints []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if m := curlLine.FindStringSubmatch(line); m != nil {
			curls = append(curls, curl{m[1], m[2]})
		}
		if strings.HasPrefix(line, "op=1000 seq=0 body=") {
			prints = append(prints, strings.TrimPrefix(line, "op=1000 seq=0 body="))
		}
	}
	if len(curls) != 9 || len(prints) != 4 {
		t.Fatalf("README tour: found %d curl commands and %d printed messages, want 9 and 4", len(curls), len(prints))
	}
	if !strings.Contains(readFile(t, "../README.md"), "go run ./cmd/goim-client -mid 123 -key k123 -room live://1000 -accepts 1000") {
		t.Fatal("README tour: the client command changed; update this test")
	}
	c := startAllInOne(t)
	n := c.comets[0]
	cl := dialClient(t, "tour", "tcp", n.tcp, token(123, "k123", "live://1000", 1000))
	tour := &fixture{c: c, specs: []clientSpec{{name: "tour", key: "k123"}}, clients: map[string]*tclient{"tour": cl}}
	tour.sync(t)
	for _, cu := range curls {
		u, err := url.Parse(cu.url)
		if err != nil {
			t.Fatal(err)
		}
		method := http.MethodGet
		if cu.body != "" {
			method = http.MethodPost
		}
		status, r := c.do(t, method, u.Path, u.Query(), cu.body)
		if status != http.StatusOK || r.Code != 0 {
			t.Errorf("%s %s: HTTP %d %+v", method, cu.url, status, r)
		}
	}
	for _, want := range prints {
		m, ok := cl.next(recvTimeout)
		if !ok || m.Op != 1000 || m.Body != want {
			t.Errorf("tour client got %+v (ok %v), want op 1000 body %q", m, ok, want)
		}
	}
}

// readFile returns the content of path.
func readFile(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
