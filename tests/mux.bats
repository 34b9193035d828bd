#!/usr/bin/env bats
# Multiplexing: -k, -m, --share, --broker, --slow, --allow, --deny; fan-in,
# fan-out, proxy, exec per connection; many connections at once.

load helper

rss_limit 32768 65536

# start_mux ARGS...: weir with --ready-file in the background under
# spawn_weir_sig (its standard streams as redirected by the caller); sets
# ADDR to its listener, WEIR_PID and WRAP_PID.
start_mux() {
	rm -f "$T/r"
	spawn_weir_sig --ready-file "$T/r" "$@"
	ADDR=$(ready_addr "$T/r")
}

# term_weir: SIGTERM the weir of start_mux and wait for it; its exit
# status goes to EXIT_STATUS.
term_weir() {
	kill -TERM "$WEIR_PID"
	wait_exit "$WRAP_PID"
}

# big_lines SIZE: SIZE bytes of 1 KiB lines on standard output.
big_lines() {
	yes "$(printf '%01023d' 0)" | head -c "$1"
}

# --- fan-in -------------------------------------------------------------

@test "fan-in, line: 20 clients, lines cut anywhere, arrive whole, none lost, each client's in order" {
	start_mux -k --stats=json -p line tcp-listen:127.0.0.1:0 "write:$T/out" </dev/null 2>"$T/err"
	run -0 --separate-stderr peer fanin --connect "$ADDR" --clients 20 --lines 200 --proto line --seed 3
	wait_lines "$T/out" 4000
	term_weir
	assert_equal "$EXIT_STATUS" 143
	run -0 --separate-stderr python3 "$PEER" fanin-check --file "$T/out" --clients 20 --lines 200 \
		--proto line --seed 3
	assert_output "4000 records from 20 clients"
	run -0 cat "$T/err"
	refute_output --partial "bytes undelivered"
	refute_output --partial "killed by signal"
	assert_conserved "$T/err"
	assert_equal "$(stats_json "$T/err" left frames_in)" 4000
}

@test "fan-in, netstring: 20 clients, frames cut anywhere, arrive whole, none lost, each client's in order" {
	start_mux -k -p netstring tcp-listen:127.0.0.1:0 "append:$T/out" </dev/null 2>"$T/err"
	run -0 --separate-stderr peer fanin --connect "$ADDR" --clients 20 --lines 200 --proto netstring --seed 4
	run -0 --separate-stderr python3 "$PEER" fanin-check --file "$T/out" --clients 20 --lines 200 \
		--proto netstring --seed 4 --wait 10
	term_weir
	assert_equal "$EXIT_STATUS" 143
	run -0 --separate-stderr python3 "$PEER" fanin-check --file "$T/out" --clients 20 --lines 200 \
		--proto netstring --seed 4
	assert_output "4000 records from 20 clients"
	run -0 cat "$T/err"
	refute_output --partial "bytes undelivered"
}

@test "fan-in: a client with a malformed netstring is closed alone, the others finish" {
	start_mux -k --stats=json -p netstring tcp-listen:127.0.0.1:0 "write:$T/out" </dev/null 2>"$T/err"
	spawn_peer fanin --connect "$ADDR" --clients 10 --lines 300 --proto netstring --seed 5 \
		--pause 0.005 </dev/null
	local fan=$LAST_PID
	# The bad client comes while the others are sending.
	wait_grep "$T/out" ':c[0-9]{3} s'
	run -0 --separate-stderr peer client --connect "$ADDR" --send '3:abc;' --no-shutdown \
		--port-file "$T/bad" --timeout 5
	assert_output ""
	wait_exit "$fan"
	assert_equal "$EXIT_STATUS" 0
	run -0 --separate-stderr python3 "$PEER" fanin-check --file "$T/out" --clients 10 --lines 300 \
		--proto netstring --seed 5 --wait 10
	term_weir
	assert_equal "$EXIT_STATUS" 143
	run -0 --separate-stderr python3 "$PEER" fanin-check --file "$T/out" --clients 10 --lines 300 \
		--proto netstring --seed 5
	local port
	port=$(cat "$T/bad")
	run -0 grep -v '^{' "$T/err"
	assert_output "weir: tcp-listen:127.0.0.1:0 (127.0.0.1:$port): netstring: ',' expected after 3-byte payload, got ';', at byte 5"
	assert_equal "$(stats_json "$T/err" left errors)" 1
	assert_equal "$(stats_json "$T/err" left connections)" 11
}

@test "fan-in: SIGTERM flushes what was read, whole lines only" {
	# The file is written at 256 KiB/s: weir holds high water and pauses
	# the clients. On SIGTERM it stops reading and flushes what it has.
	start_mux -k -v --stats=json --high-water 64k -p line tcp-listen:127.0.0.1:0 \
		"write:$T/out,rate=256k" </dev/null 2>"$T/err"
	spawn_peer fanin --connect "$ADDR" --clients 4 --lines 3000 --proto line --seed 6 \
		--tolerate </dev/null
	wait_grep "$T/err" '^weir: pause '
	term_weir
	assert_equal "$EXIT_STATUS" 143
	run -0 --separate-stderr python3 "$PEER" fanin-check --file "$T/out" --clients 4 --lines 3000 \
		--proto line --seed 6 --partial
	local size taken sent
	size=$(wc -c <"$T/out")
	taken=$(stats_json "$T/err" left bytes_in)
	sent=$(stats_json "$T/err" right bytes_out)
	assert_equal "$sent" "$size"
	((size > 0)) || fail "nothing written"
	# Only a torn last line per client may stay behind (records are at
	# most 8012 bytes), and that is counted.
	((taken - size < 4 * 8013)) || fail "read $taken, wrote $size"
	if ((taken > size)); then
		run -0 cat "$T/err"
		assert_line "weir: $((taken - size)) bytes undelivered"
	fi
	run -0 cat "$T/err"
	refute_output --partial "killed by signal"
}

# --- proxy and exec -------------------------------------------------------

@test "proxy: 30 clients at once, each gets exactly its own bytes back" {
	start_peer "$T/re" echo --concurrent --count 0
	local echo=$ADDR
	start_mux -k --stats=json tcp-listen:127.0.0.1:0 "$echo" </dev/null 2>"$T/err"
	run -0 --separate-stderr peer clients --connect "$ADDR" --count 30 --size 200000
	assert_output "30 clients ok"
	term_weir
	assert_equal "$EXIT_STATUS" 143
	# Nothing but the statistics.
	run -1 grep -v '^{' "$T/err"
	assert_conserved "$T/err"
	assert_equal "$(stats_json "$T/err" right connections)" 30
}

@test "proxy: a client that never reads does not slow the others; when it goes, its pair is closed" {
	start_peer "$T/re" echo --concurrent --count 0
	local echo=$ADDR
	mkdata "$T/big" 16M
	start_mux -k -v --high-water 64k tcp-listen:127.0.0.1:0 "$echo" </dev/null 2>"$T/err"
	local fds
	fds=$(count_fds "$WEIR_PID")
	spawn_peer client --connect "$ADDR" --send-file "$T/big" --no-read --rcvbuf 4096 </dev/null
	local slow=$LAST_PID
	wait_grep "$T/err" '^weir: pause '
	run -0 --separate-stderr peer clients --connect "$ADDR" --count 10 --size 100000
	assert_output "10 clients ok"
	# The client vanishes: weir closes its connection and the one to the
	# echo server; nothing is left to flush.
	kill "$slow"
	wait_fds "$WEIR_PID" "$fds" 3
	term_weir
	assert_equal "$EXIT_STATUS" 143
}

@test "exec: one process per connection, each client gets its own answer" {
	start_mux -k tcp-listen:127.0.0.1:0 exec:'tr a-z A-Z' </dev/null 2>"$T/err"
	run -0 --separate-stderr peer clients --connect "$ADDR" --count 8 --size 20000 --expect upper
	assert_output "8 clients ok"
	term_weir
	assert_equal "$EXIT_STATUS" 143
	assert_file_empty "$T/err"
}

@test "--share: every connection feeds one connection to RIGHT" {
	start_peer "$T/rs" serve --out "$T/got" --log "$T/log"
	local server=$ADDR
	start_mux -k -u --share -p line tcp-listen:127.0.0.1:0 "$server" </dev/null 2>"$T/err"
	run -0 --separate-stderr peer client --connect "$ADDR" --send 'first\n' --timeout 5
	run -0 --separate-stderr peer client --connect "$ADDR" --send 'second\n' --timeout 5
	term_weir
	assert_equal "$EXIT_STATUS" 143
	wait_file "$T/got"
	assert_equal "$(cat "$T/got")" $'first\nsecond'
	assert_equal "$(cat "$T/log")" "accept"
}

# --- broker ---------------------------------------------------------------

@test "--broker: each of 3 clients gets the others' lines, in order, never its own" {
	start_mux --broker -p line tcp-listen:127.0.0.1:0 </dev/null 2>"$T/err"
	run -0 --separate-stderr peer broker --connect "$ADDR" --clients 3 --lines 300
	assert_output "3 clients ok"
	term_weir
	assert_equal "$EXIT_STATUS" 143
	assert_file_empty "$T/err"
}

# --- fan-out and slow consumers -------------------------------------------

# fanout_setup ARGS...: weir ARGS... -p line tcp-listen - fed by the FIFO
# $T/in (held open on descriptor 7 until fanout_feed), its output in
# $T/out, stderr in $T/err; one client that never reads (SLOW_PID, its port
# in $T/slow.port) and one that reads everything (its byte count in
# $T/count), both admitted.
fanout_setup() {
	mkfifo "$T/in"
	exec 7<>"$T/in"
	start_mux -k "$@" -p line tcp-listen:127.0.0.1:0 - <"$T/in" >"$T/out" 2>"$T/err" 7>&-
	spawn_peer client --connect "$ADDR" --send 'slow\n' --no-read --rcvbuf 4096 \
		--port-file "$T/slow.port" </dev/null 7>&-
	SLOW_PID=$LAST_PID
	spawn_peer client --connect "$ADDR" --send 'fast\n' --no-shutdown --count-file "$T/count" \
		--timeout 10 </dev/null 7>&-
	wait_grep "$T/out" '^slow$'
	wait_grep "$T/out" '^fast$'
	wait_file "$T/slow.port"
	SLOW_PORT=$(cat "$T/slow.port")
}

# fanout_feed SIZE [RATE]: SIZE bytes of lines into the FIFO (at about
# RATE bytes per second), then EOF.
fanout_feed() {
	if [[ -n ${2:-} ]]; then
		spawn paced_lines "$1" "$2" >&7 7>&-
	else
		spawn big_lines "$1" >&7 7>&-
	fi
	exec 7>&-
}

paced_lines() {
	big_lines "$1" | python3 "$PEER" pace --rate "$2"
}

@test "--slow drop: the reader gets everything, the stalled one loses frames, memory stays bounded" {
	fanout_setup -v --stats=json --slow drop
	# Paced so that the reader, given high water as slack, keeps up, with
	# room to spare for a machine running other tests beside it.
	fanout_feed 64M 33554432
	wait_file "$T/count" 20
	assert_equal "$(cat "$T/count")" 67108864
	local rss
	rss=$(vm_hwm "$WEIR_PID")
	((rss < RSS_LIMIT_KIB)) || fail "peak RSS $rss KiB for 64 MiB fanned out"
	kill "$SLOW_PID"
	wait_grep "$T/err" "\(127\.0\.0\.1:$SLOW_PORT\): (read|write): "
	term_weir
	assert_equal "$EXIT_STATUS" 143
	local dropped
	dropped=$(stats_json "$T/err" left dropped)
	((dropped > 0)) || fail "dropped: $dropped"
	assert_equal "$(stats_json "$T/err" left connections)" 2
	run -0 cat "$T/err"
	refute_line --partial "weir: pause - (sink "
}

@test "--slow drop: frames dropped for a client are still counted after it sends" {
	mkfifo "$T/in"
	exec 7<>"$T/in"
	start_mux -k -v --stats=json --slow drop --high-water 4k -p line \
		tcp-listen:127.0.0.1:0 - <"$T/in" >"$T/out" 2>"$T/err" 7>&-
	spawn_peer client --connect "$ADDR" --send 'hello\n' --no-read --rcvbuf 4096 \
		--wait-file "$T/go" --timeout 20 </dev/null 7>&-
	wait_grep "$T/out" '^hello$'
	spawn big_lines 8M >&7 7>&-
	exec 7>&-
	wait_grep "$T/err" '^weir: drop frames for '
	# Its end of input is read (and pumped) after the drops.
	touch "$T/go"
	wait_grep "$T/err" 'end of input after 6 B, 1 frame'
	term_weir
	assert_equal "$EXIT_STATUS" 143
	local dropped
	dropped=$(stats_json "$T/err" left dropped)
	((dropped > 0)) || fail "dropped: $dropped"
}

@test "--slow close: the stalled client is closed and logged, the reader gets everything" {
	fanout_setup --slow close
	fanout_feed 32M 67108864
	wait_file "$T/count" 20
	assert_equal "$(cat "$T/count")" 33554432
	term_weir
	assert_equal "$EXIT_STATUS" 143
	# Logged without -v; nothing is left undelivered.
	run -0 cat "$T/err"
	assert_output --regexp "^weir: tcp-listen:127\.0\.0\.1:0 \(127\.0\.0\.1:$SLOW_PORT\): closed: .*--slow close"
}

@test "--slow block (the default): a stalled client pauses the source until it goes" {
	fanout_setup -v --high-water 64k
	fanout_feed 32M
	wait_grep "$T/err" "^weir: pause - \(sink .*127\.0\.0\.1:$SLOW_PORT.* holds [0-9]+ B >= high-water\)$"
	# Paused: the source cannot have reached its end.
	assert_not_exist "$T/count"
	kill "$SLOW_PID"
	wait_file "$T/count" 20
	assert_equal "$(cat "$T/count")" 33554432
	term_weir
	assert_equal "$EXIT_STATUS" 143
}

@test "SIGTERM: a fan-out consumer that fails during the flush ends it at once" {
	fanout_setup -v --high-water 64k
	fanout_feed 32M
	wait_grep "$T/err" "^weir: pause - \(sink .*127\.0\.0\.1:$SLOW_PORT"
	kill -TERM "$WEIR_PID"
	wait_grep "$T/err" '^weir: Terminated'
	# Only the stalled client holds data; when it goes there is nothing
	# left to wait for.
	kill "$SLOW_PID"
	wait_exit "$WRAP_PID" 2
	assert_equal "$EXIT_STATUS" 143
	run -0 cat "$T/err"
	assert_line --regexp '^weir: [1-9][0-9]* bytes undelivered$'
}

# --- limits ---------------------------------------------------------------

@test "-m 2: a third client is closed at once and logged; a freed slot admits again" {
	start_mux -k -u -v -m 2 -p line tcp-listen:127.0.0.1:0 - </dev/null >"$T/out" 2>"$T/err"
	spawn_peer client --connect "$ADDR" --send 'one\n' --no-shutdown </dev/null
	local one=$LAST_PID
	wait_grep "$T/out" '^one$'
	spawn_peer client --connect "$ADDR" --send 'two\n' --no-shutdown </dev/null
	wait_grep "$T/out" '^two$'
	local fds
	fds=$(count_fds "$WEIR_PID")
	run -0 --separate-stderr peer client --connect "$ADDR" --send '' --no-shutdown --timeout 5 \
		--port-file "$T/p3"
	assert_output ""
	wait_grep "$T/err" "^weir: tcp-listen:127\.0\.0\.1:0: refused 127\.0\.0\.1:$(cat "$T/p3") "
	wait_fds "$WEIR_PID" "$fds"
	# The first client goes: its slot is free.
	kill "$one"
	wait_fds "$WEIR_PID" $((fds - 1))
	run -0 --separate-stderr peer client --connect "$ADDR" --send 'four\n' --timeout 5
	term_weir
	assert_equal "$EXIT_STATUS" 143
	assert_equal "$(cat "$T/out")" $'one\ntwo\nfour'
}

# room_for PID K: lower the descriptor limit of process PID so that
# exactly K more descriptors fit.
room_for() {
	python3 -c '
import os, resource, sys
pid, room = int(sys.argv[1]), int(sys.argv[2])
used = {int(fd) for fd in os.listdir("/proc/%d/fd" % pid)}
limit = 0
while room > 0 or limit in used:
    if limit not in used:
        room -= 1
    limit += 1
resource.prlimit(pid, resource.RLIMIT_NOFILE, (limit, limit))' "$1" "$2"
}

@test "EMFILE: accepting pauses without spinning and resumes when a descriptor frees" {
	start_mux -k -v -p line tcp-listen:127.0.0.1:0 "append:$T/out" </dev/null 2>"$T/err"
	room_for "$WEIR_PID" 2
	local i
	for i in 1 2 3 4 5; do
		spawn_peer client --connect "$ADDR" --send "hold$i\n" --wait-file "$T/go" --timeout 10 </dev/null
	done
	wait_grep "$T/err" '^weir: tcp-listen:127\.0\.0\.1:0: accept: Too many open files'
	# Measured over half a second: a loop that spins on EMFILE would burn it.
	local t0 t1
	t0=$(cpu_ticks "$WEIR_PID")
	sleep 0.5
	t1=$(cpu_ticks "$WEIR_PID")
	((t1 - t0 < 10)) || fail "weir used $((t1 - t0)) ticks of CPU in 0.5 s while out of descriptors"
	wait_lines "$T/out" 2
	touch "$T/go"
	wait_lines "$T/out" 5
	term_weir
	assert_equal "$EXIT_STATUS" 143
	assert_equal "$(sort "$T/out")" $'hold1\nhold2\nhold3\nhold4\nhold5'
}

@test "--allow 127.0.0.1 admits it and refuses 127.0.0.2 before reading a byte" {
	start_mux -k -u -v --stats=json --allow 127.0.0.1 -p line tcp-listen:0 - \
		</dev/null >"$T/out" 2>"$T/err"
	run -0 --separate-stderr peer client --connect "$ADDR" --send 'allowed\n' --timeout 5
	run -0 --separate-stderr peer client --connect "$ADDR" --bind 127.0.0.2 --send '' --no-shutdown \
		--timeout 5
	assert_output ""
	# A refused client that sends: whether it sees EOF or a reset depends
	# on timing; its bytes never reach weir.
	run --separate-stderr peer client --connect "$ADDR" --bind 127.0.0.2 --send 'secret\n' \
		--no-shutdown --timeout 5
	((status == 0 || status == 1)) || fail "client exited $status"
	assert_output ""
	term_weir
	assert_equal "$EXIT_STATUS" 143
	assert_equal "$(cat "$T/out")" "allowed"
	assert_equal "$(stats_json "$T/err" left bytes_in)" 8
	run -0 cat "$T/err"
	assert_line --regexp '^weir: tcp-listen:0: refused 127\.0\.0\.2:[0-9]+ \(not in --allow\)$'
}

@test "--deny 127.0.0.0/8 refuses: the client sees EOF without data, weir logs it" {
	start_mux -k -u -v --stats=json --deny 127.0.0.0/8 -p line tcp-listen:127.0.0.1:0 - \
		</dev/null >"$T/out" 2>"$T/err"
	run -0 --separate-stderr peer client --connect "$ADDR" --send '' --no-shutdown --timeout 5 \
		--port-file "$T/port"
	assert_output ""
	term_weir
	assert_equal "$EXIT_STATUS" 143
	assert_file_empty "$T/out"
	assert_equal "$(stats_json "$T/err" left bytes_in)" 0
	run -0 cat "$T/err"
	assert_line "weir: tcp-listen:127.0.0.1:0: refused 127.0.0.1:$(cat "$T/port") (denied by --deny 127.0.0.0/8)"
}

@test "--deny wins over --allow" {
	start_mux -k -u -v --allow 127.0.0.0/8 --deny 127.0.0.1 -p line tcp-listen:0 - \
		</dev/null >"$T/out" 2>"$T/err"
	run -0 --separate-stderr peer client --connect "$ADDR" --send '' --no-shutdown --timeout 5
	assert_output ""
	run -0 --separate-stderr peer client --connect "$ADDR" --bind 127.0.0.2 --send 'two\n' --timeout 5
	term_weir
	assert_equal "$EXIT_STATUS" 143
	assert_equal "$(cat "$T/out")" "two"
}

@test "without -k a refused client does not count: the next one is served" {
	start_weir "$T/r" -v --deny 127.0.0.2 -p line tcp-listen:127.0.0.1:0 "write:$T/out" \
		</dev/null 2>"$T/err"
	run -0 --separate-stderr peer client --connect "$ADDR" --bind 127.0.0.2 --send '' --no-shutdown \
		--timeout 5
	assert_output ""
	run -0 --separate-stderr peer client --connect "$ADDR" --send 'served\n' --timeout 5
	wait_exit "$WEIR_PID"
	assert_equal "$EXIT_STATUS" 0
	assert_equal "$(cat "$T/out")" "served"
}

@test "IPv6: --allow ::1 admits ::1, --deny ::1/128 refuses it" {
	have_ipv6 || skip "no IPv6 loopback"
	start_mux -k -u -p line --allow ::1 'tcp-listen:[::1]:0' "append:$T/out" </dev/null 2>"$T/err"
	[[ $ADDR =~ ^tcp:\[::1\]:[1-9][0-9]*$ ]] || fail "ready file says '$ADDR'"
	run -0 --separate-stderr peer client --connect "$ADDR" --send 'six\n' --timeout 5
	term_weir
	assert_equal "$EXIT_STATUS" 143
	assert_equal "$(cat "$T/out")" "six"
	start_mux -k -u -v -p line --deny ::1/128 'tcp-listen:[::1]:0' "append:$T/out" </dev/null 2>"$T/err"
	run -0 --separate-stderr peer client --connect "$ADDR" --send '' --no-shutdown --timeout 5
	assert_output ""
	term_weir
	assert_equal "$EXIT_STATUS" 143
	assert_equal "$(cat "$T/out")" "six"
	run -0 cat "$T/err"
	assert_line --regexp '^weir: tcp-listen:\[::1\]:0: refused \[::1\]:[0-9]+ '
	# An IPv4 rule does not admit ::1.
	start_mux -k -u -p line --allow 127.0.0.0/8 'tcp-listen:[::1]:0' "append:$T/out" </dev/null 2>"$T/err"
	run -0 --separate-stderr peer client --connect "$ADDR" --send '' --no-shutdown --timeout 5
	term_weir
	assert_equal "$EXIT_STATUS" 143
	assert_equal "$(cat "$T/out")" "six"
}

# --- one connection or many -------------------------------------------------

@test "without -k a listener serves one connection, a second is never served" {
	start_weir "$T/r" -p line tcp-listen:127.0.0.1:0 "write:$T/out" </dev/null 2>"$T/err"
	spawn_peer client --connect "$ADDR" --send 'first\n' --wait-file "$T/go" --timeout 10 </dev/null
	wait_grep "$T/out" '^first$'
	# Refused, closed, or left waiting: never served.
	run --separate-stderr peer client --connect "$ADDR" --send 'second\n' --timeout 1
	((status == 0 || status == 1)) || fail "second client exited $status"
	assert_output ""
	touch "$T/go"
	wait_exit "$WEIR_PID"
	assert_equal "$EXIT_STATUS" 0
	assert_equal "$(cat "$T/out")" "first"
}

@test "-k keeps accepting: two clients one after the other" {
	start_mux -k -p line tcp-listen:127.0.0.1:0 "append:$T/out" </dev/null 2>"$T/err"
	run -0 --separate-stderr peer client --connect "$ADDR" --send 'one\n' --timeout 5
	run -0 --separate-stderr peer client --connect "$ADDR" --send 'two\n' --timeout 5
	wait_lines "$T/out" 2
	term_weir
	assert_equal "$EXIT_STATUS" 143
	assert_equal "$(cat "$T/out")" $'one\ntwo'
	assert_file_empty "$T/err"
}

@test "--keep-open with unix-listen: two clients, the socket is unlinked at exit" {
	start_mux --keep-open -p line "unix-listen:$T/s" "append:$T/out" </dev/null 2>"$T/err"
	assert_equal "$ADDR" "unix:$T/s"
	run -0 --separate-stderr peer client --connect "$ADDR" --send 'one\n' --timeout 5
	run -0 --separate-stderr peer client --connect "$ADDR" --send 'two\n' --timeout 5
	wait_lines "$T/out" 2
	term_weir
	assert_equal "$EXIT_STATUS" 143
	assert_equal "$(cat "$T/out")" $'one\ntwo'
	assert_not_exist "$T/s"
}

# --- -v and --stats -------------------------------------------------------

@test "-v names the wiring: proxy, shared, broker" {
	start_peer "$T/re" echo --concurrent --count 0
	local echo=$ADDR
	start_mux -k -v tcp-listen:127.0.0.1:0 "$echo" </dev/null 2>"$T/err"
	wait_grep "$T/err" '^weir: proxy '
	assert_equal "$(head -n 1 "$T/err")" "weir: proxy tcp-listen:127.0.0.1:0 (relay) <-> $echo (relay), splice"
	term_weir
	assert_equal "$EXIT_STATUS" 143

	start_mux -k -v -p line tcp-listen:127.0.0.1:0 "append:$T/all.log" </dev/null 2>"$T/err"
	wait_grep "$T/err" '^weir: shared '
	assert_equal "$(head -n 1 "$T/err")" \
		"weir: shared tcp-listen:127.0.0.1:0 (line) -> append:$T/all.log (line), one-way"
	term_weir
	assert_equal "$EXIT_STATUS" 143

	start_mux -k -v --share tcp-listen:127.0.0.1:0 "$echo" </dev/null 2>"$T/err"
	wait_grep "$T/err" '^weir: shared '
	assert_equal "$(head -n 1 "$T/err")" "weir: shared tcp-listen:127.0.0.1:0 (relay) <-> $echo (relay)"
	term_weir
	assert_equal "$EXIT_STATUS" 143

	start_mux --broker -v -p line tcp-listen:127.0.0.1:0 </dev/null 2>"$T/err"
	wait_grep "$T/err" '^weir: broker '
	assert_equal "$(head -n 1 "$T/err")" "weir: broker tcp-listen:127.0.0.1:0 (line)"
	term_weir
	assert_equal "$EXIT_STATUS" 143
}

@test "--stats sums a listener's connections: (3 connections)" {
	start_mux -k --stats -p line tcp-listen:127.0.0.1:0 "append:$T/out" </dev/null 2>"$T/err"
	local word
	for word in one two three; do
		run -0 --separate-stderr peer client --connect "$ADDR" --send "$word\\n" --timeout 5
	done
	wait_lines "$T/out" 3
	term_weir
	assert_equal "$EXIT_STATUS" 143
	assert_equal "$(cat "$T/err")" "\
weir: stats LEFT tcp-listen:127.0.0.1:0 (3 connections): in 14 B 3 frames, out 0 B 0 frames, paused 0 times 0.000 s, dropped 0, kernel dropped 0, errors 0, undelivered 0 B, discarded 0 B
weir: stats RIGHT append:$T/out: in 0 B 0 frames, out 14 B 3 frames, paused 0 times 0.000 s, dropped 0, kernel dropped 0, errors 0, undelivered 0 B, discarded 0 B"
}

@test "--stats=json: the listener side counts its connections" {
	start_mux -k --stats=json -p line tcp-listen:127.0.0.1:0 "append:$T/out" </dev/null 2>"$T/err"
	run -0 --separate-stderr peer client --connect "$ADDR" --send 'a\nb\n' --timeout 5
	run -0 --separate-stderr peer client --connect "$ADDR" --send 'c\n' --timeout 5
	wait_lines "$T/out" 3
	term_weir
	assert_equal "$EXIT_STATUS" 143
	assert_equal "$(stats_json "$T/err" left connections)" 2
	assert_equal "$(stats_json "$T/err" left frames_in)" 3
	assert_equal "$(stats_json "$T/err" right bytes_out)" 6
}

# --- usage errors -----------------------------------------------------------

@test "--broker takes one listener address and nothing else" {
	local args
	for args in "tcp-listen:0 tcp:127.0.0.1:1" "tcp-listen:0 -" "- tcp-listen:0" \
		"tcp:127.0.0.1:1" "-" "exec:cat"; do
		# shellcheck disable=SC2086
		run -2 --separate-stderr weir --broker $args </dev/null
		assert_output ""
		[[ $stderr == "weir: "*$'\n'"Try 'weir --help'." ]] ||
			fail "weir --broker $args: unexpected stderr: $stderr"
	done
}

@test "--allow and --deny need a tcp-listen address" {
	run -2 --separate-stderr weir --allow 127.0.0.1 "unix-listen:$T/s" - </dev/null
	[[ $stderr == "weir: "*$'\n'"Try 'weir --help'." ]] || fail "unexpected stderr: $stderr"
	assert_not_exist "$T/s"
	run -2 --separate-stderr weir --deny 127.0.0.1 - - </dev/null
	[[ $stderr == "weir: "*$'\n'"Try 'weir --help'." ]] || fail "unexpected stderr: $stderr"
	run -2 --separate-stderr weir --allow 127.0.0.1 tcp:127.0.0.1:1 </dev/null
	[[ $stderr == "weir: "*$'\n'"Try 'weir --help'." ]] || fail "unexpected stderr: $stderr"
}

@test "bad values of -m, --slow, --allow and --deny name the option" {
	local args
	for args in "-m 0" "-m x" "--max-conns -1" "--max-conns=1.5" "--slow fast" "--slow=" \
		"--allow 300.0.0.1" "--allow 127.0.0.0/33" "--allow nonsense" "--allow=" \
		"--deny ::1/129" "--deny 10.0.0.0/x" "--deny 1.2.3"; do
		# shellcheck disable=SC2086
		run -2 --separate-stderr weir $args tcp-listen:127.0.0.1:0 - </dev/null
		assert_output ""
		[[ $stderr == "weir: "*$'\n'"Try 'weir --help'." ]] ||
			fail "weir $args: unexpected stderr: $stderr"
		local opt=${args%%[ =]*}
		case $opt in
		-m | --max-conns) [[ $stderr == *-m* || $stderr == *--max-conns* ]] ;;
		*) [[ $stderr == *"$opt"* ]] ;;
		esac || fail "weir $args: message does not name the option: $stderr"
	done
}

@test "a reset connection is released in two-way shared and broker modes" {
	local mode
	for mode in shared broker; do
		if [[ $mode == shared ]]; then
			# Standard input stays open: the connection is two-way.
			spawn_writer "$T/fifo" --hold
			start_mux -k -v -m 1 tcp-listen:127.0.0.1:0 - <"$T/fifo" >/dev/null 2>"$T/err"
		else
			start_mux --broker -v -m 1 tcp-listen:127.0.0.1:0 </dev/null >/dev/null 2>"$T/err"
		fi
		local fds
		fds=$(count_fds "$WEIR_PID")
		run -0 python3 -c '
import socket, struct, sys, time
host, port = sys.argv[1][4:].rsplit(":", 1)
s = socket.create_connection((host, int(port)))
time.sleep(0.2)
s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
s.close()' "$ADDR"
		wait_grep "$T/err" "read: Connection reset by peer"
		wait_fds "$WEIR_PID" "$fds"
		# The slot -m 1 allows is free again: a second client is admitted.
		spawn_peer client --connect "$ADDR" --send '' --no-shutdown --timeout 5 </dev/null
		wait_fds "$WEIR_PID" $((fds + 1))
		run -1 grep -c refused "$T/err"
		assert_output 0
		term_weir
		assert_equal "$EXIT_STATUS" 143
	done
}

# --- -i with -k: idle connections closed alone ------------------------------

@test "-k -i: a client stalled inside a line is closed alone; its half line is discarded" {
	start_mux -k -i 1 -p line --stats=json tcp-listen:127.0.0.1:0 "append:$T/out" 2>"$T/err"
	# The stalled client: half a line, then nothing, never closing.
	spawn_peer client --connect "$ADDR" --send 'half a li' --no-shutdown --out "$T/stalled" --timeout 20 </dev/null
	local stalled=$LAST_PID
	# A live client keeps sending, each line well within -i of the last.
	local i
	for ((i = 10; i < 40; i++)); do
		printf 'l%02d\n' "$i"
	done >"$T/lines"
	run -0 peer client --connect "$ADDR" --send-file "$T/lines" --chunk 4 --chunk-delay 0.1 --timeout 20
	wait_grep "$T/err" "^weir: tcp-listen:127\.0\.0\.1:0 \(127\.0\.0\.1:[0-9]+\): idle for 1 s, closing$"
	# The stalled client sees its connection end.
	wait_exit "$stalled"
	assert_equal "$EXIT_STATUS" 0
	assert_file_exist "$T/stalled"
	term_weir
	assert_equal "$EXIT_STATUS" 143
	run -0 wc -l <"$T/out"
	assert_output 30
	run -1 grep -c half "$T/out"
	assert_equal "$(stats_json "$T/err" left discarded)" 9
	assert_equal "$(stats_json "$T/err" left frames_in)" 30
	assert_equal "$(stats_json "$T/err" right frames_out)" 30
	assert_equal "$(stats_json "$T/err" left connections)" 2
}

@test "-k -i: an idle proxied connection is closed with its upstream; weir goes on" {
	start_peer "$T/er" echo --count 2
	local echo_addr=$ADDR
	start_mux -k -v -i 1 tcp-listen:127.0.0.1:0 "$echo_addr" 2>"$T/err"
	spawn_peer client --connect "$ADDR" --send 'ping' --no-shutdown --out "$T/idle" --timeout 20 </dev/null
	local idle=$LAST_PID
	wait_grep "$T/err" "idle for 1 s, closing$"
	wait_exit "$idle"
	assert_equal "$EXIT_STATUS" 0
	run -0 cat "$T/idle"
	assert_output ping
	# The listener still serves.
	run -0 peer client --connect "$ADDR" --send pong --timeout 10
	assert_output pong
	term_weir
	assert_equal "$EXIT_STATUS" 143
}

# --- proxy: a connection's first bytes while its upstream connects -----------

@test "proxy: bytes sent before the upstream is up reach it, then the half-close" {
	start_peer "$T/er" echo --count 0 --concurrent
	local echo_addr=$ADDR
	start_mux -k --stats=json tcp-listen:127.0.0.1:0 "$echo_addr" 2>"$T/err"
	local req
	for req in {0..19}; do
		# Sent and half-closed at once, before weir's connect completes.
		run -0 peer client --connect "$ADDR" --send "request $req" --timeout 10
		assert_output "request $req"
	done
	term_weir
	assert_equal "$EXIT_STATUS" 143
	assert_equal "$(stats_json "$T/err" left bytes_in)" 190
	assert_equal "$(stats_json "$T/err" right bytes_out)" 190
	assert_equal "$(stats_json "$T/err" right bytes_in)" 190
	assert_equal "$(stats_json "$T/err" left bytes_out)" 190
	assert_equal "$(stats_json "$T/err" right undelivered)" 0
}

@test "proxy: upstream refused after the client sent: closed alone, what it sent counted" {
	start_peer "$T/rr" refused
	local dead=$ADDR
	start_mux -k --stats=json tcp-listen:127.0.0.1:0 "$dead" 2>"$T/err"
	run peer client --connect "$ADDR" --send 'lost request' --timeout 10
	refute_output --partial request
	wait_grep "$T/err" "^weir: $dead: connect: Connection refused$"
	term_weir
	assert_equal "$EXIT_STATUS" 143
	local in und
	in=$(stats_json "$T/err" left bytes_in)
	und=$(stats_json "$T/err" right undelivered)
	# Read before the refusal or not at all: either way, accounted for.
	assert_equal "$und" "$in"
	assert_equal "$(stats_json "$T/err" right bytes_out)" 0
	assert_equal "$(stats_json "$T/err" right errors)" 1
}
