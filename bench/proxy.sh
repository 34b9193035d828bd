#!/usr/bin/env bash
# bench/proxy.sh: weir as a TCP proxy (one fresh upstream connection per
# accepted connection) against socat's forking proxy, HAProxy and no proxy
# at all.
#
#   weir  -k tcp-listen:127.0.0.1:0 tcp:127.0.0.1:UPSTREAM
#   weir-nosplice: the same with --no-splice (only when weir has it)
#   socat tcp-listen:PORT,bind=127.0.0.1,fork,reuseaddr,backlog=1024 tcp:127.0.0.1:UPSTREAM
#   haproxy -f CFG -db: mode tcp, splice-request and splice-response,
#     tune.pipesize 256 KiB (lib.sh's haproxy_cfg), its default threads (one
#     per CPU: what users run); haproxy-1t the same with nbthread 1 (weir is
#     single-threaded)
#   direct: the client connects to UPSTREAM itself
#
# (a) bulk: one connection carries SIZE bytes (python3 sender: 1 MiB sendall,
#     half-close, read to EOF) to a sink (python3: 1 MiB recv_into, discards;
#     a fresh one per run, the same for every proxy); timed from the sender's
#     start to the sink's exit after it counted every byte.
# (b) connections: CONNS sequential connections (one python3 client), each
#     connects, sends CONN_SIZE bytes (TCP_NODELAY), half-closes and reads the
#     echo to EOF; the echo server is python3 asyncio (a fresh one per run, the
#     same for every proxy). Reports connections/s (CONNS / the loop's time)
#     and the p50/p99 latency of one connection (connect to EOF).
# Each proxy is started fresh for each run and stopped with SIGTERM after it.
# A run FAILS on a lost or wrong byte, a proxy error, a hang, a proxy that
# does not stop on SIGTERM, or a connection error.
# Env: SIZE (2G), CONNS (2000), CONN_SIZE (1k), ROUNDS (3), WEIR, WEIR_OPTS,
#      TIMEOUT (s per run). HAProxy (package haproxy) is left out when it is
#      not installed.
# shellcheck disable=SC2317 # the functions that rounds (lib.sh) calls
set -eu
. "$(dirname "$0")/lib.sh"

SIZE=${SIZE:-2G}
N=$(bytes "$SIZE")
CONNS=${CONNS:-2000}
CONN_SIZE=${CONN_SIZE:-1k}
TMO=${TIMEOUT:-$((N / 20000000 + CONNS / 50 + 60))}
TOOLS=(weir)
if weir_has --no-splice; then TOOLS+=(weir-nosplice); fi
TOOLS+=(socat)
if command -v haproxy >/dev/null; then TOOLS+=(haproxy haproxy-1t); fi
TOOLS+=(direct)

# bulk_once TOOL BYTES: sets SECS RSS_KIB CPU, or ERR
bulk_once() {
	local tool=$1 n=$2 kp
	rm -f "$TMP/port" "$TMP/count"
	timeout -k 5 "$TMO" "$PY" "$HELPERS" sink "$TMP/port" "$TMP/count" &
	kp=$!; track "$kp"
	"$PY" "$HELPERS" waitfile "$TMP/port" 10 || true
	start_proxy "$tool" "$(cat "$TMP/port")"
	sink_run "$kp" "$TMP/count" "$n" "$PY" "$HELPERS" send "$PORT" "$n"
	stop_server
	err_ctx
}

# conns_once TOOL SEED (the round: the python3 client's seed): sets SECS P50 P99
# (ms) RSS_KIB CPU, or ERR
conns_once() {
	local tool=$1 seed=$2 ep cp
	rm -f "$TMP/port" "$TMP/res"
	if [ -n "$CONNS_BIN" ]; then
		"$CONNS_BIN" echo "$TMP/port" &
	else
		"$PY" "$HELPERS" echo "$TMP/port" &
	fi
	ep=$!; track "$ep"
	"$PY" "$HELPERS" waitfile "$TMP/port" 10 || true
	start_proxy "$tool" "$(cat "$TMP/port")"
	SECS=0 P50=0 P99=0
	if [ -z "$ERR" ]; then
		if [ -n "$CONNS_BIN" ]; then
			timeout -k 5 "$TMO" "$CONNS_BIN" client "$PORT" "$CONNS" "$(bytes "$CONN_SIZE")" "$TMP/res" &
		else
			timeout -k 5 "$TMO" "$PY" "$HELPERS" conns "$PORT" "$CONNS" "$CONN_SIZE" "$seed" "$TMP/res" &
		fi
		cp=$!; track "$cp"
		wait_st "$cp"
		conns_result "$WST" "$CONNS"
	fi
	stop_server
	stop_pid "$ep"
	err_ctx
}

# The connection client and echo server in C (bench/conns.c), so their own
# cost does not hide the proxies'; python3 stands in where there is no cc.
CONNS_BIN=
if cc -O2 -o "$TMP/conns" "$(dirname "$0")/conns.c" 2>/dev/null; then
	CONNS_BIN=$TMP/conns
fi
PEER_KIND=${CONNS_BIN:+C}
PEER_KIND=${PEER_KIND:-python3}

echo "== proxy: ${TOOLS[*]}, $ROUNDS rounds   ($(uptime | sed 's/.*load/load/'))"
echo "   (a) one connection, $(human "$N"): python3 sender -> PROXY -> python3 sink"
echo "   (b) $CONNS sequential connections, $(human "$(bytes "$CONN_SIZE")") each way: $PEER_KIND client -> PROXY -> $PEER_KIND echo"
echo "   weir: $WEIR_SRC"

declare -A TIMES=() CPUS=() PEAK=() BAD=() MED=() CTIMES=() CP50=() CP99=() CCPUS=() CPEAK=() CBAD=() CMED=()
bulk_rounds bulk_once $((64 << 20)) "$N" "(a) "
conns_rounds conns_once "(b) "

usub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.4f", a - b }'; }

echo
echo "   (a) bulk, $(human "$N") in one connection"
bulk_table "$N" proxy

echo
echo "   (b) $CONNS sequential connections, $(human "$(bytes "$CONN_SIZE")") echoed each"
conns_table proxy
echo "   (p50, p99: medians over the rounds of each round's percentile; CPU includes socat's children"
echo "    and every haproxy thread; haproxy: its default threads, haproxy-1t: nbthread 1)"

echo
has() { [ -n "${MED[$1]:-}" ]; }
s1="proxy $(human "$N") x $ROUNDS:" s2="proxy $CONNS conns x $ROUNDS:"
for t in "${TOOLS[@]}"; do
	s1="$s1 $t $(rate_of "$N" "${MED[$t]}"),"
	s2="$s2 $t $(crate "$t"),"
done
summary "${s1%,}" \
	"$(ratio_line "  proxy weir/socat (bulk)" "$(ratio "${MED[weir]}" "${MED[socat]}")" 1.50)" \
	"$(ratio_line "  proxy weir/direct (bulk)" "$(ratio "${MED[weir]}" "${MED[direct]}")" 0.80)"
if has haproxy; then
	summary "$(ratio_line "  proxy weir/haproxy (bulk)" "$(ratio "${MED[weir]}" "${MED[haproxy]}")" 1.00)" \
		"$(ratio_line "  proxy weir/haproxy-1t (bulk)" "$(ratio "${MED[weir]}" "${MED[haproxy-1t]}")" 1.00)"
fi
if has weir-nosplice; then
	summary "$(ratio_line "  proxy weir/weir-nosplice (bulk)" "$(ratio "${MED[weir]}" "${MED[weir-nosplice]}")")"
fi
summary "${s2%,}" \
	"$(ratio_line "  proxy weir/socat (conns/s)" "$(ratio "${CMED[weir]}" "${CMED[socat]}")" 3.00)" \
	"$(ratio_line "  proxy weir/direct (conns/s)" "$(ratio "${CMED[weir]}" "${CMED[direct]}")" 0.55)"
if has haproxy; then
	summary "$(ratio_line "  proxy weir/haproxy (conns/s)" "$(ratio "${CMED[weir]}" "${CMED[haproxy]}")" 1.00)" \
		"$(ratio_line "  proxy weir/haproxy-1t (conns/s)" "$(ratio "${CMED[weir]}" "${CMED[haproxy-1t]}")" 1.00)"
fi
# what each proxy adds to a connection's p50 latency (over direct): the part
# of (b) that the client and echo server do not cost
if [ "${CMED[direct]}" != - ]; then
	# shellcheck disable=SC2086
	dp=$(median ${CP50[direct]})
	s3="  proxy added p50 over direct $(ms "$dp") ms:"
	for t in "${TOOLS[@]}"; do
		if [ "$t" = direct ] || [ "${CMED[$t]}" = - ]; then continue; fi
		# shellcheck disable=SC2086
		s3="$s3 $t +$(ms "$(usub "$(median ${CP50[$t]})" "$dp")"),"
	done
	summary "${s3%,} ms"
fi
for t in "${TOOLS[@]}"; do
	if [ -n "${BAD[$t]:-}" ]; then summary "  proxy FAILED $t (bulk): ${BAD[$t]}"; fi
	if [ -n "${CBAD[$t]:-}" ]; then summary "  proxy FAILED $t (conns): ${CBAD[$t]}"; fi
done
exit "$FAILED"
