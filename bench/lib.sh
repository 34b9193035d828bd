# shellcheck shell=bash disable=SC2034
# Shared by bench/pipe.sh, tcp.sh, slow.sh, line.sh, fanin.sh, proxy.sh, socks.sh,
# idle.sh, tls.sh, udp.sh, ws.sh, fanout.sh, redis.sh and tcp2.sh (sourced,
# not run).

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
WEIR=${WEIR:-$BENCH_DIR/../weir}
ROUNDS=${ROUNDS:-3}
PY=${PYTHON:-python3}
HELPERS=$BENCH_DIR/helpers.py
# extra options for weir alone, e.g. WEIR_OPTS='--high-water 4M'
read -r -a WEIR_OPTS_A <<<"${WEIR_OPTS:-}"
export LC_ALL=C

# What a benchmark needs to run (the soak sets its own: it runs weir alone).
for _t in ${BENCH_NEEDS:-socat timeout "$PY"}; do
	command -v "$_t" >/dev/null || { echo "bench: $_t not found (apt-get install socat coreutils python3)" >&2; exit 2; }
done
[ -x /usr/bin/time ] || { echo "bench: /usr/bin/time not found (apt-get install time)" >&2; exit 2; }
if [ ! -x "$WEIR" ]; then
	echo "bench: $WEIR: not an executable (run make, or set WEIR=/path/to/weir)" >&2
	exit 2
fi
WEIR=$(cd "$(dirname "$WEIR")" && pwd)/$(basename "$WEIR")

TMP=$(mktemp -d "${TMPDIR:-/tmp}/weir-bench.XXXXXX")
# run a private copy, so that a rebuild during the run (make, make sanitize)
# cannot mix binaries
cp "$WEIR" "$TMP/weir"
WEIR_SRC=$WEIR
WEIR=$TMP/weir
if grep -qa -e __asan_init -e __ubsan_handle "$WEIR"; then
	_w="WARNING: $WEIR_SRC is a sanitizer build (make sanitize?); its figures mean little"
	echo "$_w"
	if [ -n "${SUMMARY:-}" ]; then echo "$_w" >>"$SUMMARY"; fi
fi
PIDS=()
FAILED=0

track() { PIDS+=("$1"); }

untrack() {
	local p keep=()
	for p in "${PIDS[@]+"${PIDS[@]}"}"; do [ "$p" = "$1" ] || keep+=("$p"); done
	PIDS=("${keep[@]+"${keep[@]}"}")
}

# wait_st PID: wait for PID, set WST to its exit status, stop tracking it
wait_st() {
	WST=0
	wait "$1" 2>/dev/null || WST=$?
	untrack "$1"
}

cleanup() {
	local p
	for p in "${PIDS[@]+"${PIDS[@]}"}"; do kill "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]+"${PIDS[@]}"}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

bytes() { "$PY" "$HELPERS" bytes "$1"; }
now() { date +%s.%N; }
fsub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.4f", a - b }'; }

# human SIZE_IN_BYTES
human() {
	awk -v b="$1" 'BEGIN {
		if (b >= 1073741824) printf "%.2f GiB", b / 1073741824;
		else if (b >= 1048576) printf "%.2f MiB", b / 1048576;
		else if (b >= 1024) printf "%.1f KiB", b / 1024;
		else printf "%d B", b }'
}

# weir_has OPTION: whether weir's --help mentions OPTION (a row such as
# weir-nosplice runs only where weir has the option)
weir_has() { "$WEIR" --help 2>&1 | grep -q -e "$1"; }

# set_cmd TOOL ENDPOINT_ARGS...: fill CMD with TOOL's command line
#   pipe: set_cmd weir - -         tcp: set_cmd weir - tcp:127.0.0.1:PORT
#   (cat, pv and mbuffer: stdin to stdout, ENDPOINT_ARGS unused)
set_cmd() {
	local tool=$1
	shift
	case $tool in
	cat) CMD=(cat) ;;
	weir) CMD=("$WEIR" "${WEIR_OPTS_A[@]+"${WEIR_OPTS_A[@]}"}" -u "$@") ;;
	weir-nosplice) CMD=("$WEIR" "${WEIR_OPTS_A[@]+"${WEIR_OPTS_A[@]}"}" --no-splice -u "$@") ;;
	pv) CMD=(pv -q) ;;
	mbuffer) CMD=(mbuffer -q) ;;
	socat) CMD=(socat -u "$@") ;;
	socat-b64k) CMD=(socat -b 65536 -u "$@") ;;
	ncat) # ENDPOINT_ARGS are "- tcp:HOST:PORT"
		local hp=${2#tcp:}
		CMD=(ncat --send-only "${hp%:*}" "${hp##*:}") ;;
	*) echo "bench: unknown tool $tool" >&2; exit 2 ;;
	esac
}

# rotate N I: print 0..N-1 starting at I mod N (each round starts with another tool)
rotate() {
	local n=$1 s=$(($2 % $1)) i
	for ((i = 0; i < n; i++)); do echo $(((s + i) % n)); done
}

# ratio A_SECONDS B_SECONDS: B/A, i.e. how many times faster A is than B
ratio() {
	if [ "$1" = - ] || [ "$2" = - ]; then echo n/a; return; fi
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b / a }'
}

# verdict RATIO OP TARGET -> "ok" / "MISSED"
verdict() {
	if [ "$1" = n/a ]; then echo "n/a"; return; fi
	awk -v r="$1" -v op="$2" -v t="$3" 'BEGIN {
		ok = (op == ">=") ? (r >= t) : (r <= t);
		print ok ? "ok" : "MISSED" }'
}

# median of the arguments
median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else printf "%.4f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
fmin() { printf '%s\n' "$@" | sort -g | head -n1; }
fmax() { printf '%s\n' "$@" | sort -g | tail -n1; }
# rate_of BYTES MEDIAN_OR_-: GiB/s, or FAILED
rate_of() { if [ "$2" = - ]; then echo FAILED; else echo "$(gibps "$1" "$2") GiB/s"; fi; }
gibps() { awk -v b="$1" -v s="$2" 'BEGIN { printf "%.2f", b / s / 1073741824 }'; }
# summary LINE...: append to the run.sh summary (if any) and print
summary() {
	local l
	for l in "$@"; do
		printf '%s\n' "$l"
		if [ -n "${SUMMARY:-}" ]; then printf '%s\n' "$l" >>"$SUMMARY"; fi
	done
}
kib_to_mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

# time_result FILE: RSS_KIB and CPU (user + system s) from the last line of
# a `/usr/bin/time -f '%M %U %S'` file; 0 when it is missing or odd.
time_result() {
	RSS_KIB=0 CPU_U=0 CPU_S=0
	if [ -s "$1" ]; then read -r RSS_KIB CPU_U CPU_S _ < <(tail -n1 "$1") || true; fi
	case $RSS_KIB in '' | *[!0-9]*) RSS_KIB=0 CPU_U=0 CPU_S=0 ;; esac
	CPU=$(awk -v u="${CPU_U:-0}" -v s="${CPU_S:-0}" 'BEGIN { printf "%.2f", u + s }')
}

# err_ctx: a non-empty ERR gains the command that ran and its stderr's start
err_ctx() {
	if [ -n "$ERR" ]; then
		if [ ${#CMD[@]} -gt 0 ]; then ERR="$ERR: ${CMD[*]/#"$WEIR"/"$WEIR_SRC"}"; fi
		if [ -s "$TMP/tool.err" ]; then ERR="$ERR; stderr: $(head -c 300 "$TMP/tool.err" | tr '\n' ' ')"; fi
	fi
}

# rounds_init PREFIX: empty the associative arrays PREFIX TIMES, CPUS, PEAK
# and BAD (e.g. CTIMES ... CBAD; the caller declares them) and set them up
# for each of TOOLS
rounds_init() {
	local t
	local -n _times=${1:-}TIMES _cpus=${1:-}CPUS _peak=${1:-}PEAK _bad=${1:-}BAD
	_times=() _cpus=() _peak=() _bad=()
	for t in "${TOOLS[@]}"; do _times[$t]=""; _cpus[$t]=""; _peak[$t]=0; done
}

# rounds LABEL PREFIX RECORD RUN [ARG...]: ROUNDS rounds of `RUN TOOL ARG...
# ROUND` for each of TOOLS, each round starting with another tool, leaving out
# the tools in PREFIX BAD (a run that failed before). RUN sets SECS, CPU and
# RSS_KIB, or ERR: ERR goes to PREFIX BAD and rules the tool out; else SECS
# and CPU are added to PREFIX TIMES and CPUS, PREFIX PEAK keeps the largest
# RSS_KIB (arrays by tool, set up by rounds_init) and `RECORD TOOL` (unless
# RECORD is -) accounts for the rest. Prints a line a round and one a
# failure; nothing at all when TOOLS is empty.
rounds() {
	local label=$1 record=$3 run=$4 r i t line
	# shellcheck disable=SC2178 # names of arrays
	local -n _times=${2}TIMES _cpus=${2}CPUS _peak=${2}PEAK _bad=${2}BAD
	shift 4
	[ ${#TOOLS[@]} -gt 0 ] || return 0
	for ((r = 1; r <= ROUNDS; r++)); do
		line="   ${label}round $r:"
		for i in $(rotate ${#TOOLS[@]} $((r - 1))); do
			t=${TOOLS[$i]}
			[ -z "${_bad[$t]:-}" ] || continue
			"$run" "$t" "$@" "$r"
			if [ -n "$ERR" ]; then
				_bad[$t]=$ERR
				echo "   ${label}round $r $t FAILED: $ERR"
				continue
			fi
			_times[$t]="${_times[$t]} $SECS"
			_cpus[$t]="${_cpus[$t]} $CPU"
			[ "$RSS_KIB" -le "${_peak[$t]}" ] || _peak[$t]=$RSS_KIB
			[ "$record" = - ] || "$record" "$t"
			line="$line  $t $SECS s"
		done
		echo "$line"
	done
}

# bulk_rounds RUN WARM_BYTES BYTES [LABEL [PREFIX]]: for each of TOOLS, an
# untimed warm-up `RUN TOOL WARM_BYTES` (a failure rules the tool out), then
# ROUNDS rounds of `RUN TOOL BYTES ROUND` (see rounds). RUN sets SECS, CPU
# and RSS_KIB, or ERR. Fills TIMES, CPUS, PEAK and BAD by tool (with PREFIX
# before each name, e.g. PTIMES, when given).
bulk_rounds() {
	local run=$1 warm=$2 n=$3 label=${4:-} p=${5:-} t
	local -n _wbad=${p}BAD
	rounds_init "$p"
	for t in "${TOOLS[@]}"; do
		"$run" "$t" "$warm"
		if [ -n "$ERR" ]; then _wbad[$t]=$ERR; echo "   ${label}warm-up $t FAILED: $ERR"; fi
	done
	rounds "$label" "$p" - "$run" "$n"
}

# conns_rounds RUN [LABEL]: ROUNDS rounds of `RUN TOOL ROUND` for each of
# TOOLS (see rounds), no warm-up. RUN sets SECS, P50, P99 (ms), CPU and
# RSS_KIB, or ERR. Fills CTIMES, CP50, CP99, CCPUS, CPEAK and CBAD by tool.
conns_rounds() {
	local t
	rounds_init C
	CP50=() CP99=()
	for t in "${TOOLS[@]}"; do CP50[$t]=""; CP99[$t]=""; done
	rounds "${2:-}" C conns_record "$1"
}

# conns_record TOOL: conns_rounds' RECORD, the run's latencies
conns_record() {
	CP50[$1]="${CP50[$1]} $P50"
	CP99[$1]="${CP99[$1]} $P99"
}

# failed_row TOOL WIDTH: when TOOL's runs failed (or none ran), print its
# table row as FAILED, mark the script failed and return 0; else 1.
failed_row() {
	if [ -z "${BAD[$1]:-}" ] && [ -n "${TIMES[$1]// /}" ]; then
		return 1
	fi
	MED[$1]=-
	printf "   %-${2}s %9s\n" "$1" FAILED
	FAILED=1
}

# The connection tables' cells: CONNS / median s, ms, a tool's CPU and
# RSS ("-" for direct), a rate or FAILED.
cps() { awk -v n="$CONNS" -v s="$1" 'BEGIN { printf "%.0f", n / s }'; }
ms() { awk -v s="$1" 'BEGIN { printf "%.3f", s }'; }
showcpu() { if [ "$1" = direct ]; then echo -; else awk -v c="$2" 'BEGIN { printf "%.2f", c }'; fi; }
showrss() { if [ "$1" = direct ]; then echo -; else echo "$(kib_to_mib "$2") MiB"; fi; }
crate() { if [ "${CMED[$1]}" = - ]; then echo FAILED; else echo "$(cps "${CMED[$1]}") conns/s"; fi; }

# conns_table HEADING: the table of conns_rounds' figures, one row per
# tool (CMED set, "-" for a failed one)
conns_table() {
	local t
	printf '   %-13s %9s %9s %9s %8s %8s %8s %10s %9s\n' "$1" "median s" "min s" "max s" "conns/s" "p50 ms" "p99 ms" \
		"tool CPU s" "peak RSS"
	for t in "${TOOLS[@]}"; do
		if [ -n "${CBAD[$t]:-}" ] || [ -z "${CTIMES[$t]// /}" ]; then
			CMED[$t]=-
			printf '   %-13s %9s\n' "$t" FAILED
			FAILED=1
			continue
		fi
		# shellcheck disable=SC2086
		CMED[$t]=$(median ${CTIMES[$t]})
		# shellcheck disable=SC2086
		printf '   %-13s %9.3f %9.3f %9.3f %8s %8s %8s %10s %9s\n' "$t" "${CMED[$t]}" "$(fmin ${CTIMES[$t]})" \
			"$(fmax ${CTIMES[$t]})" "$(cps "${CMED[$t]}")" "$(ms "$(median ${CP50[$t]})")" \
			"$(ms "$(median ${CP99[$t]})")" "$(showcpu "$t" "$(median ${CCPUS[$t]})")" "$(showrss "$t" "${CPEAK[$t]}")"
	done
}

# bulk_table BYTES HEADING [per-gib]: the table of what bulk_rounds
# measured; sets MED (the median seconds, or - for a tool that failed). A
# tool measured without /usr/bin/time (peak 0) shows - for CPU and RSS.
# per-gib adds a column: the tool's CPU seconds per GiB carried.
bulk_table() {
	local n=$1 t cpu rss pg=${3:-} cpg h=""
	if [ "$pg" = per-gib ]; then h=$(printf ' %10s' "CPU s/GiB"); fi
	printf '   %-13s %9s %9s %9s %8s %10s%s %9s\n' "$2" "median s" "min s" "max s" "GiB/s" "tool CPU s" "$h" "peak RSS"
	for t in "${TOOLS[@]}"; do
		if failed_row "$t" 13; then continue; fi
		# shellcheck disable=SC2086
		MED[$t]=$(median ${TIMES[$t]})
		cpu=- rss=- cpg=-
		if [ "${PEAK[$t]}" != 0 ]; then
			# shellcheck disable=SC2086
			cpu=$(median ${CPUS[$t]})
			rss="$(kib_to_mib "${PEAK[$t]}") MiB"
			cpg=$(awk -v c="$cpu" -v b="$n" 'BEGIN { printf "%.3f", c / (b / 1073741824) }')
		fi
		h=""
		if [ "$pg" = per-gib ]; then h=$(printf ' %10s' "$cpg"); fi
		# shellcheck disable=SC2086
		printf '   %-13s %9.3f %9.3f %9.3f %8s %10s%s %9s\n' "$t" "${MED[$t]}" "$(fmin ${TIMES[$t]})" \
			"$(fmax ${TIMES[$t]})" "$(gibps "$n" "${MED[$t]}")" "$cpu" "$h" "$rss"
	done
}

# haproxy_cfg FILE PORT UPSTREAM_PORT [NBTHREAD]: a config for `haproxy -f
# FILE -db` (foreground): a TCP proxy from 127.0.0.1:PORT to
# 127.0.0.1:UPSTREAM_PORT, splicing both ways through 256 KiB pipes (faster
# here than splice-auto or 64 KiB pipes); NBTHREAD threads, or haproxy's
# default (one per CPU) without it
haproxy_cfg() {
	{
		echo global
		if [ -n "${4:-}" ]; then printf '\tnbthread %s\n' "$4"; fi
		printf '\t%s\n' "maxconn 4096" "tune.pipesize 262144"
		echo defaults
		printf '\t%s\n' "mode tcp" "option splice-request" "option splice-response" \
			"timeout connect 5s" "timeout client 60s" "timeout server 60s"
		echo "listen relay"
		printf '\t%s\n' "bind 127.0.0.1:$2" "server up 127.0.0.1:$3"
	} >"$1"
}

# start_proxy TOOL UPSTREAM_PORT: start a TCP proxy to 127.0.0.1:UPSTREAM_PORT
# with start_timed (weir, weir-nosplice, socat, haproxy, haproxy-1t; direct:
# none). Sets PORT (where clients connect), TP (the /usr/bin/time wrapper's
# PID, for stop_server), CMD; or ERR
start_proxy() {
	local tool=$1 up=$2
	ERR='' TP='' CMD=() PORT=''
	rm -f "$TMP/ready" "$TMP/spid" "$TMP/rss" "$TMP/tool.err"
	if [ "$tool" = direct ]; then
		PORT=$up
		return
	fi
	case $tool in
	weir)
		CMD=("$WEIR" "${WEIR_OPTS_A[@]+"${WEIR_OPTS_A[@]}"}" -k --ready-file "$TMP/ready"
			tcp-listen:127.0.0.1:0 "tcp:127.0.0.1:$up") ;;
	weir-nosplice)
		CMD=("$WEIR" "${WEIR_OPTS_A[@]+"${WEIR_OPTS_A[@]}"}" --no-splice -k --ready-file "$TMP/ready"
			tcp-listen:127.0.0.1:0 "tcp:127.0.0.1:$up") ;;
	socat)
		PORT=$("$PY" "$HELPERS" freeport)
		# backlog: socat's default (5) drops the SYNs of 50 clients connecting at once
		CMD=(socat "tcp-listen:$PORT,bind=127.0.0.1,fork,reuseaddr,backlog=1024" "tcp:127.0.0.1:$up") ;;
	haproxy | haproxy-1t)
		PORT=$("$PY" "$HELPERS" freeport)
		haproxy_cfg "$TMP/haproxy.cfg" "$PORT" "$up" "$([ "$tool" = haproxy-1t ] && echo 1)"
		CMD=(haproxy -f "$TMP/haproxy.cfg" -db) ;;
	*) echo "bench: unknown proxy $tool" >&2; exit 2 ;;
	esac
	start_listening "$([ "${tool%-nosplice}" = weir ] && echo ready)"
}

# start_listening [ready]: start CMD (start_timed), then wait until it
# listens: its ready file ($TMP/ready) says PORT, or PORT is listening;
# sets ERR when it does not within 10 s
start_listening() {
	start_timed /dev/null
	if [ "${1:-}" = ready ]; then
		"$PY" "$HELPERS" waitfile "$TMP/ready" 10 2>/dev/null && PORT=$(ready_port "$TMP/ready") ||
			ERR="no ready file within 10 s"
	else
		"$PY" "$HELPERS" waitlisten "$PORT" 10 2>/dev/null || ERR="not listening on $PORT within 10 s"
	fi
	if [ -n "$ERR" ]; then
		if kill -0 "$TP" 2>/dev/null; then
			ERR="$ERR (still running)"
		else
			wait_st "$TP"
			ERR="$ERR (exited, status $WST)"
			TP=''
		fi
	fi
}

# ratio_line LABEL RATIO [TARGET]: one summary line, "target >= TARGET ok|MISSED"
ratio_line() {
	local target="(no target)" v=""
	if [ -n "${3:-}" ]; then target="target >= $3"; v=$(verdict "$2" '>=' "$3"); fi
	printf '%-34s %6s   %-14s %s' "$1" "$2" "$target" "$v"
}

# ready_port FILE: the port of a weir --ready-file line (tcp:127.0.0.1:PORT,
# tls:127.0.0.1:PORT,pin=...)
ready_port() { sed -n '1s/^[^:]*:[^:]*:\([0-9][0-9]*\).*/\1/p' "$1"; }

# stop_pid PID (a timeout wrapper, a helper) and reap it
stop_pid() {
	kill "$1" 2>/dev/null || true
	wait_st "$1"
}

# start_timed STDIN: start the server CMD in the background under
# /usr/bin/time (its figures to $TMP/rss; CMD's own PID to $TMP/spid), stdin
# from STDIN, stdout to /dev/null, stderr to $TMP/tool.err; sets TP (the
# /usr/bin/time wrapper's PID) for stop_server
start_timed() {
	# shellcheck disable=SC2016 # $$ and $@ are for sh
	/usr/bin/time -f '%M %U %S' -o "$TMP/rss" \
		sh -c 'echo $$ >"$0"; exec "$@"' "$TMP/spid" "${CMD[@]}" <"$1" >/dev/null 2>"$TMP/tool.err" &
	TP=$!; track "$TP"
}

# term_wait PID WAIT_PID SECONDS: SIGTERM to PID (none if empty), then wait
# for WAIT_PID (PID, or a wrapper of it) to exit, SECONDS at most, else
# SIGKILL to PID and ERR says so (unless ERR is set); sets WST (WAIT_PID's
# exit status)
term_wait() {
	local pid=$1 wp=$2 i
	if [ -n "$pid" ]; then kill -TERM "$pid" 2>/dev/null || true; fi
	for ((i = 0; i < $3 * 20; i++)); do
		kill -0 "$wp" 2>/dev/null || break
		sleep 0.05
	done
	if kill -0 "$wp" 2>/dev/null; then
		[ -n "$ERR" ] || ERR="still running $3 s after SIGTERM (hang?)"
		if [ -n "$pid" ]; then kill -KILL "$pid" 2>/dev/null || true; fi
	fi
	wait_st "$wp"
}

# term_status: ERR (unless set) if term_wait's WST is other than 0 or 143
term_status() {
	if [ -z "$ERR" ] && [ "$WST" != 0 ] && [ "$WST" != 143 ]; then ERR="exit status $WST after SIGTERM"; fi
}

# stop_server: stop the server start_timed started (none when TP is empty)
# with term_wait, 5 s at most; sets PST (its exit status), RSS_KIB, CPU, and
# ERR as term_wait and term_status do
stop_server() {
	RSS_KIB=0 CPU=0 PST=0
	[ -n "$TP" ] || return 0
	term_wait "$(cat "$TMP/spid" 2>/dev/null || true)" "$TP" 5
	term_status
	PST=$WST TP=
	time_result "$TMP/rss"
}

# sink_run SINK_PID COUNTFILE BYTES SENDER...: time SENDER (TMO s at most,
# stderr to $TMP/send.err) from its start until the sink SINK_PID, which
# writes the bytes it got to COUNTFILE, exits; sets SECS, or ERR if the sink
# hangs, got other than BYTES, or either exits non-zero. With ERR set
# already (no server to send through) it only stops the sink.
sink_run() {
	local kp=$1 count=$2 n=$3 sp ss sk got t0 t1
	shift 3
	SECS=0
	if [ -n "$ERR" ]; then
		stop_pid "$kp"
		return
	fi
	t0=$(now)
	timeout -k 5 "$TMO" "$@" 2>"$TMP/send.err" &
	sp=$!; track "$sp"
	wait_st "$kp"; sk=$WST
	t1=$(now)
	wait_st "$sp"; ss=$WST
	SECS=$(fsub "$t1" "$t0")
	got=$(cat "$count" 2>/dev/null || echo "?")
	if [ "$sk" = 124 ] || [ "$sk" = 137 ]; then
		ERR="the sink never saw EOF within ${TMO}s (hang?)"
	elif [ "$got" != "$n" ]; then
		ERR="sink got $got bytes of $n"
	elif [ "$ss" != 0 ] || [ "$sk" != 0 ]; then
		ERR="sender/sink status $ss/$sk$([ -s "$TMP/send.err" ] && echo ": $(tail -n1 "$TMP/send.err")")"
	fi
}

# conns_result STATUS N [STDERR_FILE]: what the connection client (conns.c,
# tlsref conns, helpers.py conns) that exited with STATUS wrote to $TMP/res,
# "secs p50_ms p99_ms ok errors first-error"; sets SECS P50 P99, or ERR
# unless it echoed all N connections without an error. The start of
# STDERR_FILE (if given) goes with a bad exit status.
conns_result() {
	local ok nerr first
	if [ "$1" = 124 ] || [ "$1" = 137 ]; then
		ERR="the client did not finish within ${TMO}s (hang?)"
	elif [ "$1" != 0 ] || [ ! -s "$TMP/res" ]; then
		ERR="client exit status $1${3:+: $(head -c 200 "$3")}"
	else
		read -r SECS P50 P99 ok nerr first <"$TMP/res"
		if [ "$nerr" != 0 ] || [ "$ok" != "$2" ]; then
			ERR="$ok of $2 connections echoed, $nerr errors (first: $first)"
		fi
	fi
}

# raise_nofile N: raise the open files limit (ulimit -n) as far as the hard
# limit allows, to 65536 at most; fails when it stays below N + 64 (what a
# process holding N connections needs). Sets HARD_NOFILE (ulimit -Hn).
raise_nofile() {
	local want=65536
	HARD_NOFILE=$(ulimit -Hn)
	if [ "$HARD_NOFILE" != unlimited ] && [ "$HARD_NOFILE" -lt "$want" ]; then want=$HARD_NOFILE; fi
	ulimit -n "$want" 2>/dev/null || true
	[ "$(ulimit -n)" = unlimited ] || [ "$(ulimit -n)" -ge $(($1 + 64)) ]
}

# idle_run STDIN HOW CLIENT...: start the weir CMD (with --ready-file
# $TMP/ready; stdin from STDIN, stdout to /dev/null, stderr to
# $TMP/tool.err), let `CLIENT... PID PORT IDLE_CONNS ROUNDS $TMP/res HOW`
# (helpers.py idle, tlsref idle) open, check and close its idle connections
# ROUNDS times, stop weir with term_wait (10 s at most). Sets FRESH (KiB),
# HWM, the per-round arrays R_* from the client's result, or ERR: weir
# exited during the run, hung, exited other than 0 or 143; the client
# failed; a round where not every connection was opened and held, weir
# closed (or wrote to) one, or kept one the client closed.
idle_run() {
	local in=$1 how=$2 wp cp port k a b c d e f g h j x
	shift 2
	rm -f "$TMP/ready" "$TMP/res" "$TMP/tool.err"
	R_N=() R_HELD=() R_CLOSED=() R_BEFORE=() R_FULL=() R_AFTER=() R_LEFT=() R_OPEN=()
	FRESH=0 HWM=0 ERR=
	"${CMD[@]}" <"$in" >/dev/null 2>"$TMP/tool.err" &
	wp=$!; track "$wp"
	"$PY" "$HELPERS" waitfile "$TMP/ready" 10 && port=$(ready_port "$TMP/ready") || ERR="no ready file"
	if [ -z "$ERR" ]; then
		timeout -k 5 $((ROUNDS * 120 + 60)) "$@" "$wp" "$port" "$IDLE_CONNS" "$ROUNDS" "$TMP/res" "$how" \
			2>"$TMP/client.err" &
		cp=$!; track "$cp"
		wait_st "$cp"
		if [ "$WST" != 0 ]; then ERR="client exit status $WST: $(tail -n 3 "$TMP/client.err" | tr '\n' ' ')"; fi
	fi
	if ! kill -0 "$wp" 2>/dev/null; then
		[ -n "$ERR" ] || ERR="weir exited during the run"
	fi
	term_wait "$wp" "$wp" 10
	term_status
	if [ -s "$TMP/res" ]; then
		while read -r k a b c d e f g h j x; do
			case $k in
			fresh) FRESH=$a ;;
			hwm) HWM=$a ;;
			round)
				R_N+=("$b") R_HELD+=("$c") R_CLOSED+=("$d") R_BEFORE+=("$e") R_FULL+=("$f")
				R_AFTER+=("$g") R_LEFT+=("$h") R_OPEN+=("$j")
				if [ -z "$ERR" ]; then
					# x: the client's errors and its first error (- for none)
					if [ "$b" != "$IDLE_CONNS" ]; then
						ERR="round $a: the client opened $b of $IDLE_CONNS connections (${x#* })"
					elif [ "$c" -lt "$IDLE_CONNS" ]; then
						ERR="round $a: weir holds $c of $IDLE_CONNS connections (after 30 s, or 5 s without a change)"
					elif [ "$d" != 0 ]; then
						ERR="round $a: weir closed (or wrote to) $d of the idle connections"
						[ "${x#* }" = - ] || ERR="$ERR (${x#* })"
					elif [ "$h" != 0 ]; then
						ERR="round $a: weir still holds $h of them (the client closed them all; waited until 5 s without a change)"
					fi
				fi ;;
			esac
		done <"$TMP/res"
	elif [ -z "$ERR" ]; then
		ERR="no client result"
	fi
	err_ctx
}

# per_conn RSS_KIB FRESH_KIB: KiB per idle connection, (RSS - FRESH) / IDLE_CONNS
per_conn() { awk -v a="$1" -v b="$2" -v n="$IDLE_CONNS" 'BEGIN { printf "%.2f", (a - b) / n }'; }

# idle_table: idle_run's rounds, a line each (RSS per connection over the
# fresh weir), and weir's peak RSS
idle_table() {
	local i
	printf '   %5s %7s %7s %12s %12s %12s %13s %8s\n' round opened held "RSS before" "RSS full" "RSS closed" "KiB per conn" "open s"
	for ((i = 0; i < ${#R_N[@]}; i++)); do
		printf '   %5d %7d %7d %8d KiB %8d KiB %8d KiB %13s %8s\n' $((i + 1)) "${R_N[$i]}" "${R_HELD[$i]}" \
			"${R_BEFORE[$i]}" "${R_FULL[$i]}" "${R_AFTER[$i]}" "$(per_conn "${R_FULL[$i]}" "$FRESH")" "${R_OPEN[$i]}"
	done
	[ "$HWM" = 0 ] || echo "   peak (VmHWM): $HWM KiB"
}
