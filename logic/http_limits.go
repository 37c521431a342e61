package logic

import (
	"errors"
	"fmt"
)

// limitError is a request over one of the HTTP API's limits: a -400 that
// also counts in Stats.OverLimit. It wraps ErrBadParam.
type limitError struct {
	param string // the parameter over the limit
	what  string // e.g. "10001 values, limit 10000"
}

func (e *limitError) Error() string {
	return fmt.Sprintf("%v %s: %s", ErrBadParam, e.param, e.what)
}

func (e *limitError) Unwrap() error { return ErrBadParam }

// isLimitErr reports whether err is over a limit (limitError, or a body
// over Config.MaxMessageSize).
func isLimitErr(err error) bool {
	var le *limitError
	return errors.As(err, &le) || errors.Is(err, ErrMessageTooLarge)
}

// checkLimits refuses parameters over the limits: more keys, mids or
// rooms than Config.MaxPushTargets, a room id ("type://room") over
// maxRoomLen bytes.
func (l *Logic) checkLimits(p *params) error {
	limit := l.cfg.MaxPushTargets
	for _, list := range []struct {
		name string
		n    int
	}{{"keys", len(p.keys)}, {"mids", len(p.mids)}, {"rooms", len(p.rooms)}} {
		if list.n > limit {
			return &limitError{list.name, fmt.Sprintf("%d values, limit %d", list.n, limit)}
		}
	}
	if p.room != "" {
		if err := checkRoomLen("room", p.typ, p.room); err != nil {
			return err
		}
	}
	for _, r := range p.rooms {
		if err := checkRoomLen("rooms", p.typ, r); err != nil {
			return err
		}
	}
	return nil
}

// checkRoomLen refuses a room whose id, RoomKey(typ, room), is longer than
// a client could join (maxRoomLen bytes).
func checkRoomLen(param, typ, room string) error {
	if n := len(typ) + len("://") + len(room); n > maxRoomLen {
		return &limitError{param, fmt.Sprintf("room id of %d bytes, limit %d", n, maxRoomLen)}
	}
	return nil
}
