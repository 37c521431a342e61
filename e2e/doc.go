// Package e2e holds the end-to-end tests of goim: they build the binaries
// (cmd/goim, cmd/comet, cmd/logic, cmd/job) without the race detector,
// start them as separate processes on loopback with short intervals, and
// drive them with the client library over TCP and WebSocket and with
// plain net/http against the push API. The package has no code of its
// own; run it with go test ./e2e.
package e2e
