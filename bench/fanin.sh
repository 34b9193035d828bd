#!/usr/bin/env bash
# bench/fanin.sh: CLIENTS concurrent TCP clients, LINES lines each, merged into
# one file by one server:
#
#   weir  -k -p line tcp-listen:127.0.0.1:0 append:FILE
#   ncat  -l -k --recv-only 127.0.0.1 PORT >FILE
#   socat -u tcp-listen:PORT,bind=127.0.0.1,fork,reuseaddr,backlog=1024 OPEN:FILE,creat,append
#   ref:  tcpref collect PORTFILE FILE   (bench/tcpref.c, built with cc at the start)
#
# ref is the C reference: what a simple C program does at the same job with
# no framing library (epoll, non-blocking; each client's bytes read into one
# 1 MiB output buffer after its unfinished line, whole lines kept, the rest
# held for the client's next read; the buffer written when full or when no
# client has anything to read).
#
# The clients are one python3 process (a thread each): all connect, then all
# send at once their lines "CLIENT SEQ PAYLOAD\n" (1 to 80 letters of payload,
# about 50 B a line) in writes of random sizes (1 B to 64 KiB, TCP_NODELAY)
# that cut lines anywhere, half-close, and read until the server closes.
# The client data is generated once (untimed) and is the same for every run;
# the cuts differ from run to run. FANIN_CLIENT=c runs `tcpref fanin`
# instead: the same clients in C (a thread each; the write sizes drawn the
# same way by another generator), for when the python3 clients are the
# bottleneck. After the clients finish, the script waits until FILE has
# every byte sent (or has not grown for SETTLE s), then stops the server
# with SIGTERM and checks every line of FILE: torn (not a whole line of some
# client), lost, duplicated, and reordered within a client.
# Time: from the first connect to the moment FILE reached its final size.
#
# ncat and socat write what they read as it comes, so their lines are torn
# where the clients' writes interleave; that is reported, not a failure. A run
# FAILS if the server errs, hangs or does not stop on SIGTERM, or bytes are
# lost; for weir and ref also on any torn, lost, duplicated or reordered
# line, or a connection not closed after its EOF.
# Env: CLIENTS (50), LINES (100000), ROUNDS (3), SETTLE (2 s), WEIR, WEIR_OPTS,
#      TIMEOUT (s per run), FANIN_CLIENT (python or c; python).
set -eu
. "$(dirname "$0")/lib.sh"

CLIENTS=${CLIENTS:-50}
LINES=${LINES:-100000}
SETTLE=${SETTLE:-2}
NL=$((CLIENTS * LINES))
TMO=${TIMEOUT:-$((NL / 20000 + 60))}
FANIN_CLIENT=${FANIN_CLIENT:-python}
TOOLS=(weir ref socat)
if command -v ncat >/dev/null; then TOOLS=(weir ref ncat socat); fi
REF=$TMP/tcpref
cc -O2 -pthread -o "$REF" "$BENCH_DIR/tcpref.c" || { echo "bench: cannot build bench/tcpref.c (cc)" >&2; exit 2; }
case $FANIN_CLIENT in
python) CLIENT_CMD=("$PY" "$HELPERS" fanin-client) ;;
c) CLIENT_CMD=("$REF" fanin) ;;
*) echo "bench: FANIN_CLIENT is python or c, not $FANIN_CLIENT" >&2; exit 2 ;;
esac

need_kib=$((NL * 51 * 3 / 1024 / 1024 * 1024 + 65536))
avail_kib=$(df -Pk "$TMP" | awk 'NR == 2 { print $4 }')
if [ -n "$avail_kib" ] && [ "$avail_kib" -lt "$need_kib" ]; then
	echo "bench: $TMP: $((avail_kib / 1024)) MiB free, fanin needs about $((need_kib / 1024)) MiB (set TMPDIR or fewer LINES)" >&2
	exit 2
fi
mkdir "$TMP/clients"
BYTES=$("$PY" "$HELPERS" fanin-gen "$TMP/clients" "$CLIENTS" "$LINES")
OUT=$TMP/out

# server_cmd TOOL PORT: fill CMD (PORT unused by weir and ref: they bind port 0)
server_cmd() {
	case $1 in
	weir) CMD=("$WEIR" "${WEIR_OPTS_A[@]+"${WEIR_OPTS_A[@]}"}" -k -p line --ready-file "$TMP/ready"
		tcp-listen:127.0.0.1:0 "append:$OUT") ;;
	ref) CMD=("$REF" collect "$TMP/ready" "$OUT") ;;
	ncat) CMD=(ncat -l -k --recv-only 127.0.0.1 "$2") ;;
	socat) CMD=(socat -u "tcp-listen:$2,bind=127.0.0.1,fork,reuseaddr,backlog=1024" "OPEN:$OUT,creat,append") ;;
	*) echo "bench: unknown tool $1" >&2; exit 2 ;;
	esac
}

# run_once TOOL SEED: sets SECS RSS_KIB CPU TORN LOST DUP REORD, or ERR
run_once() {
	local tool=$1 seed=$2 port=0 tp spid cp st sent size cerr serr ncl tmo_c
	rm -f "$OUT" "$TMP/ready" "$TMP/spid" "$TMP/rss" "$TMP/res" "$TMP/tool.err" "$TMP/client.err"
	case $tool in weir | ref) ;; *) port=$("$PY" "$HELPERS" freeport) ;; esac
	server_cmd "$tool" "$port"
	# the server writes FILE itself, except ncat (its stdout)
	# shellcheck disable=SC2016 # $$ and $@ are for sh
	/usr/bin/time -f '%M %U %S' -o "$TMP/rss" \
		sh -c 'echo $$ >"$0"; exec "$@"' "$TMP/spid" "${CMD[@]}" \
		</dev/null >"$([ "$tool" = ncat ] && echo "$OUT" || echo /dev/null)" 2>"$TMP/tool.err" &
	tp=$!; track $tp
	ERR='' SECS=0 RSS_KIB=0 CPU=0 TORN=- LOST=- DUP=- REORD=-
	if [ "$tool" = weir ]; then
		"$PY" "$HELPERS" waitfile "$TMP/ready" 10 && port=$(sed -n '1s/.*://p' "$TMP/ready") || ERR="no ready file"
	elif [ "$tool" = ref ]; then
		"$PY" "$HELPERS" waitfile "$TMP/ready" 10 && port=$(head -n1 "$TMP/ready") || ERR="no port file"
	else
		"$PY" "$HELPERS" waitlisten "$port" 10 || ERR="not listening on $port"
	fi
	spid=$(cat "$TMP/spid" 2>/dev/null || true)
	if [ -z "$ERR" ]; then
		timeout -k 5 $((TMO + 10)) "${CLIENT_CMD[@]}" "$port" "$TMP/clients" "$CLIENTS" \
			"$OUT" "$BYTES" "$seed" "$SETTLE" "$TMO" "$TMP/res" 2>"$TMP/client.err" &
		cp=$!; track $cp
		wait_st $cp
		[ "$WST" = 0 ] || ERR="client exit status $WST$([ -s "$TMP/client.err" ] && echo ": $(head -c 300 "$TMP/client.err" | tr '\n' ' ')")"
	fi
	# stop the server: SIGTERM, then at most 10 s (weir flushes for at most 5)
	term_wait "$spid" "$tp" 10; st=$WST
	if [ -s "$TMP/rss" ]; then read -r RSS_KIB CPU_U CPU_S < <(tail -n1 "$TMP/rss") || true; fi
	case $RSS_KIB in '' | *[!0-9]*) RSS_KIB=0 CPU_U=0 CPU_S=0 ;; esac
	CPU=$(awk -v u="${CPU_U:-0}" -v s="${CPU_S:-0}" 'BEGIN { printf "%.2f", u + s }')
	if [ -z "$ERR" ] && [ -s "$TMP/res" ]; then
		read -r SECS sent size cerr serr ncl tmo_c <"$TMP/res"
		if [ "$tmo_c" != 0 ]; then
			ERR="clients still running after ${TMO}s (hang?)"
		elif [ "$cerr" != 0 ] || [ "$serr" != 0 ]; then
			ERR="$cerr connect errors, $serr send errors: $(head -c 300 "$TMP/client.err" | tr '\n' ' ')"
		elif [ "$sent" != "$BYTES" ]; then
			ERR="clients sent $sent bytes of $BYTES"
		elif [ "$st" != 0 ] && [ "$st" != 143 ]; then
			ERR="exit status $st after SIGTERM"
		fi
	elif [ -z "$ERR" ]; then
		ERR="no client result"
	fi
	if [ -z "$ERR" ]; then
		read -r TORN LOST DUP REORD _ size < <("$PY" "$HELPERS" fanin-check "$OUT" "$CLIENTS" "$LINES")
		if [ "$size" != "$BYTES" ]; then
			ERR="FILE has $size bytes of $BYTES sent (torn $TORN, lost $LOST, duplicated $DUP, reordered $REORD lines)"
		elif { [ "$tool" = weir ] || [ "$tool" = ref ]; } && [ "$TORN/$LOST/$DUP/$REORD/$ncl" != 0/0/0/0/0 ]; then
			ERR="torn $TORN, lost $LOST, duplicated $DUP, reordered $REORD lines, $ncl connections not closed after EOF"
		fi
	fi
	rm -f "$OUT"
	if [ -n "$ERR" ]; then
		ERR="$ERR: ${CMD[*]/#"$WEIR"/"$WEIR_SRC"}"
		if [ -s "$TMP/tool.err" ]; then ERR="$ERR; stderr: $(head -c 300 "$TMP/tool.err" | tr '\n' ' ')"; fi
	fi
}

echo "== fanin: $CLIENTS clients x $LINES lines ($(human "$BYTES")) into one file, $ROUNDS rounds   ($(uptime | sed 's/.*load/load/'))"
echo "   $([ "$FANIN_CLIENT" = c ] && echo "C (tcpref fanin)" || echo python3) clients (random write sizes) -> SERVER -> FILE   (weir: $WEIR_SRC)"

declare -A TIMES=() CPUS=() PEAK=() BAD=() NTORN=() NLOST=() NDUP=() NREORD=()
for t in "${TOOLS[@]}"; do TIMES[$t]=""; CPUS[$t]=""; PEAK[$t]=0; NTORN[$t]=0; NLOST[$t]=0; NDUP[$t]=0; NREORD[$t]=0; done

seed=1
for ((r = 1; r <= ROUNDS; r++)); do
	line="   round $r:"
	for i in $(rotate ${#TOOLS[@]} $((r - 1))); do
		t=${TOOLS[$i]}
		[ -z "${BAD[$t]:-}" ] || continue
		seed=$((seed + 1))
		run_once "$t" "$seed"
		if [ -n "$ERR" ]; then
			BAD[$t]=$ERR
			echo "   round $r $t FAILED: $ERR"
			continue
		fi
		TIMES[$t]="${TIMES[$t]} $SECS"
		CPUS[$t]="${CPUS[$t]} $CPU"
		[ "$RSS_KIB" -le "${PEAK[$t]}" ] || PEAK[$t]=$RSS_KIB
		[ "$TORN" -le "${NTORN[$t]}" ] || NTORN[$t]=$TORN
		[ "$LOST" -le "${NLOST[$t]}" ] || NLOST[$t]=$LOST
		[ "$DUP" -le "${NDUP[$t]}" ] || NDUP[$t]=$DUP
		[ "$REORD" -le "${NREORD[$t]}" ] || NREORD[$t]=$REORD
		line="$line  $t $SECS s (torn $TORN)"
	done
	echo "$line"
done

# lines_per_s SECONDS
lps() { awk -v n="$NL" -v s="$1" 'BEGIN { printf "%.0f", n / s }'; }

echo
printf '   %-7s %9s %9s %9s %10s %9s %9s %9s %9s %10s %9s\n' server "median s" "min s" "max s" "lines/s" \
	torn lost dup reordered "tool CPU s" "peak RSS"
declare -A MED=()
for t in "${TOOLS[@]}"; do
	if failed_row "$t" 7; then continue; fi
	# shellcheck disable=SC2086
	MED[$t]=$(median ${TIMES[$t]})
	# shellcheck disable=SC2086
	printf '   %-7s %9.3f %9.3f %9.3f %10s %9s %9s %9s %9s %10.2f %5s MiB\n' "$t" "${MED[$t]}" \
		"$(fmin ${TIMES[$t]})" "$(fmax ${TIMES[$t]})" "$(lps "${MED[$t]}")" "${NTORN[$t]}" \
		"${NLOST[$t]}" "${NDUP[$t]}" "${NREORD[$t]}" "$(median ${CPUS[$t]})" "$(kib_to_mib "${PEAK[$t]}")"
done
echo "   (torn ... reordered: the most in one run; a torn line also counts as lost; CPU includes socat's children)"

echo
rate() { if [ "${MED[$1]:--}" = - ]; then echo FAILED; else echo "$(lps "${MED[$1]}") lines/s"; fi; }
fmt='%-34s %6s   %-14s %s'
s="fanin $CLIENTS x $LINES lines x $ROUNDS: weir $(rate weir)"
for t in "${TOOLS[@]}"; do [ "$t" = weir ] || s="$s, $t $(rate "$t") (torn ${NTORN[$t]})"; done
[ "$FANIN_CLIENT" = python ] || s="$s; $FANIN_CLIENT clients"
summary "$s"
if [ -z "${BAD[weir]:-}" ]; then
	# shellcheck disable=SC2059
	summary "$(printf "$fmt" "  fanin weir torn+lost lines" "$((NTORN[weir] + NLOST[weir]))" "target 0" \
		"$([ $((NTORN[weir] + NLOST[weir])) = 0 ] && echo ok || echo MISSED)")"
fi
summary "$(ratio_line "  fanin weir/ref (lines/s)" "$(ratio "${MED[weir]}" "${MED[ref]}")" 0.80)"
if [ -n "${MED[ncat]:-}" ]; then
	r1=$(ratio "${MED[weir]}" "${MED[ncat]}")
	summary "$(ratio_line "  fanin weir/ncat (lines/s)" "$r1" 1.00)"
fi
r2=$(ratio "${MED[weir]}" "${MED[socat]}")
summary "$(ratio_line "  fanin weir/socat (lines/s)" "$r2")"
for t in "${TOOLS[@]}"; do
	if [ -n "${BAD[$t]:-}" ]; then summary "  fanin FAILED $t: ${BAD[$t]}"; fi
done
exit "$FAILED"
