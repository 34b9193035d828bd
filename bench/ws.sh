#!/usr/bin/env bash
# bench/ws.sh: weir's WebSocket server against its own TCP proxy (websocat
# is not packaged in Debian). The clients and the sink are bench/wsref.c,
# in C so they are not what is measured, built with cc at the start.
#
# (a) bulk: BULK_COUNT messages of 64 KiB from one WebSocket client through
#     `weir -k ws-listen:127.0.0.1:0 tcp:SINK`, against the same bytes from
#     one TCP client through `weir -k tcp-listen:127.0.0.1:0 tcp:SINK`:
#     MiB/s at the sink, first byte to last.
# (b) small: SMALL_COUNT messages of 1 KiB the same way, against 1 KiB lines
#     through `weir -k -p line tcp-listen:127.0.0.1:0 tcp:SINK`: messages
#     (lines) a second at the sink.
# (c) fan-out: FANOUT_LINES lines of 64 bytes on weir's standard input to
#     FANOUT_CLIENTS WebSocket clients of `weir -k -p line ws-listen:0 -`,
#     all connected first: lines a second delivered to each client, and
#     every client must get every line (--slow block).
# A run fails on a byte or message missing, a weir error, or a hang.
# Env: BULK_COUNT (16384: 1 GiB), SMALL_COUNT (1000000), FANOUT_CLIENTS
#      (50), FANOUT_LINES (100000), ROUNDS (3), WS_PARTS ("a b c"), WEIR,
#      WEIR_OPTS.
# shellcheck disable=SC2317 # functions called indirectly
set -eu
BENCH_NEEDS="timeout python3"
. "$(dirname "$0")/lib.sh"

BULK_COUNT=${BULK_COUNT:-16384}
SMALL_COUNT=${SMALL_COUNT:-1000000}
FANOUT_CLIENTS=${FANOUT_CLIENTS:-50}
FANOUT_LINES=${FANOUT_LINES:-100000}
WS_PARTS=${WS_PARTS:-a b c}

REF=$TMP/wsref
cc -O2 -o "$REF" "$BENCH_DIR/wsref.c" || { echo "bench: cannot build bench/wsref.c (cc)" >&2; exit 2; }

# field NAME FILE: the number after NAME in wsref's one-line report
field() { sed -n "s/.*\\b$1 \\([0-9.]*\\).*/\\1/p" "$2" | head -n1; }

# proxy_once MODE COUNT SIZE: one run through weir as MODE (ws, tcp or
# line) to a fresh sink; sets SECS (first byte to last at the sink), or ERR
proxy_once() {
	local mode=$1 count=$2 size=$3 kp listen opts=() client bytes
	ERR='' SECS=0
	rm -f "$TMP/sready" "$TMP/ready"
	bytes=$((count * size))
	"$REF" sink "$TMP/sready" "$bytes" >"$TMP/sink.out" &
	kp=$!; track "$kp"
	wait_file "$TMP/sready" || { ERR="no sink"; stop_pid "$kp"; return; }
	case $mode in
	ws) listen=ws-listen:127.0.0.1:0 client=ws ;;
	tcp) listen=tcp-listen:127.0.0.1:0 client=lines ;;
	line) listen=tcp-listen:127.0.0.1:0 client=lines opts=(-p line) ;;
	esac
	CMD=("$WEIR" "${WEIR_OPTS_A[@]+"${WEIR_OPTS_A[@]}"}" -k "${opts[@]+"${opts[@]}"}"
		--ready-file "$TMP/ready" "$listen" "tcp:127.0.0.1:$(cat "$TMP/sready")")
	start_timed /dev/null
	wait_file "$TMP/ready" || ERR="weir did not start: $(head -c 300 "$TMP/tool.err")"
	if [ -z "$ERR" ]; then
		timeout 600 "$REF" "$client" "$(ready_port "$TMP/ready")" "$count" "$size" \
			>"$TMP/send.out" 2>"$TMP/send.err" || ERR="client failed: $(head -c 300 "$TMP/send.err")"
	fi
	wait_st "$kp"
	stop_server
	[ -z "$ERR" ] || return 0
	[ "$(field got "$TMP/sink.out")" = "$bytes" ] ||
		{ ERR="the sink got $(field got "$TMP/sink.out") of $bytes bytes"; return 0; }
	SECS=$(field secs "$TMP/sink.out")
}

# wait_file FILE: until it exists, 10 s at most
wait_file() {
	local k
	for ((k = 0; k < 200; k++)); do [ -s "$1" ] && return 0; sleep 0.05; done
	return 1
}

# proxy_part LABEL COUNT SIZE MODE...: ROUNDS rounds of each mode; the
# median seconds of each in MED[mode]
proxy_part() {
	local label=$1 count=$2 size=$3 r i mode
	shift 3
	local modes=("$@")
	declare -gA MED
	declare -A secs
	for mode in "${modes[@]}"; do secs[$mode]=''; done
	for ((r = 0; r < ROUNDS; r++)); do
		for i in $(rotate ${#modes[@]} "$r"); do
			mode=${modes[$i]}
			proxy_once "$mode" "$count" "$size"
			if [ -n "$ERR" ]; then
				echo "  $mode FAILED ($label): $ERR"
				FAILED=1
				continue
			fi
			secs[$mode]+=" $SECS"
		done
	done
	printf '%-6s %12s %12s %12s   (%s)\n' mode "median s" "MiB/s" "msgs/s" "$label"
	for mode in "${modes[@]}"; do
		if [ -z "${secs[$mode]}" ]; then
			MED[$mode]=-
			printf '%-6s %12s\n' "$mode" FAILED
			continue
		fi
		# shellcheck disable=SC2086 # word splitting wanted
		MED[$mode]=$(median ${secs[$mode]})
		awk -v m="$mode" -v s="${MED[$mode]}" -v n="$count" -v z="$size" \
			'BEGIN { printf "%-6s %12.3f %12.1f %12.0f\n", m, s, n * z / s / 1048576, n / s }'
	done
}

# fanout_once: one run; sets RATE (lines a second to each client), or ERR
fanout_once() {
	local cp k
	ERR='' RATE=0
	rm -f "$TMP/ready" "$TMP/fifo"
	mkfifo "$TMP/fifo"
	CMD=("$WEIR" "${WEIR_OPTS_A[@]+"${WEIR_OPTS_A[@]}"}" -v -k -p line --ready-file "$TMP/ready"
		ws-listen:127.0.0.1:0 -)
	# weir's input is the fifo, opened once every client is there
	/usr/bin/time -f '%M %U %S' -o "$TMP/rss" sh -c 'echo $$ >"$0"; f=$1; shift; exec "$@" <"$f"' \
		"$TMP/spid" "$TMP/fifo" "${CMD[@]}" >/dev/null 2>"$TMP/tool.err" &
	TP=$!; track "$TP"
	exec 8>"$TMP/fifo"
	wait_file "$TMP/ready" || ERR="weir did not start"
	if [ -z "$ERR" ]; then
		timeout 600 "$REF" fanout "$(ready_port "$TMP/ready")" "$FANOUT_CLIENTS" "$FANOUT_LINES" \
			>"$TMP/fan.out" 2>"$TMP/fan.err" &
		cp=$!; track "$cp"
		for ((k = 0; k < 400; k++)); do
			[ "$(grep -c 'WebSocket open' "$TMP/tool.err")" -ge "$FANOUT_CLIENTS" ] && break
			sleep 0.05
		done
		awk -v n="$FANOUT_LINES" 'BEGIN { for (i = 0; i < n; i++) printf "%063d\n", i }' >&8
	fi
	exec 8>&-
	[ -z "${cp:-}" ] || wait_st "$cp"
	stop_server
	[ -z "$ERR" ] || return 0
	[ "$(field messages "$TMP/fan.out")" = $((FANOUT_CLIENTS * FANOUT_LINES)) ] ||
		{ ERR="the clients got $(field messages "$TMP/fan.out") of $((FANOUT_CLIENTS * FANOUT_LINES)) lines"; return 0; }
	RATE=$(awk -v n="$FANOUT_LINES" -v s="$(field secs "$TMP/fan.out")" 'BEGIN { printf "%d", (s > 0 ? n / s : 0) }')
}

echo "== ws: bulk $BULK_COUNT x 64 KiB, small $SMALL_COUNT x 1 KiB, fan-out $FANOUT_LINES lines to $FANOUT_CLIENTS clients; $ROUNDS rounds, medians"
for part in $WS_PARTS; do
	case $part in
	a)
		proxy_part "64 KiB messages" "$BULK_COUNT" 65536 ws tcp
		summary "$(ratio_line "ws 64 KiB, weir ws/tcp (MiB/s)" "$(ratio "${MED[ws]}" "${MED[tcp]}")" 0.7)" ;;
	b)
		proxy_part "1 KiB messages" "$SMALL_COUNT" 1024 ws line
		summary "$(ratio_line "ws 1 KiB, weir ws/line (msgs/s)" "$(ratio "${MED[ws]}" "${MED[line]}")" 0.5)" ;;
	c)
		rates=''
		for ((r = 0; r < ROUNDS; r++)); do
			fanout_once
			if [ -n "$ERR" ]; then
				echo "  fan-out FAILED: $ERR"
				FAILED=1
				continue
			fi
			rates+=" $RATE"
		done
		if [ -n "$rates" ]; then
			# shellcheck disable=SC2086
			summary "ws fan-out to $FANOUT_CLIENTS clients: $(median $rates) lines/s to each (rounds:$rates)"
		fi ;;
	esac
done
exit "$FAILED"
