#!/usr/bin/env bash
# bench/soak.sh [SECONDS]: SECONDS (600) of mixed traffic against four weirs
# at once, all on loopback:
#
#   fanin   weir -k -p line tcp-listen:127.0.0.1:0 append:FILE
#   proxy   weir -k tcp-listen:127.0.0.1:0 tcp:ECHO      (python3 echo server)
#   broker  weir --broker -p netstring tcp-listen:127.0.0.1:0
#   fanout  weir -k --slow drop --high-water 256k -p line tcp-listen:127.0.0.1:0 - <FIFO
#
# each with --stats=json, port 0 and --ready-file. The traffic is one python3
# process (bench/soak.py, a thread per client): 4 fan-in clients sending
# lines in writes of random size (20 KiB/s each, a new connection every few
# hundred lines); 3 proxy clients echoing 1 B-16 KiB blobs; 3 broker
# clients that stay (a netstring every 20 ms each, cut anywhere); a 1 MiB/s
# feed of 0.5-1 KiB lines into the fan-out, read by one client that keeps
# up, one that reads 5 KiB/s and then catches up, and one that never
# reads (both come and go every 5-15 s, with a close or a reset); and clients that connect and
# vanish, 4-20 a second: to the fan-in and the broker in the middle of a
# frame (a close, or a reset with SO_LINGER 0), to the proxy with a reset
# in the middle of a transfer.
#
# VmRSS of each weir is sampled every second into rss.csv. At the end the
# traffic stops, each weir gets SIGTERM and must exit 143, and the checks
# run (bench/soak.py check):
# - RSS: at the end of the traffic no weir's RSS is more than 10% above its
#   RSS at the baseline point, 60 s in (for runs shorter than 3 min, one
#   third of the run);
# - fan-in: the file has only whole lines, none duplicated, each
#   connection's in order, exactly the lines each client finished; a reset
#   connection's unfinished last line is not there, and a connection closed
#   in the middle of a line has that piece as its last line (a last line
#   without delimiter at EOF is a frame);
# - proxy: every echo exact; broker: each steady client got every frame
#   of every other client (steady or vanished) in order, whole, never its
#   own; fan-out: the reader that keeps up got every line, the slow ones
#   whole lines in order, and frames were dropped for them;
# - --stats=json agrees with what the clients counted (connections,
#   frames, bytes, discarded, errors) and bytes in = out + undelivered +
#   discarded per direction.
# A reset may take with it what its client sent that weir had not read yet
# (TCP allows that): for reset connections the checks accept fewer frames,
# never a torn or a foreign one, and count them.
# Prints the RSS table, traffic totals and a last line `soak: PASS` or
# `soak: FAIL: why`; exit 0 or 1. Env: WEIR, WEIR_OPTS (see README.md),
# SOAK_KEEP=DIR copies the run's files (rss.csv, fanin.out, stderr) to DIR.
set -eu
# The soak runs weir alone: CI need not have socat.
BENCH_NEEDS="timeout python3"
. "$(dirname "$0")/lib.sh"

SECS=${1:-600}
case $SECS in '' | *[!0-9]*) echo "usage: bench/soak.sh [SECONDS] (at least 10)" >&2; exit 2 ;; esac
if [ "$SECS" -lt 10 ]; then
	echo "usage: bench/soak.sh [SECONDS] (at least 10)" >&2
	exit 2
fi
NAMES=(fanin proxy broker fanout)
declare -A WPID=()

echo "== soak: $SECS s of mixed traffic against ${#NAMES[@]} weirs   ($(uptime | sed 's/.*load/load/'))"
echo "   weir: $WEIR_SRC"

"$PY" "$HELPERS" echo "$TMP/echo.port" </dev/null &
track $!
ECHO_PID=$!
"$PY" "$HELPERS" waitfile "$TMP/echo.port" 10
ECHO_PORT=$(cat "$TMP/echo.port")

mkfifo "$TMP/feed"
# held open here, so that the fan-out never sees the end of its feed
exec 7<>"$TMP/feed"

# start NAME ARGS...: one weir in the background with the caller's standard
# input (0<&0: an asynchronous command's is /dev/null otherwise), its stderr
# in NAME.err
start() {
	local name=$1
	shift
	"$WEIR" "${WEIR_OPTS_A[@]+"${WEIR_OPTS_A[@]}"}" --stats=json --ready-file "$TMP/port.$name" \
		"$@" 0<&0 2>"$TMP/$name.err" 7>&- &
	WPID[$name]=$!
	track $!
}
start fanin -k -p line tcp-listen:127.0.0.1:0 "append:$TMP/fanin.out" </dev/null >/dev/null
start proxy -k tcp-listen:127.0.0.1:0 "tcp:127.0.0.1:$ECHO_PORT" </dev/null >/dev/null
start broker --broker -p netstring tcp-listen:127.0.0.1:0 </dev/null >/dev/null
start fanout -k --slow drop --high-water 256k -p line tcp-listen:127.0.0.1:0 - <"$TMP/feed" >/dev/null
for n in "${NAMES[@]}"; do
	if ! "$PY" "$HELPERS" waitfile "$TMP/port.$n" 10; then
		echo "soak: FAIL: the $n weir wrote no ready file: $(head -c 300 "$TMP/$n.err")"
		exit 1
	fi
	printf '   %-7s pid %-7s %s\n' "$n" "${WPID[$n]}" "$(cat "$TMP/port.$n")"
done

# sample VmRSS (KiB) of each weir every second: "t,fanin,proxy,..." (an
# empty field once a weir is gone)
sampler() {
	set +e
	local t0 now next k v line n i=0
	t0=${EPOCHREALTIME/./}
	(IFS=,; echo "t,${NAMES[*]}") >"$TMP/rss.csv"
	while :; do
		now=${EPOCHREALTIME/./}
		printf -v line '%d.%03d' $(((now - t0) / 1000000)) $((((now - t0) / 1000) % 1000))
		for n in "${NAMES[@]}"; do
			v=
			{
				while read -r k v _; do
					[ "$k" = VmRSS: ] && break
					v=
				done <"/proc/${WPID[$n]}/status"
			} 2>/dev/null
			line="$line,$v"
		done
		echo "$line" >>"$TMP/rss.csv"
		i=$((i + 1))
		next=$((t0 + i * 1000000 - ${EPOCHREALTIME/./}))
		if [ "$next" -gt 0 ]; then
			sleep "$((next / 1000000)).$(printf '%06d' $((next % 1000000)))"
		fi
	done
}
sampler </dev/null 7>&- &
SAMPLER=$!
track $SAMPLER

t0=$(now)
drive_st=0
timeout -k 5 $((SECS + 150)) "$PY" "$BENCH_DIR/soak.py" drive "$TMP" "$SECS" </dev/null 7>&- || drive_st=$?
kill "$SAMPLER" 2>/dev/null || true
wait_st "$SAMPLER"
exec 7>&-

# SIGTERM to each weir; each must be gone within 15 s (it flushes for at
# most 5)
for n in "${NAMES[@]}"; do
	kill -TERM "${WPID[$n]}" 2>/dev/null || true
done
for n in "${NAMES[@]}"; do
	for ((i = 0; i < 150; i++)); do
		kill -0 "${WPID[$n]}" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "${WPID[$n]}" 2>/dev/null; then
		kill -KILL "${WPID[$n]}" 2>/dev/null || true
		echo "hung" >"$TMP/$n.status"
		wait_st "${WPID[$n]}"
	else
		wait_st "${WPID[$n]}"
		echo "$WST" >"$TMP/$n.status"
	fi
done
kill "$ECHO_PID" 2>/dev/null || true
wait_st "$ECHO_PID"
wall=$(fsub "$(now)" "$t0")

echo
check_st=0
"$PY" "$BENCH_DIR/soak.py" check "$TMP" "$SECS" >"$TMP/check.out" 2>&1 || check_st=$?
grep -v '^FAIL ' "$TMP/check.out" || true
echo "   traffic and shutdown took $(printf '%.1f' "$wall") s"
if [ -n "${SOAK_KEEP:-}" ]; then
	mkdir -p "$SOAK_KEEP"
	cp "$TMP"/rss.csv "$TMP"/*.err "$TMP"/drive.json "$TMP"/fanin.out "$SOAK_KEEP"/ 2>/dev/null || true
	echo "   files kept in $SOAK_KEEP"
fi

why=
if [ "$drive_st" != 0 ]; then
	why="the clients (soak.py drive) exited with status $drive_st"
fi
if [ "$check_st" != 0 ]; then
	echo
	sed -n 's/^FAIL /   FAIL: /p' "$TMP/check.out" | head -n 30
	for n in "${NAMES[@]}"; do
		if grep -qv '^{' "$TMP/$n.err"; then
			echo "   $n stderr (first lines):"
			grep -v '^{' "$TMP/$n.err" | head -n 5 | sed 's/^/     /'
		fi
	done
	first=$(sed -n 's/^FAIL //p' "$TMP/check.out" | head -n 1)
	why=${why:-${first:-soak.py check exited with status $check_st}}
fi
if [ -n "$why" ]; then
	echo "soak: FAIL: $why"
	exit 1
fi
echo "soak: PASS"
