package logic

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// params are the query parameters of the HTTP API. Single-valued
// parameters keep their first occurrence; list parameters collect every
// occurrence, mids and rooms also split at commas; empty list items are
// skipped. Unknown parameters are ignored.
type params struct {
	op       int32
	hasOp    bool
	speed    int32
	hasSpeed bool
	limit    int
	hasLimit bool
	typ      string
	room     string
	platform string
	region   string
	keys     []string
	mids     []int64
	rooms    []string
}

// reset empties p keeping its slices' storage.
func (p *params) reset() {
	keys, mids, rooms := p.keys, p.mids, p.rooms
	clear(keys)
	clear(rooms)
	*p = params{keys: keys[:0], mids: mids[:0], rooms: rooms[:0]}
}

// parseParams parses a raw URL query into p. Errors wrap ErrBadParam and
// name the parameter.
func parseParams(raw string, p *params) error {
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		if pair == "" {
			continue
		}
		name, value, _ := strings.Cut(pair, "=")
		name, err := url.QueryUnescape(name)
		if err != nil {
			return fmt.Errorf("%w: bad escape in query: %q", ErrBadParam, pair)
		}
		value, err = url.QueryUnescape(value)
		if err != nil {
			return fmt.Errorf("%w %s: bad escape: %q", ErrBadParam, name, pair)
		}
		if err := p.set(name, value); err != nil {
			return err
		}
	}
	return nil
}

// set records one parameter.
func (p *params) set(name, value string) error {
	var err error
	switch name {
	case "operation":
		p.op, err = parseInt32Once(name, value, p.op, &p.hasOp)
	case "speed":
		p.speed, err = parseInt32Once(name, value, p.speed, &p.hasSpeed)
		if err == nil && p.speed < 0 {
			err = fmt.Errorf("%w %s: negative: %q", ErrBadParam, name, value)
		}
	case "limit":
		err = p.setLimit(value)
	case "type":
		setOnce(&p.typ, value)
	case "room":
		setOnce(&p.room, value)
	case "platform":
		setOnce(&p.platform, value)
	case "region":
		setOnce(&p.region, value)
	case "keys":
		if value != "" {
			p.keys = append(p.keys, value)
		}
	case "mids":
		err = p.addMids(value)
	case "rooms":
		p.addRooms(value)
	}
	return err
}

// parseInt32Once parses value unless the parameter was already seen.
func parseInt32Once(name, value string, cur int32, seen *bool) (int32, error) {
	if *seen || value == "" {
		return cur, nil
	}
	v, err := strconv.ParseInt(value, 10, 32)
	if err != nil {
		return cur, fmt.Errorf("%w %s: not an int32: %q", ErrBadParam, name, value)
	}
	*seen = true
	return int32(v), nil
}

func (p *params) setLimit(value string) error {
	if p.hasLimit || value == "" {
		return nil
	}
	v, err := strconv.Atoi(value)
	if err != nil || v <= 0 {
		return fmt.Errorf("%w limit: not a positive integer: %q", ErrBadParam, value)
	}
	p.limit, p.hasLimit = v, true
	return nil
}

func setOnce(p *string, value string) {
	if *p == "" {
		*p = value
	}
}

// addMids adds the comma-separated mids of value.
func (p *params) addMids(value string) error {
	for value != "" {
		var item string
		item, value, _ = strings.Cut(value, ",")
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		mid, err := strconv.ParseInt(item, 10, 64)
		if err != nil {
			return fmt.Errorf("%w mids: not an int64: %q", ErrBadParam, item)
		}
		p.mids = append(p.mids, mid)
	}
	return nil
}

// addRooms adds the comma-separated rooms of value.
func (p *params) addRooms(value string) {
	for value != "" {
		var item string
		item, value, _ = strings.Cut(value, ",")
		if item != "" {
			p.rooms = append(p.rooms, item)
		}
	}
}

// missing returns the error for a required parameter that is absent.
func missing(name string) error {
	return fmt.Errorf("%w %s: missing", ErrBadParam, name)
}
