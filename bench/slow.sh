#!/usr/bin/env bash
# bench/slow.sh: a fast producer into a slow consumer (pv -L 20m) through
# TOOL; measures TOOL's peak RSS and how far the producer gets ahead of the
# consumer (the bytes held in between: pipes, pv, and TOOL's own buffers).
#
#   produce SIZE | TOOL | pv -q -L RATE | consume
#
# produce (python3) writes 64 KiB chunks and publishes its byte count; consume
# (python3) counts what it reads and, every INTERVAL s, samples
# produced - consumed ("lead"). The row "none" is the same chain without a
# TOOL: its lead is what pv and two pipes hold; a TOOL adds one pipe (64 KiB)
# and its own buffer, which for weir should stay within --high-water (1 MiB)
# plus one read; splicing, weir grows the pipes at both its ends to the
# high-water mark as well.
# Env: SIZE (512M), RATE (20m), INTERVAL (0.1), SLOW_ROUNDS (1), WEIR, WEIR_OPTS,
#      HIGH_WATER (1M: the high-water mark weir runs with, for the limit).
set -eu
. "$(dirname "$0")/lib.sh"
command -v pv >/dev/null || { echo "bench: pv not found (apt-get install pv)" >&2; exit 2; }

SIZE=${SIZE:-512M}
RATE=${RATE:-20m}
INTERVAL=${INTERVAL:-0.1}
ROUNDS=${SLOW_ROUNDS:-1}
N=$(bytes "$SIZE")
RATE_B=$(bytes "$RATE")
HW=$(bytes "${HIGH_WATER:-1M}")
PIPE_BUF_B=65536
READ_SLACK=65536
RSS_TARGET_KIB=$((8 * 1024))
TMO=${TIMEOUT:-$((N * 2 / RATE_B + 60))}
TOOLS=(none cat weir socat socat-b64k)

# run_once TOOL: sets SECS RSS_KIB LEAD SAMPLES, or ERR (empty when fine)
run_once() {
	local tool=$1 t0 t1 pp tp vp cp sp st sv sc got
	rm -f "$TMP/a" "$TMP/b" "$TMP/c" "$TMP/rss" "$TMP/pc" "$TMP/cc" "$TMP/res" "$TMP/tool.err"
	mkfifo "$TMP/a" "$TMP/b" "$TMP/c"
	t0=$(now)
	"$PY" "$HELPERS" produce "$N" "$TMP/pc" >"$TMP/a" &
	pp=$!; track $pp
	if [ "$tool" = none ]; then
		CMD=(cat) # unused
		timeout -k 5 "$TMO" pv -q -L "$RATE" <"$TMP/a" >"$TMP/c" &
		vp=$!; track $vp
		tp=
	else
		set_cmd "$tool" - -
		timeout -k 5 "$TMO" /usr/bin/time -f %M -o "$TMP/rss" "${CMD[@]}" <"$TMP/a" >"$TMP/b" 2>"$TMP/tool.err" &
		tp=$!; track $tp
		timeout -k 5 "$TMO" pv -q -L "$RATE" <"$TMP/b" >"$TMP/c" &
		vp=$!; track $vp
	fi
	"$PY" "$HELPERS" consume "$TMP/cc" "$TMP/pc" "$INTERVAL" "$TMP/res" <"$TMP/c" &
	cp=$!; track $cp
	wait_st $pp; sp=$WST
	st=0
	if [ -n "$tp" ]; then wait_st "$tp"; st=$WST; fi
	wait_st $vp; sv=$WST
	wait_st $cp; sc=$WST
	t1=$(now)
	SECS=$(fsub "$t1" "$t0")
	RSS_KIB=0
	if [ -s "$TMP/rss" ]; then RSS_KIB=$(tail -n1 "$TMP/rss"); fi
	case $RSS_KIB in '' | *[!0-9]*) RSS_KIB=0 ;; esac
	got="?" LEAD=0 SAMPLES=0
	if [ -s "$TMP/res" ]; then read -r got LEAD SAMPLES <"$TMP/res" || true; fi
	ERR=
	if [ "$st" = 124 ] || [ "$st" = 137 ]; then
		ERR="timed out after ${TMO}s (hang?)"
	elif [ "$st" != 0 ]; then
		ERR="exit status $st"
	elif [ "$got" != "$N" ]; then
		ERR="consumer got $got bytes of $N"
	elif [ "$sp" != 0 ] || [ "$sv" != 0 ] || [ "$sc" != 0 ]; then
		ERR="producer/pv/consumer status $sp/$sv/$sc"
	fi
	if [ -n "$ERR" ]; then
		ERR="$ERR: ${CMD[*]/#"$WEIR"/"$WEIR_SRC"}"
		if [ -s "$TMP/tool.err" ]; then ERR="$ERR; stderr: $(head -c 300 "$TMP/tool.err" | tr '\n' ' ')"; fi
	fi
}

echo "== slow: $(human "$N") from a fast producer through TOOL into pv -L $RATE, $ROUNDS round(s)"
echo "   produce | TOOL | pv -q -L $RATE | consume   (lead sampled every ${INTERVAL}s; weir: $WEIR_SRC)"
echo "   about $((N / RATE_B + 1)) s per tool"

declare -A PEAK=() LEADMAX=() SECSL=() BAD=()
for t in "${TOOLS[@]}"; do PEAK[$t]=0; LEADMAX[$t]=0; SECSL[$t]=""; done

for ((r = 1; r <= ROUNDS; r++)); do
	for t in "${TOOLS[@]}"; do
		[ -z "${BAD[$t]:-}" ] || continue
		run_once "$t"
		if [ -n "$ERR" ]; then
			BAD[$t]=$ERR
			echo "   round $r $t FAILED: $ERR"
			continue
		fi
		[ "$RSS_KIB" -le "${PEAK[$t]}" ] || PEAK[$t]=$RSS_KIB
		[ "$LEAD" -le "${LEADMAX[$t]}" ] || LEADMAX[$t]=$LEAD
		SECSL[$t]="${SECSL[$t]} $SECS"
		echo "   round $r: $t $SECS s,$([ "$t" = none ] || echo " peak RSS $(kib_to_mib "$RSS_KIB") MiB,") max lead $(human "$LEAD") ($SAMPLES samples)"
	done
done

BASE=${LEADMAX[none]}
if [ -n "${BAD[none]:-}" ]; then BASE=$((2 * PIPE_BUF_B)); fi
echo
printf '   %-12s %8s %9s %12s %14s %14s\n' tool "time s" "MiB/s" "peak RSS" "max lead" "lead - none"
for t in "${TOOLS[@]}"; do
	if [ -n "${BAD[$t]:-}" ] || [ -z "${SECSL[$t]// /}" ]; then
		printf '   %-12s %8s\n' "$t" FAILED
		FAILED=1
		continue
	fi
	# shellcheck disable=SC2086
	m=$(median ${SECSL[$t]})
	rss=$([ "$t" = none ] && echo - || echo "$(kib_to_mib "${PEAK[$t]}") MiB")
	printf '   %-12s %8.2f %9s %12s %14s %14s\n' "$t" "$m" \
		"$(awk -v b="$N" -v s="$m" 'BEGIN { printf "%.1f", b / s / 1048576 }')" "$rss" \
		"$(human "${LEADMAX[$t]}")" "$(human $((LEADMAX[$t] - BASE)))"
done

# Splicing, weir grows the pipes at both its ends to its own pipe's size,
# the high-water mark: the producer's pipe by HW - PIPE_BUF_B, the one to pv
# from PIPE_BUF_B to HW.
LIMIT=$((BASE + (HW - PIPE_BUF_B) + HW + HW + READ_SLACK))
echo
echo "   lead limit for weir = none's lead $(human "$BASE") + its input pipe grown by $(human $((HW - PIPE_BUF_B)))"
echo "                         + its output pipe grown to $(human "$HW") + high-water $(human "$HW") + one read $(human $READ_SLACK) = $(human $LIMIT)"
echo
fmt='%-34s %12s   %-22s %s'
if [ -n "${BAD[weir]:-}" ]; then
	summary "slow  $(human "$N") at $RATE: weir FAILED: ${BAD[weir]}"
else
	# shellcheck disable=SC2059
	summary "slow  $(human "$N") at $RATE: weir peak RSS $(kib_to_mib "${PEAK[weir]}") MiB, max lead $(human "${LEADMAX[weir]}")" \
		"$(printf "$fmt" "  slow  weir peak RSS" "$(kib_to_mib "${PEAK[weir]}") MiB" "target <= 8 MiB" \
			"$([ "${PEAK[weir]}" -le $RSS_TARGET_KIB ] && echo ok || echo MISSED)")" \
		"$(printf "$fmt" "  slow  weir producer lead" "$(human "${LEADMAX[weir]}")" "limit <= $(human $LIMIT)" \
			"$([ "${LEADMAX[weir]}" -le $LIMIT ] && echo ok || echo MISSED)")"
fi
for t in socat socat-b64k; do
	if [ -z "${BAD[$t]:-}" ]; then
		# shellcheck disable=SC2059
		summary "$(printf "$fmt" "  slow  $t peak RSS, lead" "$(kib_to_mib "${PEAK[$t]}") MiB" "$(human "${LEADMAX[$t]}")" "")"
	fi
done
for t in "${TOOLS[@]}"; do
	if [ -n "${BAD[$t]:-}" ]; then summary "  slow  FAILED $t: ${BAD[$t]}"; fi
done
exit "$FAILED"
