// Package timer is a heap-based timer for connection deadlines (handshake,
// heartbeat) that costs one goroutine and one runtime timer per Timer instead
// of one runtime timer per connection.
//
// A Timer keeps its pending entries in a min-heap ordered by deadline (ties
// fire in the order they were added or reset) and keeps a single
// [time.Timer] armed for the earliest deadline. Entries come from a free list,
// so Add, Reset and Del do not allocate once the free list holds enough
// entries. Entries are addressed by a [Handle], a pointer plus a generation:
// once an entry fired or was deleted its handle is stale, and Reset and Del
// with a stale handle are harmless no-ops even after the entry was reused.
//
// Callbacks run one at a time on the Timer's goroutine, without the Timer's
// lock held: they must be quick (hand slow work to another goroutine), and
// they may call Add, Reset, Del and Len on the same Timer, but not Stop. A
// callback may run before Add returns (d <= 0 or a tiny d), so a callback
// that reads its own handle must get it through the caller's own
// synchronization; inside its callback an entry's handle is already stale.
//
// Reset eagerly moves the entry in the heap (O(log n)) and re-arms the
// runtime timer only for a deadline earlier than the one it is armed for, so
// pushing deadlines back (heartbeats) never wakes the goroutine early.
//
// A process with many connections uses a [Sharded] timer: one Timer per shard
// spreads both the lock and the callback work.
package timer
