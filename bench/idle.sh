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
if ! raise_nofile "$IDLE_CONNS"; then
	echo "bench: open files limit $(ulimit -n) (hard $HARD_NOFILE) is too low for IDLE_CONNS=$IDLE_CONNS; set IDLE_CONNS lower" >&2
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

# run_mode MODE: sets FRESH (KiB), per-round arrays R_*, HWM, or ERR (see
# idle_run)
run_mode() {
	local mode=$1 hold
	rm -f "$TMP/in"
	mkfifo "$TMP/in"
	# hold the FIFO open for writing, so weir's stdin never ends
	exec {hold}<>"$TMP/in"
	mode_cmd "$mode"
	idle_run "$TMP/in" "${HOW[$mode]}" "$PY" "$HELPERS" idle
	exec {hold}>&-
}

echo "== idle: $IDLE_CONNS idle connections held by one weir, $ROUNDS rounds   ($(uptime | sed 's/.*load/load/'))"
echo "   python3 client opens $IDLE_CONNS connections, sends nothing; weir's VmRSS from /proc   (weir: $WEIR_SRC)"
echo "   open files limit $(ulimit -n)"

declare -A PER=() GROW=() BAD=() NR=()
for m in "${MODES[@]}"; do
	run_mode "$m"
	echo
	echo "   $m: ${CMD[*]/#"$WEIR"/weir}   (client closes with $([ "${HOW[$m]}" = rst ] && echo a reset || echo a FIN))"
	echo "   fresh weir: VmRSS $FRESH KiB"
	idle_table
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
