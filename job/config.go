package job

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/goimx/goim/comet/cometrpc"
	"github.com/goimx/goim/logic/logicrpc"
	"github.com/goimx/goim/rpc"
)

// Defaults of Config, applied by New to zero fields.
const (
	DefaultBatchSize       = 100
	DefaultBatchBytes      = 64 << 10
	DefaultBatchWindow     = 20 * time.Millisecond
	DefaultRoomIdleTimeout = 30 * time.Second
	DefaultCometQueueSize  = 4096
	DefaultCometRefresh    = time.Second
	DefaultReportInterval  = 3 * time.Second
	DefaultHistorySize     = 100
	DefaultHistoryAge      = 5 * time.Minute
)

// ErrConfig is returned by New for a Config field out of range.
var ErrConfig = errors.New("job: bad config")

// Config configures a Job. Every zero field takes the default named beside
// it, applied in one place (withDefaults); Logic has none and must be set.
// A negative value means "off" only where a field says so (BatchWindow,
// HistorySize, HistoryAge);
// any other negative value makes New fail with an error wrapping ErrConfig
// that names the field. The job listens on nothing itself: Serve takes a
// listener made by the caller (package server binds it from an address).
//
// Room batching: a message for a room that sent nothing within the last
// BatchWindow goes out at once, alone (leading edge). A message arriving
// within BatchWindow of the room's last send waits and goes out with the
// others at that send + BatchWindow (trailing edge), or earlier once
// BatchSize messages or BatchBytes bytes accumulate. So an idle room adds
// no latency, and a busy room sends about one batch per BatchWindow
// whatever its rate: each comet writes to each member once per batch, not
// once per message. BatchWindow bounds the wait batching adds.
type Config struct {
	// AdvertiseAddr is the host:port the job reports to logic as its RPC
	// address. Zero: the address of the first listener given to Serve, with
	// an unspecified host (":3129", "0.0.0.0", "::") replaced by 127.0.0.1.
	// A job that never Serves and has no AdvertiseAddr does not report.
	AdvertiseAddr string
	// NodeID identifies the job in logic's registry.
	// Zero: "job-<hostname>-<pid>".
	NodeID string

	// BatchSize is the most messages in one room batch. 1 turns batching
	// off: every message goes out alone. Zero: DefaultBatchSize (100).
	BatchSize int
	// BatchBytes flushes a room batch once its encoded size reaches it.
	// Zero: DefaultBatchBytes (64 KiB).
	BatchBytes int
	// BatchWindow is the shortest time between two sends of a room's
	// batches, unless a batch fills up, and so the longest a message waits
	// in its batch. Negative turns batching off, as BatchSize 1 does.
	// Zero: DefaultBatchWindow.
	BatchWindow time.Duration
	// RoomIdleTimeout is how long a room keeps its state without messages;
	// it is dropped between one and two timeouts after its last message
	// and made again by the next one. Zero: DefaultRoomIdleTimeout (30s).
	RoomIdleTimeout time.Duration

	// HistorySize is the most messages each room keeps for clients that
	// resume (docs/protocol.md, "Room sequence numbers and resume").
	// Negative turns history off. Zero: DefaultHistorySize (100).
	HistorySize int
	// HistoryAge is the longest a room keeps a message for clients that
	// resume. Negative turns history off. Zero: DefaultHistoryAge (5m).
	HistoryAge time.Duration

	// CometQueueSize is the length of each comet's request queue; requests
	// for a comet whose queue is full are dropped and counted.
	// Zero: DefaultCometQueueSize (4096).
	CometQueueSize int
	// CometRefresh is how often the job fetches the comet list from logic.
	// Zero: DefaultCometRefresh (1s).
	CometRefresh time.Duration
	// ReportInterval is how often the job reports itself (kind "job", its
	// RPC address) to logic. Zero: DefaultReportInterval (3s).
	ReportInterval time.Duration

	// Logic is the logic service used for the comet list and reports. It
	// must be set (New returns ErrNoLogic without it); the job does not
	// close it.
	Logic logicrpc.Service
	// DialComet returns the service of the comet at addr. The job closes
	// what it returns when the comet leaves, if it has a Close() error
	// method. Nil: cometrpc.NewClient(addr, Client, logger).
	DialComet func(addr string) cometrpc.Service

	// Server configures the RPC server Serve runs. Zero: rpc's defaults.
	Server rpc.ServerConfig
	// Client configures the RPC clients the job dials itself (comets, when
	// DialComet is nil). Zero: rpc's defaults.
	Client rpc.ClientConfig
}

// withDefaults returns c with defaults in zero fields, or an error naming
// a field out of range.
func (c Config) withDefaults() (Config, error) {
	if err := c.check(); err != nil {
		return c, err
	}
	if c.NodeID == "" {
		host, err := os.Hostname()
		if err != nil || host == "" {
			host = "localhost"
		}
		c.NodeID = fmt.Sprintf("job-%s-%d", host, os.Getpid())
	}
	c.BatchSize = cmp.Or(c.BatchSize, DefaultBatchSize)
	c.BatchBytes = cmp.Or(c.BatchBytes, DefaultBatchBytes)
	c.BatchWindow = cmp.Or(c.BatchWindow, DefaultBatchWindow)
	c.RoomIdleTimeout = cmp.Or(c.RoomIdleTimeout, DefaultRoomIdleTimeout)
	c.CometQueueSize = cmp.Or(c.CometQueueSize, DefaultCometQueueSize)
	c.CometRefresh = cmp.Or(c.CometRefresh, DefaultCometRefresh)
	c.ReportInterval = cmp.Or(c.ReportInterval, DefaultReportInterval)
	c.HistorySize = cmp.Or(c.HistorySize, DefaultHistorySize)
	c.HistoryAge = cmp.Or(c.HistoryAge, DefaultHistoryAge)
	if c.HistorySize < 0 || c.HistoryAge < 0 {
		c.HistorySize, c.HistoryAge = -1, -1 // off
	}
	return c, nil
}

// check returns an error naming the first field that is negative where
// negative has no meaning.
func (c *Config) check() error {
	for _, f := range []struct {
		name string
		neg  bool
		v    any
	}{
		{"BatchSize", c.BatchSize < 0, c.BatchSize},
		{"BatchBytes", c.BatchBytes < 0, c.BatchBytes},
		{"RoomIdleTimeout", c.RoomIdleTimeout < 0, c.RoomIdleTimeout},
		{"CometQueueSize", c.CometQueueSize < 0, c.CometQueueSize},
		{"CometRefresh", c.CometRefresh < 0, c.CometRefresh},
		{"ReportInterval", c.ReportInterval < 0, c.ReportInterval},
	} {
		if f.neg {
			return fmt.Errorf("%w: %s %v is negative", ErrConfig, f.name, f.v)
		}
	}
	return nil
}

// batchingOff reports whether every room message goes out alone.
func (c *Config) batchingOff() bool { return c.BatchSize == 1 || c.BatchWindow < 0 }
