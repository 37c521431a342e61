package logic

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/goimx/goim/logic/logicrpc"
)

// Logic implements logicrpc.Service in process; ServeRPC serves the same
// methods to comets and jobs over the RPC.
var _ logicrpc.Service = (*Logic)(nil)

// Connect implements logicrpc.Service: it parses the client's token,
// assigns a key when the token has none, and records the session. A
// malformed token, or with Config.TokenSecretFile one not signed by a
// token secret, is an error wrapping logicrpc.ErrBadToken.
func (l *Logic) Connect(ctx context.Context, req *logicrpc.ConnectReq) (*logicrpc.ConnectReply, error) {
	rep, err := l.connect(ctx, req)
	if err != nil {
		l.stats.connectsRefused.Add(1)
		return nil, err
	}
	l.stats.connects.Add(1)
	return rep, nil
}

// connect is Connect without the counting.
func (l *Logic) connect(ctx context.Context, req *logicrpc.ConnectReq) (*logicrpc.ConnectReply, error) {
	if req.Server == "" {
		return nil, fmt.Errorf("%w: connect without server", logicrpc.ErrBadRequest)
	}
	t, err := l.parseToken(req.Token)
	if err != nil {
		return nil, err
	}
	if t.Key == "" {
		t.Key = NewKey()
	}
	s := Session{Mid: t.Mid, Key: t.Key, Server: req.Server, ConnID: req.ConnID}
	if err := l.sessions.Put(ctx, s); err != nil {
		return nil, fmt.Errorf("logic: connect: %w", err)
	}
	return &logicrpc.ConnectReply{
		Mid:       t.Mid,
		Key:       t.Key,
		RoomID:    t.RoomID,
		Platform:  t.Platform,
		Accepts:   t.Accepts,
		Heartbeat: l.cfg.Heartbeat * time.Duration(l.cfg.HeartbeatMax),
		Rooms:     t.Rooms,
	}, nil
}

// Disconnect implements logicrpc.Service: it removes the session only if
// it still belongs to req's connection (Server, ConnID).
func (l *Logic) Disconnect(ctx context.Context, req *logicrpc.DisconnectReq) (*logicrpc.DisconnectReply, error) {
	s := Session{Mid: req.Mid, Key: req.Key, Server: req.Server, ConnID: req.ConnID}
	has, err := l.sessions.Delete(ctx, s)
	if err != nil {
		return nil, fmt.Errorf("logic: disconnect: %w", err)
	}
	l.stats.disconnects.Add(1)
	return &logicrpc.DisconnectReply{Has: has}, nil
}

// Heartbeat implements logicrpc.Service: it renews the session, restoring
// it when logic lost it.
func (l *Logic) Heartbeat(ctx context.Context, req *logicrpc.HeartbeatReq) error {
	if req.Key == "" || req.Server == "" {
		return fmt.Errorf("%w: heartbeat without key or server", logicrpc.ErrBadRequest)
	}
	s := Session{Mid: req.Mid, Key: req.Key, Server: req.Server, ConnID: req.ConnID}
	if _, err := l.sessions.Renew(ctx, s); err != nil {
		return fmt.Errorf("logic: heartbeat: %w", err)
	}
	l.stats.heartbeats.Add(1)
	return nil
}

// Report implements logicrpc.Service: it records the node and its room
// counts. For a comet the reply's RoomCount holds the cluster-wide counts
// of the rooms the comet reported (not of every room). The reply's Epoch
// is this process's (Epoch) with the in-memory stores; with Redis it is
// the shared store's, the same from every logic node, and changes only
// when Redis lost its data.
func (l *Logic) Report(ctx context.Context, req *logicrpc.ReportReq) (*logicrpc.ReportReply, error) {
	res, err := l.nodes.report(ctx, req, l.cfg.Now())
	if err != nil {
		return nil, err
	}
	if !res.known {
		l.log.Info("logic: node joined", "kind", req.Node.Kind, "id", req.Node.ID, "rpc", req.Node.RPCAddr)
	}
	epoch := res.epoch
	if epoch == 0 {
		epoch = l.epoch
	}
	return &logicrpc.ReportReply{Epoch: epoch, Known: res.known, RoomCount: res.counts}, nil
}

// Receive implements logicrpc.Service: it logs the message at debug level
// and hands it to Config.ReceiveHook.
func (l *Logic) Receive(ctx context.Context, req *logicrpc.ReceiveReq) error {
	if l.log.Enabled(ctx, slog.LevelDebug) {
		l.log.Debug("logic: receive", "mid", req.Mid, "key", req.Key, "op", req.Op, "len", len(req.Body))
	}
	if l.cfg.ReceiveHook != nil {
		l.cfg.ReceiveHook(ctx, req)
	}
	return nil
}

// Nodes implements logicrpc.Service: it lists the live nodes of req.Kind
// (every kind when empty), sorted by id.
func (l *Logic) Nodes(_ context.Context, req *logicrpc.NodesReq) (*logicrpc.NodesReply, error) {
	switch req.Kind {
	case "", logicrpc.KindComet, logicrpc.KindJob:
	default:
		return nil, fmt.Errorf("%w: unknown kind %q", logicrpc.ErrBadNode, req.Kind)
	}
	return &logicrpc.NodesReply{Nodes: l.reg.nodes(req.Kind, l.cfg.Now())}, nil
}

// Sessions implements logicrpc.Service: it restores every session of the
// comet req.Server (after logic restarted) as Heartbeat would: a key that
// meanwhile moved to a newer connection keeps it. Room ids are not kept:
// rooms are the comets' business.
func (l *Logic) Sessions(ctx context.Context, req *logicrpc.SessionsReq) error {
	if req.Server == "" {
		return fmt.Errorf("%w: sessions without server", logicrpc.ErrBadRequest)
	}
	if b, ok := l.sessions.(batchRenewer); ok {
		all := make([]Session, 0, len(req.Sessions))
		for _, s := range req.Sessions {
			if s.Key != "" {
				all = append(all, Session{Mid: s.Mid, Key: s.Key, Server: req.Server, ConnID: s.ConnID})
			}
		}
		if err := b.renewAll(ctx, all); err != nil {
			return fmt.Errorf("logic: sessions: %w", err)
		}
		return nil
	}
	for _, s := range req.Sessions {
		if s.Key == "" {
			continue
		}
		sess := Session{Mid: s.Mid, Key: s.Key, Server: req.Server, ConnID: s.ConnID}
		if _, err := l.sessions.Renew(ctx, sess); err != nil {
			return fmt.Errorf("logic: sessions: %w", err)
		}
	}
	return nil
}

// batchRenewer is implemented by session stores that renew many sessions
// at once faster than one by one (the Redis store).
type batchRenewer interface {
	renewAll(ctx context.Context, sessions []Session) error
}
