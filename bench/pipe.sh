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

echo "== pipe: $(human "$N") stdin -> TOOL -> stdout, $ROUNDS rounds"
echo "   dd if=/dev/zero bs=1M | TOOL | dd of=/dev/null bs=1M   (weir: $WEIR_SRC)"

declare -A TIMES=() CPUS=() PEAK=() BAD=() MED=()
bulk_rounds run_once $((64 << 20)) "$N"

echo
bulk_table "$N" tool

echo
r1=$(ratio "${MED[weir]}" "${MED[cat]}")
r2=$(ratio "${MED[weir]}" "${MED[socat]}")
r3=$(ratio "${MED[weir]}" "${MED[socat-b64k]}")
summary "pipe  $(human "$N") x $ROUNDS: weir $(rate_of "$N" "${MED[weir]}"), cat $(rate_of "$N" "${MED[cat]}")" \
	"$(ratio_line "  pipe  weir/cat (throughput)" "$r1" 0.90)" \
	"$(ratio_line "  pipe  weir/socat" "$r2" 1.40)" \
	"$(ratio_line "  pipe  weir/socat-b64k" "$r3")"
for t in "${TOOLS[@]}"; do
	if [ -n "${BAD[$t]:-}" ]; then summary "  pipe  FAILED $t: ${BAD[$t]}"; fi
done
exit "$FAILED"
