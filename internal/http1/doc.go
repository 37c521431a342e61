// Package http1 serves HTTP/1.1 requests to an http.Handler with less work
// per request than net/http's server, for the push API: a caller that
// pushes tens of thousands of times a second over a few keep-alive
// connections pays net/http's per-request costs (a header map and its
// clone, a context, a background read goroutine and its system call,
// two deadline updates) on every push.
//
// A Server reads each connection with one goroutine and reuses, per
// connection, the *http.Request, its URL, header map and body reader and
// the ResponseWriter. Header values equal to those of the connection's
// earlier requests are shared, not copied again. Timeouts are enforced by
// one sweeper goroutine per server that closes connections which overstay
// a phase (idle, header, body, write), so no deadline is set per request.
// In steady state a request costs one allocation: the request target.
//
// What it serves, and how it differs from net/http:
//   - HTTP/1.0 and HTTP/1.1, keep-alive and pipelining, Content-Length and
//     chunked request bodies, "Expect: 100-continue"; no HTTP/2, no
//     Hijacker, no Flusher.
//   - The answer is buffered whole and sent with a Content-Length in one
//     write (the push API's answers are small).
//   - The request's context is context.Background: it is not cancelled
//     when the caller hangs up. The *http.Request, its header map and its
//     body belong to the connection and must not be used after the
//     handler returns; strings taken from them (the URL's path and query,
//     header values) stay valid.
//   - Timeouts are checked every tick (an eighth of the shortest timeout,
//     between 5 ms and 250 ms), so a connection may overstay one by a tick.
package http1
