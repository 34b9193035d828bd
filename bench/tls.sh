#!/usr/bin/env bash
# bench/tls.sh: weir's TLS (tls:, tls-listen:) against a plain C reference
# (bench/tlsref.c: blocking OpenSSL, TLS 1.3, one process per role, built
# with cc at the start), socat, openssl s_client/s_server and ncat --ssl.
# Every certificate is one ECDSA P-256 self-signed certificate made at the
# start (IP SAN 127.0.0.1); clients that verify (tlsref, weir) trust it.
#
# (a) bulk: SIZE (1G) over one loopback TLS connection, sender and receiver
#     of the same tool; the sender reads a file (in the page cache) on
#     stdin, the receiver writes to a pipe read by a byte counter (splice
#     to /dev/null: next to no cost); timed from the sender's start until
#     the receiver and the counter are done. CPU is both ends' (user +
#     system, /usr/bin/time).
#       ref        tlsref send 127.0.0.1 PORT - CERT <FILE  ->  tlsref recv ... >PIPE
#       ref-mem    tlsref send ... SIZE (zeros from memory) ->  tlsref recv ... >/dev/null
#                  (no file, no pipe: the TLS ceiling; no target)
#       weir       weir -u - tls:127.0.0.1:PORT,pin=sha256:... <FILE  ->
#                  weir -u --ready-file R tls-listen:127.0.0.1:0,cert=C,key=K - >PIPE
#       socat      socat -u - OPENSSL:127.0.0.1:PORT,verify=0  ->
#                  socat -u OPENSSL-LISTEN:PORT,...,cert=C,key=K,verify=0 -   (socat-b64k: -b 65536)
#       openssl    openssl s_client -quiet -no_ign_eof -nocommands  ->  openssl s_server -quiet -naccept 1
#       ncat       ncat --ssl --send-only  ->  ncat --ssl -l --recv-only
#     ncat's sender closes with the receiver's session tickets unread, so its
#     kernel sends a reset that may destroy the end of the stream: ncat's lost
#     bytes are counted and reported, not a failure.
# (b) TLS termination: CONNS (1000) sequential connections from
#     `tlsref conns` (a full handshake each, no resumption, verifying the
#     certificate; CONN_SIZE (1k) sent, close_notify + half-close, the echo
#     read to EOF and compared) to
#       ref        tlsref echo (a TLS echo server: no proxy, the limit)
#       weir       weir -k tls-listen:127.0.0.1:0,cert=C,key=K tcp:127.0.0.1:ECHO
#       socat-nd   socat OPENSSL-LISTEN:PORT,fork,reuseaddr,cert=C,key=K,verify=0,nodelay TCP:127.0.0.1:ECHO,nodelay
#       socat      the same without nodelay
#     where ECHO is bench/conns.c's plain TCP echo server; socat forks and
#     sets up OpenSSL per connection (about 30 connections/s), so it gets
#     SOCAT_CONNS connections. Then one SIZE connection through each proxy
#     (tlsref send, zeros -> PROXY -> tlsref tcpsink).
# (c) idle: IDLE_CONNS (10000) TLS connections (handshakes done) held by one
#     weir with an ephemeral certificate, `weir -k -u tls-listen:127.0.0.1:0 -`
#     (the client closes with close_notify + FIN) and `weir -k ...` (two-way:
#     closes with a reset), ROUNDS times open / check / close: weir's VmRSS
#     per connection. The client is `tlsref idle`.
# A run FAILS on a lost or wrong byte (ncat's lost end aside), a non-zero
# exit, a hang, a server that does not stop on SIGTERM; a missed target is
# only reported.
#
#   bench/tls.sh           SIZE=1G, CONNS=1000, SOCAT_CONNS=150, IDLE_CONNS=10000, ROUNDS=3
#   bench/tls.sh quick     SIZE=64M, CONNS=200, SOCAT_CONNS=20, IDLE_CONNS=1000, ROUNDS=1
#
# Env: SIZE, CONNS, CONN_SIZE (1k), SOCAT_CONNS, IDLE_CONNS, ROUNDS, WEIR,
#      WEIR_OPTS, TIMEOUT (s per run), TLS_ONLY (a list of the tools to run,
#      e.g. "ref weir socat": for trying the script; the others are skipped),
#      TLS_PARTS (the parts to run: "a b c").
# shellcheck disable=SC2317 # the functions that rounds (lib.sh) calls
set -eu
if [ "${1:-}" = quick ]; then
	: "${SIZE:=64M}" "${CONNS:=200}" "${SOCAT_CONNS:=20}" "${IDLE_CONNS:=1000}" "${ROUNDS:=1}"
fi
BENCH_NEEDS="socat timeout openssl cc ${PYTHON:-python3}"
. "$(dirname "$0")/lib.sh"

SIZE=${SIZE:-1G}
N=$(bytes "$SIZE")
CONNS=${CONNS:-1000}
CONN_SIZE=${CONN_SIZE:-1k}
CSIZE=$(bytes "$CONN_SIZE")
SOCAT_CONNS=${SOCAT_CONNS:-150}
[ "$SOCAT_CONNS" -le "$CONNS" ] || SOCAT_CONNS=$CONNS
IDLE_CONNS=${IDLE_CONNS:-10000}
TMO=${TIMEOUT:-$((N / 20000000 + CONNS / 50 + 60))}
WARM=$((64 << 20))
[ "$WARM" -le "$N" ] || WARM=$N
TARGET_KIB=32

if ! cc -O2 -o "$TMP/tlsref" "$BENCH_DIR/tlsref.c" -lssl -lcrypto 2>"$TMP/cc.err"; then
	echo "bench: cannot build bench/tlsref.c (apt-get install libssl-dev): $(head -c 300 "$TMP/cc.err")" >&2
	exit 2
fi
TLSREF=$TMP/tlsref
if ! cc -O2 -o "$TMP/conns" "$BENCH_DIR/conns.c" 2>"$TMP/cc.err"; then
	echo "bench: cannot build bench/conns.c: $(head -c 300 "$TMP/cc.err")" >&2
	exit 2
fi
CONNS_BIN=$TMP/conns
CERT=$TMP/cert.pem KEY=$TMP/key.pem
if ! openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$KEY" -out "$CERT" \
	-days 7 -subj /CN=localhost -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" >/dev/null 2>"$TMP/cc.err"; then
	echo "bench: openssl req failed: $(head -c 300 "$TMP/cc.err")" >&2
	exit 2
fi
# handshakes of tlsref send and recv are logged here (for the cipher probe)
export TLSREF_INFO=$TMP/info
WEIR_TLS=1
"$WEIR" --help 2>/dev/null | grep -q tls-listen || WEIR_TLS=0
WEIR_A=("$WEIR" "${WEIR_OPTS_A[@]+"${WEIR_OPTS_A[@]}"}")

# a FIFO that nobody writes to, held open: a stdin that never ends nor wakes
mkfifo "$TMP/hold"
exec {HOLD}<>"$TMP/hold"

# only TOOL...: print the tools that TLS_ONLY (if set) keeps
only() {
	local t
	for t in "$@"; do
		case " ${TLS_ONLY:-$t} " in *" $t "*) echo "$t" ;; esac
	done
}

# pretty CMD...: the command line, weir's private copy named as the original
pretty() { local s="$*"; echo "${s//"$WEIR"/$WEIR_SRC}"; }

# ---------------------------------------------------------------- (a) bulk

# start_recv TOOL OUT: the receiver of TOOL, writing to OUT; sets RP (its
# timeout wrapper), PORT, TARGET (weir's ready line), RCMD, or ERR
start_recv() {
	local tool=$1 out=$2
	ERR='' PORT='' TARGET='' RCMD=() RP=''
	rm -f "$TMP/ready" "$TMP/rtime" "$TMP/recv.err" "$TMP/rcount"
	case $tool in
	ref | ref-mem) RCMD=("$TLSREF" recv "$TMP/ready" "$CERT" "$KEY" "$TMP/rcount") ;;
	weir)
		if [ "$WEIR_TLS" = 0 ]; then ERR="this weir has no TLS (no tls-listen in weir --help)"; return; fi
		RCMD=("${WEIR_A[@]}" -u --ready-file "$TMP/ready" "tls-listen:127.0.0.1:0,cert=$CERT,key=$KEY" -) ;;
	socat | socat-b64k)
		PORT=$("$PY" "$HELPERS" freeport)
		RCMD=(socat -u "OPENSSL-LISTEN:$PORT,bind=127.0.0.1,reuseaddr,cert=$CERT,key=$KEY,verify=0" -)
		[ "$tool" = socat ] || RCMD=(socat -b 65536 "${RCMD[@]:1}") ;;
	openssl)
		PORT=$("$PY" "$HELPERS" freeport)
		RCMD=(openssl s_server -quiet -naccept 1 -accept "127.0.0.1:$PORT" -cert "$CERT" -key "$KEY") ;;
	ncat)
		PORT=$("$PY" "$HELPERS" freeport)
		RCMD=(ncat --ssl --ssl-cert "$CERT" --ssl-key "$KEY" -l 127.0.0.1 "$PORT" --recv-only) ;;
	esac
	timeout -k 5 "$TMO" /usr/bin/time -f '%M %U %S' -o "$TMP/rtime" "${RCMD[@]}" \
		<"$TMP/hold" >"$out" 2>"$TMP/recv.err" &
	RP=$!; track "$RP"
	case $tool in
	ref | ref-mem)
		if "$PY" "$HELPERS" waitfile "$TMP/ready" 10; then PORT=$(cat "$TMP/ready"); else ERR="receiver: no port file"; fi ;;
	weir)
		if "$PY" "$HELPERS" waitfile "$TMP/ready" 10; then
			TARGET=$(head -n1 "$TMP/ready")
			PORT=$(ready_port "$TMP/ready")
		else
			ERR="receiver: no ready file"
		fi ;;
	*) "$PY" "$HELPERS" waitlisten "$PORT" 10 || ERR="receiver: not listening on $PORT" ;;
	esac
}

# send_cmd TOOL BYTES: the sender of TOOL, to PORT (weir: to TARGET when the
# receiver is weir, else verifying CERT); sets SCMD
send_cmd() {
	case $1 in
	ref) SCMD=("$TLSREF" send 127.0.0.1 "$PORT" - "$CERT") ;;
	ref-mem) SCMD=("$TLSREF" send 127.0.0.1 "$PORT" "$2" "$CERT") ;;
	weir) SCMD=("${WEIR_A[@]}" -u - "${TARGET:-tls:127.0.0.1:$PORT,ca=$CERT}") ;;
	socat) SCMD=(socat -u - "OPENSSL:127.0.0.1:$PORT,verify=0") ;;
	socat-b64k) SCMD=(socat -b 65536 -u - "OPENSSL:127.0.0.1:$PORT,verify=0") ;;
	openssl) SCMD=(openssl s_client -quiet -no_ign_eof -nocommands -connect "127.0.0.1:$PORT") ;;
	ncat) SCMD=(ncat --ssl --send-only 127.0.0.1 "$PORT") ;;
	esac
}

# run_pair SENDER RECEIVER BYTES FILE: SENDER's sender (stdin FILE) to
# RECEIVER's receiver; sets SECS, GOT, LOST (bytes missing where a loss is
# only counted: ncat), S_CPU R_CPU CPU (both ends), S_RSS and RSS_KIB (the
# receiver's), or ERR
run_pair() {
	local st=$1 rt=$2 n=$3 file=$4 out cp='' sp ss rs cs t0 t1 lossy=0 what
	SECS=0 GOT=0 LOST=0 S_CPU=0 R_CPU=0 CPU=0 S_RSS=0 RSS_KIB=0 SCMD=()
	[ "$st" != ncat ] && [ "$rt" != ncat ] || lossy=1
	rm -f "$TMP/out" "$TMP/count" "$TMP/stime" "$TMP/send.err"
	if [ "$rt" = ref-mem ]; then
		out=/dev/null
	else
		mkfifo "$TMP/out"
		out=$TMP/out
		"$TLSREF" count "$TMP/count" <"$TMP/out" &
		cp=$!; track "$cp"
	fi
	if [ "$st" = weir ] && [ "$WEIR_TLS" = 0 ]; then
		ERR="this weir has no TLS (no tls-listen in weir --help)"
	else
		start_recv "$rt" "$out"
	fi
	if [ -n "$ERR" ]; then
		if [ -n "${RP:-}" ]; then stop_pid "$RP"; RP=; fi
		if [ -n "$cp" ]; then
			# SIGKILL: the counter, just started, may still be in its shell
			# (opening the FIFO) with our TERM trap, which would lose a SIGTERM
			kill -KILL "$cp" 2>/dev/null || true
			wait_st "$cp"
		fi
		ERR="$ERR: $(pretty "${RCMD[@]}")"
		return
	fi
	[ "$rt" = weir ] || TARGET=
	send_cmd "$st" "$n"
	[ "$st" != ref-mem ] || file=/dev/null
	t0=$(now)
	timeout -k 5 "$TMO" /usr/bin/time -f '%M %U %S' -o "$TMP/stime" "${SCMD[@]}" \
		<"$file" >/dev/null 2>"$TMP/send.err" &
	sp=$!; track "$sp"
	wait_st "$sp"; ss=$WST
	# a sender that failed may leave the receiver waiting
	if [ "$ss" != 0 ]; then kill "$RP" 2>/dev/null || true; fi
	wait_st "$RP"; rs=$WST
	cs=0
	if [ -n "$cp" ]; then wait_st "$cp"; cs=$WST; fi
	t1=$(now)
	RP=
	SECS=$(fsub "$t1" "$t0")
	time_result "$TMP/stime"; S_CPU=$CPU S_RSS=$RSS_KIB
	time_result "$TMP/rtime"; R_CPU=$CPU
	CPU=$(awk -v a="$S_CPU" -v b="$R_CPU" 'BEGIN { printf "%.2f", a + b }')
	if [ "$rt" = ref-mem ]; then GOT=$(cat "$TMP/rcount" 2>/dev/null || echo "?"); else GOT=$(cat "$TMP/count" 2>/dev/null || echo "?"); fi
	ERR=
	what="sender $st, receiver $rt"
	if [ "$ss" = 124 ] || [ "$ss" = 137 ]; then
		ERR="the sender timed out after ${TMO}s (hang?)"
	elif [ "$rs" = 124 ] || [ "$rs" = 137 ]; then
		ERR="the receiver did not finish within ${TMO}s (hang?)"
	elif [ "$GOT" != "$n" ] && { [ "$lossy" = 0 ] || [ "$GOT" = "?" ] || [ "$GOT" -gt "$n" ]; }; then
		ERR="the receiver got $GOT bytes of $n"
	elif [ "$ss" != 0 ] || [ "$cs" != 0 ] || { [ "$rs" != 0 ] && { [ "$lossy" = 0 ] || [ "$GOT" = "$n" ]; }; }; then
		# (a receiver that lost the end to a reset may say so: ncat only)
		ERR="exit status: sender $ss, receiver $rs, counter $cs"
	fi
	if [ -z "$ERR" ] && [ "$GOT" != "$n" ]; then LOST=$((n - GOT)); fi
	if [ -n "$ERR" ]; then
		ERR="$ERR ($what): $(pretty "${SCMD[@]}") -> $(pretty "${RCMD[@]}")"
		if [ -s "$TMP/send.err" ]; then ERR="$ERR; sender stderr: $(head -c 300 "$TMP/send.err" | tr '\n' ' ')"; fi
		if [ -s "$TMP/recv.err" ]; then ERR="$ERR; receiver stderr: $(head -c 300 "$TMP/recv.err" | tr '\n' ' ')"; fi
	fi
}

# run_a TOOL BYTES: one bulk run of TOOL at both ends
run_a() {
	local f=$TMP/data
	[ "$2" = "$N" ] || f=$TMP/warm
	run_pair "$1" "$1" "$2" "$f"
}

# ------------------------------------------------------- (b) termination

# start_server TOOL UPSTREAM_PORT: a TLS server (ref: the echo itself) or
# proxy to UPSTREAM; sets PORT, TP (the /usr/bin/time wrapper, for
# stop_server), CMD, or ERR
start_server() {
	local tool=$1 up=$2
	ERR='' TP='' CMD=() PORT=''
	rm -f "$TMP/ready" "$TMP/spid" "$TMP/rss" "$TMP/tool.err"
	case $tool in
	ref) CMD=("$TLSREF" echo "$TMP/ready" "$CERT" "$KEY") ;;
	weir)
		if [ "$WEIR_TLS" = 0 ]; then ERR="this weir has no TLS (no tls-listen in weir --help)"; return; fi
		CMD=("${WEIR_A[@]}" -k --ready-file "$TMP/ready" "tls-listen:127.0.0.1:0,cert=$CERT,key=$KEY"
			"tcp:127.0.0.1:$up") ;;
	socat-nd | socat)
		PORT=$("$PY" "$HELPERS" freeport)
		CMD=(socat "OPENSSL-LISTEN:$PORT,bind=127.0.0.1,fork,reuseaddr,cert=$CERT,key=$KEY,verify=0"
			"TCP:127.0.0.1:$up")
		[ "$tool" = socat ] || CMD=(socat "${CMD[1]},nodelay" "${CMD[2]},nodelay") ;;
	esac
	start_timed "$TMP/hold"
	case $tool in
	ref) "$PY" "$HELPERS" waitfile "$TMP/ready" 10 && PORT=$(cat "$TMP/ready") || ERR="no port file" ;;
	weir) "$PY" "$HELPERS" waitfile "$TMP/ready" 10 && PORT=$(ready_port "$TMP/ready") || ERR="no ready file" ;;
	*) "$PY" "$HELPERS" waitlisten "$PORT" 10 || ERR="not listening on $PORT" ;;
	esac
}

nconns() { case $1 in socat*) echo "$SOCAT_CONNS" ;; *) echo "$CONNS" ;; esac; }

# conns_once TOOL: sets SECS P50 P99 (ms) RSS_KIB CPU, or ERR
conns_once() {
	local tool=$1 ep='' cp n
	n=$(nconns "$tool")
	rm -f "$TMP/eport" "$TMP/res"
	SECS=0 P50=0 P99=0
	if [ "$tool" != ref ]; then
		"$CONNS_BIN" echo "$TMP/eport" &
		ep=$!; track "$ep"
		"$PY" "$HELPERS" waitfile "$TMP/eport" 10 || true
	fi
	start_server "$tool" "$(cat "$TMP/eport" 2>/dev/null || echo 0)"
	if [ -z "$ERR" ]; then
		timeout -k 5 "$TMO" "$TLSREF" conns 127.0.0.1 "$PORT" "$n" "$CSIZE" "$CERT" "$TMP/res" 2>"$TMP/client.err" &
		cp=$!; track "$cp"
		wait_st "$cp"
		conns_result "$WST" "$n" "$TMP/client.err"
	fi
	stop_server
	if [ -n "$ep" ]; then stop_pid "$ep"; fi
	err_ctx
}

# pbulk_once TOOL BYTES: one connection of BYTES through the proxy TOOL
# (tlsref send, zeros -> TOOL -> tlsref tcpsink); sets SECS RSS_KIB CPU, or ERR
pbulk_once() {
	local tool=$1 n=$2 kp
	rm -f "$TMP/kport" "$TMP/kcount"
	timeout -k 5 "$TMO" "$TLSREF" tcpsink "$TMP/kport" "$TMP/kcount" &
	kp=$!; track "$kp"
	"$PY" "$HELPERS" waitfile "$TMP/kport" 10 || true
	start_server "$tool" "$(cat "$TMP/kport" 2>/dev/null || echo 0)"
	sink_run "$kp" "$TMP/kcount" "$n" "$TLSREF" send 127.0.0.1 "$PORT" "$n" "$CERT"
	stop_server
	err_ctx
}

# ------------------------------------------------------------- (c) idle

idle_cmd() {
	local maxc=$((IDLE_CONNS * 2))
	case $1 in
	shared-u) CMD=("${WEIR_A[@]}" -k -u -m "$maxc" --ready-file "$TMP/ready" tls-listen:127.0.0.1:0 -) ;;
	shared) CMD=("${WEIR_A[@]}" -k -m "$maxc" --ready-file "$TMP/ready" tls-listen:127.0.0.1:0 -) ;;
	esac
}

# idle_mode MODE: sets FRESH (KiB), per-round arrays R_*, HWM, or ERR (see
# idle_run)
idle_mode() {
	idle_cmd "$1"
	if [ "$WEIR_TLS" = 0 ]; then
		R_N=() R_FULL=() FRESH=0 HWM=0
		ERR="this weir has no TLS (no tls-listen in weir --help)"
		err_ctx
		return
	fi
	idle_run "$TMP/hold" "${IDLE_HOW[$1]}" "$TLSREF" idle
}

# ---------------------------------------------------------------- main

fmt_cpu() { awk -v c="$1" 'BEGIN { printf "%.2f", c }'; }
per_gib() { awk -v c="$1" -v n="$N" 'BEGIN { printf "%.2f", c / (n / 1073741824) }'; }
le_line() { # LABEL VALUE TARGET: "value <= target"
	local v=n/a
	[ "$2" = n/a ] || v=$(verdict "$2" '<=' "$3")
	printf '%-34s %6s   %-14s %s' "$1" "$2" "target <= $3" "$v"
}

A_TOOLS=(ref ref-mem weir socat socat-b64k openssl)
if command -v ncat >/dev/null; then A_TOOLS+=(ncat); fi
mapfile -t A_TOOLS < <(only "${A_TOOLS[@]}")
mapfile -t B_TOOLS < <(only ref weir socat-nd socat)
mapfile -t P_TOOLS < <(only weir socat-nd)
I_MODES=()
[ -n "$(only weir)" ] && I_MODES=(shared-u shared)
TLS_PARTS=${TLS_PARTS:-a b c}
case " $TLS_PARTS " in *" a "*) ;; *) A_TOOLS=() ;; esac
case " $TLS_PARTS " in *" b "*) ;; *) B_TOOLS=() P_TOOLS=() ;; esac
case " $TLS_PARTS " in *" c "*) ;; *) I_MODES=() ;; esac
declare -A IDLE_HOW=([shared-u]=fin [shared]=rst)

echo "== tls: weir's TLS vs a C reference (tlsref), socat, openssl, ncat; $ROUNDS rounds   ($(uptime | sed 's/.*load/load/'))"
echo "   weir: $WEIR_SRC$([ "$WEIR_TLS" = 1 ] || echo "   (NO TLS in this weir: its runs fail)")"
echo "   $(openssl version), $(socat -V 2>/dev/null | sed -n 's/^socat version \([^ ]*\).*/socat \1/p')$(command -v ncat >/dev/null && echo ", $(ncat --version 2>&1 | sed -n 's/.*Version \([^ ]*\).*/ncat \1/p')"), $(nproc) CPUs"

# the inputs, read through once so that they are in the page cache
if [ ${#A_TOOLS[@]} -gt 0 ]; then
	dd if=/dev/zero of="$TMP/data" bs=1M count="$N" iflag=count_bytes status=none
	dd if=/dev/zero of="$TMP/warm" bs=1M count="$WARM" iflag=count_bytes status=none
	cat "$TMP/data" "$TMP/warm" >/dev/null
	# written back now, not while the runs are timed
	sync "$TMP/data" "$TMP/warm" 2>/dev/null || sync
fi

# --- which version and cipher each tool ends up with, tlsref at the other end
if [ ${#A_TOOLS[@]} -gt 0 ]; then
	echo "   handshakes with tlsref at the other end (1 MiB each way; version and cipher as tlsref saw them):"
	head -c 1048576 "$TMP/warm" >"$TMP/small"
	for t in "${A_TOOLS[@]}"; do
		case $t in ref | ref-mem | socat-b64k) continue ;; esac
		res=""
		for dir in client server; do
			rm -f "$TMP/info"
			if [ $dir = client ]; then run_pair "$t" ref "$((1 << 20))" "$TMP/small"; else run_pair ref "$t" "$((1 << 20))" "$TMP/small"; fi
			if [ -n "$ERR" ]; then
				res="$res   as $dir: FAILED: $ERR"
			else
				res="$res   as $dir: $(sed -n "s/^$([ $dir = client ] && echo recv || echo send) //p" "$TMP/info" | head -n1)"
				[ "$LOST" = 0 ] || res="$res (lost $LOST B)"
			fi
		done
		echo "     $t:$res"
	done
fi

# --- (a): TIMES, CPUS, PEAK (the receiver's) and BAD filled by rounds, the
# rest by a_record and a_round
declare -A TIMES=() CPUS=() PEAK=() SCPUS=() RCPUS=() SPEAK=() BAD=() MED=() LOSTB=() LOSTR=() RUNS=()
TOOLS=("${A_TOOLS[@]}")
rounds_init ""
for t in "${A_TOOLS[@]}"; do SCPUS[$t]="" RCPUS[$t]="" SPEAK[$t]=0 LOSTB[$t]=0 LOSTR[$t]=0 RUNS[$t]=0; done
[ ${#A_TOOLS[@]} -eq 0 ] || printf '\n   (a) %s over one TLS connection, sender <FILE -> receiver >PIPE (ref-mem: memory -> /dev/null)\n' "$(human "$N")"
a_record() { # TOOL: account the run just done
	local t=$1
	RUNS[$t]=$((RUNS[$t] + 1))
	if [ "$LOST" != 0 ]; then LOSTB[$t]=$((LOSTB[$t] + LOST)); LOSTR[$t]=$((LOSTR[$t] + 1)); fi
}
a_round() { # TOOL: account the timed run just done
	local t=$1
	a_record "$t"
	SCPUS[$t]="${SCPUS[$t]} $S_CPU"
	RCPUS[$t]="${RCPUS[$t]} $R_CPU"
	[ "$S_RSS" -le "${SPEAK[$t]}" ] || SPEAK[$t]=$S_RSS
}
for t in "${A_TOOLS[@]}"; do
	run_a "$t" "$WARM"
	if [ -n "$ERR" ]; then BAD[$t]=$ERR; echo "   (a) warm-up $t FAILED: $ERR"; else a_record "$t"; fi
done
rounds "(a) " "" a_round run_a "$N"

# --- (b)
declare -A CTIMES=() CP50=() CP99=() CCPUS=() CPEAK=() CBAD=() CMED=()
[ ${#B_TOOLS[@]} -eq 0 ] || printf '\n   (b) %s sequential TLS connections (socat: %s), %s echoed each: tlsref conns -> SERVER [-> conns.c echo]\n' \
	"$CONNS" "$SOCAT_CONNS" "$(human "$CSIZE")"
TOOLS=("${B_TOOLS[@]}")
conns_rounds conns_once "(b) "
[ ${#P_TOOLS[@]} -eq 0 ] || echo "   (b) $(human "$N") through the proxy: tlsref send (zeros) -> PROXY -> tlsref tcpsink"
declare -A PTIMES=() PCPUS=() PPEAK=() PBAD=() PMED=()
TOOLS=("${P_TOOLS[@]}")
bulk_rounds pbulk_once "$WARM" "$N" "(b) bulk " P

# --- (c)
declare -A IPER=() IGROW=() IBAD=() INR=()
if [ ${#I_MODES[@]} -gt 0 ] && ! raise_nofile "$IDLE_CONNS"; then
	echo "   (c) open files limit $(ulimit -n) (hard $HARD_NOFILE) is too low for IDLE_CONNS=$IDLE_CONNS: (c) skipped; set IDLE_CONNS lower"
	I_MODES=()
	FAILED=1
fi
for m in "${I_MODES[@]}"; do
	idle_mode "$m"
	echo
	echo "   (c) $m: $(pretty "${CMD[@]}" | sed "s|$WEIR_SRC|weir|")   (client closes with $([ "${IDLE_HOW[$m]}" = rst ] && echo a reset || echo close_notify + FIN))"
	echo "   fresh weir (ephemeral certificate made): VmRSS $FRESH KiB; open files limit $(ulimit -n)"
	idle_table
	if [ -n "$ERR" ]; then IBAD[$m]=$ERR; FAILED=1; echo "   (c) $m FAILED: $ERR"; fi
	INR[$m]=${#R_N[@]}
	if [ ${#R_N[@]} -gt 0 ]; then
		IPER[$m]=$(per_conn "${R_FULL[0]}" "$FRESH")
		IGROW[$m]=$((R_FULL[${#R_FULL[@]} - 1] - R_FULL[0]))
	fi
done

# --- tables
if [ ${#A_TOOLS[@]} -gt 0 ]; then
	echo
	echo "   (a) bulk: $(human "$N") in one TLS connection; CPU of both ends (user + system)"
fi
[ ${#A_TOOLS[@]} -eq 0 ] || printf '   %-11s %8s %8s %8s %7s %10s %9s %9s %9s %9s\n' tool "median s" "min s" "max s" "GiB/s" "CPU s/GiB" \
	"snd CPU" "rcv CPU" "snd RSS" "rcv RSS"
declare -A ACPU=()
for t in "${A_TOOLS[@]}"; do
	if [ -n "${BAD[$t]:-}" ] || [ -z "${TIMES[$t]// /}" ]; then
		MED[$t]=- ACPU[$t]=-
		printf '   %-11s %8s\n' "$t" FAILED
		FAILED=1
		continue
	fi
	# shellcheck disable=SC2086
	MED[$t]=$(median ${TIMES[$t]})
	# shellcheck disable=SC2086
	ACPU[$t]=$(per_gib "$(median ${CPUS[$t]})")
	# shellcheck disable=SC2086
	printf '   %-11s %8.3f %8.3f %8.3f %7s %10s %9s %9s %9s %9s\n' "$t" "${MED[$t]}" "$(fmin ${TIMES[$t]})" \
		"$(fmax ${TIMES[$t]})" "$(gibps "$N" "${MED[$t]}")" "${ACPU[$t]}" "$(fmt_cpu "$(median ${SCPUS[$t]})")" \
		"$(fmt_cpu "$(median ${RCPUS[$t]})")" "$(kib_to_mib "${SPEAK[$t]}") MiB" "$(kib_to_mib "${PEAK[$t]}") MiB"
done
for t in "${A_TOOLS[@]}"; do
	if [ "${LOSTR[$t]}" != 0 ]; then
		echo "   $t lost the end of the stream: $(human "${LOSTB[$t]}") ($((LOSTB[$t])) bytes) in ${LOSTR[$t]} of ${RUNS[$t]} runs (warm-up included)"
	fi
done
[ ${#A_TOOLS[@]} -eq 0 ] || echo "   (CPU s/GiB, snd/rcv CPU: medians over the rounds; RSS: the peak over the rounds)"

if [ ${#B_TOOLS[@]} -gt 0 ]; then
	echo
	echo "   (b) TLS handshakes: sequential connections, $(human "$CSIZE") echoed each"
	printf '   %-9s %6s %9s %9s %9s %8s %8s %8s %10s %9s\n' server conns "median s" "min s" "max s" "conns/s" "p50 ms" \
		"p99 ms" "srv CPU s" "peak RSS"
fi
cps_of() { awk -v n="$(nconns "$1")" -v s="$2" 'BEGIN { printf "%.0f", n / s }'; }
declare -A CRATE=()
for t in "${B_TOOLS[@]}"; do
	if [ -n "${CBAD[$t]:-}" ] || [ -z "${CTIMES[$t]// /}" ]; then
		CMED[$t]=- CRATE[$t]=-
		printf '   %-9s %6s %9s\n' "$t" "$(nconns "$t")" FAILED
		FAILED=1
		continue
	fi
	# shellcheck disable=SC2086
	CMED[$t]=$(median ${CTIMES[$t]})
	CRATE[$t]=$(cps_of "$t" "${CMED[$t]}")
	# shellcheck disable=SC2086
	printf '   %-9s %6s %9.3f %9.3f %9.3f %8s %8.3f %8.3f %10s %9s\n' "$t" "$(nconns "$t")" "${CMED[$t]}" \
		"$(fmin ${CTIMES[$t]})" "$(fmax ${CTIMES[$t]})" "${CRATE[$t]}" "$(median ${CP50[$t]})" \
		"$(median ${CP99[$t]})" "$(fmt_cpu "$(median ${CCPUS[$t]})")" "$(kib_to_mib "${CPEAK[$t]}") MiB"
done
if [ ${#B_TOOLS[@]} -gt 0 ]; then
	echo "   (ref: tlsref echo answers itself, no proxy and no upstream; socat CPU includes its children)"
fi
if [ ${#P_TOOLS[@]} -gt 0 ]; then
	echo
	echo "   (b) bulk through the proxy: $(human "$N") in one connection"
	printf '   %-9s %8s %8s %8s %7s %10s %9s\n' proxy "median s" "min s" "max s" "GiB/s" "proxy CPU" "peak RSS"
fi
for t in "${P_TOOLS[@]}"; do
	if [ -n "${PBAD[$t]:-}" ] || [ -z "${PTIMES[$t]// /}" ]; then
		PMED[$t]=-
		printf '   %-9s %8s\n' "$t" FAILED
		FAILED=1
		continue
	fi
	# shellcheck disable=SC2086
	PMED[$t]=$(median ${PTIMES[$t]})
	# shellcheck disable=SC2086
	printf '   %-9s %8.3f %8.3f %8.3f %7s %10s %9s\n' "$t" "${PMED[$t]}" "$(fmin ${PTIMES[$t]})" "$(fmax ${PTIMES[$t]})" \
		"$(gibps "$N" "${PMED[$t]}")" "$(fmt_cpu "$(median ${PCPUS[$t]})")" "$(kib_to_mib "${PPEAK[$t]}") MiB"
done

# --- summary
echo
m() { echo "${MED[$1]:--}"; }
pm() { echo "${PMED[$1]:--}"; }
crate() { if [ "${CRATE[$1]:--}" = - ]; then echo FAILED; else echo "${CRATE[$1]}/s"; fi; }
cratio() { # A B: A's conns/s over B's
	if [ "${CRATE[$1]:--}" = - ] || [ "${CRATE[$2]:--}" = - ]; then echo n/a; return; fi
	awk -v a="${CRATE[$1]}" -v b="${CRATE[$2]}" 'BEGIN { printf "%.2f", a / b }'
}
cpu_ratio() {
	if [ "${ACPU[weir]:--}" = - ] || [ "${ACPU[ref]:--}" = - ]; then echo n/a; return; fi
	awk -v a="${ACPU[weir]}" -v b="${ACPU[ref]}" 'BEGIN { printf "%.2f", a / b }'
}
if [ ${#A_TOOLS[@]} -gt 0 ]; then
	head=""
	for t in "${A_TOOLS[@]}"; do head="$head, $t $(rate_of "$N" "$(m "$t")")"; done
	summary "tls   $(human "$N") x $ROUNDS: ${head#, }" \
		"$(ratio_line "  tls   weir/ref (throughput)" "$(ratio "$(m weir)" "$(m ref)")" 0.80)" \
		"$(ratio_line "  tls   weir/ref-mem (TLS ceiling)" "$(ratio "$(m weir)" "$(m ref-mem)")")" \
		"$(ratio_line "  tls   weir/socat (throughput)" "$(ratio "$(m weir)" "$(m socat)")" 1.50)" \
		"$(ratio_line "  tls   weir/socat-b64k" "$(ratio "$(m weir)" "$(m socat-b64k)")")" \
		"$(ratio_line "  tls   weir/openssl" "$(ratio "$(m weir)" "$(m openssl)")")"
	if [ -n "${MED[ncat]:-}" ]; then summary "$(ratio_line "  tls   weir/ncat" "$(ratio "$(m weir)" "$(m ncat)")")"; fi
	summary "$(le_line "  tls   CPU per GiB weir/ref" "$(cpu_ratio)" 1.20)   (weir ${ACPU[weir]:--} s, ref ${ACPU[ref]:--} s per GiB, both ends)"
	for t in "${A_TOOLS[@]}"; do
		if [ "${LOSTR[$t]}" != 0 ]; then summary "  tls   $t lost $((LOSTB[$t])) bytes in ${LOSTR[$t]} of ${RUNS[$t]} runs (not a failure for ncat)"; fi
	done
fi
if [ ${#B_TOOLS[@]} -gt 0 ]; then
	head=""
	for t in "${B_TOOLS[@]}"; do head="$head, $t $(crate "$t")"; done
	summary "tls-proxy $CONNS conns x $ROUNDS (socat $SOCAT_CONNS): ${head#, }" \
		"$(ratio_line "  tls-proxy weir/ref (conns/s)" "$(cratio weir ref)" 0.70)" \
		"$(ratio_line "  tls-proxy weir/socat-nodelay" "$(cratio weir socat-nd)" 2.00)" \
		"$(ratio_line "  tls-proxy weir/socat" "$(cratio weir socat)")"
fi
if [ ${#P_TOOLS[@]} -gt 0 ]; then
	head=""
	for t in "${P_TOOLS[@]}"; do head="$head, $t $(rate_of "$N" "$(pm "$t")")"; done
	if [ -n "${MED[ref]:-}" ]; then aref=$(rate_of "$N" "$(m ref)"); else aref="not run"; fi
	summary "tls-proxy bulk $(human "$N"): ${head#, }; (a) ref $aref" \
		"$(ratio_line "  tls-proxy bulk weir/ref (a)" "$(ratio "$(pm weir)" "$(m ref)")" 0.80)" \
		"$(ratio_line "  tls-proxy bulk weir/socat-nodelay" "$(ratio "$(pm weir)" "$(pm socat-nd)")")"
fi
fmt='%-34s %12s   %-16s %s'
for mo in "${I_MODES[@]}"; do
	if [ -z "${IPER[$mo]:-}" ]; then
		summary "tls-idle $mo: FAILED: ${IBAD[$mo]:-}"
		continue
	fi
	# shellcheck disable=SC2059
	summary "$(printf "$fmt" "tls-idle $IDLE_CONNS x $mo: RSS/conn" "${IPER[$mo]} KiB" "target < $TARGET_KIB KiB" \
		"$(awk -v p="${IPER[$mo]}" -v t=$TARGET_KIB 'BEGIN { print (p < t) ? "ok" : "MISSED" }')")"
	if [ "${INR[$mo]}" -gt 1 ]; then
		# shellcheck disable=SC2059
		summary "$(printf "$fmt" "  tls-idle $mo: growth, round 1 -> ${INR[$mo]}" "${IGROW[$mo]} KiB" "(RSS full)" "")"
	fi
	if [ -n "${IBAD[$mo]:-}" ]; then summary "  tls-idle FAILED $mo: ${IBAD[$mo]}"; fi
done
for t in "${A_TOOLS[@]}"; do if [ -n "${BAD[$t]:-}" ]; then summary "  tls   FAILED $t: ${BAD[$t]}"; fi; done
for t in "${B_TOOLS[@]}"; do if [ -n "${CBAD[$t]:-}" ]; then summary "  tls-proxy FAILED $t (conns): ${CBAD[$t]}"; fi; done
for t in "${P_TOOLS[@]}"; do if [ -n "${PBAD[$t]:-}" ]; then summary "  tls-proxy FAILED $t (bulk): ${PBAD[$t]}"; fi; done
exec {HOLD}>&-
exit "$FAILED"
