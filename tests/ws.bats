#!/usr/bin/env bats
# ws:// and ws-listen: (RFC 6455): one message is one frame both ways (text,
# binary, empty, 1 MiB, fragmented), msg=, line and netstring conversion,
# pings, close codes (1000, 1002, 1007, 1009), the close handshake both
# ways, the server's HTTP answers (404, 426, 400, -w), header=, origin=,
# subprotocol=, listeners (proxy, shared with --slow, --broker, -m,
# --allow/--deny), memory with slow readers, usage errors, a page in
# headless Chromium; wss:// and wss-listen: at the end. Against
# tests/wspeer.py (the websockets library, and raw
# frames for what a library will not send).

load helper

rss_limit 24576 65536

WSPEER="$BATS_TEST_DIRNAME/wspeer.py"

# wspeer ARGS...: the WebSocket peer in the foreground, bounded in time
# (it says so itself when time is up).
wspeer() {
	timeout -k 2 $((WEIR_TIMEOUT + 5)) python3 "$WSPEER" "$@" --timeout "$WEIR_TIMEOUT" 3>&- 7>&-
}

# spawn_wspeer ARGS... [redirections]: the peer in the background, bounded
# in time too (teardown kills it before that, unless a slow weir, as under
# valgrind, needs the time).
spawn_wspeer() {
	spawn python3 "$WSPEER" "$@" --timeout $((2 * WEIR_TIMEOUT + 10)) 7>&-
}

# start_server NAME ARGS...: `wspeer.py server` in the background, its
# output in $T/NAME.log; sets PORT.
start_server() {
	local name=$1
	shift
	spawn_wspeer server "$T/$name.port" "$@" >"$T/$name.log" </dev/null
	wait_file "$T/$name.port" || return 1
	PORT=$(cat "$T/$name.port")
}

# start_rawserver NAME STEP... [OPTIONS]: `wspeer.py rawserver` in the
# background (one connection), its output in $T/NAME.log; sets PORT and
# RAW_PID.
start_rawserver() {
	local name=$1
	shift
	spawn_wspeer rawserver "$T/$name.port" "$@" >"$T/$name.log" </dev/null
	RAW_PID=$LAST_PID
	wait_file "$T/$name.port" || return 1
	PORT=$(cat "$T/$name.port")
}

# start_ws ARGS...: weir --ready-file $T/r ARGS... in the background (its
# standard streams as redirected by the caller); sets URL to its
# listener's ready line (ws://127.0.0.1:PORT/PATH), WPORT and WEIR_PID.
# A weir that exits first fails at once, with its $T/err.
start_ws() {
	local n=1000
	rm -f "$T/r"
	spawn_weir --ready-file "$T/r" "$@"
	WEIR_PID=$LAST_PID
	until [[ -e $T/r ]]; do
		if ! kill -0 "$WEIR_PID" 2>/dev/null || ((n-- <= 0)); then
			# Our standard error may be the caller's file: say it
			# in the TAP stream.
			{
				echo "weir wrote no ready file"
				cat "$T/err" 2>/dev/null
			} | sed 's/^/# /' >&3
			return 1
		fi
		sleep 0.01
	done
	URL=$(head -n 1 "$T/r")
	[[ $URL =~ ^wss?://127\.0\.0\.1:([1-9][0-9]*)/ ]] || fail "ready file says '$URL'"
	WPORT=${BASH_REMATCH[1]}
}

# stop_weir: SIGTERM the background weir and wait for it (EXIT_STATUS).
stop_weir() {
	kill -TERM "$WEIR_PID"
	wait_exit "$WEIR_PID"
}

# open_in: the FIFO $T/in, held open on descriptor 7 (a background weir
# reads it; `exec 7>&-` is its EOF). Whatever is spawned after it must
# not inherit descriptor 7.
open_in() {
	mkfifo "$T/in"
	exec 7<>"$T/in"
}

# digests SPEC...: what a peer prints for those messages.
digests() {
	python3 "$WSPEER" digest "$@"
}

# elapsed_ms SINCE: milliseconds since $EPOCHREALTIME was SINCE.
elapsed_ms() {
	local now=$EPOCHREALTIME
	echo $(((${now/./} - ${1/./}) / 1000))
}

# wait_size FILE BYTES [SECONDS]: until FILE has at least BYTES bytes.
wait_size() {
	local n=$((${3:-10} * 100)) have=0
	while ((n-- > 0)); do
		have=$(stat -c %s "$1" 2>/dev/null) || have=0
		((have >= $2)) && return 0
		sleep 0.01
	done
	echo "timed out waiting for $2 bytes in $1 (it has $have)" >&2
	return 1
}

# assert_ws_usage ADDRESS [WHY]: weir ADDRESS is a usage error naming
# ADDRESS (and saying WHY, when given).
assert_ws_usage() {
	run -2 --separate-stderr weir "$1"
	if [[ -n ${2:-} ]]; then
		assert_usage_error "weir: $1: $2"
	else
		[[ $stderr == "weir: $1: "*$'\n'"Try 'weir --help'." ]] ||
			fail "weir $1: $stderr"
	fi
}

# --- the peer itself ----------------------------------------------------------

@test "wspeer.py: its client and server agree, text, binary, empty and 1 MiB, both ways" {
	start_server s --echo --path /p --subprotocol chat --headers "$T/h" \
		--send text:hello --send 'binary#300'
	run -0 --separate-stderr wspeer client "ws://127.0.0.1:$PORT/p?q=1" --subprotocol chat \
		--print-subprotocol --origin http://o.example --header 'X-A: a,b' \
		--send 'text#1048576' --send 'binary#1048576' --send text: --expect 5
	assert_output "subprotocol chat
$(digests text:hello 'binary#300' 'text#1048576' 'binary#1048576' text:)
close 1000"
	wait_grep "$T/s.log" '^close 1000$'
	assert_equal "$(cat "$T/s.log")" "$(digests 'text#1048576' 'binary#1048576' text:)
close 1000"
	run -0 grep -x -e 'GET /p?q=1' -e 'Origin: http://o.example' -e 'X-A: a,b' "$T/h"
	assert_equal "${#lines[@]}" 3
	run -0 --separate-stderr wspeer client "ws://127.0.0.1:$PORT/other" --expect-status
	assert_output "status 404"
}

@test "wspeer.py: raw frames against the library, and the library against raw frames" {
	start_server s --echo
	run -0 --separate-stderr wspeer raw "ws://127.0.0.1:$PORT/" nofin+text:hel ping:p \
		nofin+cont:lo 'cont: world' expect:1 close:1000:bye
	assert_output "pong p
$(digests 'text:hello world')
close 1000
reason bye
eof"
	run -0 --separate-stderr wspeer raw "ws://127.0.0.1:$PORT/" text%c328
	assert_output $'close 1007\neof'
	run -0 --separate-stderr wspeer raw "ws://127.0.0.1:$PORT/" unmasked+text:x
	assert_output $'close 1002\neof'
	start_rawserver r expect:close text:late close:1001 --headers "$T/h"
	run -0 --separate-stderr wspeer client "ws://127.0.0.1:$PORT/x" --send text:hi --expect 0
	assert_output "close 1001"
	wait_exit "$RAW_PID"
	assert_equal "$EXIT_STATUS" 0
	assert_equal "$(cat "$T/r.log")" "$(digests text:hi)
close 1000
closed"
	assert_equal "$(head -n 1 "$T/h")" "GET /x HTTP/1.1"
	rm -f "$T/r.port"
	start_rawserver r ping:abc nofin+text:abcdefghij cont:klmno close:1001
	run -0 --separate-stderr wspeer raw "ws://127.0.0.1:$PORT/"
	assert_output "ping abc
$(digests text:abcdefghijklmno)
close 1001
eof"
	wait_exit "$RAW_PID"
	assert_equal "$(cat "$T/r.log")" $'pong abc\nclose 1001\nclosed'
	assert_equal "$(wspeer gen --ns text:ab 'binary#3' | wspeer unns)" \
		"$(digests --bare text:ab 'binary#3')"
}

# --- addresses and messages ---------------------------------------------------

@test "ws-listen: a line is a text message and a message a line; the ready file says ws://127.0.0.1:PORT/chat" {
	open_in
	start_ws -p line ws-listen:127.0.0.1:0/chat - <"$T/in" >"$T/out" 2>"$T/err" 7>&-
	[[ $URL =~ ^ws://127\.0\.0\.1:[1-9][0-9]*/chat$ ]] || fail "ready file says '$URL'"
	assert_equal "$(wc -l <"$T/r")" 1
	spawn_wspeer client "$URL" --send text:hi >"$T/client" </dev/null
	local client=$LAST_PID
	wait_grep "$T/out" '^hi$'
	echo hello >&7
	exec 7>&-
	wait_exit "$client"
	assert_equal "$EXIT_STATUS" 0
	assert_equal "$(cat "$T/client")" "$(digests text:hello)
close 1000"
	wait_exit "$WEIR_PID"
	assert_equal "$EXIT_STATUS" 0
	assert_equal "$(cat "$T/out")" "hi"
	assert_file_empty "$T/err"
	assert_file_not_exists "$T/r"
}

@test "ws-listen: without a path any path is served, and the ready file ends in /" {
	start_ws -p line ws-listen:127.0.0.1:0 - <<<"anywhere" 2>"$T/err"
	[[ $URL =~ ^ws://127\.0\.0\.1:[1-9][0-9]*/$ ]] || fail "ready file says '$URL'"
	run -0 --separate-stderr wspeer client "${URL}some/where?x=1"
	assert_output "$(digests text:anywhere)
close 1000"
	wait_exit "$WEIR_PID"
	assert_equal "$EXIT_STATUS" 0
}

@test "ws://: msg=auto sends UTF-8 as text and the rest as binary; msg=text and msg=binary fix the type" {
	printf 'abc\n\xff\xfe\nh\xc3\xa9\n' >"$T/lines"
	start_server auto
	run -0 --separate-stderr weir -p line - "ws://127.0.0.1:$PORT/" <"$T/lines"
	assert_equal "$stderr" ""
	wait_grep "$T/auto.log" '^close '
	assert_equal "$(cat "$T/auto.log")" "$(digests text:abc binary%fffe text%68c3a9)
close 1000"
	start_server bin
	run -0 --separate-stderr weir -p line - "ws://127.0.0.1:$PORT/,msg=binary" <"$T/lines"
	wait_grep "$T/bin.log" '^close '
	assert_equal "$(cat "$T/bin.log")" "$(digests binary:abc binary%fffe binary%68c3a9)
close 1000"
	# Text that is not UTF-8 cannot be sent as text: a protocol error.
	start_server text
	run -3 --separate-stderr weir -p line - "ws://127.0.0.1:$PORT/,msg=text" <"$T/lines"
	[[ $stderr == "weir: "* ]] || fail "stderr: $stderr"
	wait_grep "$T/text.log" '^close '
	assert_equal "$(head -n 1 "$T/text.log")" "$(digests text:abc)"
	run -0 grep -c '^text\|^binary' "$T/text.log"
	assert_output 1
}

@test "ws://: empty messages: an empty line is an empty message, and back" {
	open_in
	start_server s --echo
	spawn_weir -p line - "ws://127.0.0.1:$PORT/" <"$T/in" >"$T/out" 2>"$T/err" 7>&-
	local w=$LAST_PID
	printf 'a\n\nb\n\n' >&7
	wait_lines "$T/out" 4
	exec 7>&-
	wait_exit "$w"
	assert_equal "$EXIT_STATUS" 0
	assert_equal "$(od -An -c "$T/out" | tr -s ' ')" " a \\n \\n b \\n \\n"
	wait_grep "$T/s.log" '^close '
	assert_equal "$(cat "$T/s.log")" "$(digests text:a text: text:b text:)
close 1000"
	assert_file_empty "$T/err"
}

@test "ws-listen: empty text and binary messages become empty lines" {
	open_in
	start_ws -p line ws-listen:127.0.0.1:0 - <"$T/in" >"$T/out" 2>"$T/err" 7>&-
	spawn_wspeer raw "$URL" text: binary% text:x >"$T/client" </dev/null
	local client=$LAST_PID
	wait_lines "$T/out" 3
	exec 7>&-
	wait_exit "$client"
	assert_equal "$(cat "$T/client")" $'close 1000\neof'
	wait_exit "$WEIR_PID"
	assert_equal "$EXIT_STATUS" 0
	assert_equal "$(od -An -c "$T/out" | tr -s ' ')" " \\n \\n x \\n"
}

@test "1 MiB messages, text and binary, arrive intact through weir as client and as server" {
	# As client: netstrings in, each one message to the echo server, and
	# back.
	open_in
	start_server s --echo
	spawn_weir -p netstring - "ws://127.0.0.1:$PORT/" <"$T/in" >"$T/out" 2>"$T/err" 7>&-
	local w=$LAST_PID
	wspeer gen --ns 'text#1048576' 'binary#1048576' >&7
	wait_size "$T/out" $((2 * (1048576 + 9)))
	exec 7>&-
	wait_exit "$w"
	assert_equal "$EXIT_STATUS" 0
	run -0 wspeer unns <"$T/out"
	assert_output "$(digests --bare 'text#1048576' 'binary#1048576')"
	assert_equal "$(head -n 2 "$T/s.log")" "$(digests 'text#1048576' 'binary#1048576')"
	# As server: each message a netstring to cat, each netstring back a
	# message of the type msg=auto gives it.
	start_ws -k -p netstring ws-listen:127.0.0.1:0 exec:cat </dev/null 2>"$T/err"
	run -0 --separate-stderr wspeer client "$URL" --send 'text#1048576' \
		--send 'binary#1048576' --expect 2
	assert_output "$(digests 'text#1048576' 'binary#1048576')
close 1000"
	stop_weir
}

@test "fragments: a message in fragments, a ping between them, is one message; the ping is answered" {
	open_in
	start_ws -p line ws-listen:127.0.0.1:0 - <"$T/in" >"$T/out" 2>"$T/err" 7>&-
	# A euro sign cut between two fragments is still valid UTF-8.
	spawn_wspeer raw "$URL" nofin+text:hel ping:abc 'nofin+cont:lo ' cont:world \
		nofin+text%e282 cont%ac nofin+binary%ff00 nofin+cont% cont%01 >"$T/client" </dev/null
	local client=$LAST_PID
	wait_lines "$T/out" 3
	exec 7>&-
	wait_exit "$client"
	assert_equal "$EXIT_STATUS" 0
	assert_equal "$(cat "$T/client")" $'pong abc\nclose 1000\neof'
	wait_exit "$WEIR_PID"
	assert_equal "$EXIT_STATUS" 0
	assert_equal "$(od -An -tx1 "$T/out" | tr -s ' \n' ' ')" \
		" 68 65 6c 6c 6f 20 77 6f 72 6c 64 0a e2 82 ac 0a ff 00 01 0a "
}

@test "ping: weir answers a ping with its payload, at any time" {
	open_in
	start_ws -p line ws-listen:127.0.0.1:0 - <"$T/in" >"$T/out" 2>"$T/err" 7>&-
	spawn_wspeer raw "$URL" ping:one text:x ping: ping:three expect:close >"$T/client" </dev/null
	local client=$LAST_PID
	wait_grep "$T/client" '^pong three$'
	exec 7>&-
	wait_exit "$client"
	assert_equal "$(cat "$T/client")" $'pong one\npong \npong three\nclose 1000\neof'
	wait_exit "$WEIR_PID"
	assert_equal "$EXIT_STATUS" 0
}

@test "ping=: weir pings; a server that answers keeps the connection, one that does not is closed after 2x" {
	open_in
	start_rawserver pong
	spawn_weir -p line - "ws://127.0.0.1:$PORT/,ping=0.2" <"$T/in" >"$T/out" 2>"$T/err" 7>&-
	local w=$LAST_PID
	# Four pings: 0.8 s, twice the 2x bound, and still open.
	local n=0
	until (($(grep -c '^ping' "$T/pong.log") >= 4)); do
		((n++ < 1000)) || fail "$(grep -c '^ping' "$T/pong.log") pings in 10 s"
		sleep 0.01
	done
	kill -0 "$w" || fail "weir ended: $(cat "$T/err")"
	exec 7>&-
	wait_exit "$w"
	assert_equal "$EXIT_STATUS" 0
	wait_exit "$RAW_PID"
	run -0 grep -v '^ping' "$T/pong.log"
	assert_output $'close 1000\nclosed'

	# No pongs: closed between 0.4 s and a few seconds in, its input
	# still open.
	exec 7<>"$T/in"
	start_rawserver nopong --no-pong
	local t0=$EPOCHREALTIME ms
	run -1 --separate-stderr weir -p line - "ws://127.0.0.1:$PORT/,ping=0.2" <"$T/in"
	ms=$(elapsed_ms "$t0")
	# (memcheck, WEIR_TIMEOUT raised: its start alone takes a second or more)
	((ms >= 400 && ms < (WEIR_TIMEOUT > 15 ? 8000 : 4000))) || fail "weir ended after $ms ms"
	[[ $stderr == "weir: ws://127.0.0.1:$PORT/"* ]] || fail "stderr: $stderr"
	wait_exit "$RAW_PID"
	grep -q '^ping' "$T/nopong.log" || fail "no ping: $(cat "$T/nopong.log")"
	# weir says it is going away (1001), or the connection just ends.
	[[ $(tail -n 1 "$T/nopong.log") =~ ^(eof|closed)$ ]] || fail "$(cat "$T/nopong.log")"
}

@test "ping=: on a listener, a client that does not answer is closed alone" {
	start_ws -k -p line "ws-listen:127.0.0.1:0,ping=0.2" "append:$T/all" </dev/null 2>"$T/err"
	local t0=$EPOCHREALTIME ms
	run -0 --separate-stderr wspeer raw "$URL" --no-pong
	ms=$(elapsed_ms "$t0")
	((ms >= 400 && ms < 4000)) || fail "closed after $ms ms"
	assert_line --index 0 --regexp '^ping'
	assert_line --index -1 --regexp '^(eof|reset)$'
	run -0 --separate-stderr wspeer client "$URL" --send text:after --expect 0
	wait_grep "$T/all" '^after$'
	kill -0 "$WEIR_PID"
	stop_weir
}

# --- protocol errors ----------------------------------------------------------

# A listener without -k: the connection with the error is closed alone, and
# as it was the one served weir ends, with 1 (as for a line or netstring
# error on tcp-listen:); a client, a stream of its own, exits 3.

@test "1009: a message over --max-frame (1 MiB by default), whole or in fragments: close 1009, a protocol error" {
	open_in
	start_ws -p line ws-listen:127.0.0.1:0 - <"$T/in" >"$T/out" 2>"$T/err" 7>&-
	run -0 --separate-stderr wspeer raw "$URL" 'text#1048576' 'text#1048577'
	assert_line "close 1009"
	assert_line --index -1 --regexp '^(eof|reset)$'
	wait_exit "$WEIR_PID"
	assert_equal "$EXIT_STATUS" 1
	assert_equal "$(wc -c <"$T/out")" 1048577
	grep -q '^weir: ' "$T/err" || fail "nothing said"

	start_ws --max-frame 1000 -p line ws-listen:127.0.0.1:0 - <"$T/in" >"$T/out" 2>"$T/err" 7>&-
	run -0 --separate-stderr wspeer raw "$URL" 'nofin+binary#600' 'cont#400' 'nofin+binary#600' \
		'cont#401'
	assert_line "close 1009"
	wait_exit "$WEIR_PID"
	assert_equal "$EXIT_STATUS" 1
	assert_equal "$(wc -c <"$T/out")" 1001
}

@test "1009: a server's message over --max-frame ends weir as client, exit 3" {
	# Its input open: an end would be weir's close (1000) first.
	open_in
	start_rawserver big 'text#1048577'
	run -3 --separate-stderr weir -p line - "ws://127.0.0.1:$PORT/" <"$T/in"
	assert_output ""
	[[ $stderr == "weir: ws://127.0.0.1:$PORT/"* ]] || fail "stderr: $stderr"
	wait_exit "$RAW_PID"
	run -0 grep -x 'close 1009' "$T/big.log"
}

@test "1009: on a listener only that connection is closed; the listener goes on" {
	start_ws -k -p line ws-listen:127.0.0.1:0 "append:$T/all" </dev/null 2>"$T/err"
	run -0 --separate-stderr wspeer raw "$URL" 'binary#1048577'
	assert_line "close 1009"
	run -0 --separate-stderr wspeer client "$URL" --send text:fine --expect 0
	assert_output "close 1000"
	wait_grep "$T/all" '^fine$'
	assert_equal "$(cat "$T/all")" "fine"
	kill -0 "$WEIR_PID"
	stop_weir
}

@test "1007: text that is not UTF-8: close 1007, a protocol error, both roles" {
	open_in
	start_ws -p line ws-listen:127.0.0.1:0 - <"$T/in" >"$T/out" 2>"$T/err" 7>&-
	run -0 --separate-stderr wspeer raw "$URL" text:ok text%c328
	assert_line "close 1007"
	wait_exit "$WEIR_PID"
	assert_equal "$EXIT_STATUS" 1
	assert_equal "$(cat "$T/out")" "ok"
	# Invalid across fragments: a lone continuation byte.
	start_ws -p line ws-listen:127.0.0.1:0 - <"$T/in" >"$T/out" 2>"$T/err" 7>&-
	run -0 --separate-stderr wspeer raw "$URL" nofin+text:a cont%80
	assert_line "close 1007"
	wait_exit "$WEIR_PID"
	assert_equal "$EXIT_STATUS" 1
	# From a server.
	start_rawserver bad text%fffe
	run -3 --separate-stderr weir -p line - "ws://127.0.0.1:$PORT/" <"$T/in"
	assert_output ""
	wait_exit "$RAW_PID"
	run -0 grep -x 'close 1007' "$T/bad.log"
}

@test "1002: an unmasked frame from a client, a masked one from a server, a reserved opcode or bit" {
	open_in
	local step
	for step in unmasked+text:x op3:x rsv1+text:x ping#126 nofin+ping:x cont:x; do
		start_ws -p line ws-listen:127.0.0.1:0 - <"$T/in" >"$T/out" 2>"$T/err" 7>&-
		run -0 --separate-stderr wspeer raw "$URL" "$step"
		assert_line "close 1002"
		wait_exit "$WEIR_PID"
		[[ $EXIT_STATUS == 1 ]] || fail "$step: weir exited $EXIT_STATUS"
		assert_file_empty "$T/out"
	done
	start_rawserver masked masked+text:x
	run -3 --separate-stderr weir -p line - "ws://127.0.0.1:$PORT/" <"$T/in"
	assert_output ""
	wait_exit "$RAW_PID"
	run -0 grep -x 'close 1002' "$T/masked.log"
}

# --- the server's HTTP side ---------------------------------------------------

@test "handshake: another path gets 404 Not Found and is closed; the query is not the path" {
	start_ws -k -p line ws-listen:127.0.0.1:0/chat "append:$T/all" </dev/null 2>"$T/err"
	run -0 --separate-stderr wspeer http "ws://127.0.0.1:$WPORT/other" --upgrade
	assert_output $'HTTP/1.1 404 Not Found\neof'
	run -0 --separate-stderr wspeer http "ws://127.0.0.1:$WPORT/chat/more" --upgrade
	assert_output $'HTTP/1.1 404 Not Found\neof'
	run -0 --separate-stderr wspeer client "ws://127.0.0.1:$WPORT/" --expect-status
	assert_output "status 404"
	run -0 --separate-stderr wspeer client "ws://127.0.0.1:$WPORT/chat?room=1" --send text:in \
		--expect 0
	wait_grep "$T/all" '^in$'
	stop_weir
}

@test "handshake: a request that is not an upgrade gets 426, a malformed one 400; each is closed" {
	start_ws -k -p line ws-listen:127.0.0.1:0 "append:$T/all" </dev/null 2>"$T/err"
	local u="ws://127.0.0.1:$WPORT/"
	run -0 --separate-stderr wspeer http "$u" --show-headers
	assert_line --index 0 "HTTP/1.1 426 Upgrade Required"
	assert_line "Sec-WebSocket-Version: 13"
	assert_line --index -1 "eof"
	run -0 --separate-stderr wspeer http "$u" --request 'GARBAGE\r\n\r\n'
	assert_output $'HTTP/1.1 400 Bad Request\neof'
	run -0 --separate-stderr wspeer http "$u" --upgrade --method POST
	assert_output $'HTTP/1.1 400 Bad Request\neof'
	run -0 --separate-stderr wspeer http "$u" --upgrade --version 1.0
	assert_output $'HTTP/1.1 400 Bad Request\neof'
	# The head is bounded at 8 KiB. The answer to one under it is an
	# upgrade, kept open: wait that long for it (memcheck is slow).
	local wait=1
	((WEIR_TIMEOUT <= 15)) || wait=5
	run -0 --separate-stderr wspeer http "$u" --upgrade --pad 4000 --wait "$wait"
	assert_line --index 0 "HTTP/1.1 101 Switching Protocols"
	run -0 --separate-stderr wspeer http "$u" --upgrade --pad 9000
	assert_line --index 0 --regexp '^HTTP/1\.1 4[0-9][0-9] '
	assert_line --index -1 --regexp '^(eof|reset)$'
	# Still serving.
	run -0 --separate-stderr wspeer client "$u" --send text:still --expect 0
	wait_grep "$T/all" '^still$'
	assert_equal "$(cat "$T/all")" "still"
	stop_weir
}

@test "handshake: a client that never finishes its request head is closed after -w 1" {
	start_ws -k -w 1 -p line ws-listen:127.0.0.1:0 "append:$T/all" </dev/null 2>"$T/err"
	local t0=$EPOCHREALTIME ms
	run -0 --separate-stderr wspeer stall "$URL" --wait 8
	ms=$(elapsed_ms "$t0")
	assert_line --index -1 --regexp '^(eof|reset)$'
	((ms >= 900 && ms < 5000)) || fail "closed after $ms ms"
	# The others are served meanwhile and after.
	run -0 --separate-stderr wspeer client "$URL" --send text:served --expect 0
	wait_grep "$T/all" '^served$'
	stop_weir
}

@test "ws://: a refused handshake is exit 1 with the server's answer; a refused connect too" {
	start_server s --path /chat
	run -1 --separate-stderr weir -p line - "ws://127.0.0.1:$PORT/x" </dev/null
	assert_output ""
	assert_equal "$stderr" "weir: ws://127.0.0.1:$PORT/x: handshake: server answered 404 Not Found"
	start_rawserver r --status 403
	run -1 --separate-stderr weir -p line - "ws://127.0.0.1:$PORT/" </dev/null
	assert_equal "$stderr" "weir: ws://127.0.0.1:$PORT/: handshake: server answered 403 Refused"
	local port
	port=$(free_port)
	run -1 --separate-stderr weir -p line - "ws://127.0.0.1:$port/" </dev/null
	assert_equal "$stderr" "weir: ws://127.0.0.1:$port/: connect: Connection refused"
}

# --- ending -------------------------------------------------------------------

@test "close: weir's EOF is close 1000 after the last message; weir waits for the answer, exit 0" {
	start_server s
	run -0 --separate-stderr weir -p line - "ws://127.0.0.1:$PORT/" <<<"hi"
	assert_output ""
	assert_equal "$stderr" ""
	wait_grep "$T/s.log" '^close '
	assert_equal "$(cat "$T/s.log")" "$(digests text:hi)
close 1000"
}

@test "close: the server's close is weir's EOF: answered, and weir ends without its input ending" {
	open_in
	start_server s --send text:bye --close-after 0 --close 1000
	run -0 --separate-stderr weir -p line - "ws://127.0.0.1:$PORT/" <"$T/in"
	assert_output "bye"
	wait_grep "$T/s.log" '^close '
	assert_equal "$(cat "$T/s.log")" "close 1000"
}

@test "close: a message after weir's close is still delivered; one after the peer's close is not" {
	# The server answers weir's close late, after one more message.
	start_rawserver late expect:close text:late close:1000
	run -0 --separate-stderr weir -p line - "ws://127.0.0.1:$PORT/" <<<"question"
	assert_output "late"
	wait_exit "$RAW_PID"
	assert_equal "$(cat "$T/late.log")" "$(digests text:question)
close 1000
closed"
	# A client sends after its own close: weir answers the close and
	# ignores the rest.
	open_in
	start_ws -p line ws-listen:127.0.0.1:0 - <"$T/in" >"$T/out" 2>"$T/err" 7>&-
	run -0 --separate-stderr wspeer raw "$URL" text:before close:1000 text:after
	assert_line --index 0 "close 1000"
	assert_line --index -1 --regexp '^(eof|reset)$'
	wait_exit "$WEIR_PID"
	assert_equal "$EXIT_STATUS" 0
	assert_equal "$(cat "$T/out")" "before"
}

# --- conversion ---------------------------------------------------------------

@test "line conversion both ways: weir as client, lines to messages and messages to lines" {
	open_in
	start_server s --echo
	spawn_weir -p line - "ws://127.0.0.1:$PORT/" <"$T/in" >"$T/out" 2>"$T/err" 7>&-
	local w=$LAST_PID
	printf 'one\n\nh\xc3\xa9\n\xff\n' >&7
	wait_lines "$T/out" 4
	exec 7>&-
	wait_exit "$w"
	assert_equal "$EXIT_STATUS" 0
	assert_equal "$(od -An -tx1 "$T/out" | tr -s ' \n' ' ')" " 6f 6e 65 0a 0a 68 c3 a9 0a ff 0a "
	wait_grep "$T/s.log" '^close '
	assert_equal "$(cat "$T/s.log")" "$(digests text:one text: text%68c3a9 binary%ff)
close 1000"
}

@test "netstring conversion both ways: weir as server, messages to netstrings and back" {
	open_in
	start_ws -p netstring ws-listen:127.0.0.1:0 - <"$T/in" >"$T/out" 2>"$T/err" 7>&-
	spawn_wspeer client "$URL" --send text:abc --send 'binary#300' --send text: --send binary%ff \
		--expect 3 >"$T/client" </dev/null
	local client=$LAST_PID
	wait_size "$T/out" $((6 + 304 + 3 + 4))
	wspeer gen --ns 'text:a, b' 'binary#1000' binary: >&7
	wait_exit "$client"
	assert_equal "$EXIT_STATUS" 0
	# An empty message goes as text (valid UTF-8).
	assert_equal "$(cat "$T/client")" "$(digests 'text:a, b' 'binary#1000' text:)
close 1000"
	wait_exit "$WEIR_PID"
	assert_equal "$EXIT_STATUS" 0
	run -0 wspeer unns <"$T/out"
	assert_output "$(digests --bare text:abc 'binary#300' text: binary%ff)"
}

# --- listeners ----------------------------------------------------------------

@test "-k ws-listen: tcp: each of 3 clients gets its own TCP connection and only its own echo" {
	start_peer "$T/re" echo --concurrent --count 0 --log "$T/echo.log"
	local echo=$ADDR i pids=()
	start_ws -k ws-listen:127.0.0.1:0 "$echo" </dev/null 2>"$T/err"
	for i in 1 2 3; do
		spawn_wspeer client "$URL" --connected "$T/c$i.up" --start-file "$T/go" \
			--send "text:client $i says hello" --expect 1 >"$T/c$i" </dev/null
		pids+=("$LAST_PID")
	done
	wait_file "$T/c1.up" && wait_file "$T/c2.up" && wait_file "$T/c3.up"
	touch "$T/go"
	for i in 1 2 3; do
		wait_exit "${pids[i - 1]}"
		assert_equal "$EXIT_STATUS" 0
		assert_equal "$(cat "$T/c$i")" "$(digests "text:client $i says hello")
close 1000"
	done
	wait_lines "$T/echo.log" 6
	assert_equal "$(grep -c '^accept$' "$T/echo.log")" 3
	# A binary message goes through as bytes, and comes back binary.
	run -0 --separate-stderr wspeer client "$URL" --send binary%00fffe --expect 1
	assert_output "$(digests binary%00fffe)
close 1000"
	stop_weir
	assert_file_empty "$T/err"
}

# big_lines FILE N: N numbered lines of 1023 bytes (and the newline).
big_lines() {
	awk -v n="$2" -v pad="$(printf '%01017d' 0)" \
		'BEGIN { for (i = 1; i <= n; i++) printf "%05d %s\n", i, pad }' >"$1"
}

@test "shared: 20 clients with --slow block each get every line, a late reader pausing the source" {
	open_in
	start_ws -k -v --slow block --high-water 64k -p line ws-listen:127.0.0.1:0 - \
		<"$T/in" >"$T/out" 2>"$T/err" 7>&-
	big_lines "$T/lines" 2000
	digests --lines-from "$T/lines" >"$T/want"
	echo "close 1000" >>"$T/want"
	local i pids=()
	for i in $(seq 1 20); do
		local late=()
		((i == 1)) && late=(--read-after "$T/go" --rcvbuf 4096)
		spawn_wspeer client "$URL" --connected "$T/c$i.up" "${late[@]}" --expect 2000 \
			--wait "$WEIR_TIMEOUT" >"$T/c$i" </dev/null
		pids+=("$LAST_PID")
	done
	for i in $(seq 1 20); do
		wait_file "$T/c$i.up" || return 1
	done
	spawn cat "$T/lines" >&7 7>&-
	wait_grep "$T/err" '^weir: pause ' 20
	touch "$T/go"
	for i in $(seq 1 20); do
		wait_exit "${pids[i - 1]}" $((2 * WEIR_TIMEOUT))
		assert_equal "$EXIT_STATUS" 0
		cmp -s "$T/want" "$T/c$i" || fail "client $i: $(wc -l <"$T/c$i") lines, not as sent"
	done
	exec 7>&-
	stop_weir
}

@test "shared: --slow drop: a stalled client's frames are dropped and counted, the source never waits" {
	open_in
	start_ws -k -v --stats=json --slow drop --high-water 64k -p line ws-listen:127.0.0.1:0 - \
		<"$T/in" >"$T/out" 2>"$T/err" 7>&-
	spawn_wspeer client "$URL" --connected "$T/stalled.up" --read-after "$T/never" --rcvbuf 4096 \
		--expect 1 >"$T/stalled" </dev/null
	local stalled=$LAST_PID
	spawn_wspeer client "$URL" --connected "$T/reader.up" --quiet --count-file "$T/count" \
		>"$T/reader" </dev/null
	local reader=$LAST_PID
	wait_file "$T/stalled.up" && wait_file "$T/reader.up"
	# 8 MiB of the same line: the stalled client cannot hold it all.
	# shellcheck disable=SC2016 # expanded by that sh.
	spawn sh -c 'yes "$(printf "%01023d" 0)" | head -c 8M' >&7 7>&-
	exec 7>&-
	wait_grep "$T/err" '^weir: drop frames for ' 20
	# The end of input is a close to the reader once it has what it got.
	wait_exit "$reader" $((2 * WEIR_TIMEOUT))
	assert_equal "$EXIT_STATUS" 0
	assert_equal "$(tail -n 1 "$T/reader")" "close 1000"
	local n bytes
	read -r n bytes <"$T/count"
	((n > 0 && bytes == n * 1023)) || fail "the reader got $n messages, $bytes bytes"
	kill "$stalled"
	stop_weir
	assert_equal "$EXIT_STATUS" 143
	local dropped
	dropped=$(stats_json "$T/err" left dropped)
	((dropped > 0)) || fail "dropped: $dropped"
	((n + dropped <= 2 * 8192)) || fail "$n delivered and $dropped dropped of 8192"
}

@test "--broker: a chat room of 3: each gets the two others' messages, never its own" {
	start_ws --broker -p line ws-listen:127.0.0.1:0 </dev/null 2>"$T/err"
	local i pids=()
	for i in 1 2 3; do
		spawn_wspeer client "$URL" --connected "$T/c$i.up" --start-file "$T/go" \
			--send "text:from $i" --expect 2 >"$T/c$i" </dev/null
		pids+=("$LAST_PID")
	done
	wait_file "$T/c1.up" && wait_file "$T/c2.up" && wait_file "$T/c3.up"
	touch "$T/go"
	local all
	all=$(digests "text:from 1" "text:from 2" "text:from 3")
	for i in 1 2 3; do
		wait_exit "${pids[i - 1]}"
		assert_equal "$EXIT_STATUS" 0
		# The two others', in either order.
		assert_equal "$(head -n 2 "$T/c$i" | sort)" "$(sed "${i}d" <<<"$all" | sort)"
		assert_equal "$(tail -n 1 "$T/c$i")" "close 1000"
	done
	stop_weir
}

@test "-m 2: a third WebSocket client is closed before its handshake and logged; a freed slot admits again" {
	start_ws -k -u -m 2 -p line ws-listen:127.0.0.1:0 "append:$T/all" </dev/null 2>"$T/err"
	spawn_wspeer client "$URL" --send text:one --expect 0 --hold-file "$T/go" >"$T/c1" </dev/null
	local one=$LAST_PID
	spawn_wspeer client "$URL" --send text:two --expect 0 --hold-file "$T/go" >"$T/c2" </dev/null
	local two=$LAST_PID
	wait_lines "$T/all" 2
	run -0 --separate-stderr wspeer client "$URL" --expect-status
	assert_output "status none"
	wait_grep "$T/err" '^weir: ws-listen:127\.0\.0\.1:0: refused 127\.0\.0\.1:[0-9]+ '
	touch "$T/go"
	wait_exit "$one"
	assert_equal "$EXIT_STATUS" 0
	wait_exit "$two"
	assert_equal "$EXIT_STATUS" 0
	run -0 --separate-stderr wspeer client "$URL" --send text:three --expect 0
	wait_lines "$T/all" 3
	assert_equal "$(sort "$T/all")" $'one\nthree\ntwo'
	stop_weir
}

@test "--allow and --deny: a refused WebSocket client gets no handshake; weir logs it" {
	start_ws -k -u --allow 127.0.0.1 -p line ws-listen:127.0.0.1:0 "append:$T/all" \
		</dev/null 2>"$T/err"
	run -0 --separate-stderr wspeer client "$URL" --send text:allowed --expect 0
	run -0 --separate-stderr wspeer client "$URL" --bind 127.0.0.2 --expect-status
	assert_output "status none"
	wait_grep "$T/err" '^weir: ws-listen:127\.0\.0\.1:0: refused 127\.0\.0\.2:[0-9]+ \(not in --allow\)$'
	wait_lines "$T/all" 1
	stop_weir
	assert_equal "$(cat "$T/all")" "allowed"

	start_ws -k -u --deny 127.0.0.0/8 -p line ws-listen:127.0.0.1:0 "append:$T/denied" \
		</dev/null 2>"$T/err"
	run -0 --separate-stderr wspeer client "$URL" --expect-status
	assert_output "status none"
	wait_grep "$T/err" '^weir: ws-listen:127\.0\.0\.1:0: refused 127\.0\.0\.1:[0-9]+ \(denied by --deny 127\.0\.0\.0/8\)$'
	stop_weir
	[[ ! -s $T/denied ]] || fail "denied: $(cat "$T/denied")"
}

# --- handshake options --------------------------------------------------------

@test "subprotocol=: a listener agrees to it when offered, and to nothing else" {
	start_ws -k -p line "ws-listen:127.0.0.1:0,subprotocol=chat" "append:$T/all" \
		</dev/null 2>"$T/err"
	run -0 --separate-stderr wspeer client "$URL" --subprotocol other --subprotocol chat \
		--print-subprotocol --expect 0
	assert_output $'subprotocol chat\nclose 1000'
	run -0 --separate-stderr wspeer client "$URL" --subprotocol other --print-subprotocol \
		--expect 0
	assert_output $'subprotocol none\nclose 1000'
	run -0 --separate-stderr wspeer client "$URL" --print-subprotocol --expect 0
	assert_output $'subprotocol none\nclose 1000'
	stop_weir
}

@test "subprotocol=: a client asks for it; a server that does not agree is a refused handshake" {
	start_server yes --subprotocol chat --headers "$T/yes.h"
	run -0 --separate-stderr weir -p line - "ws://127.0.0.1:$PORT/,subprotocol=chat" <<<"hi"
	wait_grep "$T/yes.log" '^close '
	assert_equal "$(head -n 1 "$T/yes.log")" "$(digests text:hi)"
	run -0 grep -x 'Sec-WebSocket-Protocol: chat' "$T/yes.h"
	start_server no --subprotocol other
	run -1 --separate-stderr weir -p line - "ws://127.0.0.1:$PORT/,subprotocol=chat" <<<"hi"
	[[ $stderr == "weir: ws://127.0.0.1:$PORT/"*"handshake: server agreed to no subprotocol, not chat" ]] ||
		fail "stderr: $stderr"
	run -1 grep '^text' "$T/no.log"
}

@test "header= and origin= reach the server, a comma in a value escaped" {
	start_server s --headers "$T/h"
	run -0 --separate-stderr weir -p line - \
		"ws://127.0.0.1:$PORT/app?x=1,header=Authorization: Bearer a\\,b,header=X-Two: 2,origin=http://app.example" \
		<<<"hi"
	wait_file "$T/h"
	run -0 grep -x -e 'GET /app?x=1' -e 'Authorization: Bearer a,b' -e 'X-Two: 2' \
		-e 'Origin: http://app.example' -e "Host: 127.0.0.1:$PORT" "$T/h"
	assert_equal "${#lines[@]}" 5
	wait_grep "$T/s.log" '^close '
	assert_equal "$(head -n 1 "$T/s.log")" "$(digests text:hi)"
}

# --- memory -------------------------------------------------------------------

@test "backpressure: 64 MiB into a WebSocket server that reads late, memory stays bounded" {
	need_time
	start_server s --read-delay 1 --quiet --count-file "$T/count"
	pipeline() {
		head -c 64M /dev/zero |
			"$GNU_TIME" -o "$T/rss" -f %M "$WEIR" -v -u - "ws://127.0.0.1:$PORT/" 3>&-
		local st=("${PIPESTATUS[@]}")
		return "${st[1]}"
	}
	run -0 --separate-stderr pipeline
	wait_file "$T/count"
	run -0 cut -d' ' -f2 "$T/count"
	assert_output 67108864
	[[ $stderr =~ (^|$'\n')"weir: pause - (sink ws://127.0.0.1:$PORT/"[^\ ]*" holds "[0-9]+" B >= high-water)"($'\n'|$) ]] ||
		fail "no pause logged: $stderr"
	local rss
	rss=$(peak_rss "$T/rss")
	((rss < RSS_LIMIT_KIB)) || fail "peak RSS $rss KiB for 64 MiB through weir"
}

@test "backpressure: a listener sending 64 MiB to a WebSocket client that reads late, memory stays bounded" {
	need_time
	spawn_wspeer client "@$T/r" --read-delay 1 --quiet --count-file "$T/count" \
		>"$T/client" </dev/null
	local client=$LAST_PID
	pipeline() {
		head -c 64M /dev/zero |
			"$GNU_TIME" -o "$T/rss" -f %M "$WEIR" --ready-file "$T/r" -u - \
				ws-listen:127.0.0.1:0 3>&-
		local st=("${PIPESTATUS[@]}")
		return "${st[1]}"
	}
	run -0 --separate-stderr pipeline
	wait_exit "$client" 20
	assert_equal "$EXIT_STATUS" 0
	run -0 cut -d' ' -f2 "$T/count"
	assert_output 67108864
	assert_equal "$(tail -n 1 "$T/client")" "close 1000"
	local rss
	rss=$(peak_rss "$T/rss")
	((rss < RSS_LIMIT_KIB)) || fail "peak RSS $rss KiB for 64 MiB through weir"
}

# --- usage errors -------------------------------------------------------------

@test "usage errors: proto=, bad ws:// URLs, options of the other side" {
	assert_ws_usage "ws://127.0.0.1:9/,proto=line" "proto= does not apply: each message is one frame"
	assert_ws_usage "ws-listen:0,proto=netstring" "proto= does not apply: each message is one frame"
	assert_ws_usage "ws://" "missing host"
	assert_ws_usage "ws://:80" "missing host"
	assert_ws_usage "ws://h:99999" "invalid port '99999'"
	assert_ws_usage "ws://h:x/" "invalid port 'x'"
	assert_ws_usage "ws-listen:x" "invalid port 'x'"
	assert_ws_usage "ws://h/,msg=maybe"
	assert_ws_usage "ws://h/,ping=x"
	assert_ws_usage "ws://h/,header=no colon"
	assert_ws_usage "ws://h/,header=Sec-WebSocket-Key: x"
	assert_ws_usage "ws://h/,subprotocol=a b"
	assert_ws_usage "ws-listen:0,header=X: y"
	assert_ws_usage "ws-listen:0,origin=http://o"
	assert_ws_usage "ws://h/,mode=600" \
		"unknown option 'mode' (a comma that is part of the address is written \\,)"
	run -2 --separate-stderr weir ws-listen:0 tcp-listen:0
	assert_usage_error "weir: ws-listen:0 and tcp-listen:0: only one listener is allowed"
	# Nothing was opened: no listener to connect to.
	run -2 --separate-stderr weir --ready-file "$T/r" ws-listen:127.0.0.1:0,proto=line
	assert_file_not_exists "$T/r"
}

# --- a browser ----------------------------------------------------------------

@test "Chromium: a page's WebSocket gets weir's two lines and sends one back" {
	command -v chromium >/dev/null || skip "chromium is not installed"
	open_in
	start_ws -p line ws-listen:127.0.0.1:0 - <"$T/in" >"$T/got" 2>"$T/err" 7>&-
	printf 'one\ntwo\n' >&7
	# The page's image is answered once weir has written the page's
	# message: until then the page is not loaded, and headless Chromium's
	# virtual time does not run out before the page's work is done.
	spawn_wspeer hold "$T/hold.port" --until "$T/got" </dev/null
	wait_file "$T/hold.port"
	cat >"$T/page.html" <<-EOF
		<!DOCTYPE html>
		<html><head><meta charset="utf-8"><title>weir</title></head>
		<body><pre id="got">waiting</pre>
		<img src="http://127.0.0.1:$(cat "$T/hold.port")/hold" alt="">
		<script>
		const got = [];
		const ws = new WebSocket("$URL");
		ws.onmessage = (ev) => {
		  got.push(ev.data);
		  if (got.length === 2) {
		    document.getElementById("got").textContent = "received: " + got.join("|");
		    ws.send("from chromium: " + got.join("|"));
		  }
		};
		ws.onerror = () => { document.getElementById("got").textContent = "error"; };
		</script></body></html>
	EOF
	dump_dom() {
		timeout -k 5 40 chromium --headless --no-sandbox --disable-gpu --no-first-run \
			--user-data-dir="$T/chromium" --virtual-time-budget=5000 \
			--dump-dom "file://$T/page.html" >"$T/dom" 2>"$T/chromium.err" 3>&- 7>&-
	}
	run -0 dump_dom
	grep -q '<pre id="got">received: one|two</pre>' "$T/dom" ||
		fail "DOM: $(grep -o '<pre id="got">[^<]*' "$T/dom")"
	wait_lines "$T/got" 1
	assert_equal "$(cat "$T/got")" "from chromium: one|two"
	exec 7>&-
	wait_exit "$WEIR_PID"
	assert_equal "$EXIT_STATUS" 0
}

# --- wss:// and wss-listen: (TLS) ---------------------------------------------

# make_cert: a self-signed P-256 certificate for localhost and 127.0.0.1
# in $T/cert.pem, its key in $T/cert.key; FP its SHA-256 fingerprint.
make_cert() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
		-subj /CN=localhost -addext 'subjectAltName=DNS:localhost,IP:127.0.0.1' \
		-keyout "$T/cert.key" -out "$T/cert.pem" 2>/dev/null || return 1
	FP=$(openssl x509 -noout -fingerprint -sha256 -in "$T/cert.pem" |
		sed 's/.*=//; s/://g' | tr 'A-F' 'a-f')
}

@test "wss-listen: the ready file carries the pin; a wss:// client with it connects, without it fails" {
	start_ws -k -p line wss-listen:127.0.0.1:0 "append:$T/all" </dev/null 2>"$T/err"
	[[ $URL =~ ^wss://127\.0\.0\.1:[1-9][0-9]*/,pin=sha256:[0-9a-f]{64}$ ]] ||
		fail "ready file says '$URL'"
	run -0 --separate-stderr weir -p line - "$URL" <<<"by pin"
	assert_equal "$stderr" ""
	local bare=${URL%%,*}
	run -1 --separate-stderr weir -p line - "$bare" <<<"unverified"
	[[ $stderr == "weir: $bare"*"certificate verify failed"* ]] || fail "stderr: $stderr"
	run -0 --separate-stderr weir -p line - "$bare,verify=no" <<<"verify=no"
	run -0 --separate-stderr wspeer client "$bare" --insecure --send text:python --expect 0
	wait_lines "$T/all" 3
	stop_weir
	assert_equal "$(cat "$T/all")" $'by pin\nverify=no\npython'
}

@test "wss://: a python wss server, by pin= and with verify=no; another pin is refused" {
	make_cert
	start_server s --cert "$T/cert.pem" --key "$T/cert.key"
	run -0 --separate-stderr weir -p line - "wss://127.0.0.1:$PORT/,pin=sha256:$FP" <<<"pinned"
	run -0 --separate-stderr weir -p line - "wss://localhost:$PORT/,ca=$T/cert.pem" <<<"by ca"
	run -0 --separate-stderr weir -p line - "wss://127.0.0.1:$PORT/,verify=no" <<<"anyway"
	run -1 --separate-stderr weir -p line - "wss://127.0.0.1:$PORT/" <<<"no"
	[[ $stderr == "weir: wss://127.0.0.1:$PORT/"*"certificate verify failed"* ]] ||
		fail "stderr: $stderr"
	run -1 --separate-stderr weir -p line - "wss://127.0.0.1:$PORT/,pin=sha256:${FP//?/0}" <<<"no"
	[[ $stderr == "weir: wss://127.0.0.1:$PORT/"*pin* ]] || fail "stderr: $stderr"
	wait_lines "$T/s.log" 6
	run -0 grep -v '^close' "$T/s.log"
	assert_output "$(digests text:pinned 'text:by ca' text:anyway)"
}

@test "wss: 1 MiB text and binary messages intact through wss-listen: to exec:cat" {
	start_ws -k -p netstring wss-listen:127.0.0.1:0 exec:cat </dev/null 2>"$T/err"
	run -0 --separate-stderr wspeer client "${URL%%,*}" --insecure --send 'text#1048576' \
		--send 'binary#1048576' --expect 2
	assert_output "$(digests 'text#1048576' 'binary#1048576')
close 1000"
	run -0 --separate-stderr weir -p line - "$URL" <<<"weir to weir"
	stop_weir
}
