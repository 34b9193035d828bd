#!/usr/bin/env bats
# socks5-listen:, a SOCKS5 server: each client's CONNECT names its RIGHT.
# curl is the real client where it can be; socks5peer.py does what curl
# cannot (other commands, raw bytes, many clients at once).

load helper

SOCKSPEER="$BATS_TEST_DIRNAME/socks5peer.py"

speer() {
	timeout -k 2 "$WEIR_TIMEOUT" python3 "$SOCKSPEER" "$@" 3>&-
}

# start_socks ARGS...: weir ARGS socks5-listen:127.0.0.1:0$SOCKS_OPTS in
# the background (stderr to $T/err); sets PROXY (its ready line) and PORT.
start_socks() {
	start_weir "$T/r" "$@" "socks5-listen:127.0.0.1:0${SOCKS_OPTS:-}" </dev/null 2>"$T/err"
	PROXY=$ADDR
	PORT=${ADDR##*:}
}

# start_http [--ipv6]: the tiny HTTP server; sets HTTP_PORT.
start_http() {
	spawn python3 "$SOCKSPEER" http --ready "$T/rh" "$@" </dev/null
	HTTP_PORT=$(ready_addr "$T/rh")
}

term_weir() {
	kill -TERM "$WEIR_PID"
	wait_exit "$WEIR_PID"
}

fetch() {
	timeout -k 2 "$WEIR_TIMEOUT" curl -sS --max-time 10 "$@"
}

@test "--ready-file says socks5://127.0.0.1:PORT; curl --socks5-hostname through it, the name resolved by weir" {
	start_http
	start_socks -k -v
	[[ $PROXY =~ ^socks5://127\.0\.0\.1:[1-9][0-9]*$ ]] || fail "ready file says '$PROXY'"
	run -0 --separate-stderr fetch --socks5-hostname "127.0.0.1:$PORT" "http://localhost:$HTTP_PORT/"
	assert_output "hello from $HTTP_PORT"
	run -0 --separate-stderr fetch --proxy "$PROXY" "http://localhost:$HTTP_PORT/"
	assert_output "hello from $HTTP_PORT"
	term_weir
	assert_equal "$EXIT_STATUS" 143
	run -0 cat "$T/err"
	assert_line "weir: socks5 socks5-listen:127.0.0.1:0 (relay) <-> tcp (relay), splice"
	assert_line --regexp "^weir: socks5-listen:127\.0\.0\.1:0 \(127\.0\.0\.1:[0-9]+\): CONNECT localhost:$HTTP_PORT$"
	assert_line "weir: tcp:localhost:$HTTP_PORT: open"
}

@test "curl --socks5: an address resolved by curl; without -k one client is served, then weir ends" {
	start_http
	start_socks
	run -0 --separate-stderr fetch --socks5 "127.0.0.1:$PORT" "http://127.0.0.1:$HTTP_PORT/"
	assert_output "hello from $HTTP_PORT"
	wait_exit "$WEIR_PID"
	assert_equal "$EXIT_STATUS" 0
	assert_equal "$(cat "$T/err")" ""
	assert_not_exist "$T/r"
}

@test "an IPv6 destination: curl to [::1], and an IPv6 address type from a raw client" {
	have_ipv6 || skip "no ::1 here"
	start_http --ipv6
	start_socks -k -v
	run -0 --separate-stderr fetch --socks5 "127.0.0.1:$PORT" "http://[::1]:$HTTP_PORT/"
	assert_output "hello from $HTTP_PORT"
	run -0 --separate-stderr speer relay --proxy "$PROXY" --to "[::1]:$HTTP_PORT" --atyp ipv6 \
		--send $'GET / HTTP/1.0\r\n\r\n'
	assert_output --partial "hello from $HTTP_PORT"
	term_weir
	run -0 cat "$T/err"
	assert_line --regexp "CONNECT \[::1\]:$HTTP_PORT$"
	assert_line "weir: tcp:[::1]:$HTTP_PORT: open"
}

@test "user= and pass=: curl -U is let in; wrong credentials and no credentials are turned away, the server goes on" {
	start_http
	SOCKS_OPTS=,user=bob,pass=s3cret start_socks -k
	run -0 --separate-stderr fetch --socks5-hostname "127.0.0.1:$PORT" -U bob:s3cret \
		"http://localhost:$HTTP_PORT/"
	assert_output "hello from $HTTP_PORT"
	run -97 --separate-stderr fetch --socks5-hostname "127.0.0.1:$PORT" -U bob:wrong \
		"http://localhost:$HTTP_PORT/"
	assert_output ""
	run -0 --separate-stderr speer request --proxy "$PROXY" -U bob:wrong --to "localhost:$HTTP_PORT"
	assert_output "reply auth-failed closed"
	run -97 --separate-stderr fetch --socks5-hostname "127.0.0.1:$PORT" "http://localhost:$HTTP_PORT/"
	run -0 --separate-stderr fetch --socks5-hostname "127.0.0.1:$PORT" -U bob:s3cret \
		"http://localhost:$HTTP_PORT/"
	assert_output "hello from $HTTP_PORT"
	term_weir
	assert_equal "$EXIT_STATUS" 143
	run -0 cat "$T/err"
	assert_line --regexp '^weir: socks5-listen:127\.0\.0\.1:0 \(127\.0\.0\.1:[0-9]+\): socks5: authentication failed, at byte [0-9]+$'
	assert_line --regexp 'socks5: no acceptable methods \(user/password needed\)'
	refute_output --partial "s3cret"
	refute_output --partial "wrong"
}

@test "32 MiB each way intact through the server, and --stats counts both sides" {
	start_peer "$T/re" echo
	DEST=${ADDR#tcp:}
	mkdata "$T/in" 32M
	start_socks --stats=json
	run -0 --separate-stderr speer relay --proxy "$PROXY" --to "$DEST" --atyp ipv4 \
		--in "$T/in" --out "$T/out"
	assert_equal "$(sha "$T/out")" "$(sha "$T/in")"
	wait_exit "$WEIR_PID"
	assert_equal "$EXIT_STATUS" 0
	assert_conserved "$T/err"
	assert_equal "$(stats_json "$T/err" left bytes_in)" 33554432
	assert_equal "$(stats_json "$T/err" right bytes_out)" 33554432
	assert_equal "$(stats_json "$T/err" right bytes_in)" 33554432
}

@test "--stats in text names both sides" {
	start_http
	start_socks --stats
	run -0 --separate-stderr fetch --socks5 "127.0.0.1:$PORT" "http://127.0.0.1:$HTTP_PORT/"
	wait_exit "$WEIR_PID"
	assert_equal "$EXIT_STATUS" 0
	run -0 cat "$T/err"
	assert_line --regexp '^weir: stats LEFT socks5-listen:127\.0\.0\.1:0 \(1 connection\): in [1-9][0-9]* B '
	assert_line --regexp '^weir: stats RIGHT tcp \(1 connection\): in [1-9][0-9]* B '
}

@test "half-close: the client's EOF goes through, the destination's late reply comes back" {
	start_peer "$T/rs" serve --reply-delay 1 --reply 'late reply\n' --out "$T/got"
	DEST=${ADDR#tcp:}
	start_socks -k
	run -0 --separate-stderr speer relay --proxy "$PROXY" --to "$DEST" --atyp ipv4 \
		--send $'question\n'
	assert_output "late reply"
	wait_file "$T/got"
	assert_equal "$(cat "$T/got")" "question"
	term_weir
}

@test "reply codes: refused 5, a name that does not resolve 4, BIND and UDP ASSOCIATE 7, an unknown address type 8; each closed, the server goes on" {
	# .invalid never resolves (RFC 6761): host unreachable, deterministic
	# on a machine with no network at all.
	start_peer "$T/rr" refused
	DEST=${ADDR#tcp:}
	start_socks -k -v
	run -0 --separate-stderr speer request --proxy "$PROXY" --to "$DEST" --atyp ipv4
	assert_output "reply 5 closed"
	run -0 --separate-stderr speer request --proxy "$PROXY" --to "nosuch.invalid:80"
	assert_output "reply 4 closed"
	run -0 --separate-stderr speer request --proxy "$PROXY" --to "127.0.0.1:80" --atyp ipv4 --cmd 2
	assert_output "reply 7 closed"
	run -0 --separate-stderr speer request --proxy "$PROXY" --to "127.0.0.1:80" --atyp ipv4 --cmd 3
	assert_output "reply 7 closed"
	run -0 --separate-stderr speer request --proxy "$PROXY" --to "127.0.0.1:80" --atyp bad
	assert_output "reply 8 closed"
	run -97 --separate-stderr fetch --socks5 "127.0.0.1:$PORT" "http://$DEST/"
	assert_output ""
	[[ $stderr == *"(5)"* ]] || fail "curl says: $stderr"
	kill -0 "$WEIR_PID"
	term_weir
	assert_equal "$EXIT_STATUS" 143
	run -0 cat "$T/err"
	assert_line --regexp "^weir: tcp:$DEST: connect: Connection refused$"
	assert_line --regexp 'replied 5, connection refused by destination$'
	assert_line --regexp 'replied 4, host unreachable$'
	assert_line --regexp 'socks5: command CONNECT \(1\) expected, got .\\x02., at byte [0-9]+$'
}

@test "an unreachable destination gets the code its connect's error calls for (3 or 4)" {
	# 2001:db8::/32 is for documentation (RFC 3849): where no route
	# leads anywhere with it, a connect fails within seconds (no route
	# at all, or a gateway's ICMP error); the probe says how.
	local code
	code=$(python3 -c '
import errno, socket
s = socket.socket(socket.AF_INET6)
s.settimeout(8)
try:
    s.connect(("2001:db8::1", 9))
except OSError as e:
    print({errno.ENETUNREACH: 3, errno.EHOSTUNREACH: 4}.get(e.errno, ""))' 2>/dev/null) || true
	[[ -n $code ]] || skip "2001:db8::1 is not unreachable here"
	start_socks -k -v
	run -0 --separate-stderr speer request --proxy "$PROXY" --to "[2001:db8::1]:9" --atyp ipv6
	assert_output "reply $code closed"
	term_weir
	run -0 cat "$T/err"
	assert_line --regexp "replied $code, (network|host) unreachable$"
}

@test "a request sent with the greeting and the data after it: all of it goes through" {
	start_http
	start_socks -k
	local port
	port=$(printf '\\x%02x\\x%02x' $((HTTP_PORT >> 8)) $((HTTP_PORT & 255)))
	run -0 --separate-stderr speer raw --proxy "$PROXY" --out "$T/got" \
		--bytes "\\x05\\x01\\x00\\x05\\x01\\x00\\x03\\x09localhost${port}GET / HTTP/1.0\\r\\n\\r\\n"
	assert_output --regexp '^closed after [0-9.]+ s, got [0-9]+ bytes$'
	# The method, then success with the outgoing connection's own
	# address: 127.0.0.1, a port that is not 0.
	run -0 od -An -tx1 -N 10 "$T/got"
	assert_equal "$(echo $output)" "05 00 05 00 00 01 7f 00 00 01"
	run -0 od -An -tx1 -j 10 -N 2 "$T/got"
	refute_output --regexp '^ *00 00$'
	run -0 tail -n 1 "$T/got"
	assert_output "hello from $HTTP_PORT"
	term_weir
}

@test "-w bounds the connect to the destination: timed out is reply 6" {
	start_peer "$T/rb" backlog
	DEST=${ADDR#tcp:}
	start_socks -k -v -w 1
	run -0 --separate-stderr speer request --proxy "$PROXY" --to "$DEST" --atyp ipv4
	assert_output "reply 6 closed"
	term_weir
	run -0 cat "$T/err"
	assert_line "weir: tcp:$DEST: connect: timed out after 1 s"
	assert_line --regexp 'replied 6, TTL expired$'
}

@test "without -k a refused destination ends weir with 1, after the reply" {
	start_peer "$T/rr" refused
	DEST=${ADDR#tcp:}
	start_socks
	run -0 --separate-stderr speer request --proxy "$PROXY" --to "$DEST" --atyp ipv4
	assert_output "reply 5 closed"
	wait_exit "$WEIR_PID"
	assert_equal "$EXIT_STATUS" 1
	assert_equal "$(cat "$T/err")" "weir: tcp:$DEST: connect: Connection refused"
}

@test "garbage instead of a greeting: closed, logged, the next client is served" {
	start_http
	start_socks -k
	run -0 --separate-stderr speer raw --proxy "$PROXY" --bytes 'GET / HTTP/1.0\r\n\r\n'
	assert_output --regexp '^closed after [0-9.]+ s, got 0 bytes$'
	run -0 --separate-stderr fetch --socks5 "127.0.0.1:$PORT" "http://127.0.0.1:$HTTP_PORT/"
	assert_output "hello from $HTTP_PORT"
	term_weir
	run -0 cat "$T/err"
	assert_line --regexp "^weir: socks5-listen:127\.0\.0\.1:0 \(127\.0\.0\.1:[0-9]+\): socks5: version 5 expected, got 'G', at byte 0$"
}

@test "a client that stalls in the handshake is closed after -w" {
	start_socks -k -w 1
	# The greeting's first byte, then nothing.
	run -0 --separate-stderr speer raw --proxy "$PROXY" --bytes '\x05' --wait 8
	[[ $output =~ ^closed\ after\ (1|2)\.[0-9]\ s,\ got\ 0\ bytes$ ]] || fail "$output"
	# A whole greeting answered, then a request cut short.
	run -0 --separate-stderr speer raw --proxy "$PROXY" --bytes '\x05\x01\x00\x05\x01' --wait 8
	[[ $output =~ ^closed\ after\ (1|2)\.[0-9]\ s,\ got\ 2\ bytes$ ]] || fail "$output"
	term_weir
	run -0 cat "$T/err"
	assert_line --regexp '\(127\.0\.0\.1:[0-9]+\): handshake: timed out after 1 s$'
}

@test "-i closes a proxied connection that has been idle" {
	start_http
	start_socks -k -i 1
	# CONNECT to the HTTP server, then no request: nothing moves.
	run -0 --separate-stderr speer raw --proxy "$PROXY" --wait 8 \
		--bytes "\\x05\\x01\\x00\\x05\\x01\\x00\\x01\\x7f\\x00\\x00\\x01$(printf '\\x%02x\\x%02x' $((HTTP_PORT >> 8)) $((HTTP_PORT & 255)))"
	[[ $output =~ ^closed\ after\ (1|2)\.[0-9]\ s,\ got\ 12\ bytes$ ]] || fail "$output"
}

@test "--deny and --allow act on clients, before any byte of SOCKS" {
	start_http
	start_socks -k --deny 127.0.0.1
	run -97 --separate-stderr fetch --socks5 "127.0.0.1:$PORT" "http://127.0.0.1:$HTTP_PORT/"
	assert_output ""
	term_weir
	run -0 cat "$T/err"
	assert_line --regexp '^weir: socks5-listen:127\.0\.0\.1:0: refused 127\.0\.0\.1:[0-9]+ \(denied by --deny 127\.0\.0\.1\)$'
	rm -f "$T/r"
	start_socks -k --allow 127.0.0.0/8
	run -0 --separate-stderr fetch --socks5 "127.0.0.1:$PORT" "http://127.0.0.1:$HTTP_PORT/"
	assert_output "hello from $HTTP_PORT"
}

@test "-m 1: a second client is closed at once and logged; a freed slot admits again" {
	start_http
	start_socks -k -m 1
	local fds
	fds=$(count_fds "$WEIR_PID")
	# Connected to the HTTP server, and silent: it holds its slot.
	spawn python3 "$SOCKSPEER" raw --proxy "$PROXY" --wait 30 \
		--bytes "\\x05\\x01\\x00\\x05\\x01\\x00\\x01\\x7f\\x00\\x00\\x01$(printf '\\x%02x\\x%02x' $((HTTP_PORT >> 8)) $((HTTP_PORT & 255)))" \
		</dev/null
	local first=$LAST_PID
	wait_fds "$WEIR_PID" $((fds + 2))
	run -97 --separate-stderr fetch --socks5 "127.0.0.1:$PORT" "http://127.0.0.1:$HTTP_PORT/"
	kill "$first"
	wait_fds "$WEIR_PID" "$fds"
	run -0 --separate-stderr fetch --socks5 "127.0.0.1:$PORT" "http://127.0.0.1:$HTTP_PORT/"
	assert_output "hello from $HTTP_PORT"
	run -0 cat "$T/err"
	assert_line --regexp '^weir: socks5-listen:127\.0\.0\.1:0: refused 127\.0\.0\.1:[0-9]+ \(1 connection open, -m 1\)$'
	term_weir
}

@test "20 concurrent clients, each to its own destination" {
	spawn python3 "$SOCKSPEER" ports --count 20 --ready "$T/ports" </dev/null
	wait_file "$T/ports"
	start_socks -k
	run -0 --separate-stderr speer many --proxy "$PROXY" --ports "$T/ports"
	assert_output "20 clients ok"
	kill -0 "$WEIR_PID"
}

@test "socks5-listen stands alone: a second address, --broker, --share, user= without pass= are usage errors" {
	run -2 --separate-stderr weir socks5-listen:0 tcp:127.0.0.1:1
	assert_usage_error "weir: socks5-listen:0: takes no second address (each client names its own)"
	run -2 --separate-stderr weir - socks5-listen:0
	assert_usage_error "weir: socks5-listen:0: takes no second address (each client names its own)"
	run -2 --separate-stderr weir --broker socks5-listen:0
	assert_usage_error "weir: --broker: socks5-listen:0: each client names its own RIGHT"
	run -2 --separate-stderr weir -k --share socks5-listen:0
	assert_usage_error "weir: --share: socks5-listen:0: each client names its own RIGHT"
	run -2 --separate-stderr weir socks5-listen:0,user=bob
	assert_usage_error "weir: socks5-listen:0,user=bob: user= and pass= go together"
	run -2 --separate-stderr weir "socks5-listen:0,user=$(printf 'u%.0s' {1..256}),pass=x"
	[[ $stderr == *": user longer than 255 bytes"* ]] || fail "$stderr"
	run -2 --separate-stderr weir socks5-listen:0,mode=600
	[[ $stderr == "weir: "* ]] || fail "$stderr"
}

@test "weir's own proxy= goes through it: the ready line is a proxy= value, credentials too" {
	start_peer "$T/rs" serve --reply 'pong\n' --out "$T/got"
	local dport=${ADDR##*:}
	SOCKS_OPTS=,user=alice,pass=s3cret start_socks -k -v
	run -0 --separate-stderr weir -v "tcp:localhost:$dport,proxy=socks5://alice:s3cret@${PROXY#socks5://}" <<<ping
	assert_output pong
	assert_regex "$stderr" "through proxy socks5://alice:\*\*\*@127\.0\.0\.1:$PORT"
	wait_file "$T/got"
	assert_equal "$(cat "$T/got")" ping
	term_weir
	run -0 cat "$T/err"
	assert_line --regexp "CONNECT localhost:$dport\$"
	refute_output --partial s3cret
}
