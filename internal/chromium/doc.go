// Package chromium starts a headless Chromium and drives it over the
// DevTools protocol, for tests that must run in a real browser (the
// browser client in client/js, pages served by the binaries).
//
// Start runs `chromium --headless=new --remote-debugging-port=0` with a
// fresh profile directory, reads the DevTools WebSocket URL the browser
// prints on standard error, and connects to it with this module's
// websocket package. NewPage opens a tab; Navigate, Evaluate (with
// awaitPromise and returnByValue), WaitTrue and Screenshot act on it.
// Close ends the browser's whole process group, waits for it and removes
// the profile directory; no goroutine of the package outlives it.
//
// Only Debian's chromium package (or a browser named by $CHROMIUM) is
// used; nothing is downloaded. ForTest wraps Start for tests: it skips the
// test when no browser is installed, unless the environment has CI=true,
// where a missing browser fails the test.
package chromium
