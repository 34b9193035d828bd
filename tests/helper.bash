# shellcheck shell=bash disable=SC2034,SC2154
# Loaded by every suite: bats libraries, the weir under test, and helpers
# for background servers that are found through ready files and killed by
# PID in teardown.

bats_require_minimum_version 1.5.0
bats_load_library bats-support
bats_load_library bats-assert
bats_load_library bats-file

# Debian's python3 (the one its python3-* packages serve), started
# directly rather than through a version manager's shim, which costs
# seconds a call on a loaded machine.
if [[ -x /usr/bin/python3 && $(command -v python3) != /usr/bin/python3 ]]; then
	PATH=/usr/bin:$PATH
fi

# Nothing may hang CI.
: "${BATS_TEST_TIMEOUT:=30}"

WEIR="${WEIR:-$BATS_TEST_DIRNAME/../weir}"
PEER="$BATS_TEST_DIRNAME/peer.py"

# Upper bound, in seconds, for one foreground weir run.
: "${WEIR_TIMEOUT:=15}"

setup() {
	weir_setup
}

teardown() {
	weir_teardown
}

weir_setup() {
	PIDS=()
	SHORT_TMP=
	T=$BATS_TEST_TMPDIR
	# Unix socket paths are limited to 107 bytes.
	if ((${#T} > 60)); then
		SHORT_TMP=$(mktemp -d /tmp/weir-test.XXXXXX)
		T=$SHORT_TMP
	fi
	if [[ ! -x $WEIR ]]; then
		echo "weir not found at $WEIR (run make first)" >&2
		return 1
	fi
}

weir_teardown() {
	local pid
	for pid in "${PIDS[@]}"; do
		kill -KILL "$pid" 2>/dev/null || true
	done
	for pid in "${PIDS[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	if [[ -n $SHORT_TMP ]]; then
		rm -rf "$SHORT_TMP"
	fi
}

# weir ARGS...: run the weir under test in the foreground, bounded in time,
# with the TAP descriptor closed and never reading a terminal.
weir() {
	if [[ -t 0 ]]; then
		timeout -k 2 "$WEIR_TIMEOUT" "$WEIR" "$@" 3>&- </dev/null
	else
		timeout -k 2 "$WEIR_TIMEOUT" "$WEIR" "$@" 3>&-
	fi
}

# weir_to FILE ARGS...: like weir, standard output to FILE.
weir_to() {
	local out=$1
	shift
	weir "$@" >"$out"
}

# spawn CMD ARGS... [redirections]: start CMD in the background with the
# caller's redirections (standard input included), record its PID in PIDS
# for teardown and in LAST_PID.
spawn() {
	"$@" 0<&0 3>&- &
	LAST_PID=$!
	PIDS+=("$LAST_PID")
}

# track PID: kill PID in teardown as well (a grandchild we learnt about).
track() {
	PIDS+=("$1")
}

# spawn_weir ARGS...: weir in the background.
spawn_weir() {
	spawn "$WEIR" "$@"
}

# peer SUBCOMMAND ARGS...: the python peer in the foreground.
peer() {
	timeout -k 2 "$WEIR_TIMEOUT" python3 "$PEER" "$@" 3>&-
}

# spawn_peer SUBCOMMAND ARGS...: the python peer in the background.
spawn_peer() {
	spawn python3 "$PEER" "$@"
}

# wait_file PATH [SECONDS]: wait until PATH exists (files the tests wait for
# are written atomically). Bounded: at most SECONDS (10) in 0.01 s steps.
wait_file() {
	local path=$1 n=$((${2:-10} * 100))
	while ((n-- > 0)); do
		[[ -e $path ]] && return 0
		sleep 0.01
	done
	echo "timed out waiting for $path" >&2
	return 1
}

# wait_grep FILE REGEX [SECONDS]: wait until FILE has a line matching REGEX.
wait_grep() {
	local path=$1 re=$2 n=$((${3:-10} * 100))
	while ((n-- > 0)); do
		grep -qE -- "$re" "$path" 2>/dev/null && return 0
		sleep 0.01
	done
	echo "timed out waiting for /$re/ in $path" >&2
	[[ -e $path ]] && sed 's/^/# /' "$path" >&2
	return 1
}

# wait_exit PID [SECONDS]: wait (bounded, default 10 s) for a background
# process to end; its exit status goes to EXIT_STATUS. Returns 1 if it is
# still running when time is up.
wait_exit() {
	local pid=$1 n=$((${2:-10} * 100))
	while ((n-- > 0)); do
		if ! kill -0 "$pid" 2>/dev/null; then
			EXIT_STATUS=0
			wait "$pid" || EXIT_STATUS=$?
			return 0
		fi
		sleep 0.01
	done
	echo "process $pid still running" >&2
	return 1
}

# ready_addr FILE: wait for a ready file and print its first line.
ready_addr() {
	wait_file "$1" || return 1
	head -n 1 "$1"
}

# start_peer READY SUBCOMMAND ARGS...: background peer that writes READY;
# waits for it and sets ADDR to the address it listens on.
start_peer() {
	local readyf=$1
	shift
	spawn_peer "$@" --ready "$readyf" </dev/null
	ADDR=$(ready_addr "$readyf") || return 1
}

# start_weir READY ARGS...: background weir with --ready-file READY (its
# standard streams as redirected by the caller); sets ADDR to its first
# listener and WEIR_PID.
start_weir() {
	local readyf=$1
	shift
	spawn_weir --ready-file "$readyf" "$@"
	WEIR_PID=$LAST_PID
	wait_file "$readyf" || return 1
	ADDR=$(head -n 1 "$readyf")
}

# free_port: a TCP port on 127.0.0.1 that the kernel just handed out and
# nobody holds (for servers that cannot listen on port 0).
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_listen PORT [SECONDS]: wait until something accepts connections on
# 127.0.0.1:PORT (a server that cannot write a ready file). Bounded: at
# most SECONDS (10) in 0.01 s steps.
wait_listen() {
	local port=$1 n=$((${2:-10} * 100))
	while ((n-- > 0)); do
		(exec 9<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
		sleep 0.01
	done
	echo "nothing listens on 127.0.0.1:$port" >&2
	return 1
}

# mkdata FILE SIZE: SIZE random bytes (head -c suffixes: K, M).
mkdata() {
	head -c "$2" /dev/urandom >"$1"
}

# sha FILE: its SHA-256.
sha() {
	sha256sum <"$1" | cut -d' ' -f1
}

# assert_same_file A B: byte for byte.
assert_same_file() {
	if ! cmp -s -- "$1" "$2"; then
		fail "$(printf '%s and %s differ (%s vs %s bytes)' "$1" "$2" \
			"$(wc -c <"$1" 2>/dev/null)" "$(wc -c <"$2" 2>/dev/null)")"
	fi
}

# assert_usage_error MESSAGE: the stderr of a usage error, exactly.
assert_usage_error() {
	assert_equal "$stderr" "$1"$'\n'"Try 'weir --help'."
}

have_ipv6() {
	python3 -c 'import socket; s = socket.socket(socket.AF_INET6); s.bind(("::1", 0))' 2>/dev/null
}

# spawn_weir_sig ARGS...: weir in the background under `peer.py run`, which
# restores SIGINT and SIGTERM to their defaults (asynchronous commands
# ignore SIGINT) and tells an exit(143) from a death by SIGTERM. Sets
# WEIR_PID (signal it) and WRAP_PID (wait_exit on it for weir's status; a
# death by signal N is 128+N and "peer: killed by signal N" on stderr).
spawn_weir_sig() {
	rm -f "$T/weir.pid"
	spawn python3 "$PEER" run --pid-file "$T/weir.pid" -- "$WEIR" "$@"
	WRAP_PID=$LAST_PID
	wait_file "$T/weir.pid" || return 1
	WEIR_PID=$(cat "$T/weir.pid")
	track "$WEIR_PID"
}

# stats_json FILE KEY...: from weir's --stats=json line in FILE, print the
# value at the path of KEYs (e.g. left bytes_in).
stats_json() {
	local file=$1
	shift
	sed -n '/^{/p' "$file" | python3 -c '
import json, sys
doc = json.loads(sys.stdin.readline())
for key in sys.argv[1:]:
    doc = doc[key]
print(doc)' "$@"
}

# spawn_writer FIFO ARGS...: make the named pipe FIFO and, in the
# background, `peer.py write ARGS...` into it. The child opens FIFO itself
# (opening a FIFO blocks until a reader comes); it is killed by PID in
# teardown, so `--hold` keeps the pipe open for the whole test.
spawn_writer() {
	local fifo=$1
	shift
	mkfifo "$fifo"
	# shellcheck disable=SC2016 # expanded by that sh.
	spawn sh -c 'f=$1; shift; exec python3 "$@" >"$f"' _ "$fifo" "$PEER" write "$@" </dev/null
}

# wait_lines FILE N [SECONDS]: wait (bounded, default 10 s) until FILE has
# at least N lines.
wait_lines() {
	local path=$1 want=$2 n=$((${3:-10} * 100)) have=0
	while ((n-- > 0)); do
		have=$(wc -l <"$path" 2>/dev/null) || have=0
		((have >= want)) && return 0
		sleep 0.01
	done
	echo "timed out waiting for $want lines in $path (it has $have)" >&2
	return 1
}

# wait_fds PID N [SECONDS]: wait (bounded, default 10 s) until process PID
# has exactly N open descriptors (Linux /proc).
wait_fds() {
	local pid=$1 want=$2 n=$((${3:-10} * 100)) have=0
	while ((n-- > 0)); do
		have=$(count_fds "$pid")
		((have == want)) && return 0
		sleep 0.01
	done
	echo "timed out waiting for $want descriptors in $pid (it has $have)" >&2
	return 1
}

# count_fds PID: how many descriptors process PID has open.
count_fds() {
	local fds=("/proc/$1/fd/"*)
	echo "${#fds[@]}"
}

# vm_hwm PID: the peak resident set size of a running process, in KiB.
vm_hwm() {
	awk '$1 == "VmHWM:" { print $2 }' "/proc/$1/status"
}

# assert_conserved FILE [GAIN_LR [GAIN_RL]]: weir's --stats=json line in
# FILE accounts for every byte and frame, per direction (LEFT -> RIGHT,
# RIGHT -> LEFT), where both ends speak one protocol and nothing is
# dropped: the frames in on one side are the frames out on the other, and
# the bytes in on one side are the bytes out plus undelivered on the other
# plus the bytes discarded on this one. GAIN is what writing adds in that
# direction (a last line without its delimiter gains one byte).
assert_conserved() {
	local out
	out=$(sed -n '/^{/p' "$1" | python3 -c '
import json, sys
line = sys.stdin.readline()
if not line:
    sys.exit("no --stats=json line")
doc = json.loads(line)
gain = {"left": int(sys.argv[1]), "right": int(sys.argv[2])}
bad = []
for a, b in (("left", "right"), ("right", "left")):
    A, B = doc[a], doc[b]
    if A["frames_in"] != B["frames_out"]:
        bad.append("%s frames_in %d != %s frames_out %d"
                   % (a, A["frames_in"], b, B["frames_out"]))
    if A["bytes_in"] + gain[a] != B["bytes_out"] + B["undelivered"] + A["discarded"]:
        bad.append("%s bytes_in %d + %d != %s bytes_out %d + undelivered %d"
                   " + %s discarded %d" % (a, A["bytes_in"], gain[a], b,
                   B["bytes_out"], B["undelivered"], a, A["discarded"]))
    for side in (A, B):
        if side["dropped"]:
            bad.append("%s dropped %d" % (side["name"], side["dropped"]))
if bad:
    sys.exit("not conserved: " + "; ".join(bad) + "\n" + line.strip())
' "${2:-0}" "${3:-0}" 2>&1) || fail "$out"
}

# assert_stats FILE SIDE.KEY=VALUE...: weir's --stats=json line in FILE has
# these values (e.g. left.discarded=3); SIDE.KEY>VALUE and SIDE.KEY<VALUE
# bound one instead.
assert_stats() {
	local file=$1 out
	shift
	out=$(sed -n '/^{/p' "$file" | python3 -c '
import json, re, sys
line = sys.stdin.readline()
if not line:
    sys.exit("no --stats=json line")
doc = json.loads(line)
bad = []
for arg in sys.argv[1:]:
    m = re.fullmatch(r"(left|right)\.(\w+)([=<>])(-?[0-9.]+)", arg)
    if not m:
        sys.exit("assert_stats: bad argument %r" % arg)
    side, key, op, want = m.groups()
    have = doc[side][key]
    ok = {"=": have == float(want), "<": have < float(want),
          ">": have > float(want)}[op]
    if not ok:
        bad.append("%s.%s is %s, expected %s%s" % (side, key, have, op, want))
if bad:
    sys.exit("; ".join(bad) + "\n" + line.strip())
' "$@" 2>&1) || fail "$out"
}

# cpu_ticks PID: user plus system time of process PID, in clock ticks.
cpu_ticks() {
	awk '{ print $14 + $15 }' "/proc/$1/stat"
}

# rss_limit NORMAL SANITIZED: RSS_LIMIT_KIB for a file's peak-RSS bounds.
# Under ASan (make sanitize) shadow memory and a small quarantine add a
# fixed overhead; buffering the whole stream would still exceed the bound.
rss_limit() {
	if [[ -n ${WEIR_SANITIZE:-} ]]; then
		RSS_LIMIT_KIB=$2
	else
		RSS_LIMIT_KIB=$1
	fi
}

# GNU time, for the peak RSS of a foreground run (-f %M).
GNU_TIME=/usr/bin/time

need_time() {
	[[ -x $GNU_TIME ]] || skip "GNU time is not installed"
}

# peak_rss FILE: the KiB figure /usr/bin/time -f %M wrote last in FILE.
peak_rss() {
	tail -n 1 "$1"
}
