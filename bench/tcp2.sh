#!/usr/bin/env bash
# bench/tcp2.sh: SIZE bytes from a pipe, over one TCP connection on
# 127.0.0.1, into a pipe, the same tool at both ends:
#
#   dd if=/dev/zero bs=1M | SENDER  ->  RECEIVER | dd of=/dev/null bs=1M
#
#   weir           weir -u - tcp:127.0.0.1:PORT    weir -u tcp-listen:127.0.0.1:0 -
#   weir-nosplice  the same with --no-splice (only when weir has it)
#   direct         tcpref send PORT                tcpref recv READY
#                  (bench/tcpref.c: blocking read and write, 128 KiB buffers)
#   socat-b64k     socat -b 65536 -u - tcp:…       socat -b 65536 -u tcp-listen:… -
#   nc             nc.openbsd -N 127.0.0.1 PORT    nc.openbsd -d -l 127.0.0.1 PORT
#   iperf3         iperf3 -c … -n SIZE -J          iperf3 -s -1 (memory to memory,
#                  no pipes: the ceiling; only when iperf3 is installed; its
#                  time includes its own setup, about 0.1 s, and the byte
#                  count checked is its sender's: its receiver stops counting
#                  when the control connection ends the test, at times
#                  before the last bytes)
#
# A fresh receiver per run (weir and tcpref on port 0 with a ready file, the
# others on a free port); timed from the producer's start until the
# consumer has counted every byte (iperf3: the client's run). The table
# gives each end's CPU time (/usr/bin/time), the CPU s/GiB of both ends
# together, and the larger peak RSS of the two.
# A run FAILS on a byte lost, an error, a hang.
# Env: SIZE (2G), ROUNDS (3), WEIR (../weir), WEIR_OPTS, TIMEOUT (s per run).
# shellcheck disable=SC2317 # the functions that rounds (lib.sh) calls
set -eu
BENCH_NEEDS="socat timeout python3 cc"
. "$(dirname "$0")/lib.sh"

SIZE=${SIZE:-2G}
N=$(bytes "$SIZE")
TMO=${TIMEOUT:-$((N / 20000000 + 60))}
REF=$TMP/tcpref
cc -O2 -pthread -o "$REF" "$BENCH_DIR/tcpref.c" || { echo "bench: cannot build bench/tcpref.c (cc)" >&2; exit 2; }
TOOLS=(weir)
if weir_has --no-splice; then TOOLS+=(weir-nosplice); fi
TOOLS+=(direct socat-b64k)
if command -v nc.openbsd >/dev/null; then TOOLS+=(nc); fi
if command -v iperf3 >/dev/null; then TOOLS+=(iperf3); fi

# ends TOOL PORT BYTES: fill SEND and RECV, the two ends' commands (PORT: the
# receiver's, unused by weir and tcpref, which take port 0)
ends() {
	local w=("$WEIR" "${WEIR_OPTS_A[@]+"${WEIR_OPTS_A[@]}"}")
	case $1 in
	weir)
		SEND=("${w[@]}" -u - "tcp:127.0.0.1:$2")
		RECV=("${w[@]}" -u --ready-file "$TMP/ready" tcp-listen:127.0.0.1:0 -) ;;
	weir-nosplice)
		SEND=("${w[@]}" --no-splice -u - "tcp:127.0.0.1:$2")
		RECV=("${w[@]}" --no-splice -u --ready-file "$TMP/ready" tcp-listen:127.0.0.1:0 -) ;;
	direct)
		SEND=("$REF" send "$2")
		RECV=("$REF" recv "$TMP/ready") ;;
	socat-b64k)
		SEND=(socat -b 65536 -u - "tcp:127.0.0.1:$2")
		RECV=(socat -b 65536 -u "tcp-listen:$2,bind=127.0.0.1,reuseaddr" -) ;;
	nc)
		SEND=(nc.openbsd -N 127.0.0.1 "$2")
		RECV=(nc.openbsd -d -l 127.0.0.1 "$2") ;;
	iperf3)
		SEND=(iperf3 -c 127.0.0.1 -p "$2" -n "$3" -J)
		RECV=(iperf3 -s -1 -B 127.0.0.1 -p "$2") ;;
	*) echo "bench: unknown tool $1" >&2; exit 2 ;;
	esac
}

# run_once TOOL BYTES [ROUND]: sets SECS, CPU (both ends), CPU_SEND,
# CPU_RECV, RSS_KIB (the larger), or ERR
run_once() {
	local tool=$1 n=$2 port=0 t0 t1 rp kp=0 pp=0 sp sr=0 ss sk=0 sd=0 got rs_kib
	ERR='' SECS=0 CPU=0 CPU_SEND=0 CPU_RECV=0 RSS_KIB=0 CMD=()
	rm -f "$TMP/a" "$TMP/b" "$TMP/ready" "$TMP/rss.s" "$TMP/rss.r" "$TMP/dd.err" "$TMP/send.out" \
		"$TMP/send.err" "$TMP/tool.err"
	mkfifo "$TMP/a" "$TMP/b"
	case $tool in weir | weir-nosplice | direct) ;; *) port=$("$PY" "$HELPERS" freeport) ;; esac
	ends "$tool" "$port" "$n"
	if [ "$tool" = iperf3 ]; then
		timeout -k 5 "$TMO" /usr/bin/time -f '%M %U %S' -o "$TMP/rss.r" "${RECV[@]}" \
			</dev/null >/dev/null 2>"$TMP/tool.err" &
		rp=$!; track "$rp"
	else
		timeout -k 5 "$TMO" /usr/bin/time -f '%M %U %S' -o "$TMP/rss.r" "${RECV[@]}" \
			</dev/null >"$TMP/b" 2>"$TMP/tool.err" &
		rp=$!; track "$rp"
		dd of=/dev/null bs=1M <"$TMP/b" 2>"$TMP/dd.err" &
		kp=$!; track "$kp"
	fi
	case $tool in
	weir | weir-nosplice)
		"$PY" "$HELPERS" waitfile "$TMP/ready" 10 && port=$(ready_port "$TMP/ready") || ERR="no ready file" ;;
	direct) "$PY" "$HELPERS" waitfile "$TMP/ready" 10 && port=$(cat "$TMP/ready") || ERR="no ready file" ;;
	*) "$PY" "$HELPERS" waitlisten "$port" 10 || ERR="not listening on $port" ;;
	esac
	CMD=("${RECV[@]}")
	if [ -n "$ERR" ]; then
		stop_pid "$rp"
		[ "$kp" = 0 ] || stop_pid "$kp"
		err_ctx
		return
	fi
	ends "$tool" "$port" "$n"
	t0=$(now)
	if [ "$tool" = iperf3 ]; then
		timeout -k 5 "$TMO" /usr/bin/time -f '%M %U %S' -o "$TMP/rss.s" "${SEND[@]}" \
			</dev/null >"$TMP/send.out" 2>"$TMP/send.err" &
		sp=$!; track "$sp"
	else
		dd if=/dev/zero bs=1M count="$n" iflag=count_bytes status=none >"$TMP/a" &
		pp=$!; track "$pp"
		timeout -k 5 "$TMO" /usr/bin/time -f '%M %U %S' -o "$TMP/rss.s" "${SEND[@]}" \
			<"$TMP/a" >/dev/null 2>"$TMP/send.err" &
		sp=$!; track "$sp"
	fi
	[ "$pp" = 0 ] || { wait_st "$pp"; sd=$WST; }
	wait_st "$sp"; ss=$WST
	# a sender that failed leaves the receiver waiting: stop it
	if [ "$ss" != 0 ]; then kill "$rp" 2>/dev/null || true; fi
	if [ "$tool" = iperf3 ]; then
		t1=$(now)
		wait_st "$rp"; sr=$WST
		# what the client sent: iperf3's receiver stops counting when the
		# control connection ends the test, at times before the last bytes
		got=$("$PY" -c 'import json, sys
try:
    print(json.load(open(sys.argv[1]))["end"]["sum_sent"]["bytes"])
except Exception:
    print("?")' "$TMP/send.out")
	else
		wait_st "$rp"; sr=$WST
		wait_st "$kp"; sk=$WST
		t1=$(now)
		got=$(awk '/bytes/ { n = $1 } END { print (n == "" ? 0 : n) }' "$TMP/dd.err")
	fi
	SECS=$(fsub "$t1" "$t0")
	time_result "$TMP/rss.s"; CPU_SEND=$CPU rs_kib=$RSS_KIB
	time_result "$TMP/rss.r"; CPU_RECV=$CPU
	[ "$rs_kib" -le "$RSS_KIB" ] || RSS_KIB=$rs_kib
	CPU=$(awk -v a="$CPU_SEND" -v b="$CPU_RECV" 'BEGIN { printf "%.2f", a + b }')
	CMD=("${SEND[@]}")
	if [ "$ss" = 124 ] || [ "$ss" = 137 ] || [ "$sr" = 124 ] || [ "$sr" = 137 ]; then
		ERR="timed out after ${TMO}s (hang?)"
	elif [ "$got" != "$n" ]; then
		ERR="the receiving end got $got bytes of $n"
	elif [ "$ss" != 0 ] || [ "$sr" != 0 ]; then
		ERR="sender/receiver exit status $ss/$sr$([ -s "$TMP/send.err" ] && echo ": $(tail -n1 "$TMP/send.err")")"
	elif [ "$sd" != 0 ] || [ "$sk" != 0 ]; then
		ERR="producer/consumer status $sd/$sk"
	fi
	err_ctx
}

# tcp2_record TOOL: rounds' RECORD, each end's CPU
tcp2_record() {
	SCPU[$1]="${SCPU[$1]} $CPU_SEND"
	RCPU[$1]="${RCPU[$1]} $CPU_RECV"
}

echo "== tcp2: $(human "$N") pipe -> SENDER -> TCP 127.0.0.1 -> RECEIVER -> pipe, the same tool at both ends, $ROUNDS rounds   ($(uptime | sed 's/.*load/load/'))"
echo "   dd if=/dev/zero bs=1M | SENDER   RECEIVER | dd of=/dev/null bs=1M   (weir: $WEIR_SRC)"

declare -A TIMES=() CPUS=() PEAK=() BAD=() MED=() SCPU=() RCPU=()
rounds_init ""
for t in "${TOOLS[@]}"; do
	SCPU[$t]="" RCPU[$t]=""
	run_once "$t" $((64 << 20))
	if [ -n "$ERR" ]; then BAD[$t]=$ERR; echo "   warm-up $t FAILED: $ERR"; fi
done
rounds "" "" tcp2_record run_once "$N"

echo
printf '   %-13s %9s %9s %9s %8s %10s %10s %10s %9s\n' tool "median s" "min s" "max s" "GiB/s" "send CPU s" \
	"recv CPU s" "CPU s/GiB" "peak RSS"
for t in "${TOOLS[@]}"; do
	if failed_row "$t" 13; then continue; fi
	# shellcheck disable=SC2086
	MED[$t]=$(median ${TIMES[$t]})
	# shellcheck disable=SC2086
	printf '   %-13s %9.3f %9.3f %9.3f %8s %10.2f %10.2f %10.3f %5s MiB\n' "$t" "${MED[$t]}" "$(fmin ${TIMES[$t]})" \
		"$(fmax ${TIMES[$t]})" "$(gibps "$N" "${MED[$t]}")" "$(median ${SCPU[$t]})" "$(median ${RCPU[$t]})" \
		"$(awk -v c="$(median ${CPUS[$t]})" -v b="$N" 'BEGIN { printf "%.3f", c / (b / 1073741824) }')" \
		"$(kib_to_mib "${PEAK[$t]}")"
done
echo "   (CPU s/GiB: both ends together; iperf3 moves memory to memory, without the pipes: a ceiling)"

echo
has() { [ -n "${MED[$1]:-}" ]; }
s="tcp2  $(human "$N") x $ROUNDS:"
for t in "${TOOLS[@]}"; do s="$s $t $(rate_of "$N" "${MED[$t]}"),"; done
summary "${s%,}" \
	"$(ratio_line "  tcp2  weir/direct" "$(ratio "${MED[weir]}" "${MED[direct]}")" 0.80)" \
	"$(ratio_line "  tcp2  weir/socat-b64k" "$(ratio "${MED[weir]}" "${MED[socat-b64k]}")" 1.50)"
if has nc; then summary "$(ratio_line "  tcp2  weir/nc" "$(ratio "${MED[weir]}" "${MED[nc]}")")"; fi
if has weir-nosplice; then
	summary "$(ratio_line "  tcp2  weir/weir-nosplice" "$(ratio "${MED[weir]}" "${MED[weir-nosplice]}")")"
fi
if has iperf3; then summary "$(ratio_line "  tcp2  weir/iperf3 (ceiling)" "$(ratio "${MED[weir]}" "${MED[iperf3]}")")"; fi
for t in "${TOOLS[@]}"; do
	if [ -n "${BAD[$t]:-}" ]; then summary "  tcp2  FAILED $t: ${BAD[$t]}"; fi
done
exit "$FAILED"
