# shellcheck shell=bash disable=SC2034
# Shared by bench/pipe.sh, tcp.sh, slow.sh, line.sh, fanin.sh, proxy.sh and
# idle.sh (sourced, not run).

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

# set_cmd TOOL ENDPOINT_ARGS...: fill CMD with TOOL's command line
#   pipe: set_cmd weir - -         tcp: set_cmd weir - tcp:127.0.0.1:PORT
set_cmd() {
	local tool=$1
	shift
	case $tool in
	cat) CMD=(cat) ;;
	weir) CMD=("$WEIR" "${WEIR_OPTS_A[@]+"${WEIR_OPTS_A[@]}"}" -u "$@") ;;
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

# bulk_rounds RUN WARM_BYTES BYTES [LABEL]: for each of TOOLS, an untimed
# warm-up `RUN TOOL WARM_BYTES` (a failure rules the tool out), then ROUNDS
# rounds of `RUN TOOL BYTES`, each round starting with another tool. RUN sets
# SECS, CPU and RSS_KIB, or ERR. Fills TIMES, CPUS, PEAK and BAD by tool.
bulk_rounds() {
	local run=$1 warm=$2 n=$3 label=${4:-} r i t line
	TIMES=() CPUS=() PEAK=() BAD=()
	for t in "${TOOLS[@]}"; do TIMES[$t]=""; CPUS[$t]=""; PEAK[$t]=0; done
	for t in "${TOOLS[@]}"; do
		"$run" "$t" "$warm"
		if [ -n "$ERR" ]; then BAD[$t]=$ERR; echo "   ${label}warm-up $t FAILED: $ERR"; fi
	done
	for ((r = 1; r <= ROUNDS; r++)); do
		line="   ${label}round $r:"
		for i in $(rotate ${#TOOLS[@]} $((r - 1))); do
			t=${TOOLS[$i]}
			[ -z "${BAD[$t]:-}" ] || continue
			"$run" "$t" "$n"
			if [ -n "$ERR" ]; then
				BAD[$t]=$ERR
				echo "   ${label}round $r $t FAILED: $ERR"
				continue
			fi
			TIMES[$t]="${TIMES[$t]} $SECS"
			CPUS[$t]="${CPUS[$t]} $CPU"
			[ "$RSS_KIB" -le "${PEAK[$t]}" ] || PEAK[$t]=$RSS_KIB
			line="$line  $t $SECS s"
		done
		echo "$line"
	done
}

# bulk_table BYTES HEADING: the table of what bulk_rounds measured; sets MED
# (the median seconds, or - for a tool that failed). A tool measured without
# /usr/bin/time (peak 0) shows - for CPU and RSS.
bulk_table() {
	local n=$1 t cpu rss
	printf '   %-12s %9s %9s %9s %8s %10s %9s\n' "$2" "median s" "min s" "max s" "GiB/s" "tool CPU s" "peak RSS"
	for t in "${TOOLS[@]}"; do
		if [ -n "${BAD[$t]:-}" ] || [ -z "${TIMES[$t]// /}" ]; then
			MED[$t]=-
			printf '   %-12s %9s\n' "$t" FAILED
			FAILED=1
			continue
		fi
		# shellcheck disable=SC2086
		MED[$t]=$(median ${TIMES[$t]})
		cpu=- rss=-
		if [ "${PEAK[$t]}" != 0 ]; then
			# shellcheck disable=SC2086
			cpu=$(median ${CPUS[$t]})
			rss="$(kib_to_mib "${PEAK[$t]}") MiB"
		fi
		# shellcheck disable=SC2086
		printf '   %-12s %9.3f %9.3f %9.3f %8s %10s %9s\n' "$t" "${MED[$t]}" "$(fmin ${TIMES[$t]})" \
			"$(fmax ${TIMES[$t]})" "$(gibps "$n" "${MED[$t]}")" "$cpu" "$rss"
	done
}

# ratio_line LABEL RATIO [TARGET]: one summary line, "target >= TARGET ok|MISSED"
ratio_line() {
	local target="(no target)" v=""
	if [ -n "${3:-}" ]; then target="target >= $3"; v=$(verdict "$2" '>=' "$3"); fi
	printf '%-34s %6s   %-14s %s' "$1" "$2" "$target" "$v"
}
