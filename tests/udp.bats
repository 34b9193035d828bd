#!/usr/bin/env bats
# udp: and udp-listen: one datagram is one frame both ways (empty ones
# included), relay reads cut to the largest datagram, line and netstring
# frames over it oversize, linger, a refused peer, usage errors, IPv6;
# against tests/udppeer.py.

load helper

UDPPEER="$BATS_TEST_DIRNAME/udppeer.py"

udppeer() {
	timeout -k 2 "$WEIR_TIMEOUT" python3 "$UDPPEER" "$@" 3>&-
}

# start_echo [-6] [--quiet]: a UDP echo on loopback, logging what it got
# to $T/echo.log; sets EPORT.
start_echo() {
	spawn python3 "$UDPPEER" echo "$T/echo.port" "$T/echo.log" "$@" </dev/null
	wait_file "$T/echo.port" || return 1
	EPORT=$(cat "$T/echo.port")
}

# wait_count FILE N: until FILE has at least N lines (bounded, 10 s).
wait_count() {
	local n=1000
	while ((n-- > 0)); do
		(($(wc -l <"$1" 2>/dev/null || echo 0) >= $2)) && return 0
		sleep 0.01
	done
	echo "timed out waiting for $2 lines in $1" >&2
	return 1
}

@test "udp: one datagram, one frame, both ways: 0, 1, 1472 and 65507 bytes" {
	start_echo
	udppeer ns 0 1 1472 65507 >"$T/in"
	udppeer digests 0 1 1472 65507 >"$T/want"
	run -0 --separate-stderr weir_to "$T/out" -p netstring - \
		"udp:127.0.0.1:$EPORT" <"$T/in"
	assert_equal "$stderr" ""
	run -0 udppeer unns <"$T/out"
	assert_equal "$output" "$(cat "$T/want")"
	assert_equal "$(cat "$T/echo.log")" "$(cat "$T/want")"
}

@test "udp: lines become datagrams and datagrams lines, the empty one too" {
	start_echo
	run -0 --separate-stderr weir_to "$T/out" -p line - \
		"udp:127.0.0.1:$EPORT" <<<$'a\nbc\n'
	assert_equal "$stderr" ""
	assert_equal "$(od -An -c "$T/out" | tr -s ' ')" " a \\n b c \\n \\n"
	assert_equal "$(cut -d' ' -f1 "$T/echo.log")" $'1\n2\n0'
}

@test "udp: a relay read is cut at 65507 bytes" {
	start_echo --quiet
	mkdata "$T/big" 200000
	run -0 --separate-stderr weir -u - "udp:127.0.0.1:$EPORT" <"$T/big"
	assert_equal "$stderr" ""
	wait_grep "$T/echo.log" . || return 1
	# Every byte arrives, in datagrams of at most 65507 bytes.
	local n=0 sum=0 len rest
	while ((sum < 200000 && n++ < 100)); do
		wait_count "$T/echo.log" "$n" || return 1
		read -r len rest < <(sed -n "${n}p" "$T/echo.log")
		((len <= 65507)) || fail "a datagram of $len bytes"
		sum=$((sum + len))
	done
	assert_equal "$sum" 200000
	((n >= 4)) || fail "$n datagrams"
}

@test "udp: a line over 65507 bytes is oversize: an error, or skipped" {
	start_echo
	{
		echo a
		head -c 65508 /dev/zero | tr '\0' x
		echo
		echo b
	} >"$T/in"
	run -3 --separate-stderr weir -p line - "udp:127.0.0.1:$EPORT" <"$T/in"
	wait_count "$T/echo.log" 1 || return 1
	assert_equal "$(cat "$T/echo.log")" "$(udppeer digests ta)"
	[[ $stderr == *"longer than max-frame (65507)"* ]] || fail "$stderr"
	run -0 --separate-stderr weir --oversize skip --stats=json -p line - \
		"udp:127.0.0.1:$EPORT" <"$T/in"
	assert_output $'a\nb'
	assert_equal "$(stats_json <(echo "$stderr") left dropped)" 1
}

@test "udp: after the other side ends, replies are read until quiet for linger=" {
	start_echo
	local t0 t1
	t0=$(date +%s%N)
	run -0 --separate-stderr weir "udp:127.0.0.1:$EPORT,linger=0.3" <<<q
	t1=$(date +%s%N)
	assert_output "q"
	assert_equal "$stderr" ""
	(((t1 - t0) / 1000000 >= 300)) || fail "ended after $(((t1 - t0) / 1000000)) ms"
	# The default: a second.
	t0=$(date +%s%N)
	run -0 --separate-stderr weir "udp:127.0.0.1:$EPORT" <<<q
	t1=$(date +%s%N)
	assert_output "q"
	(((t1 - t0) / 1000000 >= 1000)) || fail "ended after $(((t1 - t0) / 1000000)) ms"
}

@test "udp: a peer that is not there is refused, as a TCP connect is" {
	# A port just freed: nobody listens there.
	local port
	port=$(python3 -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	run -1 --separate-stderr weir "udp:127.0.0.1:$port" <<<q
	assert_equal "$stderr" "weir: udp:127.0.0.1:$port: Connection refused"
}

@test "udp: -n counts datagrams" {
	start_echo
	run -0 --separate-stderr weir -n 2 -p line - "udp:127.0.0.1:$EPORT" <<<$'a\nb\nc'
	assert_equal "$stderr" ""
	wait_count "$T/echo.log" 2 || return 1
	assert_equal "$(cut -d' ' -f1 "$T/echo.log")" $'1\n1'
}

@test "udp: bind=, sndbuf= and rcvbuf= apply; kernel_dropped in --stats" {
	start_echo
	run -0 --separate-stderr weir --stats=json \
		"udp:127.0.0.1:$EPORT,bind=127.0.0.1,sndbuf=64k,rcvbuf=64k,linger=0.2" <<<q
	assert_output "q"
	assert_equal "$(stats_json <(echo "$stderr") right kernel_dropped)" 0
	assert_equal "$(stats_json <(echo "$stderr") right frames_in)" 1
	run -0 --separate-stderr weir --stats "udp:127.0.0.1:$EPORT,linger=0.2" <<<q
	[[ $stderr == *"dropped 0, kernel dropped 0, errors 0"* ]] || fail "$stderr"
}

@test "udp: IPv6 on ::1, udp6: and the limit of 65527 bytes" {
	have_ipv6 || skip "no IPv6 loopback"
	start_echo -6
	udppeer ns 0 65527 >"$T/in"
	run -0 --separate-stderr weir_to "$T/out" -p netstring - \
		"udp:[::1]:$EPORT,linger=0.3" <"$T/in"
	run -0 udppeer unns <"$T/out"
	assert_equal "$output" "$(udppeer digests 0 65527)"
	run -0 --separate-stderr weir "UDP6:[::1]:$EPORT,linger=0.3" <<<q
	assert_output "q"
}

@test "udp: usage errors" {
	run -2 --separate-stderr weir udp:127.0.0.1:9,proto=line
	assert_usage_error "weir: udp:127.0.0.1:9,proto=line: proto= does not apply: each message is one frame"
	run -2 --separate-stderr weir udp:127.0.0.1:99999
	assert_usage_error "weir: udp:127.0.0.1:99999: invalid port '99999'"
	run -2 --separate-stderr weir udp:127.0.0.1:0
	assert_usage_error "weir: udp:127.0.0.1:0: port 0 cannot be connected to"
	run -2 --separate-stderr weir udp:127.0.0.1
	assert_usage_error "weir: udp:127.0.0.1: missing port"
	run -2 --separate-stderr weir udp:127.0.0.1:9,nodelay=yes
	assert_usage_error "weir: udp:127.0.0.1:9,nodelay=yes: nodelay= is for TCP and TLS addresses"
	run -2 --separate-stderr weir udp:127.0.0.1:9,keepalive=yes
	assert_usage_error "weir: udp:127.0.0.1:9,keepalive=yes: keepalive= is for TCP and TLS addresses"
	run -2 --separate-stderr weir udp:127.0.0.1:9,linger=x
	[[ $stderr == "weir: udp:127.0.0.1:9,linger=x: linger: "* ]] || fail "$stderr"
	run -2 --separate-stderr weir udp:127.0.0.1:9,mode=600
	assert_usage_error "weir: udp:127.0.0.1:9,mode=600: unknown option 'mode' (a comma that is part of the address is written \\,)"
	run -2 --separate-stderr weir udp7:127.0.0.1:9
	assert_usage_error "weir: udp7:127.0.0.1:9: unknown address type 'udp7'"
}

# start_listen ARGS...: weir with a udp-listen: address, its stderr in
# $T/weir.err; sets LPORT.
start_listen() {
	start_weir "$T/ready" "$@" 2>"$T/weir.err" || return 1
	[[ $ADDR == udp:127.0.0.1:* ]] || fail "ready file: $ADDR"
	LPORT=${ADDR##*:}
}

@test "udp-listen: the first peer is served as a pair; replies go back to it" {
	echo hi >"$T/in"
	start_listen -p line udp-listen:127.0.0.1:0 - <"$T/in" >"$T/out"
	run -0 udppeer client 127.0.0.1 "$LPORT" ta tb --expect 1
	assert_output "$(udppeer digests thi)"
	wait_exit "$WEIR_PID" || return 1
	assert_equal "$EXIT_STATUS" 0
	assert_equal "$(cat "$T/out")" $'a\nb'
	assert_file_not_exists "$T/ready"
}

@test "udp-listen: -k with a re-openable RIGHT is a proxy per peer, each getting its own replies" {
	start_echo
	start_listen -k "udp-listen:0" "udp:127.0.0.1:$EPORT"
	local i
	for i in 1 2 3; do
		spawn python3 "$UDPPEER" client 127.0.0.1 "$LPORT" "t$i-a" "t$i-b" 0 \
			--expect 3 >"$T/client$i" </dev/null
	done
	for i in 1 2 3; do
		wait_count "$T/client$i" 3 || return 1
		assert_equal "$(cat "$T/client$i")" "$(udppeer digests "t$i-a" "t$i-b" 0)"
	done
	kill "$WEIR_PID"
	wait_exit "$WEIR_PID" || return 1
}

@test "udp-listen: -k into one append: collects each datagram as one whole line" {
	start_listen -k -p line udp-listen:0 "append:$T/all.log"
	local i
	for i in 1 2 3 4; do
		udppeer client 127.0.0.1 "$LPORT" "tpeer $i line 1" "tpeer $i line 2" --wait 0
	done
	wait_count "$T/all.log" 8 || return 1
	assert_equal "$(sort "$T/all.log")" "$(for i in 1 2 3 4; do
		echo "peer $i line 1"
		echo "peer $i line 2"
	done)"
	kill "$WEIR_PID"
	wait_exit "$WEIR_PID" || return 1
}

@test "udp-listen: a peer is forgotten after -i without traffic, then served anew" {
	start_listen -v -k -i 0.3 -p line udp-listen:0 "append:$T/all.log"
	udppeer client 127.0.0.1 "$LPORT" ta --wait 0
	wait_grep "$T/weir.err" "idle" || return 1
	udppeer client 127.0.0.1 "$LPORT" tb --wait 0
	wait_count "$T/all.log" 2 || return 1
	assert_equal "$(grep -c ': accepted' "$T/weir.err")" 2
	kill "$WEIR_PID"
	wait_exit "$WEIR_PID" || return 1
}

@test "udp-listen: -m caps the peers, --deny refuses them; their datagrams are dropped and logged" {
	start_listen -k -m 1 -p line udp-listen:0 "append:$T/all.log"
	spawn python3 "$UDPPEER" client 127.0.0.1 "$LPORT" tfirst --wait 5 </dev/null
	wait_count "$T/all.log" 1 || return 1
	udppeer client 127.0.0.1 "$LPORT" tsecond --wait 0
	wait_grep "$T/weir.err" "refused 127\.0\.0\.1:[0-9]+ \(1 connection open, -m 1\)" || return 1
	assert_equal "$(cat "$T/all.log")" "first"
	kill "$WEIR_PID"
	wait_exit "$WEIR_PID" || return 1

	rm -f "$T/ready"
	start_listen -k --deny 127.0.0.1 -p line udp-listen:0 "append:$T/denied.log"
	udppeer client 127.0.0.1 "$LPORT" tx --wait 0
	wait_grep "$T/weir.err" "refused 127\.0\.0\.1:[0-9]+ \(denied" || return 1
	assert_equal "$(cat "$T/denied.log" 2>/dev/null)" ""
	kill "$WEIR_PID"
	wait_exit "$WEIR_PID" || return 1
}

@test "udp-listen: usage errors" {
	run -2 --separate-stderr weir udp-listen:0,proto=line
	assert_usage_error "weir: udp-listen:0,proto=line: proto= does not apply: each message is one frame"
	run -2 --separate-stderr weir udp-listen:0,bind=127.0.0.1
	assert_usage_error "weir: udp-listen:0,bind=127.0.0.1: bind= is the source address of a connect (tcp:, tls:, udp:), not for this address"
	run -2 --separate-stderr weir udp-listen:x
	assert_usage_error "weir: udp-listen:x: invalid port 'x'"
	run -2 --separate-stderr weir udp-listen:0 tcp-listen:0
	assert_usage_error "weir: udp-listen:0 and tcp-listen:0: only one listener is allowed"
}

@test "udp-listen: a consumer that does not read while 200,000 datagrams come: memory bounded, every loss counted" {
	start_listen -v --stats=json -u -i 3 udp-listen:127.0.0.1:0 \
		exec:'sleep 2; cat >/dev/null'
	run -0 udppeer flood 127.0.0.1 "$LPORT" 200000 100
	assert_output 200000
	local hwm
	hwm=$(vm_hwm "$WEIR_PID")
	wait_exit "$WEIR_PID" 30 || return 1
	# -i ends with 1, as for streams.
	assert_equal "$EXIT_STATUS" 1
	# ASan's shadow memory and quarantine cost more.
	((hwm < ${WEIR_SANITIZE:+4}65536)) || fail "peak RSS $hwm KiB"
	run -0 python3 -c '
import json, sys
left = json.loads([l for l in open(sys.argv[1]) if l.startswith("{")][0])["left"]
assert left["kernel_dropped"] > 0, left
assert left["frames_in"] + left["dropped"] + left["kernel_dropped"] == 200000, left
' "$T/weir.err"
	grep -q "the kernel dropped [0-9]* datagrams so far" "$T/weir.err" ||
		fail "-v did not tell of the drops"
}

@test "udp-listen: IPv6, and --ready-file writes udp:[::1]:PORT" {
	have_ipv6 || skip "no IPv6 loopback"
	start_weir "$T/ready" -k -p line udp6-listen:0 "append:$T/all.log" 2>"$T/weir.err"
	assert_equal "${ADDR%:*}" "udp:[::1]"
	udppeer client ::1 "${ADDR##*:}" tsix --wait 0
	wait_count "$T/all.log" 1 || return 1
	assert_equal "$(cat "$T/all.log")" "six"
	kill "$WEIR_PID"
	wait_exit "$WEIR_PID" || return 1
	# -6 fixes the family as udp6-listen: does.
	rm -f "$T/ready"
	start_weir "$T/ready" -6 -k -p line udp-listen:0 "append:$T/minus6.log" 2>"$T/weir.err"
	assert_equal "${ADDR%:*}" "udp:[::1]"
	udppeer client ::1 "${ADDR##*:}" tagain --wait 0
	wait_count "$T/minus6.log" 1 || return 1
	assert_equal "$(cat "$T/minus6.log")" "again"
	kill "$WEIR_PID"
	wait_exit "$WEIR_PID" || return 1
}

@test "udp-listen: --broker relays each peer's datagrams to the others" {
	start_listen -v --broker udp-listen:0
	spawn python3 "$UDPPEER" client 127.0.0.1 "$LPORT" thello --expect 1 --wait 10 \
		>"$T/b.out" </dev/null
	wait_grep "$T/weir.err" ": accepted" || return 1
	udppeer client 127.0.0.1 "$LPORT" tfrom-a --wait 0
	wait_count "$T/b.out" 1 || return 1
	assert_equal "$(cat "$T/b.out")" "$(udppeer digests tfrom-a)"
	kill "$WEIR_PID"
	wait_exit "$WEIR_PID" || return 1
}

@test "udp-listen: a proxied peer whose upstream is not there is closed alone" {
	local port
	port=$(python3 -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	start_listen -k udp-listen:0 "udp:127.0.0.1:$port"
	udppeer client 127.0.0.1 "$LPORT" tx --wait 0
	wait_grep "$T/weir.err" "udp:127.0.0.1:$port: Connection refused" || return 1
	kill -0 "$WEIR_PID"
	kill "$WEIR_PID"
	wait_exit "$WEIR_PID" || return 1
}

# free_udp_port: a port the kernel just gave a UDP socket, now free again
# (for a program that must be told its port).
free_udp_port() {
	python3 -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

@test "udp-listen: dig through weir -k udp-listen: udp: to dnsmasq" {
	command -v dnsmasq >/dev/null || skip "dnsmasq is not installed"
	command -v dig >/dev/null || skip "dig is not installed"
	local dport n=0
	dport=$(free_udp_port)
	printf '10.1.2.3 weir-test.example\n' >"$T/hosts"
	spawn dnsmasq --no-daemon --conf-file=/dev/null --port="$dport" \
		--listen-address=127.0.0.1 --bind-interfaces --no-resolv --no-hosts \
		--addn-hosts="$T/hosts" --user="$(id -un)" --pid-file= \
		</dev/null 2>"$T/dnsmasq.err"
	# Bounded: until dnsmasq answers directly.
	until dig +short +time=1 +tries=1 @127.0.0.1 -p "$dport" \
		weir-test.example 2>/dev/null | grep -q 10.1.2.3; do
		((n++ < 50)) || fail "dnsmasq did not answer"
		sleep 0.1
	done
	start_listen -k udp-listen:0 "udp:127.0.0.1:$dport"
	run -0 dig +short +time=5 +tries=1 @127.0.0.1 -p "$LPORT" weir-test.example
	assert_output "10.1.2.3"
	run -0 dig +short +time=5 +tries=1 @127.0.0.1 -p "$LPORT" -x 10.1.2.3
	assert_output "weir-test.example."
	kill "$WEIR_PID"
	wait_exit "$WEIR_PID" || return 1
}

@test "udp-listen: logger's syslog datagrams into one append: file, one whole line each" {
	command -v logger >/dev/null || skip "logger is not installed"
	start_listen -k -p line udp-listen:0 "append:$T/syslog"
	local i
	for i in 1 2 3; do
		logger -d -n 127.0.0.1 -P "$LPORT" -t weirtest "message number $i"
	done
	wait_count "$T/syslog" 3 || return 1
	for i in 1 2 3; do
		grep -qE '^<[0-9]+>.* weirtest .*message number '"$i"'$' "$T/syslog" ||
			fail "$(cat "$T/syslog")"
	done
	assert_equal "$(wc -l <"$T/syslog")" 3
	kill "$WEIR_PID"
	wait_exit "$WEIR_PID" || return 1
}

@test "udp-listen: -k with exec: runs a command per peer, which knows its peer" {
	start_listen -k -p line udp-listen:127.0.0.1:0 \
		exec:'echo "$WEIR_PEER_ADDR $WEIR_LOCAL_PORT"; sed -u s/o/0/g'
	run -0 udppeer client 127.0.0.1 "$LPORT" thello tworld --expect 3 --wait 5
	assert_output "$(udppeer digests "t127.0.0.1 $LPORT" thell0 tw0rld)"
	kill "$WEIR_PID"
	wait_exit "$WEIR_PID" || return 1
}

@test "udp-listen: without -k the other peers are ignored, their datagrams counted as dropped" {
	mkfifo "$T/in"
	exec 7<>"$T/in"
	start_listen --stats=json -p line udp-listen:127.0.0.1:0 - <"$T/in" >"$T/out" 7>&-
	spawn python3 "$UDPPEER" client 127.0.0.1 "$LPORT" tfirst --expect 1 --wait 10 \
		>"$T/first.out" </dev/null 7>&-
	wait_grep "$T/out" '^first$' || return 1
	udppeer client 127.0.0.1 "$LPORT" tx ty tz --wait 0.3
	echo reply >&7
	exec 7>&-
	wait_count "$T/first.out" 1 || return 1
	assert_equal "$(cat "$T/first.out")" "$(udppeer digests treply)"
	wait_exit "$WEIR_PID" || return 1
	assert_equal "$EXIT_STATUS" 0
	assert_equal "$(cat "$T/out")" "first"
	assert_equal "$(stats_json "$T/weir.err" left dropped)" 3
}
