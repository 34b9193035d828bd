#!/usr/bin/env bash
# bench/pipe.sh: SIZE bytes from stdin to stdout through pipes, weir against
# cat, socat -u (8 KiB buffer) and socat -b 65536 -u.
#
#   dd if=/dev/zero bs=1M | TOOL | dd of=/dev/null bs=1M
#
# The same producer and consumer for every tool; the whole pipeline is timed.
# Env: SIZE (2G), ROUNDS (3), WEIR (../weir), WEIR_OPTS, TIMEOUT (s per run).
set -eu
. "$(dirname "$0")/lib.sh"

SIZE=${SIZE:-2G}
N=$(bytes "$SIZE")
TMO=${TIMEOUT:-$((N / 20000000 + 60))}
TOOLS=(cat weir socat socat-b64k)

# run_once TOOL BYTES: sets SECS and RSS_KIB, or ERR (empty when fine)
run_once() {
	local tool=$1 n=$2 t0 t1 pp tp cp sp st sc got
	set_cmd "$tool" - -
	rm -f "$TMP/a" "$TMP/b" "$TMP/rss" "$TMP/dd.err" "$TMP/tool.err"
	mkfifo "$TMP/a" "$TMP/b"
	t0=$(now)
	dd if=/dev/zero bs=1M count="$n" iflag=count_bytes status=none >"$TMP/a" &
	pp=$!; track $pp
	timeout -k 5 "$TMO" /usr/bin/time -f '%M %U %S' -o "$TMP/rss" "${CMD[@]}" <"$TMP/a" >"$TMP/b" 2>"$TMP/tool.err" &
	tp=$!; track $tp
	dd of=/dev/null bs=1M <"$TMP/b" 2>"$TMP/dd.err" &
	cp=$!; track $cp
	wait_st $pp; sp=$WST
	wait_st $tp; st=$WST
	wait_st $cp; sc=$WST
	t1=$(now)
	SECS=$(fsub "$t1" "$t0")
	RSS_KIB=0 CPU_U=0 CPU_S=0
	if [ -s "$TMP/rss" ]; then read -r RSS_KIB CPU_U CPU_S <"$TMP/rss" || true; fi
	case $RSS_KIB in '' | *[!0-9]*) RSS_KIB=0 CPU_U=0 CPU_S=0 ;; esac
	CPU=$(awk -v u="$CPU_U" -v s="$CPU_S" 'BEGIN { printf "%.2f", u + s }')
	got=$(awk '/bytes/ { n = $1 } END { print (n == "" ? 0 : n) }' "$TMP/dd.err")
	ERR=
	if [ "$st" = 124 ] || [ "$st" = 137 ]; then
		ERR="timed out after ${TMO}s (hang?)"
	elif [ "$st" != 0 ]; then
		ERR="exit status $st"
	elif [ "$got" != "$n" ]; then
		ERR="consumer got $got bytes of $n"
	elif [ "$sp" != 0 ] || [ "$sc" != 0 ]; then
		ERR="producer/consumer status $sp/$sc"
	fi
	if [ -n "$ERR" ]; then
		ERR="$ERR: ${CMD[*]/#"$WEIR"/"$WEIR_SRC"}"
		if [ -s "$TMP/tool.err" ]; then ERR="$ERR; stderr: $(head -c 300 "$TMP/tool.err" | tr '\n' ' ')"; fi
	fi
}

echo "== pipe: $(human "$N") stdin -> TOOL -> stdout, $ROUNDS rounds"
echo "   dd if=/dev/zero bs=1M | TOOL | dd of=/dev/null bs=1M   (weir: $WEIR_SRC)"

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
printf '   %-12s %9s %9s %9s %8s %10s %9s\n' tool "median s" "min s" "max s" "GiB/s" "tool CPU s" "peak RSS"
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
r1=$(ratio "${MED[weir]}" "${MED[cat]}")
r2=$(ratio "${MED[weir]}" "${MED[socat]}")
r3=$(ratio "${MED[weir]}" "${MED[socat-b64k]}")
fmt='%-34s %6s   %-14s %s'
# shellcheck disable=SC2059
summary "pipe  $(human "$N") x $ROUNDS: weir $(rate_of "$N" "${MED[weir]}"), cat $(rate_of "$N" "${MED[cat]}")" \
	"$(printf "$fmt" "  pipe  weir/cat (throughput)" "$r1" "target >= 0.90" "$(verdict "$r1" '>=' 0.9)")" \
	"$(printf "$fmt" "  pipe  weir/socat" "$r2" "target >= 1.40" "$(verdict "$r2" '>=' 1.4)")" \
	"$(printf "$fmt" "  pipe  weir/socat-b64k" "$r3" "(no target)" "")"
for t in "${TOOLS[@]}"; do
	if [ -n "${BAD[$t]:-}" ]; then summary "  pipe  FAILED $t: ${BAD[$t]}"; fi
done
exit "$FAILED"
