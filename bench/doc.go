// Package bench measures a whole cluster: end-to-end benchmarks that run
// logic, job and comet in process and drive them over real loopback
// sockets (go test -bench . ./bench), and the building blocks of the load
// generator cmd/goim-bench, which drives a running cluster from its own
// process.
//
// The pieces:
//
//   - Histogram: a fixed-size log-linear latency histogram that many
//     receivers record into with no allocation.
//   - Stamp: the first bytes of every pushed message carry its send time,
//     so a receiver computes push-to-receive latency on its own.
//   - Fleet: many client connections, read by a goroutine each (the client
//     library) or by a few epoll workers (raw sockets), counting and timing
//     the stamped messages they receive.
//   - PushConn and Load: a lean HTTP/1.1 client for the push API, driven
//     open loop at a rate or closed loop at a concurrency.
//   - Workload, Run, Warmup and MeasureIdle: the scenarios (room, keys,
//     mids, broadcast, idle memory) and their Result.
//   - Cluster: logic, job and comet started in process on 127.0.0.1:0.
//   - ProcStat: RSS and CPU time of a process, read from /proc.
//   - Plot: a hand-written SVG chart of delivered messages and p99 latency
//     against push rate.
package bench
