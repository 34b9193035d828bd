#!/usr/bin/env bats
# Socket options: bind=, sndbuf=, rcvbuf=, nodelay=, keepalive=.

load helper

# sockopt PID ARGS...: the options of a socket weir (PID) holds, as
# `peer.py sockopt` prints them, in SOCKOPT; skips the test where the
# system does not let a process look at another's sockets.
sockopt() {
	local pid=$1
	shift
	run -- peer sockopt --pid "$pid" "$@"
	if ((status == 77)); then
		skip "cannot look at another process's sockets: $output"
	fi
	assert_success
	SOCKOPT=$output
}

# assert_buf NAME SIZE: SOCKOPT's NAME (sndbuf or rcvbuf) is SIZE as the
# kernel keeps it: SIZE, or twice it (Linux doubles it for its overhead).
assert_buf() {
	local v
	v=$(sed -n "s/.*$1=\([0-9]*\).*/\1/p" <<<"$SOCKOPT")
	((v >= $2 && v <= 2 * $2)) || fail "$1 is $v, expected $2 (or twice): $SOCKOPT"
}

# hold_stdin: a pipe for a background weir's standard input, open on
# descriptor 7 until the test ends, so weir does not see its end.
hold_stdin() {
	mkfifo "$T/in"
	exec 7<>"$T/in"
}

@test "bind=127.0.0.2: the server sees the connection come from there" {
	start_peer "$T/r" serve --peer-file "$T/peer" --out "$T/got"
	run -0 --separate-stderr weir "$ADDR,bind=127.0.0.2" <<<"from .2"
	assert_equal "$stderr" ""
	wait_file "$T/peer"
	[[ $(cat "$T/peer") =~ ^127\.0\.0\.2:[1-9][0-9]*$ ]] || fail "peer is $(cat "$T/peer")"
	wait_file "$T/got"
	assert_equal "$(cat "$T/got")" "from .2"
}

@test "bind=127.0.0.1:PORT and bind=:PORT: the source port too" {
	local port
	port=$(free_port)
	start_peer "$T/r" serve --peer-file "$T/peer"
	run -0 --separate-stderr weir -u - "$ADDR,bind=127.0.0.1:$port" <<<"x"
	wait_file "$T/peer"
	assert_equal "$(cat "$T/peer")" "127.0.0.1:$port"
	port=$(free_port)
	rm -f "$T/r"
	start_peer "$T/r" serve --peer-file "$T/peer2"
	run -0 --separate-stderr weir -u - "$ADDR,bind=:$port" <<<"x"
	wait_file "$T/peer2"
	assert_equal "$(cat "$T/peer2")" "127.0.0.1:$port"
}

@test "bind= to an address this host does not have fails the connect, naming bind" {
	start_peer "$T/r" serve --peer-file "$T/peer"
	run -1 --separate-stderr weir -u - "$ADDR,bind=192.0.2.1" </dev/null
	assert_output ""
	assert_equal "$stderr" "weir: $ADDR: bind 192.0.2.1: Cannot assign requested address"
	assert_not_exist "$T/peer"
}

@test "bind= with a port in use fails the connect, naming bind" {
	start_peer "$T/r" serve --hold
	local port=${ADDR##*:}
	# The server's own address and port: taken by its listening socket.
	run -1 --separate-stderr weir -u - "$ADDR,bind=127.0.0.1:$port" </dev/null
	assert_equal "$stderr" "weir: $ADDR: bind 127.0.0.1:$port: Address already in use"
}

@test "bind= of the other family fails that target with a message" {
	have_ipv6 || skip "no IPv6 loopback"
	start_peer "$T/r" serve --listen 'tcp:[::1]:0' --peer-file "$T/peer"
	run -1 --separate-stderr weir -u - "$ADDR,bind=127.0.0.2" </dev/null
	assert_equal "$stderr" "weir: $ADDR: bind: no IPv6 address for 127.0.0.2"
	assert_not_exist "$T/peer"
	run -0 --separate-stderr weir -u - "$ADDR,bind=[::1]" <<<"x"
	wait_file "$T/peer"
	[[ $(cat "$T/peer") =~ ^::1:[1-9][0-9]*$ ]] || fail "peer is $(cat "$T/peer")"
}

@test "bind= on a tls: connect" {
	start_weir "$T/r" -v tls-listen:127.0.0.1:0 - </dev/null >"$T/out" 2>"$T/err"
	run -0 --separate-stderr weir -u - "$ADDR,bind=127.0.0.2" <<<"over tls"
	wait_exit "$WEIR_PID"
	assert_equal "$EXIT_STATUS" 0
	assert_equal "$(cat "$T/out")" "over tls"
	grep -q "tls-listen:127.0.0.1:0 (127.0.0.2:[0-9]*)" "$T/err" ||
		fail "not from 127.0.0.2: $(cat "$T/err")"
}

@test "bind= on a listener or a Unix socket is a usage error" {
	local a
	for a in tcp-listen:127.0.0.1:0,bind=127.0.0.1 tls-listen:0,bind=127.0.0.1 \
		tcp4-listen:0,bind=:5000; do
		run -2 --separate-stderr weir --ready-file "$T/r" "$a" - </dev/null
		assert_output ""
		assert_usage_error "weir: $a: bind= is the source address of a connect (tcp:, tls:, udp:), not for this address"
		assert_not_exist "$T/r"
	done
	run -2 --separate-stderr weir - "unix:$T/s,bind=127.0.0.1" </dev/null
	assert_usage_error "weir: unix:$T/s,bind=127.0.0.1: bind= is the source address of a connect (tcp:, tls:, udp:), not for this address"
}

@test "nodelay= and keepalive= on a Unix socket are usage errors" {
	run -2 --separate-stderr weir - "unix:$T/s,nodelay=yes" </dev/null
	assert_usage_error "weir: unix:$T/s,nodelay=yes: nodelay= is for TCP and TLS addresses"
	run -2 --separate-stderr weir "unix-listen:$T/s,keepalive=no" - </dev/null
	assert_usage_error "weir: unix-listen:$T/s,keepalive=no: keepalive= is for TCP and TLS addresses"
	assert_not_exist "$T/s"
}

@test "bad sizes, yes|no values and bind addresses are usage errors naming the address" {
	local a want
	while IFS='|' read -r a want; do
		run -2 --separate-stderr weir - "$a" </dev/null
		assert_output ""
		assert_usage_error "weir: $a: $want"
	done <<'EOF'
tcp:h:1,sndbuf=x|sndbuf: invalid size 'x'
tcp:h:1,sndbuf=0|sndbuf: '0' is out of range (1024 to 1073741824)
tcp:h:1,rcvbuf=100|rcvbuf: '100' is out of range (1024 to 1073741824)
tls-listen:0,sndbuf=2G|sndbuf: '2G' is out of range (1024 to 1073741824)
unix:/s,rcvbuf=1q|rcvbuf: invalid size '1q'
tcp:h:1,nodelay=1|nodelay: expected yes or no
tcp-listen:0,keepalive=on|keepalive: expected yes or no
tls:h:1,nodelay=|nodelay: expected yes or no
tcp:h:1,bind=|bind: missing address
tcp:h:1,bind=h:x|bind: invalid port 'x'
tcp:h:1,bind=h:65536|bind: invalid port '65536'
tcp:h:1,bind=::1|bind: an IPv6 address needs brackets
tcp:h:1,bind=[::1|bind: missing ']'
EOF
}

@test "tcp: sets nodelay, keepalive, sndbuf and rcvbuf on its socket; by default the first two are off" {
	start_peer "$T/r" echo --count 2 --concurrent --log "$T/log"
	local port=${ADDR##*:} plain
	hold_stdin
	spawn_weir - "$ADDR" <"$T/in" >/dev/null
	plain=$LAST_PID
	spawn_weir - "$ADDR,nodelay=yes,keepalive=yes,sndbuf=64k,rcvbuf=96k" <"$T/in" >/dev/null
	wait_lines "$T/log" 2
	sockopt "$LAST_PID" --peer-port "$port"
	[[ $SOCKOPT == "nodelay=1 keepalive=1 "* ]] || fail "$SOCKOPT"
	assert_buf sndbuf 65536
	assert_buf rcvbuf 98304
	sockopt "$plain" --peer-port "$port"
	[[ $SOCKOPT == "nodelay=0 keepalive=0 "* ]] || fail "$SOCKOPT"
}

@test "tcp-listen: sets them on each accepted connection" {
	hold_stdin
	start_weir "$T/r" -k "tcp-listen:127.0.0.1:0,nodelay=yes,keepalive=yes,sndbuf=64k,rcvbuf=96k" - <"$T/in" >/dev/null
	spawn_peer client --connect-ready "$T/r" --port-file "$T/port" --no-read --no-shutdown </dev/null
	wait_file "$T/port"
	sockopt "$WEIR_PID" --peer-port "$(cat "$T/port")"
	[[ $SOCKOPT == "nodelay=1 keepalive=1 "* ]] || fail "$SOCKOPT"
	assert_buf sndbuf 65536
	assert_buf rcvbuf 98304
}

@test "unix: and unix-listen: set sndbuf and rcvbuf (an accepted Unix socket inherits nothing)" {
	hold_stdin
	start_weir "$T/r" -v -k "unix-listen:$T/s,sndbuf=64k,rcvbuf=96k" - <"$T/in" >/dev/null 2>"$T/err"
	local server=$WEIR_PID
	spawn_weir - "unix:$T/s,sndbuf=32k,rcvbuf=48k" <"$T/in" >/dev/null
	local client=$LAST_PID
	wait_grep "$T/err" "^weir: unix-listen:$T/s: open$"
	sockopt "$server" --path "$T/s"
	assert_buf sndbuf 65536
	assert_buf rcvbuf 98304
	sockopt "$client" --path "$T/s"
	assert_buf sndbuf 32768
	assert_buf rcvbuf 49152
}

@test "udp: asks for a 1 MiB receive buffer, or what rcvbuf= says" {
	hold_stdin
	# Nothing is sent, so nothing needs to listen there.
	spawn_weir - udp:127.0.0.1:9 <"$T/in" >/dev/null
	local plain=$LAST_PID rmem_max
	spawn_weir - udp:127.0.0.1:9,rcvbuf=96k,sndbuf=64k <"$T/in" >/dev/null
	sockopt "$LAST_PID" --peer-port 9
	assert_buf rcvbuf 98304
	assert_buf sndbuf 65536
	# As far as net.core.rmem_max lets it, doubled (the kernel's own
	# default is not doubled).
	rmem_max=$(cat /proc/sys/net/core/rmem_max)
	sockopt "$plain" --peer-port 9
	[[ $SOCKOPT == *" rcvbuf=$((2 * (rmem_max < 1048576 ? rmem_max : 1048576)))" ]] ||
		fail "$SOCKOPT"
}

@test "tls: and tls-listen: take the socket options too" {
	hold_stdin
	start_weir "$T/r" -v -k "tls-listen:127.0.0.1:0,keepalive=yes,sndbuf=64k" - <"$T/in" >/dev/null 2>"$T/err"
	local server=$WEIR_PID port=${ADDR%%,*}
	port=${port##*:}
	spawn_weir - "$ADDR,nodelay=yes,rcvbuf=96k" <"$T/in" >/dev/null
	local client=$LAST_PID
	wait_grep "$T/err" "tls-listen:127.0.0.1:0 \(127\.0\.0\.1:[0-9]+\): TLS"
	local cport
	cport=$(sed -n 's/.*tls-listen:127.0.0.1:0 (127\.0\.0\.1:\([0-9]*\)).*/\1/p' "$T/err" | head -n 1)
	sockopt "$server" --peer-port "$cport"
	[[ $SOCKOPT == "nodelay=0 keepalive=1 "* ]] || fail "$SOCKOPT"
	assert_buf sndbuf 65536
	sockopt "$client" --peer-port "$port"
	[[ $SOCKOPT == "nodelay=1 keepalive=0 "* ]] || fail "$SOCKOPT"
	assert_buf rcvbuf 98304
}

# lag OPTIONS: weir serves, at --high-water 64k, one client that reads
# nothing (its receive buffer 4 KiB), from a producer that writes until
# it blocks; PRODUCED is how much the producer got rid of (in the pipe,
# in weir, in the kernel's buffers), PIPE the pipe's size.
lag() {
	local d
	d=$(mktemp -d "$T/lag.XXXXXX")
	mkfifo "$d/in"
	# shellcheck disable=SC2016 # expanded by that sh.
	spawn sh -c 'f=$1; shift; exec python3 "$@" >"$f"' _ "$d/in" "$PEER" flood \
		--wait-file "$d/port" --quiet 1 --count-file "$d/count" </dev/null
	start_weir "$d/r" -u --high-water 64k - "tcp-listen:127.0.0.1:0$1" <"$d/in" >/dev/null 2>"$d/err"
	spawn_peer client --connect-ready "$d/r" --rcvbuf 4096 --no-read --no-shutdown \
		--port-file "$d/port" </dev/null
	wait_file "$d/count" 20
	read -r PRODUCED PIPE <"$d/count"
	((PIPE > 0)) || PIPE=65536
	kill "$WEIR_PID"
}

@test "sndbuf= bounds how far a client that reads nothing lags behind its producer" {
	# What the producer can get rid of: high water, one read past it
	# (128 KiB), weir's socket buffer (the kernel may take 4 times
	# SO_SNDBUF with its overhead), the pipe, the client's buffer.
	local bound
	lag ",sndbuf=16k"
	bound=$((65536 + 131072 + 4 * 16384 + PIPE + 2 * 4096))
	echo "# with sndbuf=16k: $PRODUCED bytes (bound $bound)" >&3
	((PRODUCED <= bound)) || fail "with sndbuf=16k the producer got $PRODUCED bytes ahead (bound $bound)"
	# Without it the kernel grows the buffer to megabytes on loopback.
	lag ""
	echo "# without: $PRODUCED bytes" >&3
	((PRODUCED > 4 * bound)) || fail "without sndbuf= the producer got only $PRODUCED bytes ahead"
}
