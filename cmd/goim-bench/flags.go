package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/goimx/goim/bench"
	"github.com/goimx/goim/client"
)

// Scenarios.
const (
	scenarioIdle = "idle"
	scenarioRoom = "room"
	scenarioKnee = "knee"
	scenarioKeys = "keys"
	scenarioMids = "mids"
	scenarioAll  = "all"
	scenarioLone = "lone"
	// scenarioFlood is push/keys to one connection from -concurrency
	// callers; the run fails unless every accepted push arrived.
	scenarioFlood = "flood"
	// scenarioScale is idle, then room and all at -rate on the same
	// connections: a large run connects once.
	scenarioScale = "scale"
	// scenarioMember is one of the processes of -generators: it holds
	// -conns connections and answers its parent over stdin and stdout.
	scenarioMember = "member"
)

// maxGenerators bounds -generators: each takes at least one source
// address of 127.0.0.1-254.
const maxGenerators = 254

// errUsage reports a bad command line.
var errUsage = errors.New("bad usage")

// options are the parsed flags.
type options struct {
	scenario    string
	httpAddr    string
	addr        string
	transport   string
	conns       int
	localIPs    int
	ipFirst     int
	generators  int
	midBase     int64
	dialers     int
	heartbeat   time.Duration
	rate        float64
	rates       []float64
	duration    time.Duration
	count       int
	concurrency int
	size        int
	devices     int
	roomType    string
	room        string
	op          int
	keyPrefix   string
	p99Bound    time.Duration
	drain       time.Duration
	settle      time.Duration
	pause       time.Duration
	pids        []int
	procNames   []string
	serverCmd   string
	serverLog   string
	serverWait  time.Duration
	jsonOut     string
	svgOut      string
	progress    time.Duration
	maxTime     time.Duration
	label       string
	serverPprof string
	profileDir  string
	selfProfile string
	reader      string
	keepGoing   bool

	stdout, stderr io.Writer // where the table and the progress lines go
}

// parseFlags parses the command line.
func parseFlags(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("goim-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.scenario, "scenario", scenarioRoom, "idle, room, knee, keys, mids, all, lone, flood or scale (member: internal, one process of -generators)")
	fs.StringVar(&o.httpAddr, "http", "127.0.0.1:3111", "logic's HTTP push API, host:port")
	fs.StringVar(&o.addr, "addr", "", "comet client address, or several comma-separated (clients spread round robin over them) (default 127.0.0.1:3101 for tcp, 127.0.0.1:3102 for ws)")
	fs.StringVar(&o.transport, "transport", client.TransportTCP, "client transport: tcp or ws")
	fs.IntVar(&o.conns, "conns", 1000, "client connections")
	fs.IntVar(&o.localIPs, "local-ips", 8, "spread connections over source addresses 127.0.0.1..127.0.0.N (0: system's choice); with -generators, each takes its share of them")
	fs.IntVar(&o.ipFirst, "local-ip-first", 1, "the first source address of -local-ips is 127.0.0.N")
	fs.IntVar(&o.generators, "generators", 1, "spread -conns over this many generator processes (copies of this program), each under the open-file limit, all counted in one round (idle, room, knee, all and scale)")
	fs.Int64Var(&o.midBase, "mid-base", 1, "connection i is user BASE + i/devices")
	fs.IntVar(&o.dialers, "dialers", 64, "connections dialed at once")
	fs.StringVar(&o.reader, "reader", bench.ReaderConn, "how connections are read: conn (the client library, a goroutine each) or epoll (raw sockets read by a few epoll workers; Linux)")
	fs.DurationVar(&o.heartbeat, "heartbeat", 30*time.Second, "client heartbeat interval (0: none)")
	fs.Float64Var(&o.rate, "rate", 0, "pushes per second, open loop (0: closed loop with -concurrency callers)")
	rates := fs.String("rates", "10,20,50,100,200,400", "knee: comma-separated rising push rates")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "how long to push (per rate for knee)")
	fs.IntVar(&o.count, "count", 0, "stop after this many pushes (0: no limit)")
	fs.IntVar(&o.concurrency, "concurrency", 16, "concurrent HTTP callers")
	fs.IntVar(&o.size, "size", 16, "message body bytes (at least 16: the send-time stamp)")
	fs.IntVar(&o.devices, "devices", 2, "mids: connections per user")
	fs.StringVar(&o.roomType, "room-type", "live", "room type")
	fs.StringVar(&o.room, "room", "1000", "room id")
	fs.IntVar(&o.op, "op", 1000, "push operation")
	fs.StringVar(&o.keyPrefix, "key-prefix", "bench", "connection keys are PREFIX-0, PREFIX-1, ...")
	fs.DurationVar(&o.p99Bound, "p99-bound", time.Second, "knee: stop once p99 passes this")
	fs.BoolVar(&o.keepGoing, "keep-going", false, "knee: run every rate, past the bound and missing messages (the knee is still reported)")
	fs.DurationVar(&o.drain, "drain", 5*time.Second, "after the last push, wait this long without progress for deliveries")
	fs.DurationVar(&o.settle, "settle", 10*time.Second, "idle: wait this long after connecting before reading RSS")
	fs.DurationVar(&o.pause, "pause", 2*time.Second, "pause between the runs of knee and lone")
	pids := fs.String("pids", "", "comma-separated server pids to sample (RSS, CPU)")
	names := fs.String("procname", "", "comma-separated server process names to find in /proc and sample")
	fs.StringVar(&o.serverCmd, "server-cmd", "", "start this server command (space-separated), wait for it, sample it, stop it at the end")
	fs.StringVar(&o.serverLog, "server-log", "", "file for -server-cmd's output (default: discarded)")
	fs.DurationVar(&o.serverWait, "server-wait", 15*time.Second, "how long -server-cmd may take to accept connections")
	fs.StringVar(&o.jsonOut, "json", "", "write the results as JSON to this file (- for stdout)")
	fs.StringVar(&o.svgOut, "svg", "", "knee: write the plot to this SVG file")
	fs.DurationVar(&o.progress, "progress", time.Second, "progress line period (0: none)")
	fs.DurationVar(&o.maxTime, "max-time", 10*time.Minute, "hard bound on the whole run")
	fs.StringVar(&o.label, "label", "", "label of the results (default: the scenario)")
	fs.StringVar(&o.serverPprof, "server-pprof", "", "server's debug address (host:port serving /debug/pprof/); with -profile, profiles are saved per run")
	fs.StringVar(&o.selfProfile, "cpuprofile", "", "write the generator's own CPU profile to this file")
	fs.StringVar(&o.profileDir, "profile", "", "directory for the server's CPU and allocation profiles of each run (needs -server-pprof)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("%w: unexpected arguments %q", errUsage, fs.Args())
	}
	var err error
	if o.rates, err = parseFloats(*rates); err != nil {
		return nil, fmt.Errorf("%w: -rates: %v", errUsage, err)
	}
	if o.pids, err = parseInts(*pids); err != nil {
		return nil, fmt.Errorf("%w: -pids: %v", errUsage, err)
	}
	o.procNames = splitList(*names)
	return o, o.check()
}

// check validates the options and fills the defaults that depend on
// others.
func (o *options) check() error {
	switch o.scenario {
	case scenarioIdle, scenarioRoom, scenarioKnee, scenarioKeys, scenarioMids, scenarioAll, scenarioLone, scenarioFlood, scenarioScale, scenarioMember:
	default:
		return fmt.Errorf("%w: unknown scenario %q", errUsage, o.scenario)
	}
	if err := o.checkGenerators(); err != nil {
		return err
	}
	if o.reader != bench.ReaderEpoll && o.reader != bench.ReaderConn {
		return fmt.Errorf("%w: reader %q (epoll or conn)", errUsage, o.reader)
	}
	switch o.transport {
	case client.TransportTCP:
		o.addr = orString(o.addr, "127.0.0.1:3101")
	case client.TransportWS:
		o.addr = orString(o.addr, "127.0.0.1:3102")
	default:
		return fmt.Errorf("%w: transport %q (tcp or ws)", errUsage, o.transport)
	}
	switch {
	case o.conns <= 0:
		return fmt.Errorf("%w: -conns must be positive", errUsage)
	case o.rate < 0 || o.concurrency <= 0 || o.duration < 0 || o.count < 0:
		return fmt.Errorf("%w: -rate, -duration and -count must not be negative, -concurrency positive", errUsage)
	case o.duration == 0 && o.count == 0 && o.scenario != scenarioIdle:
		return fmt.Errorf("%w: -duration or -count must bound the run", errUsage)
	case o.localIPs < 0 || o.ipFirst < 1 || o.ipFirst+o.localIPs-1 > 254:
		return fmt.Errorf("%w: -local-ips and -local-ip-first must name addresses within 127.0.0.1-254", errUsage)
	case o.midBase < 1:
		return fmt.Errorf("%w: -mid-base must be positive", errUsage)
	case o.scenario == scenarioKnee && len(o.rates) == 0:
		return fmt.Errorf("%w: knee needs -rates", errUsage)
	}
	for _, a := range append(strings.Split(o.addr, ","), o.httpAddr, o.serverPprof) {
		if err := checkLoopback(a); err != nil {
			return err
		}
	}
	if o.scenario == scenarioFlood {
		o.conns = 1
	}
	if o.scenario == scenarioLone && o.rate == 0 {
		o.rate = 20
	}
	o.label = orString(o.label, o.scenario)
	return nil
}

// checkGenerators validates -generators.
func (o *options) checkGenerators() error {
	switch {
	case o.generators < 1 || o.generators > maxGenerators:
		return fmt.Errorf("%w: -generators must be 1..%d", errUsage, maxGenerators)
	case o.generators == 1:
		return nil
	case o.conns < o.generators:
		return fmt.Errorf("%w: -conns %d is fewer than -generators %d", errUsage, o.conns, o.generators)
	case o.localIPs > 0 && o.localIPs < o.generators:
		return fmt.Errorf("%w: -local-ips %d: each of -generators %d needs a source address of its own", errUsage, o.localIPs, o.generators)
	}
	switch o.scenario {
	case scenarioIdle, scenarioRoom, scenarioKnee, scenarioAll, scenarioScale:
		return nil
	}
	return fmt.Errorf("%w: -generators runs idle, room, knee, all and scale, not %s", errUsage, o.scenario)
}

// checkLoopback refuses an address (host:port or ws:// URL; empty is
// fine) whose host is not a loopback IP or localhost: the generator is a
// load tool for this machine only.
func checkLoopback(addr string) error {
	if addr == "" {
		return nil
	}
	hostPort := strings.TrimPrefix(addr, "ws://")
	hostPort, _, _ = strings.Cut(hostPort, "/")
	host, _, err := net.SplitHostPort(hostPort)
	if err != nil {
		return fmt.Errorf("%w: address %q: %v", errUsage, addr, err)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("%w: %q is not a loopback address (goim-bench drives local servers only)", errUsage, addr)
	}
	return nil
}

func orString(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// splitList splits a comma-separated list, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func parseFloats(s string) ([]float64, error) {
	var out []float64
	for _, f := range splitList(s) {
		v, err := strconv.ParseFloat(f, 64)
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("bad rate %q", f)
		}
		out = append(out, v)
	}
	return out, nil
}

func parseInts(s string) ([]int, error) {
	var out []int
	for _, f := range splitList(s) {
		v, err := strconv.Atoi(f)
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("bad pid %q", f)
		}
		out = append(out, v)
	}
	return out, nil
}
