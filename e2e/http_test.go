package e2e

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// reply is the JSON answer of the push API.
type reply struct {
	Code    int             `json:"code"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data,omitempty"`
}

// pushData is the data of a push answer.
type pushData struct {
	Conns  int `json:"conns"`
	Comets int `json:"comets"`
}

// post POSTs body to path?q and returns the HTTP status and the decoded
// answer, failing the test on a transport or decoding error.
func (c *cluster) post(t testing.TB, path string, q url.Values, body string) (int, reply) {
	t.Helper()
	return c.do(t, http.MethodPost, path, q, body)
}

// get GETs path?q.
func (c *cluster) get(t testing.TB, path string, q url.Values) (int, reply) {
	t.Helper()
	return c.do(t, http.MethodGet, path, q, "")
}

func (c *cluster) do(t testing.TB, method, path string, q url.Values, body string) (int, reply) {
	t.Helper()
	status, r, err := c.try(method, path, q, body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return status, r
}

// try is do returning errors.
func (c *cluster) try(method, path string, q url.Values, body string) (int, reply, error) {
	u := c.httpURL + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		return 0, reply{}, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, reply{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, reply{}, err
	}
	var r reply
	if err := json.Unmarshal(b, &r); err != nil {
		return resp.StatusCode, reply{}, errors.New("not JSON: " + string(b))
	}
	return resp.StatusCode, r, nil
}

// pushOK pushes and fails the test unless the answer is HTTP 200, code 0;
// it returns the answer's data.
func (c *cluster) pushOK(t testing.TB, path string, q url.Values, body string) pushData {
	t.Helper()
	status, r := c.post(t, path, q, body)
	if status != http.StatusOK || r.Code != 0 {
		t.Fatalf("POST %s?%s: HTTP %d, %+v; want 200, code 0", path, q.Encode(), status, r)
	}
	var d pushData
	decode(t, r, &d)
	return d
}

// decode decodes r.Data into v.
func decode(t testing.TB, r reply, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Data, v); err != nil {
		t.Fatalf("decode %s: %v", r.Data, err)
	}
}

// instance is the part of a /nodes/instances entry the tests check.
type instance struct {
	Hostname        string            `json:"hostname"`
	AppID           string            `json:"appid"`
	Addrs           []string          `json:"addrs"`
	LatestTimestamp int64             `json:"latest_timestamp"`
	Metadata        map[string]string `json:"metadata"`
}

// instances returns the answer of path (/nodes/instances or
// /goim/nodes/instances).
func (c *cluster) instances(path string) ([]instance, error) {
	status, r, err := c.try(http.MethodGet, path, nil, "")
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK || r.Code != 0 {
		return nil, errors.New("instances: " + r.Message)
	}
	var out []instance
	err = json.Unmarshal(r.Data, &out)
	return out, err
}

// instanceIDs returns the RPC addresses of the live comets, mapped back
// to the ids of the cluster's comets (unknown addresses as they are),
// sorted.
func (c *cluster) instanceIDs() ([]string, error) {
	list, err := c.instances("/nodes/instances")
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, in := range list {
		id := strings.Join(in.Addrs, ",")
		for _, n := range c.comets {
			if id == "rpc://"+n.rpc {
				id = n.id
			}
		}
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids, nil
}

// equalStrings reports whether a and b hold the same strings in any
// order.
func equalStrings(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}
