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
	time_result "$TMP/rss"
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
	err_ctx
}

echo "== tcp: $(human "$N") stdin -> SENDER -> 127.0.0.1 sink, $ROUNDS rounds"
echo "   dd if=/dev/zero bs=1M | SENDER tcp:127.0.0.1:PORT -> python3 sink   (weir: $WEIR_SRC)"

declare -A TIMES=() CPUS=() PEAK=() BAD=() MED=()
bulk_rounds run_once $((64 << 20)) "$N"

echo
bulk_table "$N" sender

echo
r1=$(ratio "${MED[weir]}" "${MED[socat]}")
r2=$(ratio "${MED[weir]}" "${MED[socat-b64k]}")
summary "tcp   $(human "$N") x $ROUNDS: weir $(rate_of "$N" "${MED[weir]}"), socat $(rate_of "$N" "${MED[socat]}")" \
	"$(ratio_line "  tcp   weir/socat (throughput)" "$r1" 1.50)" \
	"$(ratio_line "  tcp   weir/socat-b64k" "$r2")"
if [ -n "${MED[ncat]:-}" ]; then
	r3=$(ratio "${MED[weir]}" "${MED[ncat]}")
	# shellcheck disable=SC2059
	summary "$(ratio_line "  tcp   weir/ncat" "$r3")"
fi
for t in "${TOOLS[@]}"; do
	if [ -n "${BAD[$t]:-}" ]; then summary "  tcp   FAILED $t: ${BAD[$t]}"; fi
done
exit "$FAILED"
