package websocket

import (
	"errors"
	"fmt"
	"strconv"
)

// Opcode is a WebSocket frame opcode (RFC 6455 section 5.2).
type Opcode byte

// Opcodes defined by RFC 6455. Other values are reserved and refused by
// ReadMessage with close code 1002.
const (
	OpContinuation Opcode = 0x0
	OpText         Opcode = 0x1
	OpBinary       Opcode = 0x2
	OpClose        Opcode = 0x8
	OpPing         Opcode = 0x9
	OpPong         Opcode = 0xA
)

// IsControl reports whether op is a control opcode (close, ping, pong or a
// reserved control opcode); control frames are never fragmented and carry at
// most 125 bytes of payload.
func (op Opcode) IsControl() bool { return op&0x8 != 0 }

// String returns the opcode's name, or "opcode(N)" for reserved values.
func (op Opcode) String() string {
	switch op {
	case OpContinuation:
		return "continuation"
	case OpText:
		return "text"
	case OpBinary:
		return "binary"
	case OpClose:
		return "close"
	case OpPing:
		return "ping"
	case OpPong:
		return "pong"
	}
	return "opcode(" + strconv.Itoa(int(op)) + ")"
}

// Close status codes (RFC 6455 section 7.4.1 and the IANA registry).
// CloseNoStatus, CloseAbnormal and CloseTLSHandshake are never sent on the
// wire: CloseNoStatus is reported when the peer's close frame had no code.
const (
	CloseNormal              uint16 = 1000
	CloseGoingAway           uint16 = 1001
	CloseProtocolError       uint16 = 1002
	CloseUnsupportedData     uint16 = 1003
	CloseNoStatus            uint16 = 1005
	CloseAbnormal            uint16 = 1006
	CloseInvalidPayload      uint16 = 1007
	ClosePolicyViolation     uint16 = 1008
	CloseMessageTooBig       uint16 = 1009
	CloseMandatoryExtension  uint16 = 1010
	CloseInternalError       uint16 = 1011
	CloseServiceRestart      uint16 = 1012
	CloseTryAgainLater       uint16 = 1013
	CloseBadGateway          uint16 = 1014
	CloseTLSHandshake        uint16 = 1015
	maxControlPayload               = 125
	maxCloseReason                  = maxControlPayload - 2
	defaultMaxMessageSize           = 64 << 10
	defaultMaxHandshakeBytes        = 4096
)

// MaxFrameHeaderSize is the largest frame header: 2 bytes, an 8-byte length
// and a 4-byte masking key.
const MaxFrameHeaderSize = 14

// validCloseCode reports whether code may appear in a close frame on the wire.
func validCloseCode(code uint16) bool {
	switch {
	case code >= 1000 && code <= 1003, code >= 1007 && code <= 1014:
		return true
	case code >= 3000 && code <= 4999:
		return true
	}
	return false
}

// Frame and connection errors. ReadMessage wraps them with detail; check
// with errors.Is.
var (
	// ErrProtocol: the peer broke RFC 6455 framing rules; the connection was
	// answered with close code 1002.
	ErrProtocol = errors.New("websocket: protocol error")
	// ErrInvalidUTF8: a text message or close reason was not valid UTF-8;
	// answered with close code 1007.
	ErrInvalidUTF8 = errors.New("websocket: invalid UTF-8")
	// ErrMessageTooBig: a message exceeded ConnConfig.MaxMessageSize;
	// answered with close code 1009.
	ErrMessageTooBig = errors.New("websocket: message too big")
	// ErrFrameTooLong: a frame header announced a length of 2^63 or more.
	ErrFrameTooLong = errors.New("websocket: frame length overflows int64")
	// ErrShortHeader: ParseFrameHeader got fewer bytes than the header needs.
	ErrShortHeader = errors.New("websocket: short frame header")
	// ErrBadOpcode: WriteMessage was asked to send a close, continuation or
	// reserved opcode.
	ErrBadOpcode = errors.New("websocket: opcode not allowed here")
	// ErrControlTooLong: a ping, pong or close payload longer than 125 bytes.
	ErrControlTooLong = errors.New("websocket: control payload longer than 125 bytes")
	// ErrBadCloseCode: WriteClose was given a code that may not be sent.
	ErrBadCloseCode = errors.New("websocket: invalid close code")
	// ErrCloseSent: a write after this side sent its close frame.
	ErrCloseSent = errors.New("websocket: close frame already sent")
)

// CloseError is returned by ReadMessage once the peer's close frame arrived.
// Code is CloseNoStatus when the frame carried no status code.
type CloseError struct {
	Code   uint16
	Reason string
}

// Error returns "websocket: peer closed: CODE[ REASON]".
func (e *CloseError) Error() string {
	s := "websocket: peer closed: " + strconv.Itoa(int(e.Code))
	if e.Reason != "" {
		s += " " + strconv.Quote(e.Reason)
	}
	return s
}

// protocolError is a failure found while reading: the close code that
// ReadMessage sent to the peer and the error returned to the caller.
type protocolError struct {
	code uint16
	err  error
}

func (e *protocolError) Error() string { return e.err.Error() }
func (e *protocolError) Unwrap() error { return e.err }

// violation builds a protocolError wrapping sentinel with a detail message.
func violation(code uint16, sentinel error, format string, args ...any) error {
	return &protocolError{code: code, err: fmt.Errorf("%w: "+format, append([]any{sentinel}, args...)...)}
}
