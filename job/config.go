package job

import (
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
	DefaultAddr            = ":3129"
	DefaultLogicAddr       = "127.0.0.1:3119"
	DefaultBatchSize       = 100
	DefaultBatchBytes      = 64 << 10
	DefaultBatchWindow     = 20 * time.Millisecond
	DefaultRoomIdleTimeout = 30 * time.Second
	DefaultCometQueueSize  = 4096
	DefaultCometRefresh    = time.Second
	DefaultReportInterval  = 3 * time.Second
)

// ErrConfig is returned by New for a Config field out of range.
var ErrConfig = errors.New("job: bad config")

// Config configures a Job. The zero value is usable: every zero field takes
// the default named beside it.
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
	// Addr is the address cmd/job listens on for the job RPC. New does not
	// listen (Serve takes a listener). Zero: DefaultAddr (":3129").
	Addr string
	// AdvertiseAddr is the host:port the job reports to logic as its RPC
	// address. Zero: the address of the first listener given to Serve, with
	// an unspecified host (":3129", "0.0.0.0", "::") replaced by 127.0.0.1.
	// A job that never Serves and has no AdvertiseAddr does not report.
	AdvertiseAddr string
	// LogicAddr is logic's RPC address, dialed when Logic is nil.
	// Zero: DefaultLogicAddr ("127.0.0.1:3119").
	LogicAddr string
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

	// Logic is the logic service used for the comet list and reports.
	// Nil: a logicrpc.Client dialing LogicAddr, closed by the job.
	Logic logicrpc.Service
	// DialComet returns the service of the comet at addr. The job closes
	// what it returns when the comet leaves, if it has a Close() error
	// method. Nil: cometrpc.NewClient(addr, Client, logger).
	DialComet func(addr string) cometrpc.Service

	// Server configures the RPC server Serve runs. Zero: rpc's defaults.
	Server rpc.ServerConfig
	// Client configures the RPC clients the job dials itself (logic and
	// comets). Zero: rpc's defaults.
	Client rpc.ClientConfig
}

// withDefaults returns c with defaults in zero fields, or an error naming
// a field out of range.
func (c Config) withDefaults() (Config, error) {
	switch {
	case c.BatchSize < 0:
		return c, fmt.Errorf("%w: BatchSize %d < 0", ErrConfig, c.BatchSize)
	case c.BatchBytes < 0:
		return c, fmt.Errorf("%w: BatchBytes %d < 0", ErrConfig, c.BatchBytes)
	case c.RoomIdleTimeout < 0:
		return c, fmt.Errorf("%w: RoomIdleTimeout %v < 0", ErrConfig, c.RoomIdleTimeout)
	case c.CometQueueSize < 0:
		return c, fmt.Errorf("%w: CometQueueSize %d < 0", ErrConfig, c.CometQueueSize)
	case c.CometRefresh < 0:
		return c, fmt.Errorf("%w: CometRefresh %v < 0", ErrConfig, c.CometRefresh)
	case c.ReportInterval < 0:
		return c, fmt.Errorf("%w: ReportInterval %v < 0", ErrConfig, c.ReportInterval)
	}
	c.Addr = orDefault(c.Addr, DefaultAddr)
	c.LogicAddr = orDefault(c.LogicAddr, DefaultLogicAddr)
	if c.NodeID == "" {
		host, err := os.Hostname()
		if err != nil || host == "" {
			host = "localhost"
		}
		c.NodeID = fmt.Sprintf("job-%s-%d", host, os.Getpid())
	}
	c.BatchSize = orDefault(c.BatchSize, DefaultBatchSize)
	c.BatchBytes = orDefault(c.BatchBytes, DefaultBatchBytes)
	c.BatchWindow = orDefault(c.BatchWindow, DefaultBatchWindow)
	c.RoomIdleTimeout = orDefault(c.RoomIdleTimeout, DefaultRoomIdleTimeout)
	c.CometQueueSize = orDefault(c.CometQueueSize, DefaultCometQueueSize)
	c.CometRefresh = orDefault(c.CometRefresh, DefaultCometRefresh)
	c.ReportInterval = orDefault(c.ReportInterval, DefaultReportInterval)
	return c, nil
}

// batchingOff reports whether every room message goes out alone.
func (c *Config) batchingOff() bool { return c.BatchSize == 1 || c.BatchWindow < 0 }

// orDefault returns v, or def when v is zero.
func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}
