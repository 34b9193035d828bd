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

for _t in socat timeout "$PY"; do
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
