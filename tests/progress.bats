#!/usr/bin/env bats
# --progress: a live status line on a terminal's stderr, redrawn in place,
# fitted to the width, log lines above it, erased at exit; nothing at all
# when stderr is not a terminal.  The terminal is a tmux pane on a private
# server (-S), its size fixed; the pane stays after weir exits
# (remain-on-exit) so the screen it left can be read.

load helper

# A status line in a wide pane, one way: time, bytes, rate, buffered, state.
SIZE='[0-9.]+(B|KiB|MiB)'
WIDE="^[0-9]+:[0-9]{2}:[0-9]{2}  L>R $SIZE $SIZE/s  buf $SIZE  (paused|flowing)\$"
# A -v line of the runs below, whole.
LOG="^weir: (pair file:data \(relay\) -> write:out \(relay\), one-way|file:data: open|write:out: open|(pause|resume) file:data \(sink write:out holds [0-9]+ B (>= high|<= low)-water\)|file:data: end of input after [0-9]+ B, [0-9]+ frames?)\$"

setup() {
	weir_setup
	TMUX_SOCK=
}

teardown() {
	if [[ -n $TMUX_SOCK ]]; then
		tmux -S "$TMUX_SOCK" kill-server 2>/dev/null || true
	fi
	weir_teardown
}

tm() {
	tmux -S "$TMUX_SOCK" "$@"
}

# pane_start WIDTH ARGS...: weir ARGS in a WIDTH x 20 pane, in $T, on a
# private tmux server; sets WEIR_PID.  The pane's shell writes weir's exit
# status to $T/status; the server, the shell and weir are killed by PID in
# teardown.
pane_start() {
	local width=$1 args
	shift
	args=$(printf '%q ' "$WEIR" "$@")
	TMUX_SOCK=$T/tmux.sock
	# shellcheck disable=SC2016 # expanded by the pane's shells.
	tm -f /dev/null new-session -d -s weir -x "$width" -y 20 -c "$T" \
		'sh -c '\''echo $$ >pid.tmp && mv pid.tmp pid && exec "$@"'\'' sh '"$args"'; echo $? >status.tmp && mv status.tmp status' \; \
		set-option -w -t weir remain-on-exit on
	track "$(tm display-message -p -t weir '#{pid}')"
	track "$(tm display-message -p -t weir '#{pane_pid}')"
	wait_file "$T/pid"
	WEIR_PID=$(cat "$T/pid")
	track "$WEIR_PID"
}

# screen: what the pane shows and its history (-S -), wrapped lines joined
# (-J), without the blanks -J keeps at their ends (cells erased), trailing
# blank lines, or tmux's own note on a dead pane.
screen() {
	local s
	s=$(tm capture-pane -p -J -S - -t weir | sed 's/ *$//' |
		grep -v '^Pane is dead') || true
	printf '%s\n' "$s"
}

# deadline SECONDS: set DEADLINE, for loops bounded in time, not in turns
# (each turn asks tmux, which takes a while).
deadline() {
	DEADLINE=$((${EPOCHREALTIME/./} + $1 * 1000000))
}

# before_deadline: whether DEADLINE is still ahead.
before_deadline() {
	((${EPOCHREALTIME/./} < DEADLINE))
}

# pane_exit [SECONDS]: wait (bounded) for weir in the pane to end; its exit
# status in EXIT_STATUS.
pane_exit() {
	wait_file "$T/status" "${1:-10}"
	EXIT_STATUS=$(cat "$T/status")
}

# wait_screen REGEX [SECONDS]: wait (bounded) until the pane's last line
# matches REGEX; that line in LAST.
wait_screen() {
	local re=$1
	deadline "${2:-10}"
	while before_deadline; do
		LAST=$(screen | tail -n 1)
		[[ $LAST =~ $re ]] && return 0
		sleep 0.01
	done
	echo "timed out waiting for /$re/ as the pane's last line:" >&2
	screen | sed 's/^/# /' >&2
	return 1
}

# assert_clean_log: every line the pane shows is a whole -v line: no
# status line, no piece of one.
assert_clean_log() {
	local line
	while IFS= read -r line; do
		[[ -z $line || $line =~ $LOG ]] ||
			fail "not a whole log line: '$line'"
	done < <(screen)
}

@test "a terminal: the status line changes, fits, shows paused, and is erased at exit under the -v lines" {
	head -c 1M /dev/zero >"$T/data"
	pane_start 60 -v --progress --rate 200k --high-water 64k file:data write:out
	local -A seen=()
	local paused=0 last lines bad
	# While weir runs (about 5 s), bounded.
	deadline 10
	while before_deadline && [[ ! -e $T/status ]]; do
		lines=$(screen)
		last=${lines##*$'\n'}
		# Above the last line, whole log lines only.
		bad=$(grep -vE -e "$LOG" -e '^$' <<<"${lines%"$last"}") &&
			fail "above the last line: '$bad'"
		# Before the first tick the last line is a log line.
		if [[ $last == "weir: "* ]]; then
			[[ $last =~ $LOG ]] || fail "torn log line: '$last'"
			sleep 0.01
			continue
		fi
		# The cursor's line: a status line alone, in width - 1 columns,
		# not wrapped (-J would have joined the rows).
		[[ $last =~ $WIDE ]] || fail "not a status line: '$last'"
		((${#last} <= 59)) || fail "status line of ${#last} columns in 60: '$last'"
		seen[$last]=1
		[[ $last == *paused ]] && paused=1
		((${#seen[@]} >= 3 && paused)) && break
		sleep 0.01
	done
	((${#seen[@]} >= 3)) || fail "the status line did not change: ${!seen[*]}"
	((paused)) || fail "never paused: ${!seen[*]}"
	pane_exit 15
	assert_equal "$EXIT_STATUS" 0
	assert_same_file "$T/data" "$T/out"
	# Gone, and the log whole above where it was.
	assert_clean_log
	run -0 screen
	assert_line "weir: pair file:data (relay) -> write:out (relay), one-way"
	assert_line --regexp '^weir: pause file:data \(sink write:out holds [0-9]+ B >= high-water\)$'
	assert_line --regexp '^weir: file:data: end of input after 1048576 B, [0-9]+ frames?$'
	refute_line --regexp 'L>R|/s|paused|flowing'
}

@test "a narrow terminal: fields dropped, one line; widened (SIGWINCH), they come back" {
	head -c 400k /dev/zero >"$T/data"
	pane_start 30 --progress --rate 100k --high-water 64k file:data write:out
	# The least important go first: time, then buffered; then the rate.
	wait_screen "^L>R $SIZE( $SIZE/s)?  (paused|flowing)\$"
	((${#LAST} <= 29)) || fail "status line of ${#LAST} columns in 30: '$LAST'"
	run -0 screen
	assert_equal "${#lines[@]}" 1
	tm resize-window -t weir -x 60 -y 20
	wait_screen "$WIDE"
	((${#LAST} <= 59)) || fail "status line of ${#LAST} columns in 60: '$LAST'"
	run -0 screen
	assert_equal "${#lines[@]}" 1
	pane_exit 15
	assert_equal "$EXIT_STATUS" 0
	run -0 screen
	assert_output ""
}

@test "a listener's status line counts connections; SIGUSR1's counters above it; erased on SIGTERM, --stats below" {
	pane_start 80 --progress --stats -k --ready-file r tcp-listen:127.0.0.1:0 write:out
	wait_file "$T/r"
	spawn_peer client --connect "$(cat "$T/r")" --no-read --no-shutdown </dev/null
	local shown="^[0-9]+:[0-9]{2}:[0-9]{2}  L>R 0B 0B/s  buf 0B  1 conn  flowing\$"
	wait_screen "$shown"
	# The counters so far print above it, and it comes back below them.
	kill -USR1 "$WEIR_PID"
	deadline 10
	until screen | grep -q '^weir: stats RIGHT'; do
		before_deadline || fail "no counters on SIGUSR1"
		sleep 0.01
	done
	wait_screen "$shown"
	run -0 screen
	assert_equal "${#lines[@]}" 3
	assert_line --index 0 --regexp '^weir: stats LEFT tcp-listen:127.0.0.1:0 \(1 connection\): in 0 B '
	assert_line --index 1 --regexp '^weir: stats RIGHT write:out: in 0 B '
	kill -TERM "$WEIR_PID"
	pane_exit
	assert_equal "$EXIT_STATUS" 143
	run -0 screen
	assert_equal "${#lines[@]}" 4
	assert_line --index 2 --regexp '^weir: stats LEFT tcp-listen:127.0.0.1:0 \(1 connection\): in 0 B '
	assert_line --index 3 --regexp '^weir: stats RIGHT write:out: in 0 B '
	refute_line --regexp 'L>R|/s|flowing'
}

@test "a second signal: the status line is erased before weir leaves at once" {
	head -c 400k /dev/zero >"$T/data"
	pane_start 80 -v --progress --rate 4k --high-water 64k file:data write:out
	wait_screen "  paused\$"
	kill -TERM "$WEIR_PID"
	# Flushing what it holds at 4 KiB/s would take longer than 5 s.
	deadline 10
	until screen | grep -q '^weir: Terminated: stopping, flushing'; do
		before_deadline || fail "no first signal logged"
		sleep 0.01
	done
	kill -TERM "$WEIR_PID"
	pane_exit
	assert_equal "$EXIT_STATUS" 143
	run -0 screen
	assert_line --regexp '^weir: [0-9]+ bytes undelivered$'
	refute_line --regexp 'L>R|/s|paused'
}

@test "stderr not a terminal: --progress writes nothing, to a file or a pipe" {
	head -c 200k /dev/zero >"$T/data"
	# About a second, paused and resumed, with -v: the log alone.
	to_file() {
		weir -v --progress --rate 200k --high-water 64k \
			"file:$T/data" "write:$T/out" 2>"$T/err"
	}
	run -0 to_file
	assert_same_file "$T/data" "$T/out"
	run -0 grep -c . "$T/err"
	((output >= 4)) || fail "a short log: $(cat "$T/err")"
	run -1 grep -c $'[\r\e]' "$T/err"
	run -1 grep -vE "^weir: " "$T/err"
	# To a pipe, without -v: exactly what weir writes without --progress.
	local err
	err=$(weir --progress --rate 200k --high-water 64k "file:$T/data" \
		"write:$T/out2" 2>&1 >/dev/null)
	assert_equal "$err" ""
	assert_same_file "$T/data" "$T/out2"
}

@test "--progress takes no argument" {
	run -2 --separate-stderr weir --progress=yes - - </dev/null
	assert_output ""
	assert_usage_error "weir: --progress: takes no argument"
}
