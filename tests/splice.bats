#!/usr/bin/env bats
# Zero-copy relay: where splice(2) is used and where it is not, bytes
# intact over each kind of descriptor it joins, half-close, backpressure
# and signals over it, --no-splice.

load helper

rss_limit 16384 49152

# wiring ARGS...: the first line weir -v logs for ARGS (standard input as
# the caller redirects it).
wiring() {
	run -0 --separate-stderr weir -v "$@"
	printf '%s\n' "${stderr%%$'\n'*}"
}

# spliced FILE: FILE (weir's stderr) says a way turned to splice.
spliced() {
	grep -qE '^weir: .* -> .*: splice, through a pipe of [0-9]+ B$' "$1" ||
		fail "no way spliced: $(cat "$1")"
}

@test "-v: plain relay between pipes, files and stream sockets splices" {
	printf 'x' >"$T/in"
	assert_equal "$(wiring - - <"$T/in" | cat)" \
		"weir: pair - (relay) -> - (relay), one-way, splice"
	assert_equal "$(wiring -u "file:$T/in" - </dev/null | cat)" \
		"weir: pair file:$T/in (relay) -> - (relay), one-way, splice"
	start_peer "$T/r" serve --reply 'pong\n'
	assert_equal "$(wiring "$ADDR" <"$T/in" | cat)" \
		"weir: pair - (relay) <-> $ADDR (relay), splice"
}

@test "-v: only the way between two descriptors splice takes splices" {
	printf 'x' >"$T/in"
	# /dev/null is neither a pipe nor a socket: only what is read splices.
	start_peer "$T/r" serve --reply 'pong\n'
	assert_equal "$(wiring "$ADDR" </dev/null | cat)" \
		"weir: pair - (relay) <-> $ADDR (relay), splice <-"
	# A file written keeps frames whole: copied.
	assert_equal "$(wiring -u - "write:$T/out" <"$T/in")" \
		"weir: pair - (relay) -> write:$T/out (relay), one-way"
}

@test "-v: what looks inside the bytes never splices" {
	printf '1:x,' >"$T/in"
	local args
	for args in "--no-splice - -" "-x - -" "-p line - -" "-n 1 - -" \
		"--rate 1M - -" "- -,rate=1M" "-p netstring - -,proto=relay"; do
		# shellcheck disable=SC2086 # words on purpose
		run -0 --separate-stderr weir -v $args <"$T/in"
		[[ ${stderr%%$'\n'*} != *splice* ]] || fail "$args: ${stderr%%$'\n'*}"
	done
	# A rate on the side that is only read paces nothing.
	run -0 --separate-stderr weir -v -,rate=1M - <"$T/in"
	assert_equal "${stderr%%$'\n'*}" "weir: pair - (relay) -> - (relay), one-way, splice"
}

@test "-v: a proxy splices, shared and broker connections do not" {
	start_peer "$T/re" echo --concurrent --count 0
	local echo=$ADDR line
	for args in "" "--share"; do
		# shellcheck disable=SC2086 # words on purpose
		start_weir "$T/r$args" -k -v $args tcp-listen:127.0.0.1:0 "$echo" </dev/null 2>"$T/err$args"
		wait_grep "$T/err$args" '^weir: (proxy|shared) '
		line=$(head -n 1 "$T/err$args")
		kill -TERM "$WEIR_PID"
		wait_exit "$WEIR_PID"
		if [[ -z $args ]]; then
			assert_equal "$line" "weir: proxy tcp-listen:127.0.0.1:0 (relay) <-> $echo (relay), splice"
		else
			assert_equal "$line" "weir: shared tcp-listen:127.0.0.1:0 (relay) <-> $echo (relay)"
		fi
	done
}

@test "64 MiB pipe to pipe by splice, intact, counted" {
	mkdata "$T/in" 64M
	pipeline() {
		cat "$T/in" | "$WEIR" -v --stats=json - - 3>&- 2>"$T/err" | cat >"$T/out"
	}
	run -0 pipeline
	assert_same_file "$T/in" "$T/out"
	spliced "$T/err"
	assert_conserved "$T/err"
	assert_equal "$(stats_json "$T/err" left bytes_in)" 67108864
	assert_equal "$(stats_json "$T/err" right bytes_out)" 67108864
}

@test "64 MiB file to socket and socket to pipe by splice, intact" {
	mkdata "$T/in" 64M
	mkfifo "$T/pipe"
	# shellcheck disable=SC2016 # expanded by that sh.
	spawn sh -c 'exec cat <"$1" >"$2"' _ "$T/pipe" "$T/out" </dev/null
	local cat=$LAST_PID
	spawn_weir -v -u --ready-file "$T/r" tcp-listen:127.0.0.1:0 - >"$T/pipe" 2>"$T/err-recv" </dev/null
	local recv=$LAST_PID
	wait_file "$T/r"
	weir -v -u "file:$T/in" "$(head -n 1 "$T/r")" </dev/null 2>"$T/err-send"
	wait_exit "$recv" 20
	assert_equal "$EXIT_STATUS" 0
	wait_exit "$cat" 20
	assert_same_file "$T/in" "$T/out"
	spliced "$T/err-send"
	spliced "$T/err-recv"
}

@test "64 MiB each way through a proxy, socket to socket by splice, intact" {
	start_peer "$T/re" echo
	local echo=$ADDR
	mkdata "$T/in" 64M
	start_weir "$T/r" -v tcp-listen:127.0.0.1:0 "$echo" </dev/null 2>"$T/err-proxy"
	local proxy=$WEIR_PID
	weir "$ADDR" <"$T/in" >"$T/out"
	wait_exit "$proxy" 20
	assert_equal "$EXIT_STATUS" 0
	assert_same_file "$T/in" "$T/out"
	[[ $(grep -cE ': splice, through a pipe of ' "$T/err-proxy") == 2 ]] ||
		fail "not both ways spliced: $(cat "$T/err-proxy")"
}

@test "half-close over splice: 64 MiB up, EOF passed on, a late 8 MiB reply comes back" {
	mkdata "$T/in" 64M
	mkdata "$T/reply" 8M
	start_peer "$T/rs" serve --out "$T/got" --reply-file "$T/reply" --reply-delay 0.3
	local server=$ADDR
	start_weir "$T/r" -v tcp-listen:127.0.0.1:0 "$server" </dev/null 2>"$T/err-proxy"
	local proxy=$WEIR_PID
	weir "$ADDR" <"$T/in" >"$T/out"
	wait_exit "$proxy" 20
	assert_equal "$EXIT_STATUS" 0
	wait_file "$T/got"
	assert_same_file "$T/in" "$T/got"
	assert_same_file "$T/reply" "$T/out"
	[[ $(grep -cE ': splice, through a pipe of ' "$T/err-proxy") == 2 ]] ||
		fail "not both ways spliced: $(cat "$T/err-proxy")"
}

@test "backpressure over splice: a stalled reader pauses weir, memory stays bounded" {
	need_time
	pipeline() {
		head -c 64M /dev/zero |
			"$GNU_TIME" -o "$T/rss" -f %M "$WEIR" -v --stats=json -u - - 3>&- 2>"$T/err" |
			python3 "$PEER" slowread --delay 1 --count-file "$T/count"
		local st=("${PIPESTATUS[@]}")
		return "${st[1]}"
	}
	run -0 pipeline
	assert_equal "$(cat "$T/count")" 67108864
	spliced "$T/err"
	grep -qE '^weir: pause - \(sink - holds [0-9]+ B( >= high-water|: its pipe is full)\)$' "$T/err" ||
		fail "no pause logged: $(cat "$T/err")"
	grep -qE '^weir: resume - \(sink - holds [0-9]+ B <= low-water\)$' "$T/err" ||
		fail "no resume logged: $(cat "$T/err")"
	assert_stats "$T/err" 'left.pauses>0'
	local rss
	rss=$(peak_rss "$T/rss")
	((rss < RSS_LIMIT_KIB)) || fail "peak RSS $rss KiB for 64 MiB through weir"
}

@test "backpressure over splice: the producer is held to what the pipes hold" {
	# A reader that takes nothing: the producer gets rid of its own pipe,
	# one read, weir's pipe (high water) and the pipe to the reader; weir
	# grows the pipes at both ends to its own pipe's size.
	mkfifo "$T/in" "$T/out"
	exec 8<>"$T/out"
	# shellcheck disable=SC2016 # expanded by that sh.
	spawn sh -c 'f=$1; shift; exec python3 "$@" >"$f"' _ "$T/in" "$PEER" flood \
		--wait-file "$T/ready" --quiet 2 --count-file "$T/count" </dev/null 8<&-
	spawn_weir -v -u --ready-file "$T/ready" - - <"$T/in" >"$T/out" 2>"$T/err" 8<&-
	local weir=$LAST_PID
	wait_file "$T/count" 30
	local produced pipe out bound
	out=$(python3 -c 'import fcntl; print(fcntl.fcntl(8, fcntl.F_GETPIPE_SZ))')
	assert_equal "$out" 1048576
	# The reader goes: weir's next write fails, and it ends.
	exec 8<&-
	wait_exit "$weir" 20
	assert_equal "$EXIT_STATUS" 1
	read -r produced pipe <"$T/count"
	assert_equal "$pipe" 1048576
	bound=$((pipe + 131072 + 1048576 + out))
	echo "# the producer got $produced bytes ahead (bound $bound)" >&3
	((produced <= bound)) || fail "the producer got $produced bytes ahead (bound $bound)"
	spliced "$T/err"
	grep -qE '^weir: pause - \(sink - holds [0-9]+ B( >= high-water|: its pipe is full)\)$' "$T/err" ||
		fail "no pause logged: $(cat "$T/err")"
}

@test "SIGTERM over splice with a slow consumer: what the pipe holds is flushed or counted" {
	start_peer "$T/r" serve --listen "unix:$T/s" --no-read
	mkdata "$T/in" 8M
	spawn_weir_sig -v --stats=json -u - "$ADDR" <"$T/in" >/dev/null 2>"$T/err"
	wait_grep "$T/err" '^weir: pause '
	spliced "$T/err"
	kill -TERM "$WEIR_PID"
	wait_exit "$WRAP_PID" 9
	assert_equal "$EXIT_STATUS" 143
	run -0 cat "$T/err"
	assert_line --regexp '^weir: [1-9][0-9]* bytes undelivered$'
	# Every byte read is written or undelivered: the pipe's bytes count.
	assert_conserved "$T/err"
	assert_stats "$T/err" 'right.undelivered>0'
}

@test "SIGTERM over splice with a consumer that catches up: everything read is delivered" {
	mkdata "$T/in" 16M
	mkfifo "$T/out"
	# The reader takes nothing until weir has paused and been signalled.
	# shellcheck disable=SC2016 # expanded by that sh.
	spawn sh -c 'f=$1; shift; exec python3 "$@" <"$f"' _ "$T/out" "$PEER" slowread \
		--wait-file "$T/go" --count-file "$T/count" </dev/null
	spawn_weir_sig -v --stats=json -u - - <"$T/in" >"$T/out" 2>"$T/err"
	wait_grep "$T/err" '^weir: pause '
	kill -TERM "$WEIR_PID"
	wait_grep "$T/err" '^weir: Terminated'
	touch "$T/go"
	wait_exit "$WRAP_PID" 9
	assert_equal "$EXIT_STATUS" 143
	spliced "$T/err"
	assert_conserved "$T/err"
	assert_stats "$T/err" 'right.undelivered=0'
	wait_file "$T/count"
	assert_equal "$(cat "$T/count")" "$(stats_json "$T/err" right bytes_out)"
}

@test "--no-splice: 16 MiB copied, intact, and no pipe made" {
	mkdata "$T/in" 16M
	pipeline() {
		cat "$T/in" | "$WEIR" -v --no-splice - - 3>&- 2>"$T/err" | cat >"$T/out"
	}
	run -0 pipeline
	assert_same_file "$T/in" "$T/out"
	run grep -c splice "$T/err"
	assert_output 0
}

# refused WAY: 16 MiB through weir - - (pipe to pipe) with splice failing
# WAY ("in" or "out") after a few splices, as on a descriptor that takes
# none: the way goes on copying, every byte intact and in order.
refused() {
	local shim=$BATS_TEST_DIRNAME/shim/splice-fail.so
	[[ -e $shim ]] || fail "$shim not built (make check builds it)"
	mkdata "$T/in" 16M
	pipeline() {
		cat "$T/in" | WEIR_SPLICE_FAIL=$1 WEIR_SPLICE_OK=3 LD_PRELOAD=$shim \
			ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 \
			"$WEIR" -v --stats=json - - 3>&- 2>"$T/err" | cat >"$T/out"
	}
	run -0 pipeline "$1"
	assert_same_file "$T/in" "$T/out"
	spliced "$T/err"
	grep -qE '^weir: -: splice: Invalid argument: buffered from now on$' "$T/err" ||
		fail "no fallback logged: $(cat "$T/err")"
	assert_conserved "$T/err"
}

@test "no pipe to splice through (EMFILE): the way copies, says so once, intact" {
	local shim=$BATS_TEST_DIRNAME/shim/splice-fail.so
	[[ -e $shim ]] || fail "$shim not built (make check builds it)"
	mkdata "$T/in" 16M
	pipeline() {
		cat "$T/in" | WEIR_SPLICE_FAIL=pipe LD_PRELOAD=$shim \
			ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 \
			"$WEIR" -v --stats=json - - 3>&- 2>"$T/err" | cat >"$T/out"
	}
	run -0 pipeline
	assert_same_file "$T/in" "$T/out"
	run grep -c -- '-> -: no splice, no pipe to splice through (Too many open files)$' "$T/err"
	assert_output 1
	run grep -c -- 'splice, through a pipe' "$T/err"
	assert_output 0
	assert_conserved "$T/err"
}

@test "splice refused into weir's pipe: that way copies from then on, intact" {
	refused in
}

@test "splice refused out of weir's pipe: what it held is copied, then the rest, intact" {
	refused out
}
