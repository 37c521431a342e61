package bench

import "context"

// Receivers are the client connections a run pushes to and counts: a
// Fleet in this process, or a Group of member processes each holding a
// Fleet (more connections than one process may open).
type Receivers interface {
	// Connect opens every connection; Connected may be read while it
	// runs.
	Connect(ctx context.Context) error
	// Connected returns how many connections were opened.
	Connected() int
	// Lost returns how many connections failed before Close.
	Lost() uint64
	// Stale returns how many stamped messages arrived outside their round.
	Stale() uint64
	// StartRound begins a new round: from its return on, only messages
	// stamped with the round's ID are counted in it.
	StartRound() (*Round, error)
	// Collect brings the counts of round r, and those Connected, Lost and
	// Stale return, up to date: after it, r holds every message the
	// receivers counted in it so far. r nil updates only the latter.
	Collect(r *Round) error
	// Close closes every connection.
	Close()
}

var (
	_ Receivers = (*Fleet)(nil)
	_ Receivers = (*Group)(nil)
)
