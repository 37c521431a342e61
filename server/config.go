package server

import (
	"cmp"
	"crypto/tls"
	"fmt"
	"time"

	"github.com/goimx/goim/comet"
	"github.com/goimx/goim/job"
	"github.com/goimx/goim/logic"
	"github.com/goimx/goim/rpc"
)

// NoListen as a listen address turns that listener off.
const NoListen = "-"

// Default addresses: goim's ports.
const (
	DefaultCometTCPAddr  = ":3101"          // comet's plain TCP clients
	DefaultCometWSAddr   = ":3102"          // comet's plain WebSocket clients
	DefaultCometWSSAddr  = ":3103"          // comet's WebSocket clients over TLS, with a certificate
	DefaultCometRPCAddr  = ":3109"          // the comet RPC service, dialed by jobs
	DefaultLogicHTTPAddr = ":3111"          // logic's HTTP push API
	DefaultLogicRPCAddr  = ":3119"          // the logic RPC service, dialed by comets and jobs
	DefaultJobRPCAddr    = ":3129"          // the job RPC service, dialed by logic
	DefaultLogicDialAddr = "127.0.0.1:3119" // where a lone comet or job dials logic
)

// Links says how the tiers of one node reach each other.
type Links string

// Values of Links.
const (
	// LinksRPC links the tiers over loopback RPC, as separate processes.
	LinksRPC Links = "rpc"
	// LinksDirect links the tiers by method calls in process.
	LinksDirect Links = "direct"
)

// LogicConfig configures a logic tier: logic.Config and its listeners.
type LogicConfig struct {
	// Logic configures the Logic.
	Logic logic.Config
	// HTTPAddr is the listen address of the HTTP push API. Empty means
	// DefaultLogicHTTPAddr.
	HTTPAddr string
	// RPCAddr is the listen address of the logic RPC service. Empty means
	// DefaultLogicRPCAddr.
	RPCAddr string
}

// withDefaults returns c with its zero addresses set to their defaults.
func (c LogicConfig) withDefaults() LogicConfig {
	c.HTTPAddr = cmp.Or(c.HTTPAddr, DefaultLogicHTTPAddr)
	c.RPCAddr = cmp.Or(c.RPCAddr, DefaultLogicRPCAddr)
	return c
}

// CometConfig configures a comet tier: comet.Config, its listeners, its
// certificate and its link to logic. comet.Config's NodeID and
// RPCAdvertise, when empty, are set from the bound RPC listener (the host
// name and its port; its address, an unspecified host becoming the host
// name).
type CometConfig struct {
	// Comet configures the Comet.
	Comet comet.Config
	// TCPAddrs are the plain TCP client listeners; NoListen items are
	// skipped. Empty means [DefaultCometTCPAddr].
	TCPAddrs []string
	// WSAddr is the plain WebSocket listener. Empty means
	// DefaultCometWSAddr; NoListen means none.
	WSAddr string
	// WSSAddr is the WebSocket-over-TLS listener. Empty means
	// DefaultCometWSSAddr when a certificate is configured, else none;
	// NoListen means none.
	WSSAddr string
	// TCPTLSAddr is the TCP-over-TLS listener. Empty or NoListen means
	// none; it needs a certificate.
	TCPTLSAddr string
	// CertFile and KeyFile are the PEM certificate and key of the TLS
	// listeners, loaded by LoadTLS. Empty means no TLS unless TLSConfig
	// is set.
	CertFile, KeyFile string
	// TLSConfig, when not nil, is used for the TLS listeners instead of
	// CertFile and KeyFile.
	TLSConfig *tls.Config
	// TLSSelfSigned, without CertFile or TLSConfig, gives the TLS
	// listeners a certificate generated in memory at start
	// (SelfSignedTLS), so WSS listens on DefaultCometWSSAddr: for
	// development only; the start logs a warning.
	TLSSelfSigned bool
	// RPCAddr is the listener of the comet RPC service, which jobs dial.
	// Empty means DefaultCometRPCAddr; a comet always has one.
	RPCAddr string
	// LogicAddr is the logic RPC address to dial, or a comma-separated
	// list of the addresses of logic nodes sharing a Redis store: each
	// call goes to a live one, failing over to the next on a link error
	// (logicrpc.Failover). Empty means DefaultLogicDialAddr. A node
	// started by Start dials (or, with LinksDirect, calls) its own logic
	// instead.
	LogicAddr string
	// LogicClient configures the RPC client to logic. The zero value
	// means rpc's defaults.
	LogicClient rpc.ClientConfig
	// RegisterWait bounds how long StartComet waits for the comet's first
	// successful report to logic before it accepts clients, so that a
	// client is never accepted by a comet that logic's registry (and so
	// the jobs) does not know yet. When logic cannot be reached in that
	// time the comet accepts clients anyway, with a warning: it joins the
	// registry as soon as a report gets through, and meanwhile its
	// clients fail to authenticate, since that goes through logic too.
	// Zero means DefaultRegisterWait; negative means no wait.
	RegisterWait time.Duration
	// MetricsAddr is the listen address of the comet's /metrics, /healthz
	// and /readyz (plain HTTP). Empty or NoListen means none.
	MetricsAddr string
}

// DefaultRegisterWait is the default of CometConfig.RegisterWait.
const DefaultRegisterWait = 5 * time.Second

// withDefaults returns c with its zero addresses set to their defaults
// and its certificate loaded, or an error naming the field at fault.
func (c CometConfig) withDefaults() (CometConfig, error) {
	if len(c.TCPAddrs) == 0 {
		c.TCPAddrs = []string{DefaultCometTCPAddr}
	}
	c.WSAddr = cmp.Or(c.WSAddr, DefaultCometWSAddr)
	c.RPCAddr = cmp.Or(c.RPCAddr, DefaultCometRPCAddr)
	c.LogicAddr = cmp.Or(c.LogicAddr, DefaultLogicDialAddr)
	c.RegisterWait = cmp.Or(c.RegisterWait, DefaultRegisterWait)
	if c.RPCAddr == NoListen {
		return c, fmt.Errorf("server: comet RPCAddr %s: a comet needs its RPC listener", NoListen)
	}
	if c.TLSConfig == nil && (c.CertFile != "" || c.KeyFile != "") {
		tlsCfg, err := LoadTLS(c.CertFile, c.KeyFile)
		if err != nil {
			return c, err
		}
		c.TLSConfig = tlsCfg
	}
	if c.TLSConfig == nil && c.TLSSelfSigned {
		tlsCfg, err := SelfSignedTLS(hostname())
		if err != nil {
			return c, err
		}
		c.TLSConfig = tlsCfg
	}
	if c.WSSAddr == "" && c.TLSConfig != nil {
		c.WSSAddr = DefaultCometWSSAddr
	}
	return c, nil
}

// JobConfig configures a job tier: job.Config, its listener and its link
// to logic. job.Config's NodeID and AdvertiseAddr, when empty, are set
// from the bound RPC listener (the host name and its port; its address,
// an unspecified host becoming the host name). job.Config.Client
// configures the job's RPC clients, to logic and to comets.
type JobConfig struct {
	// Job configures the Job.
	Job job.Config
	// RPCAddr is the listen address of the job RPC service, which logic
	// dials. Empty means DefaultJobRPCAddr.
	RPCAddr string
	// LogicAddr is the logic RPC address to dial, or a comma-separated
	// list of them, as for CometConfig.LogicAddr. Empty means
	// DefaultLogicDialAddr. A node started by Start dials (or, with
	// LinksDirect, calls) its own logic instead.
	LogicAddr string
	// MetricsAddr is the listen address of the job's /metrics, /healthz
	// and /readyz (plain HTTP). Empty or NoListen means none.
	MetricsAddr string
}

// withDefaults returns c with its zero addresses set to their defaults.
func (c JobConfig) withDefaults() JobConfig {
	c.RPCAddr = cmp.Or(c.RPCAddr, DefaultJobRPCAddr)
	c.LogicAddr = cmp.Or(c.LogicAddr, DefaultLogicDialAddr)
	return c
}

// Config configures a whole node in one process: logic, one comet and
// one job. The zero Config is a node on goim's ports linked over
// loopback RPC.
type Config struct {
	// Logic configures the logic tier; its HTTP port serves /metrics,
	// /healthz and /readyz of the whole node. Its advertised client ports
	// (logic.Config's TCPPort, WSPort and WSSPort) that are zero follow
	// the comet's listen addresses: the port of the first TCP listener,
	// of WSAddr and of WSSAddr (logic's defaults where those have no
	// fixed port).
	Logic LogicConfig
	// Comet configures the comet tier; its LogicAddr is ignored.
	Comet CometConfig
	// Job configures the job tier; its LogicAddr is ignored.
	Job JobConfig
	// Links says how the tiers reach each other. Empty means LinksRPC.
	Links Links
}

// LoadTLS loads a PEM certificate and key into the TLS configuration of
// the comet's TLS listeners (TLS 1.2 at least).
func LoadTLS(certFile, keyFile string) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("server: load certificate: %w", err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}
