#!/usr/bin/env bash
# bench/socks.sh: weir as a SOCKS5 server against microsocks and Dante
# (danted), with no SOCKS at all as the reference.
#
#   weir       -k socks5-listen:127.0.0.1:0
#   microsocks -i 127.0.0.1 -p PORT (a thread per client)
#   danted     -f CFG, in the foreground: internal 127.0.0.1 port PORT,
#              external 127.0.0.1, no authentication, CONNECT only, its
#              default processes (children for negotiation, requests, I/O)
#   direct:    the client connects to the destination itself
#
# (a) bulk: one connection through the server carries SIZE bytes (python3
#     sender: the SOCKS5 greeting and CONNECT, then 1 MiB sendall,
#     half-close, read to EOF) to a sink (python3: 1 MiB recv_into,
#     discards; a fresh one per run); timed from the sender's start to the
#     sink's exit after it counted every byte.
# (b) connections: CONNS sequential connections (bench/conns.c), each
#     connects to the server, greets it, waits for its answer, asks for the
#     echo server, waits for the reply, sends CONN_SIZE bytes (TCP_NODELAY),
#     reads the echo back whole and closes (microsocks does not pass a
#     half-close on: it ends the connection at the first EOF); direct does
#     the same without SOCKS5. Reports connections/s and the p50/p99
#     latency of one connection (connect to the echo's last byte).
# Each server is started fresh for each run and stopped with SIGTERM after
# it. A run FAILS on a lost or wrong byte, a refused request, a hang, or a
# server that does not stop on SIGTERM.
# Env: SIZE (2G), CONNS (2000), CONN_SIZE (1k), ROUNDS (3), WEIR, WEIR_OPTS,
#      TIMEOUT (s per run). microsocks and danted (packages microsocks,
#      dante-server) are left out when they are not installed.
# shellcheck disable=SC2317 # the functions that rounds (lib.sh) calls
set -eu
. "$(dirname "$0")/lib.sh"

SIZE=${SIZE:-2G}
N=$(bytes "$SIZE")
CONNS=${CONNS:-2000}
CONN_SIZE=${CONN_SIZE:-1k}
TMO=${TIMEOUT:-$((N / 20000000 + CONNS / 50 + 60))}
TOOLS=(weir)
PEERS=()
if command -v microsocks >/dev/null; then PEERS+=(microsocks); fi
DANTED=$(command -v danted || echo /usr/sbin/danted)
if [ -x "$DANTED" ]; then PEERS+=(danted); fi
TOOLS+=("${PEERS[@]+"${PEERS[@]}"}" direct)

# danted_cfg FILE PORT: a configuration for CONNECT from and to loopback
danted_cfg() {
	cat >"$1" <<-EOF
		logoutput: stderr
		internal: 127.0.0.1 port = $2
		external: 127.0.0.1
		socksmethod: none
		clientmethod: none
		user.privileged: $(id -un)
		user.unprivileged: $(id -un)
		client pass { from: 127.0.0.0/8 to: 0.0.0.0/0 }
		socks pass { from: 127.0.0.0/8 to: 127.0.0.0/8 command: connect }
	EOF
}

# start_socks TOOL: the server, fresh; sets PORT (the client's), or ERR
start_socks() {
	local tool=$1
	ERR='' TP='' CMD=() PORT=''
	rm -f "$TMP/ready" "$TMP/spid" "$TMP/rss" "$TMP/tool.err"
	case $tool in
	direct) return ;;
	weir)
		CMD=("$WEIR" "${WEIR_OPTS_A[@]+"${WEIR_OPTS_A[@]}"}" -k --ready-file "$TMP/ready"
			socks5-listen:127.0.0.1:0) ;;
	microsocks)
		PORT=$("$PY" "$HELPERS" freeport)
		CMD=(microsocks -i 127.0.0.1 -p "$PORT") ;;
	danted)
		PORT=$("$PY" "$HELPERS" freeport)
		danted_cfg "$TMP/danted.conf" "$PORT"
		CMD=("$DANTED" -f "$TMP/danted.conf" -p "$TMP/danted.pid") ;;
	*) echo "bench: unknown SOCKS5 server $tool" >&2; exit 2 ;;
	esac
	start_listening "$([ "$tool" = weir ] && echo ready)"
}

# bulk_once TOOL BYTES: sets SECS RSS_KIB CPU, or ERR
bulk_once() {
	local tool=$1 n=$2 kp dest
	rm -f "$TMP/port" "$TMP/count"
	timeout -k 5 "$TMO" "$PY" "$HELPERS" sink "$TMP/port" "$TMP/count" &
	kp=$!; track "$kp"
	"$PY" "$HELPERS" waitfile "$TMP/port" 10 || true
	dest=$(cat "$TMP/port")
	start_socks "$tool"
	if [ "$tool" = direct ]; then
		sink_run "$kp" "$TMP/count" "$n" "$PY" "$HELPERS" send "$dest" "$n"
	else
		sink_run "$kp" "$TMP/count" "$n" "$PY" "$HELPERS" send "$PORT" "$n" "$dest"
	fi
	stop_server
	err_ctx
}

# conns_once TOOL SEED: sets SECS P50 P99 (ms) RSS_KIB CPU, or ERR
conns_once() {
	local tool=$1 ep cp dest
	rm -f "$TMP/port" "$TMP/res"
	"$CONNS_BIN" echo "$TMP/port" &
	ep=$!; track "$ep"
	"$PY" "$HELPERS" waitfile "$TMP/port" 10 || true
	dest=$(cat "$TMP/port")
	start_socks "$tool"
	SECS=0 P50=0 P99=0
	if [ -z "$ERR" ]; then
		if [ "$tool" = direct ]; then
			timeout -k 5 "$TMO" "$CONNS_BIN" socks "$dest" 0 "$CONNS" "$(bytes "$CONN_SIZE")" \
				"$TMP/res" 2>"$TMP/client.err" &
		else
			timeout -k 5 "$TMO" "$CONNS_BIN" socks "$PORT" "$dest" "$CONNS" "$(bytes "$CONN_SIZE")" \
				"$TMP/res" 2>"$TMP/client.err" &
		fi
		cp=$!; track "$cp"
		wait_st "$cp"
		conns_result "$WST" "$CONNS" "$TMP/client.err"
	fi
	stop_server
	stop_pid "$ep"
	err_ctx
}

# The connection client and echo server in C (bench/conns.c): it speaks
# SOCKS5 itself.
command -v cc >/dev/null || { echo "bench: socks.sh needs cc for bench/conns.c" >&2; exit 2; }
CONNS_BIN=$TMP/conns
cc -O2 -o "$CONNS_BIN" "$(dirname "$0")/conns.c"

echo "== socks: ${TOOLS[*]}, $ROUNDS rounds   ($(uptime | sed 's/.*load/load/'))"
echo "   (a) one connection, $(human "$N"): python3 sender -> SOCKS5 server -> python3 sink"
echo "   (b) $CONNS sequential connections, SOCKS5 step by step, $(human "$(bytes "$CONN_SIZE")") each way: C client -> SOCKS5 server -> C echo"
echo "   weir: $WEIR_SRC"
if [ ${#PEERS[@]} -eq 0 ]; then
	echo "   (neither microsocks nor danted is installed: weir against direct alone)"
fi

declare -A TIMES=() CPUS=() PEAK=() BAD=() MED=() CTIMES=() CP50=() CP99=() CCPUS=() CPEAK=() CBAD=() CMED=()
bulk_rounds bulk_once $((64 << 20)) "$N" "(a) "
conns_rounds conns_once "(b) "


echo
echo "   (a) bulk, $(human "$N") in one connection"
bulk_table "$N" server

echo
echo "   (b) $CONNS sequential connections, $(human "$(bytes "$CONN_SIZE")") echoed each"
conns_table server
echo "   (p50, p99: medians over the rounds of each round's percentile; direct does no SOCKS5 at all;"
echo "    CPU and RSS of danted: its main process and the children it reaped)"

# best TABLE: the peer with the smallest median time (faster), or "-"
best() {
	local -n _m=$1
	local t b=- bm=
	for t in "${PEERS[@]+"${PEERS[@]}"}"; do
		[ "${_m[$t]:--}" != - ] || continue
		if [ -z "$bm" ] || awk -v a="${_m[$t]}" -v b="$bm" 'BEGIN { exit !(a < b) }'; then
			b=$t bm=${_m[$t]}
		fi
	done
	echo "$b"
}

echo
s1="socks $(human "$N") x $ROUNDS:" s2="socks $CONNS conns x $ROUNDS:"
for t in "${TOOLS[@]}"; do
	s1="$s1 $t $(rate_of "$N" "${MED[$t]}"),"
	s2="$s2 $t $(crate "$t"),"
done
bb=$(best MED) cb=$(best CMED)
summary "${s1%,}"
if [ "$bb" != - ]; then
	summary "$(ratio_line "  socks weir/$bb, the faster peer (bulk)" "$(ratio "${MED[weir]}" "${MED[$bb]}")" 1.00)"
fi
summary "$(ratio_line "  socks weir/direct (bulk)" "$(ratio "${MED[weir]}" "${MED[direct]}")" 0.80)"
summary "${s2%,}"
if [ "$cb" != - ]; then
	summary "$(ratio_line "  socks weir/$cb, the faster peer (conns/s)" "$(ratio "${CMED[weir]}" "${CMED[$cb]}")" 1.00)"
fi
summary "$(ratio_line "  socks weir/direct (conns/s)" "$(ratio "${CMED[weir]}" "${CMED[direct]}")")"
for t in "${TOOLS[@]}"; do
	if [ -n "${BAD[$t]:-}" ]; then summary "  socks FAILED $t (bulk): ${BAD[$t]}"; fi
	if [ -n "${CBAD[$t]:-}" ]; then summary "  socks FAILED $t (conns): ${CBAD[$t]}"; fi
done
exit "$FAILED"
