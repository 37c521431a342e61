// Package rawsock reads and writes a connection's socket inside its
// syscall.RawConn callbacks, where the connection's own Read would wait
// forever for the lock the callback holds.
//
// It serves one trick, used by the HTTP server and the load generator: a
// plain Read after a write finds the socket empty, fails and only then
// waits, which costs a system call per request. The runtime's poller may
// report a socket readable before a wait on it begins, and each
// RawConn.Read forgets such a report when it starts; within one
// RawConn.Read none is forgotten. So a caller that wrote inside a
// RawConn.Read, or read there since it began, may return false from the
// callback to wait for the socket to become readable without reading it
// first.
package rawsock
