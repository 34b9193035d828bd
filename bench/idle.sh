#!/usr/bin/env bash
# bench/idle.sh: what an idle connection costs weir. One weir holds
# IDLE_CONNS idle TCP connections from one python3 client (which opens them
# one after the other, sends nothing, and raises its RLIMIT_NOFILE):
#
#   shared-u: weir -k -u -m MAX tcp-listen:127.0.0.1:0 -   (one way: fan-in to stdout)
#   shared:   weir -k -m MAX tcp-listen:127.0.0.1:0 -      (two ways: stdin fans out too)
#   broker:   weir --broker -m MAX tcp-listen:127.0.0.1:0
#
# (MAX = 2 x IDLE_CONNS; stdin is a FIFO nobody writes to, stdout /dev/null.)
# ROUNDS times: open IDLE_CONNS connections, wait until weir holds them all
# (the sockets in /proc/PID/fd), check that weir closed none of them, sample
# weir's VmRSS, close them all, wait until weir has let go of every one and
# sample VmRSS again. The client closes with a FIN, except for "shared": there
# a client's EOF is only a half-close (weir may still send it what stdin
# brings), so it closes with a reset (SO_LINGER 0), which weir must notice. Reports RSS per connection ((RSS with the connections -
# RSS of the fresh weir) / IDLE_CONNS) and whether RSS grows from round to
# round.
# A mode FAILS if weir exits, refuses or closes a connection, does not hold
# all of them within 30 s, keeps some after the client closed them, or does
# not stop on SIGTERM. RSS over the target or growing is reported, not failed.
# Env: IDLE_CONNS (10000), ROUNDS (3), WEIR, WEIR_OPTS.
set -eu
. "$(dirname "$0")/lib.sh"

IDLE_CONNS=${IDLE_CONNS:-10000}
MAXC=$((IDLE_CONNS * 2))
TARGET_KIB=16
MODES=(shared-u shared broker)
declare -A HOW=([shared-u]=fin [shared]=rst [broker]=fin)

# weir and the client each need IDLE_CONNS descriptors and a few
hard=$(ulimit -Hn)
want=65536
if [ "$hard" != unlimited ] && [ "$hard" -lt "$want" ]; then want=$hard; fi
ulimit -n "$want" 2>/dev/null || true
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt $((IDLE_CONNS + 64)) ]; then
	echo "bench: open files limit $(ulimit -n) (hard $hard) is too low for IDLE_CONNS=$IDLE_CONNS; set IDLE_CONNS lower" >&2
	exit 2
fi

mode_cmd() {
	local w=("$WEIR" "${WEIR_OPTS_A[@]+"${WEIR_OPTS_A[@]}"}")
	case $1 in
	shared-u) CMD=("${w[@]}" -k -u -m "$MAXC" --ready-file "$TMP/ready" tcp-listen:127.0.0.1:0 -) ;;
	shared) CMD=("${w[@]}" -k -m "$MAXC" --ready-file "$TMP/ready" tcp-listen:127.0.0.1:0 -) ;;
	broker) CMD=("${w[@]}" --broker -m "$MAXC" --ready-file "$TMP/ready" tcp-listen:127.0.0.1:0) ;;
	esac
}

# run_mode MODE: sets FRESH (KiB), per-round arrays R_*, HWM, or ERR
run_mode() {
	local mode=$1 wp cp st port hold i k
	rm -f "$TMP/ready" "$TMP/res" "$TMP/tool.err" "$TMP/in"
	mkfifo "$TMP/in"
	# hold the FIFO open for writing, so weir's stdin never ends
	exec {hold}<>"$TMP/in"
	mode_cmd "$mode"
	"${CMD[@]}" <"$TMP/in" >/dev/null 2>"$TMP/tool.err" &
	wp=$!; track $wp
	ERR=
	"$PY" "$HELPERS" waitfile "$TMP/ready" 10 && port=$(sed -n '1s/.*://p' "$TMP/ready") || ERR="no ready file"
	if [ -z "$ERR" ]; then
		timeout -k 5 $((ROUNDS * 120 + 60)) "$PY" "$HELPERS" idle "$wp" "$port" "$IDLE_CONNS" "$ROUNDS" "$TMP/res" "${HOW[$mode]}" 2>"$TMP/client.err" &
		cp=$!; track $cp
		wait_st $cp
		if [ "$WST" != 0 ]; then ERR="client exit status $WST: $(tail -n 3 "$TMP/client.err" | tr '\n' ' ')"; fi
	fi
	if ! kill -0 "$wp" 2>/dev/null; then
		[ -n "$ERR" ] || ERR="weir exited during the run"
	fi
	kill -TERM "$wp" 2>/dev/null || true
	for ((i = 0; i < 100; i++)); do
		kill -0 "$wp" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$wp" 2>/dev/null; then
		[ -n "$ERR" ] || ERR="still running 10 s after SIGTERM (hang?)"
		kill -KILL "$wp" 2>/dev/null || true
	fi
	wait_st $wp; st=$WST
	exec {hold}>&-
	if [ -z "$ERR" ] && [ "$st" != 143 ] && [ "$st" != 0 ]; then ERR="exit status $st after SIGTERM"; fi
	R_N=() R_HELD=() R_CLOSED=() R_BEFORE=() R_FULL=() R_AFTER=() R_LEFT=() R_OPEN=()
	FRESH=0 HWM=0
	if [ -s "$TMP/res" ]; then
		while read -r k a b c d e f g h j x; do
			case $k in
			fresh) FRESH=$a ;;
			hwm) HWM=$a ;;
			round)
				R_N+=("$b") R_HELD+=("$c") R_CLOSED+=("$d") R_BEFORE+=("$e") R_FULL+=("$f")
				R_AFTER+=("$g") R_LEFT+=("$h") R_OPEN+=("$j")
				if [ -z "$ERR" ]; then
					if [ "$b" != "$IDLE_CONNS" ]; then
						ERR="round $a: the client opened $b of $IDLE_CONNS connections (${x#* })"
					elif [ "$c" -lt "$IDLE_CONNS" ]; then
						ERR="round $a: weir holds $c of $IDLE_CONNS connections (after 30 s, or 5 s without a change)"
					elif [ "$d" != 0 ]; then
						ERR="round $a: weir closed (or wrote to) $d of the idle connections"
					elif [ "$h" != 0 ]; then
						ERR="round $a: weir still holds $h of them (the client closed them all; waited until 5 s without a change)"
					fi
				fi ;;
			esac
		done <"$TMP/res"
	elif [ -z "$ERR" ]; then
		ERR="no client result"
	fi
	if [ -n "$ERR" ]; then
		ERR="$ERR: ${CMD[*]/#"$WEIR"/"$WEIR_SRC"}"
		if [ -s "$TMP/tool.err" ]; then ERR="$ERR; stderr: $(head -c 300 "$TMP/tool.err" | tr '\n' ' ')"; fi
	fi
}

per_conn() { awk -v a="$1" -v b="$2" -v n="$IDLE_CONNS" 'BEGIN { printf "%.2f", (a - b) / n }'; }

echo "== idle: $IDLE_CONNS idle connections held by one weir, $ROUNDS rounds   ($(uptime | sed 's/.*load/load/'))"
echo "   python3 client opens $IDLE_CONNS connections, sends nothing; weir's VmRSS from /proc   (weir: $WEIR_SRC)"
echo "   open files limit $(ulimit -n)"

declare -A PER=() GROW=() BAD=() NR=()
for m in "${MODES[@]}"; do
	run_mode "$m"
	echo
	echo "   $m: ${CMD[*]/#"$WEIR"/weir}   (client closes with $([ "${HOW[$m]}" = rst ] && echo a reset || echo a FIN))"
	echo "   fresh weir: VmRSS $FRESH KiB"
	printf '   %5s %7s %7s %12s %12s %12s %13s %8s\n' round opened held "RSS before" "RSS full" "RSS closed" "KiB per conn" "open s"
	for ((i = 0; i < ${#R_N[@]}; i++)); do
		printf '   %5d %7d %7d %8d KiB %8d KiB %8d KiB %13s %8s\n' $((i + 1)) "${R_N[$i]}" "${R_HELD[$i]}" \
			"${R_BEFORE[$i]}" "${R_FULL[$i]}" "${R_AFTER[$i]}" "$(per_conn "${R_FULL[$i]}" "$FRESH")" "${R_OPEN[$i]}"
	done
	[ "$HWM" = 0 ] || echo "   peak (VmHWM): $HWM KiB"
	if [ -n "$ERR" ]; then
		BAD[$m]=$ERR
		FAILED=1
		echo "   $m FAILED: $ERR"
	fi
	NR[$m]=${#R_N[@]}
	if [ ${#R_N[@]} -gt 0 ]; then
		PER[$m]=$(per_conn "${R_FULL[0]}" "$FRESH")
		GROW[$m]=$((R_FULL[${#R_FULL[@]} - 1] - R_FULL[0]))
	fi
done

echo
fmt='%-34s %12s   %-16s %s'
for m in "${MODES[@]}"; do
	if [ -z "${PER[$m]:-}" ]; then
		summary "idle  $m: FAILED: ${BAD[$m]:-}"
		continue
	fi
	# shellcheck disable=SC2059
	summary "$(printf "$fmt" "idle  $IDLE_CONNS x $m: RSS per conn" "${PER[$m]} KiB" "target < $TARGET_KIB KiB" \
		"$(awk -v p="${PER[$m]}" -v t=$TARGET_KIB 'BEGIN { print (p < t) ? "ok" : "MISSED" }')")"
	if [ "${NR[$m]}" -gt 1 ]; then
		# shellcheck disable=SC2059
		summary "$(printf "$fmt" "  idle  $m: RSS growth, round 1 -> ${NR[$m]}" "${GROW[$m]} KiB" \
			"(RSS full; $(per_conn "${GROW[$m]}" 0) KiB/conn)" "")"
	fi
	if [ -n "${BAD[$m]:-}" ]; then summary "  idle  FAILED $m: ${BAD[$m]}"; fi
done
exit "$FAILED"
