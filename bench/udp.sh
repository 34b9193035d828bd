#!/usr/bin/env bash
# bench/udp.sh: datagrams through weir against socat, nc and the direct path.
# The senders, the receiver and the reference collector are bench/udpref.c
# (C, sendmmsg and recvmmsg), built with cc at the start.
#
# (a) relay: COUNT datagrams of each of SIZES bytes, sent as fast as
#     sendmmsg goes and then PACED_COUNT of them at PACED a second, from one
#     socket through TOOL to one receiver:
#       weir -k udp-listen:127.0.0.1:0 udp:127.0.0.1:RECV
#       socat-recv: socat -u UDP-RECV:PORT UDP-SENDTO:127.0.0.1:RECV
#       socat-fork: socat UDP-RECVFROM:PORT,fork UDP:127.0.0.1:RECV
#                   (FORK_COUNT datagrams only: a process per datagram)
#       direct: the sender sends to the receiver itself
#     Reports datagrams/s delivered (from the first to the last received)
#     and what was lost, each loss attributed: dropped by the kernel at the
#     tool's socket (weir's --stats=json kernel_dropped; /proc/net/udp's
#     drops for the others), by the tool itself (weir's dropped; for the
#     others whatever is left), by the kernel at the receiver (SO_MEMINFO).
#     For weir, what no counter explains is "unattributed" and fails the run.
# (b) fan-in: FANIN_SENDERS senders x FANIN_COUNT datagrams of one 48-byte
#     line each (weir gets them without the newline, which -p line adds)
#     into one file, at full speed, then FANIN_PACED_COUNT each at
#     FANIN_PACED a second each:
#       weir -k -p line udp-listen:127.0.0.1:0 append:FILE
#       socat -u UDP-RECV:PORT OPEN:FILE,creat,append
#       nc.openbsd -u -l -k 127.0.0.1 PORT >FILE (netcat-openbsd)
#       ref: udpref collect (one recvmmsg, a write per datagram)
#     Every line is checked: torn, duplicated, lost; lines/s is lines
#     written over the time from the first send until the file stops
#     growing (less the SETTLE wait). A torn or duplicated line from weir,
#     or a loss weir does not count, fails the run.
# Env: COUNT (1000000), SIZES ("512 64"), PACED (100000), PACED_COUNT
#      (300000), FORK_COUNT (20000), FANIN_SENDERS (20), FANIN_COUNT
#      (50000), FANIN_PACED (1000), FANIN_PACED_COUNT (5000), ROUNDS (3),
#      UDP_PARTS ("a b"), WEIR, WEIR_OPTS.
# shellcheck disable=SC2317 # functions called indirectly
set -eu
BENCH_NEEDS="timeout python3"
. "$(dirname "$0")/lib.sh"

COUNT=${COUNT:-1000000}
SIZES=${SIZES:-512 64}
PACED=${PACED:-100000}
PACED_COUNT=${PACED_COUNT:-300000}
FORK_COUNT=${FORK_COUNT:-20000}
FANIN_SENDERS=${FANIN_SENDERS:-20}
FANIN_COUNT=${FANIN_COUNT:-50000}
FANIN_PACED=${FANIN_PACED:-1000}
FANIN_PACED_COUNT=${FANIN_PACED_COUNT:-5000}
UDP_PARTS=${UDP_PARTS:-a b}
SETTLE=1
IDLE=1

REF=$TMP/udpref
cc -O2 -o "$REF" "$BENCH_DIR/udpref.c" || { echo "bench: cannot build bench/udpref.c (cc)" >&2; exit 2; }
RELAY_TOOLS=(direct weir)
FANIN_TOOLS=(ref weir)
if command -v socat >/dev/null; then
	RELAY_TOOLS+=(socat-recv socat-fork)
	FANIN_TOOLS+=(socat)
fi
if command -v nc.openbsd >/dev/null; then FANIN_TOOLS+=(nc); fi

# field NAME FILE: the number after NAME in udpref's one-line report
field() { sed -n "s/.*\\b$1 \\([0-9.]*\\).*/\\1/p" "$2" | head -n1; }
# json_num KEY FILE: KEY summed over both sides of weir's --stats=json line
json_num() {
	grep '^{' "$2" | tail -n1 | grep -o "\"$1\": *[0-9]*" |
		awk -F: '{ s += $2 } END { if (NR) print s }'
}

# start_tool TOOL MODE DEST: the relay or collector in the background
# (MODE relay: to the receiver's port DEST; fanin: into the file DEST);
# sets PORT, TP (the time wrapper, for stop_server) and ERR
start_tool() {
	local tool=$1 mode=$2 dest=$3
	ERR='' TP='' CMD=() PORT=''
	rm -f "$TMP/ready" "$TMP/spid" "$TMP/rss"
	case $tool in
	direct) PORT=$dest; return ;;
	ref)
		rm -f "$TMP/cready"
		"$REF" collect "$TMP/cready" "$dest" 3600 >"$TMP/collect.out" &
		TP=$!; track "$TP"; echo "$TP" >"$TMP/spid"
		wait_file "$TMP/cready" && PORT=$(cat "$TMP/cready")
		return ;;
	weir)
		CMD=("$WEIR" "${WEIR_OPTS_A[@]+"${WEIR_OPTS_A[@]}"}" -k --stats=json
			--ready-file "$TMP/ready")
		if [ "$mode" = relay ]; then
			CMD+=(udp-listen:127.0.0.1:0 "udp:127.0.0.1:$dest")
		else
			CMD+=(-p line udp-listen:127.0.0.1:0 "append:$dest")
		fi ;;
	*)
		PORT=$("$PY" "$HELPERS" freeport)
		case $tool-$mode in
		socat-recv-relay) CMD=(socat -u "UDP-RECV:$PORT,bind=127.0.0.1" "UDP-SENDTO:127.0.0.1:$dest") ;;
		socat-fork-relay) CMD=(socat "UDP-RECVFROM:$PORT,bind=127.0.0.1,fork" "UDP:127.0.0.1:$dest") ;;
		socat-fanin) CMD=(socat -u "UDP-RECV:$PORT,bind=127.0.0.1" "OPEN:$dest,creat,append") ;;
		nc-fanin) CMD=(sh -c 'exec nc.openbsd -u -l -k 127.0.0.1 "$0" >"$1"' "$PORT" "$dest") ;;
		esac ;;
	esac
	# its own process group: socat's forked children go with it
	CMD=(setsid "${CMD[@]}")
	start_timed /dev/null
	if [ "$tool" = weir ]; then
		wait_file "$TMP/ready" && PORT=$(ready_port "$TMP/ready")
	else
		wait_udp "$PORT"
	fi
	[ -n "$PORT" ] || ERR="$tool did not start: $(head -c 300 "$TMP/tool.err")"
}

# wait_file FILE: until it exists, 10 s at most
wait_file() {
	local k
	for ((k = 0; k < 200; k++)); do [ -s "$1" ] && return 0; sleep 0.05; done
	return 1
}

# wait_udp PORT: until a UDP socket is bound to it, 10 s at most
wait_udp() {
	local hex k
	hex=$(printf ':%04X ' "$1")
	for ((k = 0; k < 200; k++)); do
		grep -q "$hex" /proc/net/udp /proc/net/udp6 2>/dev/null && return 0
		sleep 0.05
	done
	PORT=''
}

# stop_tool TOOL: its socket's kernel drops to TOOL_KDROPS, its own to
# TOOL_DROPS ("" when it does not count), then SIGTERM to its group
stop_tool() {
	local pg
	TOOL_KDROPS=0 TOOL_DROPS=''
	[ -n "$TP" ] || return 0
	TOOL_KDROPS=$("$REF" drops "$PORT")
	if [ "$1" = ref ]; then
		kill "$TP" 2>/dev/null || true
		wait_st "$TP"; TP=''
		RSS_KIB=0 CPU=0
		return
	fi
	pg=$(cat "$TMP/spid" 2>/dev/null || true)
	[ -z "$pg" ] || kill -TERM -- "-$pg" 2>/dev/null || true
	stop_server
	if [ "$1" = weir ]; then
		TOOL_KDROPS=$(json_num kernel_dropped "$TMP/tool.err")
		TOOL_DROPS=$(json_num dropped "$TMP/tool.err")
		[ -n "$TOOL_KDROPS" ] || ERR="no --stats=json line: $(head -c 300 "$TMP/tool.err")"
	fi
}

# relay_once TOOL SIZE N RATE: one run; sets RECV, SECS, KD_TOOL, D_TOOL,
# KD_RECV, UNATTR, or ERR
relay_once() {
	local tool=$1 size=$2 n=$3 rate=$4 rp sp sent
	rm -f "$TMP/rready"
	"$REF" recv "$TMP/rready" "$n" "$size" "$IDLE" >"$TMP/recv.out" &
	rp=$!; track "$rp"
	wait_file "$TMP/rready" || { ERR="receiver did not start"; stop_pid "$rp"; return; }
	start_tool "$tool" relay "$(cat "$TMP/rready")"
	if [ -z "$ERR" ]; then
		timeout 600 "$REF" send "$PORT" "$n" "$size" "$rate" >"$TMP/send.out" || ERR="sender failed"
	fi
	wait_st "$rp"
	stop_tool "$tool"
	[ -z "$ERR" ] || return 0
	sent=$(field sent "$TMP/send.out")
	RECV=$(field received "$TMP/recv.out") SECS=$(field secs "$TMP/recv.out")
	KD_RECV=$(field kdrops "$TMP/recv.out")
	[ "$(field bad "$TMP/recv.out")" = 0 ] || ERR="datagrams of the wrong size"
	KD_TOOL=$TOOL_KDROPS
	[ "$tool" != direct ] || KD_TOOL=0
	if [ -n "$TOOL_DROPS" ]; then
		D_TOOL=$TOOL_DROPS
		UNATTR=$((sent - RECV - KD_TOOL - D_TOOL - KD_RECV))
		[ "$UNATTR" = 0 ] || ERR="$UNATTR datagrams lost that weir did not count"
	else
		D_TOOL=$((sent - RECV - KD_TOOL - KD_RECV)) UNATTR=0
	fi
}

pct() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f%%", b ? 100 * a / b : 0 }'; }
per_s() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%d", (s > 0 ? n / s : 0) }'; }

# relay_part SIZE N RATE LABEL: ROUNDS rounds of each tool; a table of
# medians; sets DELIVERED[tool] (datagrams/s) and LOSS[tool]
relay_part() {
	local size=$1 n=$2 rate=$3 label=$4 r i tool cnt
	declare -gA DELIVERED LOSS
	declare -A rates lost kt dt kr
	for tool in "${RELAY_TOOLS[@]}"; do rates[$tool]='' lost[$tool]='' kt[$tool]='' dt[$tool]='' kr[$tool]=''; done
	for ((r = 0; r < ROUNDS; r++)); do
		for i in $(rotate ${#RELAY_TOOLS[@]} "$r"); do
			tool=${RELAY_TOOLS[$i]} cnt=$n
			[ "$tool" != socat-fork ] || [ "$n" -le "$FORK_COUNT" ] || cnt=$FORK_COUNT
			ERR=''
			relay_once "$tool" "$size" "$cnt" "$rate"
			if [ -n "$ERR" ]; then
				echo "  $tool FAILED ($label): $ERR"
				FAILED=1
				continue
			fi
			rates[$tool]+=" $(per_s "$RECV" "$SECS")"
			lost[$tool]+=" $(awk -v a="$RECV" -v b="$cnt" 'BEGIN { printf "%.2f", 100 * (b - a) / b }')"
			kt[$tool]+=" $KD_TOOL" dt[$tool]+=" $D_TOOL" kr[$tool]+=" $KD_RECV"
		done
	done
	printf '%-11s %12s %8s %12s %12s %12s   (%s)\n' tool "dgrams/s" lost "kernel@tool" "in tool" "kernel@recv" "$label"
	for tool in "${RELAY_TOOLS[@]}"; do
		if [ -z "${rates[$tool]}" ]; then
			printf '%-11s %12s\n' "$tool" FAILED
			DELIVERED[$tool]=- LOSS[$tool]=-
			continue
		fi
		# shellcheck disable=SC2086 # word splitting wanted
		DELIVERED[$tool]=$(median ${rates[$tool]}) LOSS[$tool]=$(median ${lost[$tool]})
		# shellcheck disable=SC2086
		printf '%-11s %12.0f %7s%% %12.0f %12.0f %12.0f\n' "$tool" "${DELIVERED[$tool]}" "${LOSS[$tool]}" \
			"$(median ${kt[$tool]})" "$(median ${dt[$tool]})" "$(median ${kr[$tool]})"
	done
}

# fanin_once TOOL COUNT RATE: one run; sets LINES, TORN, DUP, LOST, KD_TOOL,
# D_TOOL, SECS, or ERR
fanin_once() {
	local tool=$1 n=$2 rate=$3 file=$TMP/fanin.out t0 t1 size prev k nl
	rm -f "$file"; : >"$file"
	start_tool "$tool" fanin "$file"
	[ -z "$ERR" ] || { stop_tool "$tool"; return 0; }
	t0=$(now)
	# weir -p line ends each datagram with a newline; the others write
	# them as they come
	nl=nl
	[ "$tool" != weir ] || nl=bare
	timeout 600 "$REF" lines "$PORT" "$FANIN_SENDERS" "$n" "$rate" "$nl" >"$TMP/send.out" || ERR="senders failed"
	# until the file stops growing for SETTLE s (600 s at most)
	prev=-1 t1=$(now)
	for ((k = 0; k < 600 * 20; k++)); do
		size=$(stat -c %s "$file")
		if [ "$size" != "$prev" ]; then prev=$size t1=$(now)
		elif [ "$(fsub "$(now)" "$t1" | cut -d. -f1)" -ge "$SETTLE" ]; then break; fi
		sleep 0.05
	done
	stop_tool "$tool"
	[ -z "$ERR" ] || return 0
	"$REF" check "$file" "$FANIN_SENDERS" "$n" >"$TMP/check.out"
	LINES=$(field lines "$TMP/check.out") TORN=$(field torn "$TMP/check.out")
	DUP=$(field dup "$TMP/check.out") LOST=$(field lost "$TMP/check.out")
	SECS=$(fsub "$t1" "$t0")
	KD_TOOL=$TOOL_KDROPS
	if [ -n "$TOOL_DROPS" ]; then
		D_TOOL=$TOOL_DROPS
		[ "$TORN" = 0 ] && [ "$DUP" = 0 ] || ERR="weir tore $TORN and doubled $DUP lines"
		[ "$LOST" = $((KD_TOOL + D_TOOL)) ] || ERR="weir lost $LOST lines and counted $((KD_TOOL + D_TOOL))"
	else
		D_TOOL=$((LOST - KD_TOOL))
	fi
}

# fanin_part COUNT RATE LABEL: ROUNDS rounds of each tool, a table of
# medians; sets FRATE[tool] (lines/s) and FLOSS[tool]
fanin_part() {
	local n=$1 rate=$2 label=$3 r i tool sent=$((FANIN_SENDERS * $1))
	declare -gA FRATE FLOSS
	declare -A rates lost torn kt dt
	for tool in "${FANIN_TOOLS[@]}"; do rates[$tool]='' lost[$tool]='' torn[$tool]='' kt[$tool]='' dt[$tool]=''; done
	for ((r = 0; r < ROUNDS; r++)); do
		for i in $(rotate ${#FANIN_TOOLS[@]} "$r"); do
			tool=${FANIN_TOOLS[$i]}
			ERR=''
			fanin_once "$tool" "$n" "$rate"
			if [ -n "$ERR" ]; then
				echo "  $tool FAILED ($label): $ERR"
				FAILED=1
				continue
			fi
			rates[$tool]+=" $(per_s "$((LINES - TORN - DUP))" "$SECS")"
			lost[$tool]+=" $(awk -v a="$LOST" -v b="$sent" 'BEGIN { printf "%.2f", 100 * a / b }')"
			torn[$tool]+=" $TORN" kt[$tool]+=" $KD_TOOL" dt[$tool]+=" $D_TOOL"
		done
	done
	printf '%-11s %12s %8s %8s %12s %12s   (%s)\n' tool "lines/s" lost torn "kernel@tool" "in tool" "$label"
	for tool in "${FANIN_TOOLS[@]}"; do
		if [ -z "${rates[$tool]}" ]; then
			printf '%-11s %12s\n' "$tool" FAILED
			FRATE[$tool]=- FLOSS[$tool]=-
			continue
		fi
		# shellcheck disable=SC2086
		FRATE[$tool]=$(median ${rates[$tool]}) FLOSS[$tool]=$(median ${lost[$tool]})
		# shellcheck disable=SC2086
		printf '%-11s %12.0f %7s%% %8.0f %12.0f %12.0f\n' "$tool" "${FRATE[$tool]}" "${FLOSS[$tool]}" \
			"$(median ${torn[$tool]})" "$(median ${kt[$tool]})" "$(median ${dt[$tool]})"
	done
}

# rel A B: A/B, or n/a
rel() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b == 0) print "n/a"; else printf "%.2f", a / b }'; }

echo "== udp: relay $COUNT datagrams (full speed) and $PACED_COUNT at $PACED/s, sizes $SIZES; fan-in $FANIN_SENDERS x $FANIN_COUNT lines; $ROUNDS rounds, medians"
for part in $UDP_PARTS; do
	case $part in
	a)
		for size in $SIZES; do
			relay_part "$size" "$COUNT" 0 "$size B, full speed"
			summary "udp relay $size B full speed: weir ${DELIVERED[weir]%.*}/s, lost ${LOSS[weir]}%; direct ${DELIVERED[direct]%.*}/s"
			summary "$(ratio_line "udp relay $size B full, weir/direct" "$(rel "${DELIVERED[weir]}" "${DELIVERED[direct]}")" 0.6)"
			if [ -n "${DELIVERED[socat-recv]:-}" ]; then
				summary "$(ratio_line "udp relay $size B full, weir/socat -u" "$(rel "${DELIVERED[weir]}" "${DELIVERED[socat-recv]}")" 2)"
			fi
			relay_part "$size" "$PACED_COUNT" "$PACED" "$size B, $PACED/s"
			summary "udp relay $size B at $PACED/s: weir lost ${LOSS[weir]}% (target 0), direct ${LOSS[direct]}%"
		done ;;
	b)
		fanin_part "$FANIN_COUNT" 0 "full speed"
		summary "udp fan-in full speed: weir ${FRATE[weir]%.*} lines/s lost ${FLOSS[weir]}%, ref ${FRATE[ref]%.*}/s lost ${FLOSS[ref]}%"
		summary "$(ratio_line "udp fan-in full, weir/ref (lines/s)" "$(rel "${FRATE[weir]}" "${FRATE[ref]}")")"
		fanin_part "$FANIN_PACED_COUNT" "$FANIN_PACED" "$FANIN_PACED/s each"
		summary "udp fan-in at $FANIN_PACED/s each: weir lost ${FLOSS[weir]}% (target 0)" ;;
	esac
done
exit "$FAILED"
