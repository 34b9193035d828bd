#!/usr/bin/env bats
# Run by tests/valgrind/run only (make valgrind): what the subset leaves out
# for its RSS bound, without the bound. The weir under test is WEIR.

load ../helper

PEER=$BATS_TEST_DIRNAME/../peer.py

@test "--slow drop under memcheck: the reader gets everything, the stalled one loses frames" {
	mkfifo "$T/in"
	exec 7<>"$T/in"
	rm -f "$T/r"
	spawn_weir_sig --ready-file "$T/r" -k -v --stats=json --slow drop -p line \
		tcp-listen:127.0.0.1:0 - <"$T/in" >"$T/out" 2>"$T/err" 7>&-
	ADDR=$(ready_addr "$T/r")
	spawn_peer client --connect "$ADDR" --send 'slow\n' --no-read --rcvbuf 4096 \
		--port-file "$T/slow.port" </dev/null 7>&-
	local slow=$LAST_PID
	spawn_peer client --connect "$ADDR" --send 'fast\n' --no-shutdown --count-file "$T/count" \
		--timeout 60 </dev/null 7>&-
	wait_grep "$T/out" '^slow$' 30
	wait_grep "$T/out" '^fast$' 30
	wait_file "$T/slow.port"
	local port
	port=$(cat "$T/slow.port")
	# 16 MiB of 1 KiB lines at 4 MiB/s: the reader keeps up, the stalled
	# client's buffer fills and its frames are dropped.
	# shellcheck disable=SC2016 # for that sh
	spawn sh -c 'yes "$(printf "%01023d" 0)" | head -c 16M | python3 "$1" pace --rate 4194304' \
		_ "$PEER" >&7 7>&-
	exec 7>&-
	wait_file "$T/count" 60
	assert_equal "$(cat "$T/count")" 16777216
	kill "$slow"
	wait_grep "$T/err" "\(127\.0\.0\.1:$port\): (read|write): " 30
	kill -TERM "$WEIR_PID"
	wait_exit "$WRAP_PID" 30
	assert_equal "$EXIT_STATUS" 143
	local dropped
	dropped=$(stats_json "$T/err" left dropped)
	((dropped > 0)) || fail "dropped: $dropped"
	assert_equal "$(stats_json "$T/err" left connections)" 2
	run -0 cat "$T/err"
	refute_line --partial "weir: pause - (sink "
}
