#!/usr/bin/env bats
# proxy=: tcp:, tls:, ws:// and wss:// through a SOCKS5 proxy (microsocks,
# and danted for a ruleset's refusal) and an HTTP CONNECT proxy
# (tinyproxy), with and without credentials; their refusals, a proxy that
# cannot be reached or never answers (-w), the name resolved by the proxy,
# TLS verified for the target over the tunnel, 32 MiB intact, a tunnel per
# connection with -k, bytes that come with the proxy's reply
# (tests/proxypeer.py), masked passwords, usage errors.

load helper

PROXYPEER="$BATS_TEST_DIRNAME/proxypeer.py"

setup_file() {
	# A certificate for localhost alone, its own CA.
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$BATS_FILE_TMPDIR/key.pem" -out "$BATS_FILE_TMPDIR/cert.pem" \
		-subj /CN=localhost -days 3 -addext subjectAltName=DNS:localhost \
		2>/dev/null
}

# start_microsocks [ARGS...]: microsocks on a free port of 127.0.0.1 (it
# takes no port 0), logging to $T/microsocks.log; sets SOCKS (HOST:PORT).
start_microsocks() {
	local port
	port=$(free_port)
	spawn microsocks -i 127.0.0.1 -p "$port" "$@" >"$T/microsocks.log" 2>&1 </dev/null
	wait_listen "$port" || return 1
	SOCKS=127.0.0.1:$port
}

# start_tinyproxy [USER PASS]: tinyproxy in the foreground on a free port
# of 127.0.0.1, with a config written here (Basic credentials if given);
# sets HTTPP (HOST:PORT). No ConnectPort: CONNECT goes to any port, the
# tests' being picked by the kernel.
start_tinyproxy() {
	local port
	port=$(free_port)
	{
		echo "Port $port"
		echo "Listen 127.0.0.1"
		echo "Allow 127.0.0.1"
		echo "Timeout 30"
		echo "MaxClients 16"
		echo "LogLevel Info"
		echo "LogFile \"$T/tinyproxy.log\""
		echo "PidFile \"$T/tinyproxy.pid\""
		if (($# == 2)); then
			echo "BasicAuth $1 $2"
		fi
	} >"$T/tinyproxy.conf"
	spawn tinyproxy -d -c "$T/tinyproxy.conf" >"$T/tinyproxy.out" 2>&1 </dev/null
	wait_listen "$port" || return 1
	HTTPP=127.0.0.1:$port
}

# start_danted RULE...: dante's server in the foreground, one process of
# each kind, on a free port of 127.0.0.1, with a config written here:
# these socks rules, then one that passes the rest; sets DANTE (HOST:PORT)
# and DANTED_PID (ended with SIGTERM in teardown, so that it reaps its
# children).
start_danted() {
	local port rule
	port=$(free_port)
	{
		echo "logoutput: $T/danted.log"
		echo "internal: 127.0.0.1 port = $port"
		echo "external: 127.0.0.1"
		echo "clientmethod: none"
		echo "socksmethod: none"
		echo "user.privileged: $(id -un)"
		echo "user.unprivileged: $(id -un)"
		echo "client pass { from: 127.0.0.0/8 to: 0.0.0.0/0 }"
		for rule in "$@"; do
			echo "$rule"
		done
		echo "socks pass { from: 0.0.0.0/0 to: 0.0.0.0/0 }"
	} >"$T/danted.conf"
	spawn danted -f "$T/danted.conf" -N 1 -p "$T/danted.pid" >"$T/danted.out" 2>&1 </dev/null
	DANTED_PID=$LAST_PID
	wait_listen "$port" || return 1
	DANTE=127.0.0.1:$port
}

teardown() {
	if [[ -n ${DANTED_PID:-} ]]; then
		kill -TERM "$DANTED_PID" 2>/dev/null || true
		wait_exit "$DANTED_PID" || true
	fi
	weir_teardown
}

# start_sink [KIND-LISTEN]: a weir that takes one connection into $T/got
# (tcp-listen by default; its log in $T/sink.err); sets SPORT, SINK_PID.
start_sink() {
	local listen=${1:-tcp-listen:127.0.0.1:0}
	start_weir "$T/sink.ready" -v "$listen" "write:$T/got" 2>"$T/sink.err"
	SINK_PID=$WEIR_PID
	SPORT=${ADDR#*:*:}
	SPORT=${SPORT%%[,/]*}
}

# sink_got TEXT: the sink ended and took exactly TEXT.
sink_got() {
	wait_exit "$SINK_PID" || return 1
	assert_equal "$EXIT_STATUS" 0
	assert_equal "$(cat "$T/got")" "$1"
}

# start_proxypeer KIND ARGS...: tests/proxypeer.py in the background; sets
# FAKE (HOST:PORT).
start_proxypeer() {
	spawn python3 "$PROXYPEER" "$@" --ready "$T/fake.ready" </dev/null
	FAKE=$(ready_addr "$T/fake.ready") || return 1
}

# start_proxy KIND [USER PASS]: microsocks for socks5, tinyproxy for http;
# sets PROXY (KIND://HOST:PORT) and LOG (its log, naming the targets it
# connects to as TARGET_LOG says).
start_proxy() {
	local kind=$1
	shift
	if [[ $kind == socks5 ]]; then
		start_microsocks ${1:+-u "$1" -P "$2"}
		PROXY=socks5://$SOCKS LOG=$T/microsocks.log TARGET_LOG='connected to'
	else
		start_tinyproxy "$@"
		PROXY=http://$HTTPP LOG=$T/tinyproxy.log TARGET_LOG='opening connection to'
	fi
}

# by_kind KIND SOCKS5 HTTP: the words for KIND's proxy.
by_kind() {
	if [[ $1 == socks5 ]]; then
		echo "$2"
	else
		echo "$3"
	fi
}

@test "the proxy resolves the name; -v names the tunnel" {
	local kind
	for kind in socks5 http; do
		start_proxy "$kind"
		start_sink
		run -0 --separate-stderr weir -v -u - "tcp:localhost:$SPORT,proxy=$PROXY" <<<hello
		assert_equal "$output" ""
		[[ $stderr == *"weir: tcp:localhost:$SPORT: through proxy $PROXY"$'\n'* ]] ||
			fail "no tunnel in the log: $stderr"
		sink_got hello
		# The proxy was asked for the name.
		run -0 grep -c "$TARGET_LOG localhost:$SPORT" "$LOG"
		assert_output 1
		rm -f "$T/sink.ready"
	done
}

@test "user and password (RFC 1929, Basic), the password masked" {
	local kind
	for kind in socks5 http; do
		# tinyproxy takes no '@' or '%' in a password: escape others.
		start_proxy "$kind" alice s3-cr.t
		start_sink
		run -0 --separate-stderr weir -v -u - "tcp:localhost:$SPORT,proxy=${PROXY/:\/\//://alice:s3%2dcr%2Et@}" <<<hello
		[[ $stderr == *"through proxy ${PROXY/:\/\//://alice:***@}"$'\n'* ]] ||
			fail "no masked tunnel in the log: $stderr"
		[[ $stderr != *s3* ]] || fail "the password is in the log: $stderr"
		sink_got hello
		rm -f "$T/sink.ready"
	done
}

@test "a wrong password, and none, are refused with the proxy's words" {
	local kind
	for kind in socks5 http; do
		start_proxy "$kind" alice secret
		run -1 --separate-stderr weir -v -u - "tcp:localhost:9,proxy=${PROXY/:\/\//://alice:wrong@}" </dev/null
		[[ $stderr != *wrong* ]] || fail "the password is in the log: $stderr"
		# tinyproxy answers a wrong password 401, a missing one 407.
		[[ $stderr == *$'\n'"weir: tcp:localhost:9: proxy ${PROXY/:\/\//://alice:***@}: $(by_kind "$kind" 'authentication failed' '401 Unauthorized')" ]] ||
			fail "not refused so: $stderr"
		run -1 --separate-stderr weir -u - "tcp:localhost:9,proxy=$PROXY" </dev/null
		assert_equal "$stderr" "weir: tcp:localhost:9: proxy $PROXY: $(by_kind "$kind" 'no acceptable methods (offered: no authentication)' '407 Proxy Authentication Required')"
	done
}

@test "a refused destination names the proxy's reply" {
	local kind port
	port=$(free_port)
	for kind in socks5 http; do
		start_proxy "$kind"
		run -1 --separate-stderr weir -u - "tcp:localhost:$port,proxy=$PROXY" </dev/null
		assert_equal "$stderr" "weir: tcp:localhost:$port: proxy $PROXY: $(by_kind "$kind" 'connection refused by destination (5)' '500 Unable to connect')"
	done
}

@test "socks5: a ruleset's refusal (danted) names reply code 2" {
	start_danted "socks block { from: 0.0.0.0/0 to: 127.0.0.1/32 port = 9 }"
	run -1 --separate-stderr weir -u - "tcp:localhost:9,proxy=socks5://$DANTE" </dev/null
	assert_equal "$stderr" "weir: tcp:localhost:9: proxy socks5://$DANTE: connection not allowed by ruleset (2)"
}

@test "a proxy that cannot be reached fails as a connect, said of the proxy" {
	local port
	port=$(free_port)
	run -1 --separate-stderr weir -u - "tcp:db:5432,proxy=socks5://u:pw@127.0.0.1:$port" </dev/null
	assert_equal "$stderr" "weir: tcp:db:5432: proxy socks5://u:***@127.0.0.1:$port: connect: Connection refused"
	run -1 --separate-stderr weir -u - "tcp:db:5432,proxy=http://[::1]:$port" </dev/null
	assert_regex "$stderr" "^weir: tcp:db:5432: proxy http://\[::1\]:$port: [a-z]+: "
	# the proxy's own name is looked up here (off the loop); .invalid never resolves
	run -1 --separate-stderr weir -u - "tcp:db:5432,proxy=socks5://nosuch.invalid:$port" </dev/null
	assert_regex "$stderr" "^weir: tcp:db:5432: proxy socks5://nosuch\.invalid:$port: [A-Z][a-z ]+"
}

@test "a proxy named by a name is looked up here, the target by the proxy" {
	start_microsocks
	start_sink tcp-listen:127.0.0.1:0
	run -0 --separate-stderr weir -v -u - "tcp:localhost:$SPORT,proxy=socks5://localhost:${SOCKS#*:}" <<<hello
	assert_regex "$stderr" "through proxy socks5://localhost:${SOCKS#*:}"
	sink_got hello
}

@test "tls: through SOCKS5, the target's name verified" {
	start_microsocks
	start_sink "tls-listen:127.0.0.1:0,cert=$BATS_FILE_TMPDIR/cert.pem,key=$BATS_FILE_TMPDIR/key.pem"
	run -0 --separate-stderr weir -v -u - "tls:localhost:$SPORT,ca=$BATS_FILE_TMPDIR/cert.pem,proxy=socks5://$SOCKS" <<<hello
	assert_regex "$stderr" "through proxy socks5://$SOCKS"$'\n'"weir: tls:localhost:$SPORT: TLSv1\.[23], [^\n]*, peer CN = localhost, verified"
	sink_got hello
}

@test "tls: through SOCKS5, a name the certificate lacks fails verification" {
	start_microsocks
	start_sink "tls-listen:127.0.0.1:0,cert=$BATS_FILE_TMPDIR/cert.pem,key=$BATS_FILE_TMPDIR/key.pem"
	run -1 --separate-stderr weir -u - "tls:127.0.0.1:$SPORT,ca=$BATS_FILE_TMPDIR/cert.pem,proxy=socks5://$SOCKS" <<<hello
	assert_regex "$stderr" "^weir: tls:127\.0\.0\.1:$SPORT: certificate verify failed: .*mismatch"
}

@test "wss://: through SOCKS5, the target's name verified" {
	start_microsocks
	start_weir "$T/sink.ready" -p line "wss-listen:127.0.0.1:0,cert=$BATS_FILE_TMPDIR/cert.pem,key=$BATS_FILE_TMPDIR/key.pem" "write:$T/got" 2>"$T/sink.err"
	SINK_PID=$WEIR_PID
	SPORT=${ADDR#wss://*:}
	SPORT=${SPORT%%/*}
	run -0 --separate-stderr weir -v -u -p line - "wss://localhost:$SPORT,ca=$BATS_FILE_TMPDIR/cert.pem,proxy=socks5://$SOCKS" <<<hello
	assert_regex "$stderr" "through proxy socks5://$SOCKS"$'\n'"[^\n]*, peer CN = localhost, verified"$'\n'"[^\n]*WebSocket open"
	sink_got hello
}

@test "ws://: through an HTTP proxy to a weir ws-listen" {
	start_tinyproxy
	start_weir "$T/sink.ready" -p line ws-listen:127.0.0.1:0/chat "write:$T/got" 2>"$T/sink.err"
	SINK_PID=$WEIR_PID
	SPORT=${ADDR##*:}
	SPORT=${SPORT%%/*}
	run -0 --separate-stderr weir -v -u -p line - "ws://localhost:$SPORT/chat,proxy=http://$HTTPP" < <(printf 'one\ntwo\n')
	[[ $stderr == *"ws://localhost:$SPORT/chat: through proxy http://$HTTPP"$'\n'*"ws://localhost:$SPORT/chat: WebSocket open"* ]] ||
		fail "no WebSocket through the proxy: $stderr"
	sink_got $'one\ntwo'
}

@test "ws://: the request goes over the tunnel, Host the target's" {
	start_proxypeer http --out "$T/out"
	# The fake proxy never answers the upgrade: -w ends it after its reply.
	run -1 --separate-stderr weir -w 1 -u - "ws://localhost:9/chat,proxy=http://$FAKE" </dev/null
	assert_equal "$stderr" "weir: ws://localhost:9/chat: handshake: timed out after 1 s"
	wait_file "$T/out"
	run -0 grep -c $'^GET /chat HTTP/1.1\r$' "$T/out"
	run -0 grep -c $'^Host: localhost:9\r$' "$T/out"
	assert_output 1
}

@test "32 MiB intact through SOCKS5 and through HTTP CONNECT" {
	mkdata "$T/data" 32M
	start_microsocks
	start_tinyproxy
	start_sink
	run -0 weir -u "file:$T/data" "tcp:localhost:$SPORT,proxy=socks5://$SOCKS"
	wait_exit "$SINK_PID"
	assert_equal "$(sha "$T/got")" "$(sha "$T/data")"
	rm -f "$T/got" "$T/sink.ready"
	start_sink
	run -0 weir -u "file:$T/data" "tcp:localhost:$SPORT,proxy=http://$HTTPP"
	wait_exit "$SINK_PID"
	assert_equal "$(sha "$T/got")" "$(sha "$T/data")"
}

@test "-k: each connection gets its own tunnel" {
	start_microsocks
	start_weir "$T/back.ready" -k -p line tcp-listen:127.0.0.1:0 "append:$T/all" 2>"$T/back.err"
	local back=${ADDR##*:}
	start_weir "$T/front.ready" -v -k tcp-listen:127.0.0.1:0 "tcp:localhost:$back,proxy=socks5://$SOCKS" 2>"$T/front.err"
	local front=$ADDR
	run -0 weir -u - "$front" <<<one
	run -0 weir -u - "$front" <<<two
	wait_lines "$T/all" 2
	run -0 sort "$T/all"
	assert_output $'one\ntwo'
	run -0 grep -c "through proxy socks5://$SOCKS" "$T/front.err"
	assert_output 2
	run -0 grep -c "connected to localhost:$back" "$T/microsocks.log"
	assert_output 2
}

@test "-w bounds a connect to a proxy that never completes" {
	start_peer "$T/r" backlog
	[[ $ADDR != none ]] || skip "cannot make a connect hang on loopback here"
	run -1 --separate-stderr weir -w 0.5 -u - "tcp:db:5432,proxy=socks5://${ADDR#tcp:}" </dev/null
	assert_equal "$stderr" "weir: tcp:db:5432: proxy connect: timed out after 0.5 s"
}

@test "-w bounds a proxy that accepts and never answers" {
	local kind start
	start_peer "$T/stall.ready" serve --no-read
	for kind in socks5 http; do
		start=$SECONDS
		# The peer takes one connection: the second is only in its backlog.
		run -1 --separate-stderr weir -w 1 -u - "tcp:db:5432,proxy=$kind://${ADDR#tcp:}" </dev/null
		assert_equal "$stderr" "weir: tcp:db:5432: proxy handshake: timed out after 1 s"
		((SECONDS - start < 5)) || fail "took $((SECONDS - start)) s"
	done
}

@test "bytes a proxy sends with its reply are the stream's" {
	local kind
	for kind in socks5 http; do
		start_proxypeer "$kind" --extra $'banner\n' --target "$T/target" --out "$T/out"
		run -0 --separate-stderr weir - "tcp:localhost:9,proxy=$kind://$FAKE" <<<hello
		assert_output banner
		assert_equal "$(cat "$T/target")" localhost:9
		wait_file "$T/out"
		assert_equal "$(cat "$T/out")" hello
		rm -f "$T/fake.ready" "$T/target" "$T/out"
	done
}

@test "bad proxy= values are usage errors naming the address" {
	local long v shown
	long=$(printf 'a%.0s' {1..256})
	while IFS='|' read -r v msg; do
		run -2 --separate-stderr weir -u - "tcp:db:5432,proxy=$v" </dev/null
		# the password is not shown, even quoted in a usage error
		shown=$(sed -E 's#^([a-z0-9]+://[^:@]*:).*@#\1***@#' <<<"$v")
		assert_usage_error "weir: tcp:db:5432,proxy=$shown: proxy: $msg"
	done <<-EOF
		ftp://h:1|unknown scheme 'ftp' (socks5 or http)
		h:1080|expected socks5://HOST:PORT or http://HOST:PORT
		socks5://h|missing port
		socks5://h:1x|invalid port '1x'
		socks5://h:0|port 0 cannot be connected to
		socks5://h:1080/|'/' is not taken (in a user or password: %2F)
		http://u:p#w@h:1080|'#' is not taken (in a user or password: %23)
		socks5://:1080|missing host
		socks5://::1:1080|an IPv6 address needs brackets
		socks5://[::1|missing ']'
		http://@h:1080|empty user
		socks5://u%4:p@h:1080|user: '%' without two hex digits after it
		socks5://u:p%zz@h:1080|password: '%' without two hex digits after it
		socks5://u:p%00@h:1080|password holds a NUL byte
		socks5://$long:p@h:1080|user longer than 255 bytes
		http://us%3Aer:p@h:1080|user holds ':'
		http://u:p%0A@h:1080|user or password holds a control character
	EOF
}

@test "proxy= is only for connects over TCP: elsewhere an unknown option" {
	local a
	for a in udp:h:53 unix:/tmp/s tcp-listen:0 tls-listen:0 ws-listen:0 file:/dev/null; do
		run -2 --separate-stderr weir -u "$a,proxy=socks5://h:1080" -
		assert_usage_error "weir: $a,proxy=socks5://h:1080: unknown option 'proxy' (a comma that is part of the address is written \\,)"
	done
}
