#!/usr/bin/env bats
# tcp: and tcp-listen:.

load helper

@test "tcp-listen:127.0.0.1:0 writes its address and serves one client" {
	start_weir "$T/r" tcp-listen:127.0.0.1:0 - <<<"from weir" >"$T/out" 2>"$T/err"
	assert_equal "$(cat "$T/r")" "$ADDR"
	[[ $ADDR =~ ^tcp:127\.0\.0\.1:[1-9][0-9]*$ ]] || fail "ready file says '$ADDR'"
	run -0 --separate-stderr peer client --connect "$ADDR" --send 'from client\n'
	assert_output "from weir"
	wait_exit "$WEIR_PID"
	assert_equal "$EXIT_STATUS" 0
	assert_equal "$(cat "$T/out")" "from client"
	assert_equal "$(cat "$T/err")" ""
	assert_not_exist "$T/r"
}

@test "tcp-listen:0 listens on every interface and reports 127.0.0.1" {
	start_weir "$T/r" tcp-listen:0 </dev/null >"$T/out"
	[[ $ADDR =~ ^tcp:127\.0\.0\.1:[1-9][0-9]*$ ]] || fail "ready file says '$ADDR'"
	run -0 peer client --connect "$ADDR" --send 'any\n'
	wait_exit "$WEIR_PID"
	assert_equal "$EXIT_STATUS" 0
	assert_equal "$(cat "$T/out")" "any"
}

@test "the listener may stand on the right" {
	spawn_peer client --connect-ready "$T/r" --send 'right side\n' --out "$T/got" </dev/null
	run -0 --separate-stderr weir --ready-file "$T/r" - tcp-listen:127.0.0.1:0 <<<"left side"
	assert_output "right side"
	wait_file "$T/got"
	assert_equal "$(cat "$T/got")" "left side"
}

@test "-v names an accepted connection after its listener and peer" {
	spawn_peer client --connect-ready "$T/r" --send 'named\n' --out "$T/got" </dev/null
	run -0 --separate-stderr weir -v --ready-file "$T/r" tcp-listen:127.0.0.1:0 - </dev/null
	assert_output "named"
	# Standard input is not a pipe: only what goes to standard output splices.
	[[ $stderr =~ (^|$'\n')"weir: shared tcp-listen:127.0.0.1:0 (relay) <-> - (relay), splice ->"($'\n'|$) ]] ||
		fail "no wiring line: $stderr"
	[[ $stderr == *"tcp-listen:127.0.0.1:0 (127.0.0.1:"[0-9]*")"* ]] ||
		fail "accepted connection not named: $stderr"
}

@test "tcp: connects and talks both ways" {
	start_peer "$T/r" serve --greet 'hello from server\n' --out "$T/got"
	run -0 --separate-stderr weir "$ADDR" <<<"hello from weir"
	assert_equal "$stderr" ""
	assert_output "hello from server"
	wait_file "$T/got"
	assert_equal "$(cat "$T/got")" "hello from weir"
}

@test "tcp: to an echo server returns the data intact" {
	start_peer "$T/r" echo
	mkdata "$T/in" 4M
	run -0 --separate-stderr weir_to "$T/out" "$ADDR" <"$T/in"
	assert_same_file "$T/in" "$T/out"
}

@test "full duplex: 16 MiB each way through an echo server" {
	# The echo server only reads while its writes go through: weir must
	# keep reading the socket while it still writes to it.
	start_peer "$T/r" echo
	mkdata "$T/in" 16M
	run -0 --separate-stderr weir_to "$T/out" --stats=json - "$ADDR" <"$T/in"
	assert_equal "$(sha "$T/out")" "$(sha "$T/in")"
	printf '%s\n' "$stderr" >"$T/err"
	assert_conserved "$T/err"
	assert_equal "$(stats_json "$T/err" left bytes_out)" 16777216
}

@test "weir to weir over TCP" {
	mkdata "$T/in" 8M
	start_weir "$T/r" tcp-listen:127.0.0.1:0 "write:$T/out" </dev/null 2>"$T/err"
	run -0 --separate-stderr weir --stats=json "file:$T/in" "$ADDR" </dev/null
	wait_exit "$WEIR_PID"
	assert_equal "$EXIT_STATUS" 0
	assert_equal "$(sha "$T/out")" "$(sha "$T/in")"
	assert_file_empty "$T/err"
	printf '%s\n' "$stderr" >"$T/stats"
	assert_conserved "$T/stats"
	assert_equal "$(stats_json "$T/stats" right bytes_out)" 8388608
}

@test "a listener ends after its first connection" {
	start_weir "$T/r" tcp-listen:127.0.0.1:0 "write:$T/out" </dev/null 2>"$T/err"
	run -0 peer client --connect "$ADDR" --send 'one\n'
	wait_exit "$WEIR_PID"
	assert_equal "$EXIT_STATUS" 0
	assert_equal "$(cat "$T/out")" "one"
}

@test "IPv6: tcp-listen:[::1]:0 and tcp:[::1]:PORT" {
	have_ipv6 || skip "no IPv6 loopback"
	start_weir "$T/r" "tcp-listen:[::1]:0" "write:$T/out" </dev/null 2>"$T/err"
	[[ $ADDR =~ ^tcp:\[::1\]:[1-9][0-9]*$ ]] || fail "ready file says '$ADDR'"
	run -0 --separate-stderr weir "$ADDR" <<<"over v6"
	wait_exit "$WEIR_PID"
	assert_equal "$EXIT_STATUS" 0
	assert_equal "$(cat "$T/out")" "over v6"
}

@test "IPv6: connect to a python server on ::1" {
	have_ipv6 || skip "no IPv6 loopback"
	start_peer "$T/r" serve --listen 'tcp:[::1]:0' --reply 'v6 reply\n' --out "$T/got"
	local port=${ADDR##*:}
	run -0 --separate-stderr weir "tcp:[::1]:$port" <<<"v6 request"
	assert_output "v6 reply"
	wait_file "$T/got"
	assert_equal "$(cat "$T/got")" "v6 request"
}

@test "a host name: tcp:localhost:PORT" {
	start_peer "$T/r" serve --reply 'by name\n' --out "$T/got"
	local port=${ADDR##*:}
	run -0 --separate-stderr weir "tcp:localhost:$port" <<<"hi"
	assert_output "by name"
	wait_file "$T/got"
	assert_equal "$(cat "$T/got")" "hi"
}

@test "-4 tcp:localhost:PORT reaches an IPv4 server" {
	start_peer "$T/r" serve --reply 'four\n' --out "$T/got"
	local port=${ADDR##*:}
	run -0 --separate-stderr weir -4 "tcp:localhost:$port" <<<"hi"
	assert_output "four"
}

@test "-6 tcp:[::1]:PORT reaches an IPv6 server" {
	have_ipv6 || skip "no IPv6 loopback"
	start_peer "$T/r" serve --listen 'tcp:[::1]:0' --reply 'six\n' --out "$T/got"
	run -0 --separate-stderr weir -6 "$ADDR" <<<"hi"
	assert_output "six"
}

@test "-6 refuses an IPv4 address" {
	start_peer "$T/r" serve --reply 'four\n' --out "$T/got"
	run -1 --separate-stderr weir -6 "$ADDR" </dev/null
	[[ $stderr == "weir: $ADDR: "* ]] || fail "unexpected stderr: $stderr"
	assert_not_exist "$T/got"
}

@test "-4 tcp-listen:0 reports an IPv4 address" {
	start_weir "$T/r" -4 tcp-listen:0 </dev/null 2>"$T/err"
	[[ $ADDR =~ ^tcp:127\.0\.0\.1:[1-9][0-9]*$ ]] || fail "ready file says '$ADDR'"
	run -0 peer client --connect "$ADDR" --send 'x'
	wait_exit "$WEIR_PID"
	assert_equal "$EXIT_STATUS" 0
}

@test "-6 tcp-listen:0 reports an IPv6 address" {
	have_ipv6 || skip "no IPv6 loopback"
	start_weir "$T/r" -6 tcp-listen:0 </dev/null 2>"$T/err"
	[[ $ADDR =~ ^tcp:\[::1\]:[1-9][0-9]*$ ]] || fail "ready file says '$ADDR'"
	run -0 peer client --connect "$ADDR" --send 'x'
	wait_exit "$WEIR_PID"
	assert_equal "$EXIT_STATUS" 0
}

@test "connection refused: exit 1 with a message" {
	start_peer "$T/r" refused
	run -1 --separate-stderr weir "$ADDR" <<<"nobody"
	assert_output ""
	assert_equal "$stderr" "weir: $ADDR: connect: Connection refused"
}

@test "half-close: a late reply after our EOF is delivered" {
	# The server reads to EOF, then answers 2 s later.
	start_peer "$T/r" serve --reply-delay 2 --reply 'late reply\n' --out "$T/got"
	run -0 --separate-stderr weir "$ADDR" <<<"question"
	assert_equal "$stderr" ""
	assert_output "late reply"
	wait_file "$T/got"
	assert_equal "$(cat "$T/got")" "question"
}

@test "half-close: the client's EOF does not cut weir's late answer" {
	# The client sends and half-closes at once; weir's input comes later.
	spawn_peer client --connect-ready "$T/r" --send 'early\n' --out "$T/got" </dev/null
	mkfifo "$T/in"
	exec 7<>"$T/in"
	start_weir "$T/r" tcp-listen:127.0.0.1:0 - <"$T/in" >"$T/out" 2>"$T/err" 7>&-
	wait_grep "$T/out" '^early$'
	echo "late answer" >&7
	exec 7>&-
	wait_exit "$WEIR_PID"
	assert_equal "$EXIT_STATUS" 0
	wait_file "$T/got"
	assert_equal "$(cat "$T/got")" "late answer"
	assert_file_empty "$T/err"
}

@test "connection reset by the peer: exit 1" {
	start_peer "$T/r" serve --rst
	mkdata "$T/in" 8M
	run -1 --separate-stderr weir "$ADDR" <"$T/in"
	[[ $stderr == "weir: $ADDR: "* ]] || fail "unexpected stderr: $stderr"
}

@test "tcp-listen:[::]:0 is IPv6 only and reports [::1]" {
	have_ipv6 || skip "no IPv6 loopback"
	start_weir "$T/r" -u 'tcp-listen:[::]:0' - >"$T/got" 2>"$T/err" </dev/null
	[[ $ADDR =~ ^tcp:\[::1\]:[0-9]+$ ]] || fail "ready file says $ADDR"
	run -0 --separate-stderr weir -u - "$ADDR" <<<"over v6"
	wait_exit "$WEIR_PID"
	assert_equal "$EXIT_STATUS" 0
	assert_equal "$(cat "$T/got")" "over v6"
}

@test "address types in any case: TCP-LISTEN:, Tcp:" {
	start_weir "$T/r" TCP-LISTEN:127.0.0.1:0 "write:$T/out" </dev/null 2>"$T/err"
	[[ $ADDR =~ ^tcp:127\.0\.0\.1:[1-9][0-9]*$ ]] || fail "ready file says '$ADDR'"
	run -0 --separate-stderr weir "Tcp:${ADDR#tcp:}" <<<"in capitals"
	wait_exit "$WEIR_PID"
	assert_equal "$EXIT_STATUS" 0
	assert_equal "$(cat "$T/out")" "in capitals"
}

@test "tcp4-listen:0 listens on IPv4 and reports 127.0.0.1" {
	start_weir "$T/r" tcp4-listen:0 "write:$T/out" </dev/null 2>"$T/err"
	[[ $ADDR =~ ^tcp:127\.0\.0\.1:[1-9][0-9]*$ ]] || fail "ready file says '$ADDR'"
	local port=${ADDR##*:}
	if have_ipv6; then
		run -1 --separate-stderr weir -u - "tcp:[::1]:$port" </dev/null
		assert_equal "$stderr" "weir: tcp:[::1]:$port: connect: Connection refused"
	fi
	run -0 --separate-stderr weir -u - "tcp4:localhost:$port" <<<"four"
	wait_exit "$WEIR_PID"
	assert_equal "$EXIT_STATUS" 0
	assert_equal "$(cat "$T/out")" "four"
}

@test "tcp6-listen:0 listens on IPv6 only and reports [::1]" {
	have_ipv6 || skip "no IPv6 loopback"
	start_weir "$T/r" TCP6-LISTEN:0 "write:$T/out" </dev/null 2>"$T/err"
	[[ $ADDR =~ ^tcp:\[::1\]:[1-9][0-9]*$ ]] || fail "ready file says '$ADDR'"
	local port=${ADDR##*:}
	run -1 --separate-stderr weir -u - "tcp:127.0.0.1:$port" </dev/null
	assert_equal "$stderr" "weir: tcp:127.0.0.1:$port: connect: Connection refused"
	run -0 --separate-stderr weir -u - "tcp6:[::1]:$port" <<<"six"
	wait_exit "$WEIR_PID"
	assert_equal "$EXIT_STATUS" 0
	assert_equal "$(cat "$T/out")" "six"
}

@test "tcp6: cannot reach an IPv4 address, tcp4: an IPv6 one: exit 1 with a message" {
	start_peer "$T/r" serve --peer-file "$T/peer"
	local port=${ADDR##*:}
	run -1 --separate-stderr weir -u - "tcp6:127.0.0.1:$port" </dev/null
	assert_output ""
	[[ $stderr == "weir: tcp6:127.0.0.1:$port: "?* && $stderr != *$'\n'* ]] ||
		fail "unexpected stderr: $stderr"
	run -1 --separate-stderr weir -u - "tcp4:[::1]:$port" </dev/null
	[[ $stderr == "weir: tcp4:[::1]:$port: "?* && $stderr != *$'\n'* ]] ||
		fail "unexpected stderr: $stderr"
	assert_not_exist "$T/peer"
}
