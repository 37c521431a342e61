#!/bin/sh
# scale.sh runs one logic, one job and COMETS comet processes on loopback,
# connects CONNS clients spread over the comets from GENERATORS goim-bench
# processes (one coordinator and its members, each on source addresses of
# its own among 127.0.0.1-254), all in room live://1000, then measures on
# those connections (goim-bench -scenario scale): the idle RSS of every
# comet (settled), a room push at RATE msg/s for DURATION to every
# member, and push/all.
#
#   BIN=/path/to/static/binaries COMETS=4 GENERATORS=2 CONNS=8000 sh bench/scale.sh
#
# BIN holds comet, logic, job and goim-bench, built with
#   CGO_ENABLED=0 go build -o $BIN/ ./cmd/comet ./cmd/logic ./cmd/job ./cmd/goim-bench
# OUT (default a fresh temporary directory) receives the servers' logs and
# the JSON of the goim-bench run (scale.json). Ports BASE..BASE+3 go to logic and job,
# BASE+10+2i and BASE+11+2i to comet i's clients and RPC.
#
# Each process holds at most PER_PROC (19,500) connections, under the
# open-file limit of 20,000: CONNS must fit in GENERATORS generators and
# COMETS comets (a million needs 52 of each). TUNE=1 (root only) first
# sets the open-file limit to 20,000 and raises the system limits a
# million loopback connections run into (listen backlogs, local ports,
# open files, connection tracking), printing each before and after.
# PROGRESS (e.g. 5s) prints goim-bench's progress lines that often.
set -eu

: "${BIN:?BIN must name the directory of the binaries}"
COMETS=${COMETS:-4}
GENERATORS=${GENERATORS:-1}
CONNS=${CONNS:-8000}
RATE=${RATE:-5}
DURATION=${DURATION:-10s}
SETTLE=${SETTLE:-10s}
BASE=${BASE:-43000}
OUT=${OUT:-$(mktemp -d)}
mkdir -p "$OUT"
TRANSPORT=${TRANSPORT:-tcp}
PER_PROC=${PER_PROC:-19500}
TUNE=${TUNE:-0}
PROGRESS=${PROGRESS:-0}
if [ "$CONNS" -gt $((GENERATORS * PER_PROC)) ]; then
	echo "scale.sh: CONNS $CONNS over $GENERATORS generators of $PER_PROC" >&2
	exit 2
fi
if [ "$CONNS" -gt $((COMETS * PER_PROC)) ]; then
	echo "scale.sh: CONNS $CONNS over $COMETS comets of $PER_PROC" >&2
	exit 2
fi
# Four source addresses per generator while they last: a generator's
# connections need a local port each on one of its addresses.
LOCAL_IPS=$((GENERATORS * 4))
if [ "$LOCAL_IPS" -gt 254 ]; then
	LOCAL_IPS=254
fi

# tune sets KEY to VALUE under /proc/sys when it is lower (or, for a
# range, always), printing both.
tune() {
	f=/proc/sys/$(echo "$1" | tr . /)
	if [ ! -w "$f" ]; then
		echo "tune: $1 not settable here"
		return 0
	fi
	old=$(tr '\t' ' ' <"$f")
	case $2 in
	*" "*) set_it=1 ;;
	*) [ "$(echo "$old" | awk '{print $1}')" -ge "$2" ] && set_it=0 || set_it=1 ;;
	esac
	if [ "$set_it" = 1 ] && ! (echo "$2" >"$f") 2>/dev/null; then
		echo "tune: $1 $old, refused $2"
		return 0
	fi
	echo "tune: $1 $old -> $(tr '\t' ' ' <"$f")"
}
if [ "$TUNE" = 1 ]; then
	tune fs.nr_open 1048576
	tune fs.file-max 4000000
	tune net.core.somaxconn 65535
	tune net.ipv4.tcp_max_syn_backlog 65535
	tune net.core.netdev_max_backlog 65535
	tune net.ipv4.ip_local_port_range "10000 65000"
	tune net.netfilter.nf_conntrack_max 4000000
	ulimit -n 20000
fi
echo "scale: $(nproc) CPUs, $(awk '/^MemTotal/ {print $2 " kB"}' /proc/meminfo) memory, open-file limit $(ulimit -n), load $(cut -d' ' -f1-3 /proc/loadavg)"

pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

logic_http=127.0.0.1:$BASE
logic_rpc=127.0.0.1:$((BASE + 1))
job_rpc=127.0.0.1:$((BASE + 2))
"$BIN/logic" -http "$logic_http" -rpc "$logic_rpc" >"$OUT/logic.log" 2>&1 &
logic_pid=$!
pids="$pids $!"
"$BIN/job" -logic "$logic_rpc" -rpc "$job_rpc" >"$OUT/job.log" 2>&1 &
job_pid=$!
pids="$pids $!"
addrs=""
comet_pids=""
i=0
while [ "$i" -lt "$COMETS" ]; do
	port=$((BASE + 10 + 2 * i))
	if [ "$TRANSPORT" = ws ]; then
		client="-tcp - -ws 127.0.0.1:$port"
	else
		client="-tcp 127.0.0.1:$port -ws -"
	fi
	# The clients come from a few loopback addresses: per-IP limits off.
	# shellcheck disable=SC2086 # $client is two flags
	"$BIN/comet" -logic "$logic_rpc" $client -rpc "127.0.0.1:$((port + 1))" \
		-max-conns-per-ip -1 -auth-rate-per-ip -1 >"$OUT/comet-$i.log" 2>&1 &
	pids="$pids $!"
	comet_pids="$comet_pids${comet_pids:+,}$!"
	addrs="$addrs${addrs:+,}127.0.0.1:$port"
	i=$((i + 1))
done
# wait_listen PORT waits up to 30 s for a listener on 127.0.0.1:PORT.
wait_listen() {
	hex=$(printf '%04X' "$1")
	n=0
	until awk -v want="0100007F:$hex" '$2 == want && $4 == "0A" {found = 1} END {exit !found}' /proc/net/tcp; do
		n=$((n + 1))
		if [ "$n" -gt 300 ]; then
			echo "scale: nothing listens on port $1" >&2
			exit 1
		fi
		sleep 0.1
	done
}
wait_listen "$BASE"
wait_listen $((BASE + 1))
wait_listen $((BASE + 2))
i=0
while [ "$i" -lt "$COMETS" ]; do
	wait_listen $((BASE + 10 + 2 * i))
	i=$((i + 1))
done
echo "scale: logic (pid $logic_pid), job (pid $job_pid) and $COMETS comets started; $CONNS clients from $GENERATORS generators on $LOCAL_IPS source addresses; output in $OUT"

bench() {
	name=$1
	shift
	echo "scale: $name"
	"$BIN/goim-bench" -http "$logic_http" -addr "$addrs" -transport "$TRANSPORT" -conns "$CONNS" \
		-generators "$GENERATORS" -local-ips "$LOCAL_IPS" -reader epoll \
		-pids "$comet_pids,$logic_pid,$job_pid" -progress "$PROGRESS" -json "$OUT/$name.json" "$@"
}

# comet_memory prints the sum of the comets' RSS and PSS now.
comet_memory() {
	rss=0
	pss=0
	for p in $(echo "$comet_pids" | tr , ' '); do
		kb=$(awk '/^VmRSS:/ {print $2}' "/proc/$p/status")
		rss=$((rss + kb))
		if [ -r "/proc/$p/smaps_rollup" ]; then
			kb=$(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup")
			pss=$((pss + kb))
		fi
	done
	echo "scale: $COMETS comets hold $rss kB RSS, $pss kB PSS in all $1"
}

comet_memory "before any client"
bench scale -scenario scale -settle "$SETTLE" -rate "$RATE" -duration "$DURATION"
comet_memory "after the runs (the clients closed)"
