#!/usr/bin/env bash
# bench/redis.sh: redis-benchmark through a TCP proxy, weir against
# HAProxy, socat's forking proxy and no proxy at all.
#
#   redis-benchmark -h 127.0.0.1 -p PORT -n REQUESTS -t set,get --csv [-P 16]
#   weir  -k tcp-listen:127.0.0.1:0 tcp:127.0.0.1:REDIS
#   haproxy -f CFG -db (lib.sh's haproxy_cfg: mode tcp, splicing; default
#     threads, and haproxy-1t with nbthread 1)
#   socat tcp-listen:PORT,bind=127.0.0.1,fork,reuseaddr,backlog=1024 tcp:127.0.0.1:REDIS
#     (socat's default backlog, 5, drops SYNs of the 50 clients: a stall)
#   direct: redis-benchmark connects to REDIS itself
#
# One redis-server for the whole run (127.0.0.1, a free port, --save ''
# --appendonly no, its files in the temp dir), stopped at the end. Each proxy
# is started fresh for each run and stopped with SIGTERM after it. Two
# parts: (a) no pipelining, (b) -P PIPELINE (16); redis-benchmark's default
# 50 clients. Reported: requests/s and p50 latency (redis-benchmark's --csv
# gives p50_latency_ms) of SET and GET, medians over the rounds. Every
# request must arrive: redis's own counts (INFO commandstats, reset before
# each run) must be exactly REQUESTS SETs and REQUESTS GETs, none failed.
# A run FAILS on that, an error, a hang, or a proxy that does not stop.
# Env: REQUESTS (100000), PIPELINE (16), ROUNDS (3), WEIR, WEIR_OPTS,
#      TIMEOUT (s per run).
# shellcheck disable=SC2317 # the functions that rounds (lib.sh) calls
set -eu
BENCH_NEEDS="timeout python3 redis-server redis-benchmark redis-cli"
. "$(dirname "$0")/lib.sh"

REQUESTS=${REQUESTS:-100000}
PIPELINE=${PIPELINE:-16}
TMO=${TIMEOUT:-$((REQUESTS / 500 + 60))}
TOOLS=(weir)
if command -v haproxy >/dev/null; then TOOLS+=(haproxy haproxy-1t); fi
if command -v socat >/dev/null; then TOOLS+=(socat); fi
TOOLS+=(direct)

RPORT=$("$PY" "$HELPERS" freeport)
mkdir "$TMP/redis"
redis-server --bind 127.0.0.1 --port "$RPORT" --save '' --appendonly no --daemonize no \
	--dir "$TMP/redis" >"$TMP/redis.log" 2>&1 &
RPID=$!; track "$RPID"
"$PY" "$HELPERS" waitlisten "$RPORT" 10 ||
	{ echo "bench: redis-server did not start: $(tail -n 3 "$TMP/redis.log")" >&2; exit 2; }
rcli() { redis-cli -h 127.0.0.1 -p "$RPORT" "$@"; }

# stat_calls CMD: redis's count of CMD calls since the last reset, and of
# those that failed or were rejected ("calls bad")
stat_calls() {
	rcli info commandstats | tr -d '\r' | awk -F'[:=,]' -v c="cmdstat_$1" '
		$1 == c { for (i = 2; i < NF; i += 2) v[$i] = $(i + 1) }
		END { printf "%d %d\n", v["calls"], v["failed_calls"] + v["rejected_calls"] }'
}

# run_once TOOL PIPE ROUND: one redis-benchmark run through TOOL (PIPE 1: no
# pipelining); sets SECS, SET_RPS GET_RPS SET_P50 GET_P50, RSS_KIB, CPU; or ERR
run_once() {
	local tool=$1 pipe=$2 bp t0 t1 sc sb gc gb
	SET_RPS=0 GET_RPS=0 SET_P50=0 GET_P50=0 SECS=0
	rm -f "$TMP/bench.csv" "$TMP/bench.err"
	rcli config resetstat >/dev/null
	start_proxy "$tool" "$RPORT"
	if [ -z "$ERR" ]; then
		t0=$(now)
		timeout -k 5 "$TMO" redis-benchmark -h 127.0.0.1 -p "$PORT" -n "$REQUESTS" -t set,get -P "$pipe" --csv \
			>"$TMP/bench.csv" 2>"$TMP/bench.err" &
		bp=$!; track "$bp"
		wait_st "$bp"
		t1=$(now)
		SECS=$(fsub "$t1" "$t0")
		if [ "$WST" = 124 ] || [ "$WST" = 137 ]; then
			ERR="redis-benchmark did not finish within ${TMO}s (hang?)"
		elif [ "$WST" != 0 ]; then
			ERR="redis-benchmark exit status $WST: $(head -c 200 "$TMP/bench.err")"
		fi
	fi
	stop_server
	if [ -z "$ERR" ]; then
		# "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms",...
		read -r SET_RPS SET_P50 < <(awk -F'"' '$2 == "SET" { print $4, $10 }' "$TMP/bench.csv") || true
		read -r GET_RPS GET_P50 < <(awk -F'"' '$2 == "GET" { print $4, $10 }' "$TMP/bench.csv") || true
		read -r sc sb < <(stat_calls set)
		read -r gc gb < <(stat_calls get)
		if [ -z "${SET_P50:-}" ] || [ -z "${GET_P50:-}" ]; then
			ERR="no SET and GET lines with p50 in redis-benchmark's output: $(head -c 200 "$TMP/bench.csv")"
		elif [ "$sc/$gc" != "$REQUESTS/$REQUESTS" ] || [ "$sb/$gb" != 0/0 ]; then
			ERR="redis counted $sc SETs and $gc GETs of $REQUESTS each ($sb and $gb failed)"
		fi
	fi
	err_ctx
}

# redis_record TOOL: rounds' RECORD
redis_record() {
	local -n _sr=${MODE}SR _gr=${MODE}GR _sp=${MODE}SP _gp=${MODE}GP
	_sr[$1]="${_sr[$1]:-} $SET_RPS"
	_gr[$1]="${_gr[$1]:-} $GET_RPS"
	_sp[$1]="${_sp[$1]:-} $SET_P50"
	_gp[$1]="${_gp[$1]:-} $GET_P50"
}

# part MODE PIPE LABEL: ROUNDS rounds of each tool; its table
part() {
	local mode=$1 pipe=$2 label=$3 t cpu rss
	# shellcheck disable=SC2178 # names of arrays
	local -n _bad=${mode}BAD _cpus=${mode}CPUS _peak=${mode}PEAK _sr=${mode}SR _gr=${mode}GR _sp=${mode}SP _gp=${mode}GP
	MODE=$mode
	rounds_init "$mode"
	rounds "($mode) " "$mode" redis_record run_once "$pipe"
	echo
	echo "   ($mode) $label"
	printf '   %-10s %11s %11s %10s %10s %10s %9s\n' proxy "SET req/s" "GET req/s" "SET p50 ms" "GET p50 ms" \
		"tool CPU s" "peak RSS"
	for t in "${TOOLS[@]}"; do
		if [ -n "${_bad[$t]:-}" ] || [ -z "${_sr[$t]:-}" ]; then
			printf '   %-10s %11s\n' "$t" FAILED
			FAILED=1
			continue
		fi
		cpu=- rss=-
		if [ "$t" != direct ]; then
			# shellcheck disable=SC2086
			cpu=$(median ${_cpus[$t]})
			rss="$(kib_to_mib "${_peak[$t]}") MiB"
		fi
		# shellcheck disable=SC2086
		printf '   %-10s %11.0f %11.0f %10.3f %10.3f %10s %9s\n' "$t" "$(median ${_sr[$t]})" "$(median ${_gr[$t]})" \
			"$(median ${_sp[$t]})" "$(median ${_gp[$t]})" "$cpu" "$rss"
	done
	echo
}

# med MODE WHAT TOOL: the median of MODE's WHAT (SR GR SP GP) for TOOL, or -
med() {
	local -n _a=$1$2 _b=$1BAD
	if [ -n "${_b[$3]:-}" ] || [ -z "${_a[$3]:-}" ]; then echo -; return; fi
	# shellcheck disable=SC2086
	median ${_a[$3]}
}

# rratio A B: A/B (rates), n/a when either failed
rratio() {
	if [ "$1" = - ] || [ "$2" = - ]; then echo n/a; return; fi
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'
}

# report MODE NAME: the summary lines of one part
report() {
	local mode=$1 name=$2 op w s t o
	local -n _bb=${mode}BAD
	s="redis $name x $ROUNDS (SET/GET req/s):"
	for t in "${TOOLS[@]}"; do
		if [ "$(med "$mode" SR "$t")" = - ]; then s="$s $t FAILED,"; continue; fi
		s="$s $t $(med "$mode" SR "$t" | awk '{ printf "%.0f", $1 }')/$(med "$mode" GR "$t" | awk '{ printf "%.0f", $1 }'),"
	done
	summary "${s%,}"
	for op in SET GET; do
		w=$(med "$mode" "${op:0:1}R" weir)
		summary "$(ratio_line "  redis $name $op weir/direct" "$(rratio "$w" "$(med "$mode" "${op:0:1}R" direct)")" 0.80)"
		for o in haproxy haproxy-1t; do
			[[ " ${TOOLS[*]} " == *" $o "* ]] || continue
			summary "$(ratio_line "  redis $name $op weir/$o" "$(rratio "$w" "$(med "$mode" "${op:0:1}R" "$o")")" 1.00)"
		done
	done
	s="  redis $name p50 added over direct:"
	for op in SET GET; do
		w=$(med "$mode" "${op:0:1}P" weir)
		t=$(med "$mode" "${op:0:1}P" direct)
		if [ "$w" = - ] || [ "$t" = - ]; then s="$s $op n/a,"; continue; fi
		s="$s $op weir +$(awk -v a="$w" -v b="$t" 'BEGIN { printf "%.3f", a - b }') ms (direct $t ms),"
	done
	summary "${s%,}"
	for t in "${TOOLS[@]}"; do
		if [ -n "${_bb[$t]:-}" ]; then summary "  redis $name FAILED $t: ${_bb[$t]}"; fi
	done
}

echo "== redis: redis-benchmark -n $REQUESTS -t set,get (50 clients) through ${TOOLS[*]}, $ROUNDS rounds   ($(uptime | sed 's/.*load/load/'))"
echo "   $(redis-server --version | cut -d' ' -f1-3); weir: $WEIR_SRC"

# shellcheck disable=SC2034 # used through namerefs (rounds, part, med)
declare -A aTIMES=() aCPUS=() aPEAK=() aBAD=() aSR=() aGR=() aSP=() aGP=()
# shellcheck disable=SC2034
declare -A bTIMES=() bCPUS=() bPEAK=() bBAD=() bSR=() bGR=() bSP=() bGP=()
part a 1 "no pipelining"
part b "$PIPELINE" "-P $PIPELINE"
echo "   (p50: redis-benchmark's p50_latency_ms; CPU: the proxy's, socat's children and every haproxy thread)"
echo
report a "-P1"
report b "-P$PIPELINE"
exit "$FAILED"
