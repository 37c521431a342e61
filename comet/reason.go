package comet

import "strconv"

// CloseReason says why a connection closed. Stats counts closes by reason
// and the one log line written at close names it.
type CloseReason uint8

// Close reasons. CloseNone is the zero value: the connection is open.
const (
	CloseNone             CloseReason = iota
	CloseClient                       // the client closed the connection (EOF or a WebSocket close frame)
	CloseReadError                    // reading failed (reset, timeout, other network error)
	CloseProtocol                     // a malformed packet or a WebSocket protocol violation
	CloseUpgradeRefused               // the WebSocket upgrade request was refused with an HTTP error
	CloseHandshakeTimeout             // no successful auth within Config.HandshakeTimeout
	CloseAuthRefused                  // logic refused the auth token (or could not be reached)
	CloseHeartbeatTimeout             // no heartbeat within the deadline logic gave at auth
	CloseReplaced                     // a newer connection authenticated with the same key
	CloseSlow                         // the send queue was full and Config.SlowPolicy is SlowClose
	CloseWriteError                   // writing to the client failed
	CloseShutdown                     // the comet is shutting down
	CloseIPLimit                      // the client's IP had Config.MaxConnsPerIP connections open
	CloseAuthRate                     // the client's IP sent more than Config.AuthRatePerIP auths in a second
	CloseMsgRate                      // the connection sent more than Config.MsgRate packets in a second
	CloseRoomTooLong                  // op 12 or the auth's rooms named a room id over 256 bytes
	CloseTooManyRooms                 // the auth token named more rooms than Config.MaxRooms allows
	CloseDrain                        // the comet is draining (Drain): the client should reconnect elsewhere
	CloseNoAuth                       // the client closed the connection before it authenticated (a load balancer's health check, a port scan)
	numCloseReasons
)

var closeReasonNames = [numCloseReasons]string{
	CloseNone:             "none",
	CloseClient:           "client closed",
	CloseReadError:        "read error",
	CloseProtocol:         "protocol error",
	CloseUpgradeRefused:   "upgrade refused",
	CloseHandshakeTimeout: "handshake timeout",
	CloseAuthRefused:      "auth refused",
	CloseHeartbeatTimeout: "heartbeat timeout",
	CloseReplaced:         "replaced",
	CloseSlow:             "slow consumer",
	CloseWriteError:       "write error",
	CloseShutdown:         "shutdown",
	CloseIPLimit:          "too many connections from the IP",
	CloseAuthRate:         "auth rate limit",
	CloseMsgRate:          "message rate limit",
	CloseRoomTooLong:      "room id too long",
	CloseTooManyRooms:     "too many rooms",
	CloseDrain:            "drain",
	CloseNoAuth:           "closed before auth",
}

// String returns the reason in words, e.g. "heartbeat timeout".
func (r CloseReason) String() string {
	if r < numCloseReasons {
		return closeReasonNames[r]
	}
	return "CloseReason(" + strconv.Itoa(int(r)) + ")"
}

// DropReason says why a pushed message did not reach a connection's send
// queue. Stats counts drops by reason.
type DropReason uint8

// Drop reasons.
const (
	DropQueueFull DropReason = iota // the connection's send queue was full (a slow reader)
	DropClosed                      // the connection was closing
	numDropReasons
)

// String returns the reason in words.
func (r DropReason) String() string {
	switch r {
	case DropQueueFull:
		return "queue full"
	case DropClosed:
		return "closed"
	}
	return "DropReason(" + strconv.Itoa(int(r)) + ")"
}

// String returns "drop" or "close".
func (p SlowPolicy) String() string {
	if p == SlowClose {
		return "close"
	}
	return "drop"
}
