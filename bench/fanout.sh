#!/usr/bin/env bash
# bench/fanout.sh: standard input fanned out to CLIENTS TCP clients, weir
# against ncat's listen mode (which sends its standard input to every
# client):
#
#   weir -U -k -p line tcp-listen:127.0.0.1:0 - <FIFO
#   ncat -l -k --send-only 127.0.0.1 PORT <FIFO
#
# The data: FANOUT_SIZE bytes of 64-byte lines, all distinct, made once
# into a file under $TMPDIR (deleted at exit) by bench/tcpref.c, which also
# gives their hash. The clients are `tcpref fanout` (C, a thread each, built
# with cc at the start): all connect, and once the server holds every
# connection (its descriptors in /proc) the file is copied into the FIFO
# (`cat`), then closed; each client reads until the server closes,
# counting and hashing what it got. Time: the clients' first byte to the
# last client's last; MiB/s in all (CLIENTS x FANOUT_SIZE / that time) and
# per client (each client's first byte to its last: the median and the
# slowest client). weir ends each connection at the end of its input and
# is stopped with SIGTERM after the clients finish; ncat exits by itself.
# A run FAILS when a client gets other than every byte (count and hash),
# on an error, a hang, or a server that does not stop.
# Env: FANOUT_SIZE (1G), CLIENTS (20), ROUNDS (3), WEIR, WEIR_OPTS,
#      TIMEOUT (s per run).
# shellcheck disable=SC2317 # the functions that rounds (lib.sh) calls
set -eu
BENCH_NEEDS="timeout python3 cc"
. "$(dirname "$0")/lib.sh"

FANOUT_SIZE=${FANOUT_SIZE:-1G}
CLIENTS=${CLIENTS:-20}
REF=$TMP/tcpref
cc -O2 -pthread -o "$REF" "$BENCH_DIR/tcpref.c" || { echo "bench: cannot build bench/tcpref.c (cc)" >&2; exit 2; }

need_kib=$(($(bytes "$FANOUT_SIZE") / 1024 + 65536))
avail_kib=$(df -Pk "$TMP" | awk 'NR == 2 { print $4 }')
if [ -n "$avail_kib" ] && [ "$avail_kib" -lt "$need_kib" ]; then
	echo "bench: $TMP: $((avail_kib / 1024)) MiB free, fanout needs about $((need_kib / 1024)) MiB (set TMPDIR or a smaller FANOUT_SIZE)" >&2
	exit 2
fi
DATA=$TMP/lines
read -r _ N _ NLINES _ HASH < <("$REF" lines "$(bytes "$FANOUT_SIZE")" "$DATA") || true
[ -n "${HASH:-}" ] || { echo "bench: tcpref lines: no data in $DATA" >&2; exit 2; }
TMO=${TIMEOUT:-$((N * CLIENTS / 20000000 + 60))}
TOOLS=(weir)
if command -v ncat >/dev/null; then TOOLS+=(ncat); fi

# nfds PID: how many descriptors PID holds (0 once it is gone)
nfds() { find "/proc/$1/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }

# field NAME FILE: the number after NAME in tcpref's one-line report
field() { sed -n "s/.*\\b$1 \\([0-9.]*\\).*/\\1/p" "$2" | head -n1; }

# run_once TOOL ROUND: sets SECS (first byte to last), PER_MED and PER_MIN
# (MiB/s of the median and of the slowest client), RSS_KIB, CPU, or ERR
run_once() {
	local tool=$1 port=0 spid base cp='' k st cst=0
	ERR='' TP='' SECS=0 PER_MED=0 PER_MIN=0 RSS_KIB=0 CPU=0
	rm -f "$TMP/fifo" "$TMP/ready" "$TMP/cready" "$TMP/spid" "$TMP/rss" "$TMP/tool.err" "$TMP/fan.out" "$TMP/fan.err"
	mkfifo "$TMP/fifo"
	case $tool in
	weir) CMD=("$WEIR" "${WEIR_OPTS_A[@]+"${WEIR_OPTS_A[@]}"}" -U -k -p line --ready-file "$TMP/ready"
		tcp-listen:127.0.0.1:0 -) ;;
	ncat)
		port=$("$PY" "$HELPERS" freeport)
		CMD=(ncat -l -k --send-only 127.0.0.1 "$port") ;;
	esac
	# fd 8 reads and writes, so opening it waits for nothing; fd 9 writes
	# alone, so that cat sees EPIPE should the server go; the server sees
	# the end of its input once fd 9 is closed
	exec 8<>"$TMP/fifo"
	# shellcheck disable=SC2016 # $$ and $@ are for sh
	/usr/bin/time -f '%M %U %S' -o "$TMP/rss" sh -c 'echo $$ >"$0"; f=$1; shift; exec "$@" <"$f"' \
		"$TMP/spid" "$TMP/fifo" "${CMD[@]}" 8>&- >/dev/null 2>"$TMP/tool.err" &
	TP=$!; track "$TP"
	exec 9>"$TMP/fifo" 8>&-
	if [ "$tool" = weir ]; then
		"$PY" "$HELPERS" waitfile "$TMP/ready" 10 && port=$(ready_port "$TMP/ready") || ERR="no ready file"
	else
		"$PY" "$HELPERS" waitlisten "$port" 10 || ERR="not listening on $port"
	fi
	spid=$(cat "$TMP/spid" 2>/dev/null || true)
	if [ -z "$ERR" ]; then
		base=$(nfds "$spid")
		timeout -k 5 "$TMO" "$REF" fanout "$port" "$CLIENTS" "$TMP/cready" "$N" "$HASH" \
			9>&- >"$TMP/fan.out" 2>"$TMP/fan.err" &
		cp=$!; track "$cp"
		# every client connected, and accepted by the server
		for ((k = 0; k < 200; k++)); do
			[ -s "$TMP/cready" ] && [ "$(nfds "$spid")" -ge $((base + CLIENTS)) ] && break
			sleep 0.05
		done
		[ "$(nfds "$spid")" -ge $((base + CLIENTS)) ] ||
			ERR="the server holds $(($(nfds "$spid") - base)) of $CLIENTS connections after 10 s"
		if [ -z "$ERR" ]; then
			timeout -k 5 "$TMO" cat "$DATA" >&9 2>"$TMP/cat.err" || cst=$?
		fi
	fi
	exec 9>&-
	if [ -n "$cp" ]; then
		wait_st "$cp"; st=$WST
		if [ -z "$ERR" ]; then
			if [ "$st" = 124 ] || [ "$st" = 137 ]; then
				ERR="the clients did not finish within ${TMO}s (hang?)"
			elif [ "$(field ok "$TMP/fan.out")" != "$CLIENTS" ]; then
				ERR="$(field ok "$TMP/fan.out") of $CLIENTS clients got every line (first: $(head -n1 "$TMP/fan.err" | head -c 200))"
			elif [ "$st" != 0 ]; then
				ERR="client exit status $st: $(head -c 300 "$TMP/fan.err")"
			elif [ "$cst" != 0 ]; then
				ERR="cat into the fifo: exit status $cst $(head -c 200 "$TMP/cat.err")"
			fi
		fi
	fi
	# weir keeps listening (-k): SIGTERM; ncat has exited at its input's end
	if [ "$tool" = ncat ] && [ -z "$ERR" ]; then
		term_wait "" "$TP" 5
	else
		term_wait "$spid" "$TP" 5
	fi
	term_status
	TP=''
	time_result "$TMP/rss"
	if [ -z "$ERR" ]; then
		SECS=$(field secs "$TMP/fan.out")
		PER_MED=$(field median_mibps "$TMP/fan.out")
		PER_MIN=$(field min_mibps "$TMP/fan.out")
	fi
	err_ctx
}

# fan_record TOOL: rounds' RECORD, the per-client rates
fan_record() {
	FMED[$1]="${FMED[$1]} $PER_MED"
	FMIN[$1]="${FMIN[$1]} $PER_MIN"
}

mibps() { awk -v b="$1" -v s="$2" 'BEGIN { printf "%.1f", b / s / 1048576 }'; }

echo "== fanout: $(human "$N") ($NLINES lines of 64 bytes) from stdin to $CLIENTS TCP clients, $ROUNDS rounds   ($(uptime | sed 's/.*load/load/'))"
echo "   cat FILE >FIFO; SERVER <FIFO -> $CLIENTS x tcpref client (count + hash)   (weir: $WEIR_SRC)"

declare -A TIMES=() CPUS=() PEAK=() BAD=() MED=() FMED=() FMIN=()
rounds_init ""
for t in "${TOOLS[@]}"; do FMED[$t]=""; FMIN[$t]=""; done
rounds "" "" fan_record run_once

echo
printf '   %-7s %9s %9s %9s %11s %11s %11s %10s %9s\n' server "median s" "min s" "max s" "MiB/s all" \
	"per client" "slowest" "tool CPU s" "peak RSS"
for t in "${TOOLS[@]}"; do
	if failed_row "$t" 7; then continue; fi
	# shellcheck disable=SC2086
	MED[$t]=$(median ${TIMES[$t]})
	# shellcheck disable=SC2086
	printf '   %-7s %9.3f %9.3f %9.3f %11s %11.1f %11.1f %10.2f %5s MiB\n' "$t" "${MED[$t]}" "$(fmin ${TIMES[$t]})" \
		"$(fmax ${TIMES[$t]})" "$(mibps $((N * CLIENTS)) "${MED[$t]}")" "$(median ${FMED[$t]})" \
		"$(median ${FMIN[$t]})" "$(median ${CPUS[$t]})" "$(kib_to_mib "${PEAK[$t]}")"
done
echo "   (MiB/s all: every client's bytes over the first byte to the last; per client: each client's own"
echo "    first byte to last, the median client and the slowest, medians over the rounds)"

echo
rate() { if [ "${MED[$1]:--}" = - ]; then echo FAILED; else echo "$(mibps "$N" "${MED[$1]}") MiB/s"; fi; }
s="fanout $(human "$N") to $CLIENTS clients x $ROUNDS: weir $(rate weir) to each"
if [ -n "${MED[ncat]:-}" ]; then s="$s, ncat $(rate ncat)"; fi
summary "$s"
if [ -n "${MED[ncat]:-}" ]; then
	summary "$(ratio_line "  fanout weir/ncat (MiB/s)" "$(ratio "${MED[weir]}" "${MED[ncat]}")" 2.00)"
fi
if [ -z "${BAD[weir]:-}" ]; then
	summary "$(printf '%-34s %6s   %-14s %s' "  fanout weir clients with it all" "$CLIENTS/$CLIENTS" "target all" ok)"
fi
for t in "${TOOLS[@]}"; do
	if [ -n "${BAD[$t]:-}" ]; then summary "  fanout FAILED $t: ${BAD[$t]}"; fi
done
exit "$FAILED"
