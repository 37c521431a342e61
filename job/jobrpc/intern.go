package jobrpc

import (
	"maps"
	"sync"
	"sync/atomic"
)

// maxInterned bounds the strings an interner keeps: comet ids are a
// handful, so a sender that makes up ids costs at most this many.
const maxInterned = 256

// interner hands out one string per distinct value it was asked for, up
// to maxInterned values, so that decoding a comet id, which is one of a
// few, allocates the first time only. Lookups take no lock.
type interner struct {
	m  atomic.Pointer[map[string]string] // never changed once stored
	mu sync.Mutex                        // serializes the replacements of m
}

// get returns b as a string, the same string for the same bytes while
// fewer than maxInterned values were seen, without allocating once b was
// seen.
func (in *interner) get(b []byte) string {
	if m := in.m.Load(); m != nil {
		if s, ok := (*m)[string(b)]; ok {
			return s
		}
	}
	s := string(b)
	in.mu.Lock()
	defer in.mu.Unlock()
	old := in.m.Load()
	if old != nil {
		if t, ok := (*old)[s]; ok {
			return t
		}
		if len(*old) >= maxInterned {
			return s
		}
	}
	m := map[string]string{}
	if old != nil {
		m = maps.Clone(*old)
	}
	m[s] = s
	in.m.Store(&m)
	return s
}
