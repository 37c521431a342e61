package cli

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/goimx/goim/server"
)

// ErrUsage marks an error in the command line: a bad flag value or flags
// that do not go together. Run answers it with exit status 2.
var ErrUsage = errors.New("cli: usage")

// UsageError is a bad command line, naming the flag at fault. It matches
// ErrUsage with errors.Is.
type UsageError struct {
	Flag string // the flag's full name, without the dash
	Msg  string // what is wrong
}

// Error returns "-flag: msg".
func (e *UsageError) Error() string { return "-" + e.Flag + ": " + e.Msg }

// Is reports whether target is ErrUsage.
func (e *UsageError) Is(target error) bool { return target == ErrUsage }

// usageErr returns a UsageError naming flag name.
func usageErr(name, format string, args ...any) error {
	return &UsageError{Flag: name, Msg: fmt.Sprintf(format, args...)}
}

// flagger registers flags on fs with a name prefix ("comet." in the
// all-in-one binary, "" in a tier's own binary).
type flagger struct {
	fs     *flag.FlagSet
	prefix string
}

// name returns the full name of flag n.
func (f flagger) name(n string) string { return f.prefix + n }

// usage expands "-@name" in s to the full name of flag name, so usage
// strings can name sibling flags whatever the prefix.
func (f flagger) usage(s string) string {
	return strings.ReplaceAll(s, "-@", "-"+f.prefix)
}

func (f flagger) str(p *string, n, def, usage string) {
	f.fs.StringVar(p, f.name(n), def, f.usage(usage))
}

func (f flagger) boolean(p *bool, n string, def bool, usage string) {
	f.fs.BoolVar(p, f.name(n), def, f.usage(usage))
}

// addr registers a listen or dial address: host:port, or NoListen when
// none is allowed.
func (f flagger) addr(p *string, n, def string, none bool, usage string) {
	*p = def
	f.fs.Var(&addrValue{p: p, none: none}, f.name(n), f.usage(usage))
}

// addrList registers a comma-separated list of dial addresses, kept as
// one string.
func (f flagger) addrList(p *string, n, def, usage string) {
	*p = def
	f.fs.Var(&addrListValue{p: p}, f.name(n), f.usage(usage))
}

// list registers a comma-separated list; check, when not nil, checks
// each item.
func (f flagger) list(p *[]string, n string, def []string, check func(string) error, usage string) {
	*p = def
	f.fs.Var(&listValue{p: p, check: check}, f.name(n), f.usage(usage))
}

// integer registers an int that must lie in [lo, hi].
func (f flagger) integer(p *int, n string, def, lo, hi int, usage string) {
	*p = def
	f.fs.Var(&intValue[int]{p: p, lo: lo, hi: hi}, f.name(n), f.usage(usage))
}

// int32 registers an int32 that must lie in [lo, hi].
func (f flagger) int32(p *int32, n string, def, lo, hi int32, usage string) {
	*p = def
	f.fs.Var(&intValue[int32]{p: p, lo: lo, hi: hi}, f.name(n), f.usage(usage))
}

// float registers a float64 that must be at least lo.
func (f flagger) float(p *float64, n string, def, lo float64, usage string) {
	*p = def
	f.fs.Var(&floatValue{p: p, lo: lo}, f.name(n), f.usage(usage))
}

// duration registers a duration that must be at least lo.
func (f flagger) duration(p *time.Duration, n string, def, lo time.Duration, usage string) {
	*p = def
	f.fs.Var(&durationValue{p: p, lo: lo}, f.name(n), f.usage(usage))
}

// addrValue is a host:port flag (any host, a port number or name), or
// NoListen when none is set.
type addrValue struct {
	p    *string
	none bool
}

func (v *addrValue) typeName() string { return "addr" }

func (v *addrValue) String() string {
	if v == nil || v.p == nil {
		return ""
	}
	return *v.p
}

func (v *addrValue) Set(s string) error {
	if err := checkAddr(s, v.none); err != nil {
		return err
	}
	*v.p = s
	return nil
}

// addrListValue is a comma-separated list of dial addresses kept as one
// string (server's LogicAddr): each item must be host:port; blanks around
// items and empty items are dropped.
type addrListValue struct {
	p *string
}

func (v *addrListValue) typeName() string { return "addrs" }

func (v *addrListValue) String() string {
	if v == nil || v.p == nil {
		return ""
	}
	return *v.p
}

func (v *addrListValue) Set(s string) error {
	var out []string
	for item := range strings.SplitSeq(s, ",") {
		if item = strings.TrimSpace(item); item == "" {
			continue
		}
		if err := checkAddr(item, false); err != nil {
			return fmt.Errorf("%q: %w", item, err)
		}
		out = append(out, item)
	}
	if len(out) == 0 {
		return errors.New("no address")
	}
	*v.p = strings.Join(out, ",")
	return nil
}

// checkAddr checks that s is host:port (or NoListen when none).
func checkAddr(s string, none bool) error {
	if none && s == server.NoListen {
		return nil
	}
	_, port, err := net.SplitHostPort(s)
	if err != nil {
		return fmt.Errorf("not host:port: %w", err)
	}
	if port == "" {
		return errors.New("missing port")
	}
	if n, err := strconv.Atoi(port); err == nil && (n < 0 || n > 65535) {
		return fmt.Errorf("port %d out of range", n)
	}
	return nil
}

// listValue is a comma-separated list flag; empty items are dropped.
type listValue struct {
	p     *[]string
	check func(string) error
}

func (v *listValue) typeName() string { return "list" }

func (v *listValue) String() string {
	if v == nil || v.p == nil {
		return ""
	}
	return strings.Join(*v.p, ",")
}

func (v *listValue) Set(s string) error {
	var out []string
	for item := range strings.SplitSeq(s, ",") {
		if item = strings.TrimSpace(item); item == "" {
			continue
		}
		if v.check != nil {
			if err := v.check(item); err != nil {
				return fmt.Errorf("%q: %w", item, err)
			}
		}
		out = append(out, item)
	}
	*v.p = out
	return nil
}

// intValue is an integer flag within [lo, hi].
type intValue[T int | int32] struct {
	p      *T
	lo, hi T
}

func (v *intValue[T]) typeName() string { return "int" }

func (v *intValue[T]) String() string {
	if v == nil || v.p == nil {
		return "0"
	}
	return strconv.FormatInt(int64(*v.p), 10)
}

func (v *intValue[T]) Set(s string) error {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return errors.New("not an integer")
	}
	if n < int64(v.lo) || n > int64(v.hi) {
		return fmt.Errorf("%d out of range [%d, %d]", n, v.lo, v.hi)
	}
	*v.p = T(n)
	return nil
}

// floatValue is a float64 flag of at least lo.
type floatValue struct {
	p  *float64
	lo float64
}

func (v *floatValue) typeName() string { return "float" }

func (v *floatValue) String() string {
	if v == nil || v.p == nil {
		return "0"
	}
	return strconv.FormatFloat(*v.p, 'g', -1, 64)
}

func (v *floatValue) Set(s string) error {
	x, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return errors.New("not a number")
	}
	if x < v.lo {
		return fmt.Errorf("%g below %g", x, v.lo)
	}
	*v.p = x
	return nil
}

// durationValue is a time.Duration flag of at least lo.
type durationValue struct {
	p  *time.Duration
	lo time.Duration
}

func (v *durationValue) typeName() string { return "duration" }

func (v *durationValue) String() string {
	if v == nil || v.p == nil {
		return "0s"
	}
	return v.p.String()
}

func (v *durationValue) Set(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil {
		return errors.New("not a duration (e.g. 500ms, 10s, 5m)")
	}
	if d < v.lo {
		return fmt.Errorf("%v below %v", d, v.lo)
	}
	*v.p = d
	return nil
}
