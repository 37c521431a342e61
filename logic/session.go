package logic

import "context"

// Session is one client connection as logic knows it: the connection key,
// its user, and the comet holding it.
type Session struct {
	Mid    int64  // user id; 0 (anonymous) is not indexed by mid
	Key    string // connection key, unique across the cluster
	Server string // comet node id
	ConnID uint64 // connection id on its comet
}

// Route says which comet holds a connection key.
type Route struct {
	Key    string
	Server string
}

// SessionStore maps keys and mids to the comets holding them. The newest
// Put for a key wins; only the connection that owns a key's mapping (same
// Server and ConnID) can delete it, so a late Disconnect of a replaced
// connection leaves its successor alone. Sessions expire when not renewed
// within the store's TTL. Implementations are safe for concurrent use.
type SessionStore interface {
	// Put adds the session, replacing any mapping of s.Key.
	Put(ctx context.Context, s Session) error
	// Renew extends the session of s.Key if it belongs to s's connection,
	// and restores it if the store has no live mapping of s.Key (logic
	// restarted). A live mapping owned by another connection is kept.
	// It reports whether the session was live before.
	Renew(ctx context.Context, s Session) (bool, error)
	// Delete removes the mapping of s.Key if it belongs to s's connection
	// (same Server and ConnID) and reports whether it did.
	Delete(ctx context.Context, s Session) (bool, error)
	// AppendByKeys appends to dst a Route for each live key of keys.
	AppendByKeys(ctx context.Context, dst []Route, keys []string) ([]Route, error)
	// AppendByMids appends to dst a Route for each live key of each mid.
	AppendByMids(ctx context.Context, dst []Route, mids []int64) ([]Route, error)
	// Close releases the store.
	Close() error
}
