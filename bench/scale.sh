#!/bin/sh
# scale.sh runs one logic, one job and COMETS comet processes on loopback,
# connects CONNS clients spread over the comets from one goim-bench
# process (source addresses 127.0.0.1..127.0.0.8), all in room
# live://1000, then measures: idle RSS of every comet (settled), a room
# push at RATE msg/s for DURATION to every member, and push/all.
#
#   BIN=/path/to/static/binaries COMETS=4 CONNS=8000 sh bench/scale.sh
#
# BIN holds comet, logic, job and goim-bench, built with
#   CGO_ENABLED=0 go build -o $BIN/ ./cmd/comet ./cmd/logic ./cmd/job ./cmd/goim-bench
# OUT (default a fresh temporary directory) receives the servers' logs and
# the JSON of every goim-bench run. Ports BASE..BASE+3 go to logic and job,
# BASE+10+2i and BASE+11+2i to comet i's clients and RPC.
#
# One goim-bench process holds at most 19,500 connections (the per-process
# open-file limit here is 20,000), so CONNS above 19,500 is refused: runs
# with several generator processes need them to share one round of
# stamped pushes, which goim-bench cannot do yet.
set -eu

: "${BIN:?BIN must name the directory of the binaries}"
COMETS=${COMETS:-4}
CONNS=${CONNS:-8000}
RATE=${RATE:-5}
DURATION=${DURATION:-10s}
SETTLE=${SETTLE:-10s}
BASE=${BASE:-43000}
OUT=${OUT:-$(mktemp -d)}
TRANSPORT=${TRANSPORT:-tcp}
if [ "$CONNS" -gt 19500 ]; then
	echo "scale.sh: CONNS $CONNS over one generator's 19,500" >&2
	exit 2
fi

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
pids="$pids $!"
"$BIN/job" -logic "$logic_rpc" -rpc "$job_rpc" >"$OUT/job.log" 2>&1 &
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
echo "scale: logic, job and $COMETS comets started (comet pids $comet_pids); output in $OUT"

bench() {
	name=$1
	shift
	"$BIN/goim-bench" -http "$logic_http" -addr "$addrs" -transport "$TRANSPORT" -conns "$CONNS" \
		-pids "$comet_pids" -progress 0 -json "$OUT/$name.json" "$@"
}

bench idle -scenario idle -settle "$SETTLE"
bench room -scenario room -rate "$RATE" -duration "$DURATION"
bench all -scenario all -rate "$RATE" -duration "$DURATION"

total=0
for p in $(echo "$comet_pids" | tr , ' '); do
	kb=$(awk '/^VmRSS:/ {print $2}' "/proc/$p/status")
	total=$((total + kb))
done
echo "scale: $COMETS comets hold $total kB RSS in all after the runs ($CONNS clients connected during each run)"
