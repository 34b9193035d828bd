#!/usr/bin/env bash
# bench/line.sh: the line and netstring codecs. SIZE bytes of 32-byte lines
# (31 hex digits + LF), read from a file in the page cache, through
#
#   cat                                      (the floor: no parsing)
#   awk 1                                    (whichever awk is installed)
#   weir -u -p line - -                      line -> line
#   weir -u -p line - -,proto=netstring      line -> netstring ("31:...,")
#   weir -u -p netstring - -,proto=line      netstring -> line (fed the same
#                                            lines as netstrings)
#
#   cat FILE | TOOL | wc -c
#
# The same producer and consumer for every tool; the whole pipeline is timed
# and the throughput is of the input consumed. Every run's output byte count
# is checked (line -> line and netstring -> line: the line file's size;
# line -> netstring: lines x 35), and a short warm-up compares the outputs
# byte for byte.
# Env: SIZE (1G, rounded down to whole MiB), ROUNDS (3), WEIR (../weir),
#      WEIR_OPTS, TIMEOUT (s per run).
set -eu
. "$(dirname "$0")/lib.sh"

SIZE=${SIZE:-1G}
TOOLS=(cat awk weir-ll weir-ln weir-nl)
declare -A LABEL=([cat]="cat" [awk]="awk 1" [weir-ll]="weir line->line"
	[weir-ln]="weir line->netstr" [weir-nl]="weir netstr->line")
WARM_MIB=16

AWK_PATH=$(command -v awk || true)
[ -n "$AWK_PATH" ] || { echo "bench: awk not found" >&2; exit 2; }
AWK_REAL=$(readlink -f "$AWK_PATH")
AWK_VER=$(awk -W version 2>/dev/null </dev/null | head -n1 || true)
[ -n "$AWK_VER" ] || AWK_VER=$(awk --version 2>/dev/null </dev/null | head -n1 || true)
AWK_NAME="$(basename "$AWK_REAL") (${AWK_VER:-version unknown})"

# generate the inputs once: lines and the same lines as netstrings
N_REQ=$(bytes "$SIZE")
MIB=$((N_REQ >> 20))
[ "$MIB" -ge 1 ] || { echo "bench: SIZE must be at least 1M" >&2; exit 2; }
need_kib=$(((MIB * 35 / 32 + MIB + 2 * WARM_MIB * 3) * 1024))
avail_kib=$(df -Pk "$TMP" | awk 'NR == 2 { print $4 }')
if [ -n "$avail_kib" ] && [ "$avail_kib" -lt "$need_kib" ]; then
	echo "bench: $TMP: $((avail_kib / 1024)) MiB free, the inputs need $((need_kib / 1024)) MiB (set TMPDIR or a smaller SIZE)" >&2
	exit 2
fi
LINES_F=$TMP/lines
NS_F=$TMP/netstrings
read -r NLINES N NS_N < <("$PY" "$HELPERS" lines "$((MIB << 20))" "$LINES_F" "$NS_F")
if [ "$N" != "$(stat -c %s "$LINES_F")" ] || [ "$NS_N" != "$(stat -c %s "$NS_F")" ]; then
	echo "bench: generating the inputs failed" >&2
	exit 2
fi
# line -> netstring: each 32-byte line (31 + LF) becomes "31:" + 31 + ","
LN_OUT=$((NLINES * (3 + 31 + 1)))
[ "$LN_OUT" = "$NS_N" ] || { echo "bench: netstring file is $NS_N bytes, expected $LN_OUT" >&2; exit 2; }
TMO=${TIMEOUT:-$((NS_N / 10000000 + 60))}

# small copies for the warm-up, whose outputs are compared byte for byte
W_LINES=$((WARM_MIB < MIB ? WARM_MIB : MIB))
head -c $((W_LINES << 20)) "$LINES_F" >"$TMP/w.lines"
head -c $((W_LINES * 32768 * 35)) "$NS_F" >"$TMP/w.netstrings"

# tool_cmd TOOL: fill CMD, IN (input file), IN_N (its size) and OUT_N (the
# expected output size) for the full-size run
tool_cmd() {
	local w=("$WEIR" "${WEIR_OPTS_A[@]+"${WEIR_OPTS_A[@]}"}" -u)
	IN=$LINES_F IN_N=$N OUT_N=$N
	case $1 in
	cat) CMD=(cat) ;;
	awk) CMD=(awk 1) ;;
	weir-ll) CMD=("${w[@]}" -p line - -) ;;
	weir-ln) CMD=("${w[@]}" -p line - "-,proto=netstring") OUT_N=$LN_OUT ;;
	weir-nl) CMD=("${w[@]}" -p netstring - "-,proto=line") IN=$NS_F IN_N=$NS_N ;;
	*) echo "bench: unknown tool $1" >&2; exit 2 ;;
	esac
}

# run_once TOOL [warm]: sets SECS CPU_U CPU_S RSS_KIB, or ERR (empty when fine)
run_once() {
	local tool=$1 warm=${2:-} t0 t1 pp tp cp sp st sc got in exp exp_n
	tool_cmd "$tool"
	in=$IN exp_n=$OUT_N exp=
	if [ -n "$warm" ]; then
		case $tool in
		weir-ln) in=$TMP/w.lines exp=$TMP/w.netstrings ;;
		weir-nl) in=$TMP/w.netstrings exp=$TMP/w.lines ;;
		*) in=$TMP/w.lines exp=$TMP/w.lines ;;
		esac
		exp_n=$(stat -c %s "$exp")
	fi
	rm -f "$TMP/a" "$TMP/b" "$TMP/res" "$TMP/count" "$TMP/tool.err" "$TMP/cmp.err"
	mkfifo "$TMP/a" "$TMP/b"
	t0=$(now)
	cat "$in" >"$TMP/a" &
	pp=$!; track $pp
	timeout -k 5 "$TMO" /usr/bin/time -f '%M %U %S %e' -o "$TMP/res" "${CMD[@]}" <"$TMP/a" >"$TMP/b" 2>"$TMP/tool.err" &
	tp=$!; track $tp
	if [ -n "$warm" ]; then
		cmp - "$exp" <"$TMP/b" >"$TMP/cmp.err" 2>&1 &
	else
		wc -c <"$TMP/b" >"$TMP/count" &
	fi
	cp=$!; track $cp
	wait_st $pp; sp=$WST
	wait_st $tp; st=$WST
	wait_st $cp; sc=$WST
	t1=$(now)
	SECS=$(fsub "$t1" "$t0")
	RSS_KIB=0 CPU_U=0 CPU_S=0
	if [ -s "$TMP/res" ]; then read -r RSS_KIB CPU_U CPU_S _ <"$TMP/res" || true; fi
	case $RSS_KIB in '' | *[!0-9]*) RSS_KIB=0 CPU_U=0 CPU_S=0 ;; esac
	got=
	if [ -z "$warm" ]; then got=$(tr -dc 0-9 <"$TMP/count" 2>/dev/null || true); fi
	ERR=
	if [ "$st" = 124 ] || [ "$st" = 137 ]; then
		ERR="timed out after ${TMO}s (hang?)"
	elif [ "$st" != 0 ]; then
		ERR="exit status $st"
	elif [ -n "$warm" ] && [ "$sc" != 0 ]; then
		ERR="output differs from the expected $(human "$exp_n"): $(head -c 200 "$TMP/cmp.err" | tr '\n' ' ')"
	elif [ -z "$warm" ] && [ "$got" != "$exp_n" ]; then
		ERR="output is ${got:-?} bytes, expected $exp_n"
	elif [ "$sp" != 0 ] || [ "$sc" != 0 ]; then
		ERR="producer/consumer status $sp/$sc"
	fi
	if [ -n "$ERR" ] && [ -n "$warm" ] && [ "$sc" != 0 ] && [ "${ERR#output differs}" = "$ERR" ]; then
		ERR="$ERR (cmp: $(head -c 200 "$TMP/cmp.err" | tr '\n' ' '))"
	fi
	if [ -n "$ERR" ]; then
		ERR="$ERR: ${CMD[*]/#"$WEIR"/"$WEIR_SRC"}"
		if [ -s "$TMP/tool.err" ]; then ERR="$ERR; stderr: $(head -c 300 "$TMP/tool.err" | tr '\n' ' ')"; fi
	fi
}

echo "== line: $(human "$N") of 32-byte lines ($NLINES lines; $(human "$NS_N") as netstrings), $ROUNDS rounds"
echo "   cat FILE | TOOL | wc -c   (weir: $WEIR_SRC; awk: $AWK_PATH -> $AWK_NAME)"

declare -A TIMES=() CPUU=() CPUS=() PEAK=() BAD=()
for t in "${TOOLS[@]}"; do TIMES[$t]=""; CPUU[$t]=""; CPUS[$t]=""; PEAK[$t]=0; done

# warm-up and exact check: the first W_LINES MiB, untimed; pulls the inputs
# into the page cache too
cat "$LINES_F" "$NS_F" >/dev/null
for t in "${TOOLS[@]}"; do
	run_once "$t" warm
	if [ -n "$ERR" ]; then BAD[$t]=$ERR; echo "   warm-up $t FAILED: $ERR"; fi
done

for ((r = 1; r <= ROUNDS; r++)); do
	line="   round $r:"
	for i in $(rotate ${#TOOLS[@]} $((r - 1))); do
		t=${TOOLS[$i]}
		[ -z "${BAD[$t]:-}" ] || continue
		run_once "$t"
		if [ -n "$ERR" ]; then
			BAD[$t]=$ERR
			echo "   round $r $t FAILED: $ERR"
			continue
		fi
		TIMES[$t]="${TIMES[$t]} $SECS"
		CPUU[$t]="${CPUU[$t]} $CPU_U"
		CPUS[$t]="${CPUS[$t]} $CPU_S"
		[ "$RSS_KIB" -le "${PEAK[$t]}" ] || PEAK[$t]=$RSS_KIB
		line="$line  $t $SECS s"
	done
	echo "$line"
done

# per_gib SECONDS BYTES: seconds per GiB of input
per_gib() { awk -v s="$1" -v b="$2" 'BEGIN { printf "%.3f", s * 1073741824 / b }'; }

echo
printf '   %-18s %9s %9s %9s %9s %8s %11s %11s %9s\n' tool input "median s" "min s" "max s" "GiB/s" "user s/GiB" "sys s/GiB" "peak RSS"
declare -A MED=()
for t in "${TOOLS[@]}"; do
	tool_cmd "$t"
	if [ -n "${BAD[$t]:-}" ] || [ -z "${TIMES[$t]// /}" ]; then
		MED[$t]=-
		printf '   %-18s %9s %9s\n' "${LABEL[$t]}" "$(human "$IN_N")" FAILED
		FAILED=1
		continue
	fi
	# shellcheck disable=SC2086
	MED[$t]=$(median ${TIMES[$t]})
	# shellcheck disable=SC2086
	printf '   %-18s %9s %9.3f %9.3f %9.3f %8s %11s %11s %5s MiB\n' "${LABEL[$t]}" "$(human "$IN_N")" \
		"${MED[$t]}" "$(fmin ${TIMES[$t]})" "$(fmax ${TIMES[$t]})" "$(gibps "$IN_N" "${MED[$t]}")" \
		"$(per_gib "$(median ${CPUU[$t]})" "$IN_N")" "$(per_gib "$(median ${CPUS[$t]})" "$IN_N")" \
		"$(kib_to_mib "${PEAK[$t]}")"
done
echo "   (GiB/s: input consumed per second of the whole pipeline; CPU: the tool's own, median)"

echo
# the ratios compare the same input (the line file), so time ratios are
# throughput ratios
r1=$(ratio "${MED[weir-ll]}" "${MED[cat]}")
r2=$(ratio "${MED[weir-ll]}" "${MED[awk]}")
rate() { tool_cmd "$1"; rate_of "$IN_N" "${MED[$1]}"; }
summary "line  $(human "$N") x $ROUNDS: weir line->line $(rate weir-ll), line->netstring $(rate weir-ln), netstring->line $(rate weir-nl); cat $(rate cat), awk 1 $(rate awk) [$(basename "$AWK_REAL")]" \
	"$(ratio_line "  line  weir line->line/cat" "$r1" 0.80)" \
	"$(ratio_line "  line  weir line->line/awk 1" "$r2" 1.50)"
for t in "${TOOLS[@]}"; do
	if [ -n "${BAD[$t]:-}" ]; then summary "  line  FAILED ${LABEL[$t]}: ${BAD[$t]}"; fi
done
exit "$FAILED"
