#!/usr/bin/env bash
# bench/pipe.sh: SIZE bytes from stdin to stdout through pipes, weir against
# cat, socat -u (8 KiB buffer), socat -b 65536 -u, pv -q (which splices),
# mbuffer -q (if installed) and no tool at all.
#
#   dd if=/dev/zero bs=1M | TOOL | dd of=/dev/null bs=1M
#   direct: dd if=/dev/zero bs=1M | dd of=/dev/null bs=1M
#   weir-nosplice: weir --no-splice -u - - (only when weir has --no-splice)
#
# The same producer and consumer for every tool; the whole pipeline is timed.
# The table gives the tool's own CPU time (/usr/bin/time) and CPU s/GiB.
# Env: SIZE (2G), ROUNDS (3), WEIR (../weir), WEIR_OPTS, TIMEOUT (s per run).
# shellcheck disable=SC2317 # the functions that rounds (lib.sh) calls
set -eu
. "$(dirname "$0")/lib.sh"

SIZE=${SIZE:-2G}
N=$(bytes "$SIZE")
TMO=${TIMEOUT:-$((N / 20000000 + 60))}
TOOLS=(cat weir)
if weir_has --no-splice; then TOOLS+=(weir-nosplice); fi
TOOLS+=(socat socat-b64k)
for _t in pv mbuffer; do
	if command -v "$_t" >/dev/null; then TOOLS+=("$_t"); fi
done
TOOLS+=(direct)

# run_once TOOL BYTES: sets SECS and RSS_KIB, or ERR (empty when fine)
run_once() {
	local tool=$1 n=$2 t0 t1 pp tp='' cp sp st=0 sc got
	CMD=()
	[ "$tool" = direct ] || set_cmd "$tool" - -
	rm -f "$TMP/a" "$TMP/b" "$TMP/rss" "$TMP/dd.err" "$TMP/tool.err"
	mkfifo "$TMP/a" "$TMP/b"
	t0=$(now)
	if [ "$tool" = direct ]; then
		dd if=/dev/zero bs=1M count="$n" iflag=count_bytes status=none >"$TMP/b" &
		pp=$!; track "$pp"
	else
		dd if=/dev/zero bs=1M count="$n" iflag=count_bytes status=none >"$TMP/a" &
		pp=$!; track "$pp"
		timeout -k 5 "$TMO" /usr/bin/time -f '%M %U %S' -o "$TMP/rss" "${CMD[@]}" <"$TMP/a" >"$TMP/b" 2>"$TMP/tool.err" &
		tp=$!; track "$tp"
	fi
	dd of=/dev/null bs=1M <"$TMP/b" 2>"$TMP/dd.err" &
	cp=$!; track "$cp"
	wait_st "$pp"; sp=$WST
	if [ -n "$tp" ]; then wait_st "$tp"; st=$WST; fi
	wait_st "$cp"; sc=$WST
	t1=$(now)
	SECS=$(fsub "$t1" "$t0")
	time_result "$TMP/rss"
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
	err_ctx
}

echo "== pipe: $(human "$N") stdin -> TOOL -> stdout, $ROUNDS rounds   ($(uptime | sed 's/.*load/load/'))"
echo "   dd if=/dev/zero bs=1M | TOOL | dd of=/dev/null bs=1M   (weir: $WEIR_SRC)"

declare -A TIMES=() CPUS=() PEAK=() BAD=() MED=()
bulk_rounds run_once $((64 << 20)) "$N"

echo
bulk_table "$N" tool per-gib

echo
has() { [ -n "${MED[$1]:-}" ]; }
s="pipe  $(human "$N") x $ROUNDS:"
for t in "${TOOLS[@]}"; do s="$s $t $(rate_of "$N" "${MED[$t]}"),"; done
summary "${s%,}" \
	"$(ratio_line "  pipe  weir/cat (throughput)" "$(ratio "${MED[weir]}" "${MED[cat]}")" 1.20)" \
	"$(ratio_line "  pipe  weir/socat" "$(ratio "${MED[weir]}" "${MED[socat]}")" 1.40)" \
	"$(ratio_line "  pipe  weir/socat-b64k" "$(ratio "${MED[weir]}" "${MED[socat-b64k]}")")"
if has pv; then summary "$(ratio_line "  pipe  weir/pv" "$(ratio "${MED[weir]}" "${MED[pv]}")" 1.00)"; fi
if has mbuffer; then summary "$(ratio_line "  pipe  weir/mbuffer" "$(ratio "${MED[weir]}" "${MED[mbuffer]}")")"; fi
if has weir-nosplice; then
	summary "$(ratio_line "  pipe  weir/weir-nosplice" "$(ratio "${MED[weir]}" "${MED[weir-nosplice]}")")"
fi
summary "$(ratio_line "  pipe  weir/direct" "$(ratio "${MED[weir]}" "${MED[direct]}")")"
if [ "${MED[weir]}" != - ]; then
	# shellcheck disable=SC2086
	cpg=$(awk -v c="$(median ${CPUS[weir]})" -v b="$N" 'BEGIN { printf "%.3f", c / (b / 1073741824) }')
	summary "$(printf '%-34s %6s   %-14s %s' "  pipe  weir CPU s/GiB" "$cpg" "target <= 0.25" "$(verdict "$cpg" '<=' 0.25)")"
fi
for t in "${TOOLS[@]}"; do
	if [ -n "${BAD[$t]:-}" ]; then summary "  pipe  FAILED $t: ${BAD[$t]}"; fi
done
exit "$FAILED"
