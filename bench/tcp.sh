#!/usr/bin/env bash
# bench/tcp.sh: SIZE bytes from stdin to a TCP receiver on 127.0.0.1, weir
# against socat -u (8 KiB buffer), socat -b 65536 -u and ncat --send-only.
#
#   dd if=/dev/zero bs=1M | SENDER tcp:127.0.0.1:PORT  ->  sink (python3, 1 MiB recv_into, discards)
#
# A fresh sink per run (the same program for every sender); timed from the
# producer's start to the sink's exit, after it has counted every byte.
# Env: SIZE (2G), ROUNDS (3), WEIR (../weir), WEIR_OPTS, TIMEOUT (s per run).
set -eu
. "$(dirname "$0")/lib.sh"

SIZE=${SIZE:-2G}
N=$(bytes "$SIZE")
TMO=${TIMEOUT:-$((N / 20000000 + 60))}
TOOLS=(weir socat socat-b64k)
if command -v ncat >/dev/null; then TOOLS+=(ncat); fi

# run_once TOOL BYTES: sets SECS, RSS_KIB, CPU, or ERR (empty when fine)
run_once() {
	local tool=$1 n=$2 t0 t1 kp pp tp sp st sk got port i
	rm -f "$TMP/a" "$TMP/port" "$TMP/count" "$TMP/rss" "$TMP/tool.err"
	mkfifo "$TMP/a"
	timeout -k 5 "$TMO" "$PY" "$HELPERS" sink "$TMP/port" "$TMP/count" &
	kp=$!; track $kp
	for ((i = 0; i < 500; i++)); do
		[ -s "$TMP/port" ] && break
		sleep 0.01
	done
	port=$(cat "$TMP/port")
	set_cmd "$tool" - "tcp:127.0.0.1:$port"
	t0=$(now)
	dd if=/dev/zero bs=1M count="$n" iflag=count_bytes status=none >"$TMP/a" &
	pp=$!; track $pp
	timeout -k 5 "$TMO" /usr/bin/time -f '%M %U %S' -o "$TMP/rss" "${CMD[@]}" <"$TMP/a" >/dev/null 2>"$TMP/tool.err" &
	tp=$!; track $tp
	wait_st $pp; sp=$WST
	wait_st $tp; st=$WST
	if [ "$st" != 0 ]; then kill "$kp" 2>/dev/null || true; fi
	wait_st $kp; sk=$WST
	t1=$(now)
	SECS=$(fsub "$t1" "$t0")
	RSS_KIB=0 CPU_U=0 CPU_S=0
	if [ -s "$TMP/rss" ]; then read -r RSS_KIB CPU_U CPU_S <"$TMP/rss" || true; fi
	case $RSS_KIB in '' | *[!0-9]*) RSS_KIB=0 CPU_U=0 CPU_S=0 ;; esac
	CPU=$(awk -v u="$CPU_U" -v s="$CPU_S" 'BEGIN { printf "%.2f", u + s }')
	got=$(cat "$TMP/count" 2>/dev/null || echo "?")
	ERR=
	if [ "$st" = 124 ] || [ "$st" = 137 ]; then
		ERR="timed out after ${TMO}s (hang?)"
	elif [ "$st" != 0 ]; then
		ERR="exit status $st"
	elif [ "$sk" = 124 ] || [ "$sk" = 137 ]; then
		ERR="sender exited 0 but the sink never saw EOF within ${TMO}s"
	elif [ "$got" != "$n" ]; then
		ERR="sink got $got bytes of $n"
	elif [ "$sp" != 0 ] || [ "$sk" != 0 ]; then
		ERR="producer/sink status $sp/$sk"
	fi
	if [ -n "$ERR" ]; then
		ERR="$ERR: ${CMD[*]/#"$WEIR"/"$WEIR_SRC"}"
		if [ -s "$TMP/tool.err" ]; then ERR="$ERR; stderr: $(head -c 300 "$TMP/tool.err" | tr '\n' ' ')"; fi
	fi
}

echo "== tcp: $(human "$N") stdin -> SENDER -> 127.0.0.1 sink, $ROUNDS rounds"
echo "   dd if=/dev/zero bs=1M | SENDER tcp:127.0.0.1:PORT -> python3 sink   (weir: $WEIR_SRC)"

declare -A TIMES=() CPUS=() PEAK=() BAD=()
for t in "${TOOLS[@]}"; do TIMES[$t]=""; CPUS[$t]=""; PEAK[$t]=0; done

# warm-up and sanity check: 64 MiB each, untimed
for t in "${TOOLS[@]}"; do
	run_once "$t" $((64 << 20))
	if [ -n "$ERR" ]; then BAD[$t]=$ERR; echo "   warm-up $t FAILED: $ERR"; fi
done

for ((r = 1; r <= ROUNDS; r++)); do
	line="   round $r:"
	for i in $(rotate ${#TOOLS[@]} $((r - 1))); do
		t=${TOOLS[$i]}
		[ -z "${BAD[$t]:-}" ] || continue
		run_once "$t" "$N"
		if [ -n "$ERR" ]; then
			BAD[$t]=$ERR
			echo "   round $r $t FAILED: $ERR"
			continue
		fi
		TIMES[$t]="${TIMES[$t]} $SECS"
		CPUS[$t]="${CPUS[$t]} $CPU"
		[ "$RSS_KIB" -le "${PEAK[$t]}" ] || PEAK[$t]=$RSS_KIB
		line="$line  $t $SECS s"
	done
	echo "$line"
done

echo
printf '   %-12s %9s %9s %9s %8s %10s %9s\n' sender "median s" "min s" "max s" "GiB/s" "tool CPU s" "peak RSS"
declare -A MED=()
for t in "${TOOLS[@]}"; do
	if [ -n "${BAD[$t]:-}" ] || [ -z "${TIMES[$t]// /}" ]; then
		MED[$t]=-
		printf '   %-12s %9s\n' "$t" FAILED
		FAILED=1
		continue
	fi
	# shellcheck disable=SC2086
	MED[$t]=$(median ${TIMES[$t]})
	# shellcheck disable=SC2086
	printf '   %-12s %9.3f %9.3f %9.3f %8s %10.2f %5s MiB\n' "$t" "${MED[$t]}" "$(fmin ${TIMES[$t]})" \
		"$(fmax ${TIMES[$t]})" "$(gibps "$N" "${MED[$t]}")" "$(median ${CPUS[$t]})" "$(kib_to_mib "${PEAK[$t]}")"
done

echo
r1=$(ratio "${MED[weir]}" "${MED[socat]}")
r2=$(ratio "${MED[weir]}" "${MED[socat-b64k]}")
fmt='%-34s %6s   %-14s %s'
# shellcheck disable=SC2059
summary "tcp   $(human "$N") x $ROUNDS: weir $(rate_of "$N" "${MED[weir]}"), socat $(rate_of "$N" "${MED[socat]}")" \
	"$(printf "$fmt" "  tcp   weir/socat (throughput)" "$r1" "target >= 1.50" "$(verdict "$r1" '>=' 1.5)")" \
	"$(printf "$fmt" "  tcp   weir/socat-b64k" "$r2" "(no target)" "")"
if [ -n "${MED[ncat]:-}" ]; then
	r3=$(ratio "${MED[weir]}" "${MED[ncat]}")
	# shellcheck disable=SC2059
	summary "$(printf "$fmt" "  tcp   weir/ncat" "$r3" "(no target)" "")"
fi
for t in "${TOOLS[@]}"; do
	if [ -n "${BAD[$t]:-}" ]; then summary "  tcp   FAILED $t: ${BAD[$t]}"; fi
done
exit "$FAILED"
