package logic

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// pushFunc runs one kind of push with the parsed parameters in sc.params.
type pushFunc func(ctx context.Context, sc *pushScratch, msg []byte) (PushResult, error)

// handlePushKeys serves POST /goim/push/keys?operation=&keys=..
func (l *Logic) handlePushKeys(w http.ResponseWriter, r *http.Request) {
	l.servePush(w, r, pushKindKeys, func(p *params) error {
		if len(p.keys) == 0 {
			return missing("keys")
		}
		return nil
	}, func(ctx context.Context, sc *pushScratch, msg []byte) (PushResult, error) {
		return l.pushKeys(ctx, sc, sc.params.op, sc.params.keys, msg)
	})
}

// handlePushMids serves POST /goim/push/mids?operation=&mids=..
func (l *Logic) handlePushMids(w http.ResponseWriter, r *http.Request) {
	l.servePush(w, r, pushKindMids, func(p *params) error {
		if len(p.mids) == 0 {
			return missing("mids")
		}
		return nil
	}, func(ctx context.Context, sc *pushScratch, msg []byte) (PushResult, error) {
		return l.pushMids(ctx, sc, sc.params.op, sc.params.mids, msg)
	})
}

// handlePushRoom serves POST /goim/push/room?operation=&type=&room=
func (l *Logic) handlePushRoom(w http.ResponseWriter, r *http.Request) {
	l.servePush(w, r, pushKindRoom, func(p *params) error {
		if p.typ == "" {
			return missing("type")
		}
		if p.room == "" {
			return missing("room")
		}
		return nil
	}, func(ctx context.Context, sc *pushScratch, msg []byte) (PushResult, error) {
		return l.pushRoom(ctx, sc, sc.params.op, RoomKey(sc.params.typ, sc.params.room), msg)
	})
}

// handlePushAll serves POST /goim/push/all?operation=&speed=
func (l *Logic) handlePushAll(w http.ResponseWriter, r *http.Request) {
	l.servePush(w, r, pushKindAll, func(*params) error { return nil },
		func(ctx context.Context, sc *pushScratch, msg []byte) (PushResult, error) {
			return l.pushAll(ctx, sc, sc.params.op, sc.params.speed, msg)
		})
}

// servePush parses and checks the parameters (operation is always
// required), reads the body, runs push, counts it as kind and answers.
// The answer's data carries the connection count for keys and mids.
func (l *Logic) servePush(w http.ResponseWriter, r *http.Request, kind pushKind, check func(*params) error, push pushFunc) {
	sc := l.getScratch()
	defer l.putScratch(sc)
	p := &sc.params
	err := parseParams(r.URL.RawQuery, p)
	if err == nil {
		err = l.checkLimits(p)
	}
	if err == nil && !p.hasOp {
		err = missing("operation")
	}
	if err == nil {
		err = check(p)
	}
	var msg []byte
	if err == nil {
		msg, err = l.readBody(r, sc)
	}
	if err != nil {
		l.writeRequestErr(w, err)
		return
	}
	// Not r.Context(): a push whose body was read runs to its end, bounded
	// by PushTimeout, even if the caller hangs up meanwhile; and the shared
	// deadline context spares a context and a timer per push.
	res, err := push(l.deadlines.get(time.Now()), sc, msg)
	l.stats.countPush(kind, err)
	if err != nil {
		writeServerErr(w, err)
		return
	}
	withConns := kind == pushKindKeys || kind == pushKindMids
	sc.out = appendPushAnswer(sc.out[:0], res, withConns)
	// The header value is shared, not made per answer (net/http replaces
	// values, it never writes into them).
	w.Header()["Content-Type"] = l.jsonType
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(sc.out)
}

// readBody reads the push message into sc.body; a body over
// Config.MaxMessageSize is ErrMessageTooLarge.
func (l *Logic) readBody(r *http.Request, sc *pushScratch) ([]byte, error) {
	limit := l.cfg.MaxMessageSize
	if r.ContentLength > int64(limit) {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrMessageTooLarge, r.ContentLength, limit)
	}
	if cap(sc.body) < limit+1 {
		sc.body = make([]byte, 0, limit+1)
	}
	buf := sc.body[:limit+1]
	n := 0
	for n < len(buf) {
		m, err := r.Body.Read(buf[n:])
		n += m
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: read body: %v", ErrBadParam, err)
		}
	}
	if n > limit {
		return nil, fmt.Errorf("%w: over %d bytes", ErrMessageTooLarge, limit)
	}
	return buf[:n], nil
}

// appendPushAnswer appends the JSON answer of a successful push.
func appendPushAnswer(b []byte, res PushResult, withConns bool) []byte {
	b = append(b, `{"code":0,"message":"","data":{`...)
	if withConns {
		b = append(b, `"conns":`...)
		b = strconv.AppendInt(b, int64(res.Conns), 10)
		b = append(b, ',')
	}
	b = append(b, `"comets":`...)
	b = strconv.AppendInt(b, int64(res.Comets), 10)
	return append(b, "}}"...)
}
