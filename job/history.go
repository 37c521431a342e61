package job

import "time"

// history keeps a room's last messages for clients that resume: at most
// Config.HistorySize entries, none older than Config.HistoryAge. It is a
// ring whose entries keep their packet buffers, so a room in steady state
// records a message without allocating. The room's mu guards it.
type history struct {
	ents  []histEntry // ring of up to HistorySize entries
	start int         // index of the oldest entry
	n     int         // entries held
}

// histEntry is one recorded room message.
type histEntry struct {
	seq uint32 // room sequence number
	at  int64  // when the job took it, Unix nanoseconds
	pkt []byte // the client packet, seq in its header
}

// add records the packet pkt of sequence number seq taken at at, dropping
// the oldest entry when size entries are held. size 0 records nothing.
func (h *history) add(seq uint32, at time.Time, pkt []byte, size int) {
	if size <= 0 {
		return
	}
	var e *histEntry
	switch {
	case h.n < len(h.ents):
		e = &h.ents[(h.start+h.n)%len(h.ents)]
		h.n++
	case len(h.ents) < size:
		h.ents = append(h.ents, histEntry{})
		e = &h.ents[len(h.ents)-1]
		h.n++
	default:
		e = &h.ents[h.start]
		h.start = (h.start + 1) % len(h.ents)
	}
	e.seq, e.at = seq, at.UnixNano()
	e.pkt = append(e.pkt[:0], pkt...)
}

// prune drops the entries taken before now-maxAge. maxAge <= 0 keeps all.
func (h *history) prune(now time.Time, maxAge time.Duration) {
	if maxAge <= 0 {
		return
	}
	oldest := now.Add(-maxAge).UnixNano()
	for h.n > 0 {
		e := &h.ents[h.start]
		if e.at >= oldest {
			return
		}
		e.pkt = e.pkt[:0]
		h.start = (h.start + 1) % len(h.ents)
		h.n--
	}
}

// reset forgets every entry (a new epoch starts).
func (h *history) reset() {
	for i := range h.ents {
		h.ents[i].pkt = h.ents[i].pkt[:0]
	}
	h.start, h.n = 0, 0
}

// since appends to dst the packets of the entries after sequence number
// after, oldest first, and reports whether they are all the messages
// after it up to last, the room's last sequence number: true when after
// is last, or when the oldest entry held is at most after+1.
func (h *history) since(dst []byte, after, last uint32) ([]byte, bool) {
	if after == last {
		return dst, true
	}
	if after > last || h.n == 0 || h.ents[h.start].seq > after+1 {
		return dst, false
	}
	for i := range h.n {
		e := &h.ents[(h.start+i)%len(h.ents)]
		if e.seq > after {
			dst = append(dst, e.pkt...)
		}
	}
	return dst, true
}
