#!/usr/bin/env bats
# tls: and tls-listen: verification (ca=, sni=, pin=, verify=no), mutual
# TLS, the ephemeral certificate, failed and stalled handshakes, half-close
# and truncation, bulk data and backpressure, protocols, proxies, the
# broker, --stats; against tests/tlspeer.py, openssl s_server and s_client,
# curl, and weir itself.

load helper

rss_limit 24576 65536

TLSPEER="$BATS_TEST_DIRNAME/tlspeer.py"

# make_certs DIR: a CA; a server certificate it signs (SANs localhost and
# 127.0.0.1), one with DNS:localhost alone, a client certificate; an
# unrelated CA and a client certificate it signs; a self-signed server
# certificate (SANs localhost and 127.0.0.1); the CA's certificate in a
# hashed directory; the server's and the client's certificates with their
# keys in the same file.
# All keys EC P-256.
make_certs() {
	local d=$1
	mkdir -p "$d/cadir"
	cat >"$d/ext.cnf" <<-'EOF'
		[ca]
		basicConstraints = critical, CA:TRUE
		keyUsage = critical, keyCertSign, cRLSign
		subjectKeyIdentifier = hash
		[server]
		basicConstraints = critical, CA:FALSE
		keyUsage = critical, digitalSignature
		extendedKeyUsage = serverAuth
		subjectAltName = DNS:localhost, IP:127.0.0.1
		[dnsonly]
		basicConstraints = critical, CA:FALSE
		keyUsage = critical, digitalSignature
		extendedKeyUsage = serverAuth
		subjectAltName = DNS:localhost
		[client]
		basicConstraints = critical, CA:FALSE
		keyUsage = critical, digitalSignature
		extendedKeyUsage = clientAuth
	EOF
	# mk_key NAME; mk_selfsigned NAME CN SECTION; mk_signed NAME CN SECTION CA
	mk_key() {
		openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$d/$1.key"
	}
	mk_selfsigned() {
		mk_key "$1" &&
			openssl req -new -x509 -key "$d/$1.key" -subj "/CN=$2" -days 3 \
				-config "$d/ext.cnf" -extensions "$3" -out "$d/$1.pem"
	}
	mk_signed() {
		mk_key "$1" &&
			openssl req -new -key "$d/$1.key" -subj "/CN=$2" -config "$d/ext.cnf" \
				-out "$d/$1.csr" &&
			openssl x509 -req -in "$d/$1.csr" -CA "$d/$4.pem" -CAkey "$d/$4.key" \
				-CAcreateserial -days 3 -extfile "$d/ext.cnf" -extensions "$3" \
				-out "$d/$1.pem" 2>/dev/null
	}
	mk_selfsigned ca "weir test CA" ca &&
		mk_selfsigned other "other CA" ca &&
		mk_selfsigned self localhost server &&
		mk_signed server localhost server ca &&
		mk_signed dnsonly localhost dnsonly ca &&
		mk_signed client "weir test client" client ca &&
		mk_signed rogue "rogue client" client other &&
		cp "$d/ca.pem" "$d/cadir/" &&
		openssl rehash "$d/cadir" &&
		cat "$d/server.pem" "$d/server.key" >"$d/combined.pem" &&
		cat "$d/client.pem" "$d/client.key" >"$d/client-combined.pem"
}

setup_file() {
	command -v openssl >/dev/null || {
		echo "openssl (the command) is not installed" >&2
		return 1
	}
	make_certs "$BATS_FILE_TMPDIR/certs"
	# The interpreter itself, first on PATH for the helpers too: a version
	# manager's python3 shim can cost most of a second per start.
	PY=$(python3 -c 'import sys; print(sys.executable)')
	mkdir -p "$BATS_FILE_TMPDIR/bin"
	ln -sf "$PY" "$BATS_FILE_TMPDIR/bin/python3"
	export PY PATH="$BATS_FILE_TMPDIR/bin:$PATH"
}

setup() {
	weir_setup
	C=$BATS_FILE_TMPDIR/certs
	# The CA-signed server certificate, as weir and as tlspeer.py take it.
	SERVER="cert=$C/server.pem,key=$C/server.key"
	PYSERVER=(--cert "$C/server.pem" --key "$C/server.key")
}

# tlspeer ARGS...: the TLS peer in the foreground, bounded in time.
tlspeer() {
	timeout -k 2 "$WEIR_TIMEOUT" "$PY" "$TLSPEER" "$@" 3>&-
}

# start_tlspeer READY ARGS...: `tlspeer.py serve` in the background; sets
# ADDR (tls:127.0.0.1:PORT, no options) and PORT.
start_tlspeer() {
	local readyf=$1
	shift
	spawn "$PY" "$TLSPEER" serve --ready "$readyf" "$@" </dev/null
	ADDR=$(ready_addr "$readyf") || return 1
	PORT=${ADDR##*:}
}

# start_bg ARGS...: weir --ready-file $T/r ARGS... in the background (as
# spawn_weir_sig, so SIGTERM ends it as it would a user's); sets ADDR to
# its listener's ready line, PORT, WEIR_PID and WRAP_PID.
start_bg() {
	rm -f "$T/r"
	spawn_weir_sig --ready-file "$T/r" "$@"
	ADDR=$(ready_addr "$T/r") || return 1
	PORT=$(port_of "$ADDR")
}

# term_weir: SIGTERM the weir of start_bg and wait; status in EXIT_STATUS.
term_weir() {
	kill -TERM "$WEIR_PID"
	wait_exit "$WRAP_PID"
}

# start_s_server LOG ARGS...: openssl s_server on 127.0.0.1, port 0, in the
# background (in DIR with S_SERVER_DIR); sets PORT from its ACCEPT line.
# Its standard input is a FIFO the test holds open (on descriptor 8):
# s_server ends when it reads EOF there.
start_s_server() {
	local log=$1
	shift
	mkfifo "$T/s_server.in"
	exec 8<>"$T/s_server.in"
	spawn env -C "${S_SERVER_DIR:-.}" openssl s_server -accept 127.0.0.1:0 "$@" \
		<"$T/s_server.in" >"$log" 2>&1 8>&-
	wait_grep "$log" '^ACCEPT 127\.0\.0\.1:[0-9]+$' || return 1
	PORT=$(sed -n 's/^ACCEPT 127\.0\.0\.1://p' "$log")
}

# port_of ADDR: the port of tls:HOST:PORT[,OPTIONS] (or tcp:).
port_of() {
	local a=${1%%,*}
	echo "${a##*:}"
}

# tcp_of ADDR: tls:HOST:PORT[,OPTIONS] as tcp:HOST:PORT, for plain peers.
tcp_of() {
	local a=${1%%,*}
	echo "tcp:${a#*:}"
}

# fingerprint PEM: its SHA-256 fingerprint, 64 lowercase hex digits.
fingerprint() {
	openssl x509 -noout -fingerprint -sha256 -in "$1" | sed 's/.*=//; s/://g' | tr 'A-F' 'a-f'
}

# assert_stderr REGEX [REGEX2] / refute_stderr REGEX: a line of $stderr
# matches (both).
assert_stderr() {
	grep -E -- "$1" <<<"$stderr" | grep -qE -- "${2:-.}" ||
		fail "no line matches /$1/${2:+ and /$2/} in stderr: $stderr"
}

refute_stderr() {
	! grep -qE -- "$1" <<<"$stderr" || fail "a line matches /$1/ in stderr: $stderr"
}

# assert_one_line: $stderr is a single line.
assert_one_line() {
	[[ -n $stderr && $stderr != *$'\n'* ]] || fail "not one line of stderr: $stderr"
}

# elapsed_ms SINCE: milliseconds since $EPOCHREALTIME was SINCE.
elapsed_ms() {
	local now=$EPOCHREALTIME
	echo $(((${now/./} - ${1/./}) / 1000))
}

# --- verification -----------------------------------------------------------

@test "tls: verifies by default: a self-signed server is refused, exit 1, nothing written" {
	start_s_server "$T/s.log" -cert "$C/self.pem" -key "$C/self.key" -naccept 1
	run -1 --separate-stderr weir "tls:127.0.0.1:$PORT" <<<"secret"
	assert_output ""
	assert_one_line
	[[ $stderr == "weir: tls:127.0.0.1:$PORT: "*"certificate verify failed"* ]] ||
		fail "unexpected stderr: $stderr"
}

@test "tls: ca= of an unrelated CA refuses the server" {
	start_tlspeer "$T/rp" "${PYSERVER[@]}" --out "$T/got"
	run -1 --separate-stderr weir "$ADDR,ca=$C/other.pem" <<<"secret"
	assert_output ""
	assert_one_line
	[[ $stderr == "weir: tls:127.0.0.1:$PORT"*"certificate verify failed"* ]] ||
		fail "unexpected stderr: $stderr"
	assert_not_exist "$T/got"
}

@test "tls: ca= trusts that CA: data both ways, -v says TLSv1.3 and verified" {
	start_tlspeer "$T/rp" "${PYSERVER[@]}" --reply 'pong\n' --out "$T/got"
	run -0 --separate-stderr weir -v "$ADDR,ca=$C/ca.pem" <<<"ping"
	assert_output "pong"
	wait_file "$T/got"
	assert_equal "$(cat "$T/got")" "ping"
	assert_stderr 'TLSv1\.3' '\<verified'
	refute_stderr 'unverified'
}

@test "tls: ca= a hashed directory; a TLS 1.2 server works too" {
	start_tlspeer "$T/rp" "${PYSERVER[@]}" --tls12 --reply 'twelve\n' --out "$T/got"
	run -0 --separate-stderr weir -v "$ADDR,ca=$C/cadir" <<<"dir"
	assert_output "twelve"
	wait_file "$T/got"
	assert_equal "$(cat "$T/got")" "dir"
	assert_stderr 'TLSv1\.2'
}

@test "tls: sni= is sent and checked; an IP host sends no SNI and is checked against IP SANs" {
	start_tlspeer "$T/rp" "${PYSERVER[@]}" --count 0 --sni-file "$T/sni" --reply 'ok\n'
	run -0 --separate-stderr weir "tls:127.0.0.1:$PORT,ca=$C/ca.pem" <<<"by ip"
	assert_output "ok"
	run -0 --separate-stderr weir "tls:localhost:$PORT,ca=$C/ca.pem" <<<"by name"
	assert_output "ok"
	run -0 --separate-stderr weir "tls:127.0.0.1:$PORT,ca=$C/ca.pem,sni=localhost" <<<"sni"
	assert_output "ok"
	run -1 --separate-stderr weir "tls:127.0.0.1:$PORT,ca=$C/ca.pem,sni=example.org" <<<"wrong"
	assert_output ""
	assert_one_line
	[[ $stderr == "weir: tls:127.0.0.1:$PORT"*"mismatch"* ]] || fail "unexpected stderr: $stderr"
	wait_lines "$T/sni" 4
	assert_equal "$(cat "$T/sni")" $'-\nlocalhost\nlocalhost\nexample.org'
}

@test "tls: a certificate without the IP SAN fails for the IP, passes with sni=" {
	start_tlspeer "$T/rp" --cert "$C/dnsonly.pem" --key "$C/dnsonly.key" --count 0 --reply 'ok\n'
	run -1 --separate-stderr weir "$ADDR,ca=$C/ca.pem" <<<"by ip"
	assert_output ""
	assert_one_line
	[[ $stderr == "weir: tls:127.0.0.1:$PORT"*"mismatch"* ]] || fail "unexpected stderr: $stderr"
	run -0 --separate-stderr weir "$ADDR,ca=$C/ca.pem,sni=localhost" <<<"by name"
	assert_output "ok"
}

@test "tls: pin= accepts exactly that certificate, self-signed as it is; other pins are refused" {
	start_tlspeer "$T/rp" --cert "$C/self.pem" --key "$C/self.key" --count 0 --reply 'pinned\n'
	local fp bad colons
	fp=$(fingerprint "$C/self.pem")
	run -0 --separate-stderr weir -v "$ADDR,pin=sha256:$fp" <<<"a"
	assert_output "pinned"
	assert_stderr 'TLSv1\.' 'pinned'
	# As openssl prints it: upper case, colons.
	colons=$(openssl x509 -noout -fingerprint -sha256 -in "$C/self.pem" | sed 's/.*=//')
	run -0 --separate-stderr weir "$ADDR,pin=sha256:$colons" <<<"b"
	assert_output "pinned"
	# Another certificate's pin.
	bad=$(fingerprint "$C/server.pem")
	run -1 --separate-stderr weir "$ADDR,pin=sha256:$bad" <<<"c"
	assert_output ""
	assert_one_line
	[[ $stderr == "weir: tls:127.0.0.1:$PORT"*pin* ]] || fail "unexpected stderr: $stderr"
	# One digit off.
	bad=${fp:0:63}$([[ ${fp:63} == 0 ]] && echo 1 || echo 0)
	run -1 --separate-stderr weir "$ADDR,pin=sha256:$bad" <<<"d"
	assert_output ""
	[[ $stderr == "weir: tls:127.0.0.1:$PORT"*pin* ]] || fail "unexpected stderr: $stderr"
}

@test "tls: verify=no accepts a self-signed server; -v says unverified" {
	start_tlspeer "$T/rp" --cert "$C/self.pem" --key "$C/self.key" --reply 'anyway\n' --out "$T/got"
	run -0 --separate-stderr weir -v "$ADDR,verify=no" <<<"hi"
	assert_output "anyway"
	assert_stderr 'TLSv1\.' 'unverified'
	wait_file "$T/got"
	assert_equal "$(cat "$T/got")" "hi"
}

# --- mutual TLS -------------------------------------------------------------

@test "tls-listen: ca= requires a client certificate from that CA; refused ones are logged, -k goes on" {
	start_bg -k -v -p line "tls-listen:127.0.0.1:0,$SERVER,ca=$C/ca.pem" "append:$T/out" \
		</dev/null 2>"$T/err"
	# Refused: no certificate, a certificate of another CA. The client
	# learns it from the server's alert.
	run -1 --separate-stderr tlspeer client --connect "$ADDR" --ca "$C/ca.pem" --send 'nocert\n'
	run -1 --separate-stderr tlspeer client --connect "$ADDR" --ca "$C/ca.pem" \
		--cert "$C/rogue.pem" --key "$C/rogue.key" --send 'rogue\n'
	run -1 --separate-stderr weir "tls:127.0.0.1:$PORT,ca=$C/ca.pem" <<<"weir nocert"
	[[ $stderr == *"weir: tls:127.0.0.1:$PORT"*"certificate required"* ]] ||
		fail "unexpected stderr: $stderr"
	# Accepted: python, weir, openssl s_client with the client certificate.
	run -0 --separate-stderr tlspeer client --connect "$ADDR" --ca "$C/ca.pem" \
		--cert "$C/client.pem" --key "$C/client.key" --send 'python\n'
	run -0 --separate-stderr weir -u - \
		"tls:127.0.0.1:$PORT,ca=$C/ca.pem,cert=$C/client.pem,key=$C/client.key" <<<"weir"
	run -0 --separate-stderr timeout 10 openssl s_client -connect "127.0.0.1:$PORT" \
		-CAfile "$C/ca.pem" -cert "$C/client.pem" -key "$C/client.key" -verify_return_error \
		-quiet -no_ign_eof <<<"openssl"
	wait_lines "$T/out" 3
	term_weir
	assert_equal "$EXIT_STATUS" 143
	assert_equal "$(cat "$T/out")" $'python\nweir\nopenssl'
	local n failed='\(127\.0\.0\.1:[0-9]+\): (handshake: |certificate verify failed)'
	n=$(grep -cE "^weir: tls-listen:127\.0\.0\.1:0[^ ]* $failed" "$T/err")
	((n == 3)) || fail "$n handshake failures logged: $(cat "$T/err")"
	# -v names the verified client.
	grep -E 'TLSv1\..*weir test client' "$T/err" >/dev/null || fail "client not named: $(cat "$T/err")"
}

@test "tls: cert= and key= present a client certificate to a server that requires one" {
	start_tlspeer "$T/rp" "${PYSERVER[@]}" --ca "$C/ca.pem" --count 2 --reply 'welcome\n' \
		--out "$T/got{n}"
	run -0 --separate-stderr weir "$ADDR,ca=$C/ca.pem,cert=$C/client.pem,key=$C/client.key" <<<"me"
	assert_output "welcome"
	# The key in the certificate's file.
	run -0 --separate-stderr weir "$ADDR,ca=$C/ca.pem,cert=$C/client-combined.pem" <<<"me again"
	assert_output "welcome"
	wait_file "$T/got2"
	assert_equal "$(cat "$T/got1" "$T/got2")" $'me\nme again'
}

@test "tls: a one-way sender without the certificate a listener requires fails, exit 1" {
	# TLS 1.3: the client's handshake is done before the server checks
	# its certificate; the server's alert comes while weir -u reads
	# until the server closes. Nothing was delivered: that is a failure,
	# every time.
	start_bg -k -p line "tls-listen:127.0.0.1:0,$SERVER,ca=$C/ca.pem" "append:$T/out" \
		</dev/null 2>"$T/err"
	local round
	for round in 1 2 3 4 5 6 7 8; do
		run -1 --separate-stderr weir -u - "tls:127.0.0.1:$PORT,ca=$C/ca.pem" <<<"nocert $round"
		[[ $stderr == *"weir: tls:127.0.0.1:$PORT"* ]] || fail "unexpected stderr: $stderr"
	done
	term_weir
	assert_equal "$EXIT_STATUS" 143
	[[ ! -s $T/out ]] || fail "delivered: $(cat "$T/out")"
}

# --- the ephemeral certificate ------------------------------------------------

@test "tls-listen: without cert= the ready file's pin is all a client needs; -v logs the fingerprint" {
	start_weir "$T/r" -v tls-listen:0 <<<"from listener" >"$T/out" 2>"$T/err"
	[[ $ADDR =~ ^tls:127\.0\.0\.1:[1-9][0-9]*,pin=sha256:([0-9a-f]{64})$ ]] ||
		fail "ready file says '$ADDR'"
	local fp=${BASH_REMATCH[1]}
	run -0 --separate-stderr weir "$ADDR" <<<"from client"
	assert_output "from listener"
	wait_exit "$WEIR_PID"
	assert_equal "$EXIT_STATUS" 0
	assert_equal "$(cat "$T/out")" "from client"
	grep -F "sha256:$fp" "$T/err" >/dev/null || fail "fingerprint not logged: $(cat "$T/err")"
}

@test "tls-listen: the ephemeral certificate: CN=weir, SANs localhost 127.0.0.1 ::1, P-256, fresh" {
	start_bg -k -p line tls-listen:127.0.0.1:0 "append:$T/out" </dev/null 2>"$T/err"
	local first=$ADDR
	run -0 --separate-stderr timeout 10 openssl s_client -connect "127.0.0.1:$PORT" </dev/null
	openssl x509 -out "$T/peer.pem" <<<"$output"
	assert_equal "pin=sha256:$(fingerprint "$T/peer.pem")" "${first#*,}"
	run -0 openssl x509 -noout -text -in "$T/peer.pem"
	assert_output --regexp 'Subject: CN ?= ?weir'
	assert_output --partial 'DNS:localhost'
	assert_output --partial 'IP Address:127.0.0.1'
	assert_output --regexp 'IP Address:(0:0:0:0:0:0:0:1|::1)'
	assert_output --regexp 'prime256v1|P-256'
	term_weir
	assert_equal "$EXIT_STATUS" 143
	start_bg -k -p line tls-listen:127.0.0.1:0 "append:$T/out" </dev/null 2>"$T/err"
	[[ ${ADDR#*,} != "${first#*,}" ]] || fail "the same certificate twice: $ADDR"
	term_weir
	assert_equal "$EXIT_STATUS" 143
}

@test "tls-listen: cert= with the key in the same file; the ready file carries that certificate's pin" {
	start_bg -k -p line "tls-listen:127.0.0.1:0,cert=$C/combined.pem" "append:$T/out" \
		</dev/null 2>"$T/err"
	assert_equal "$ADDR" "tls:127.0.0.1:$PORT,pin=sha256:$(fingerprint "$C/server.pem")"
	run -0 --separate-stderr tlspeer client --connect "$ADDR" --ca "$C/ca.pem" --send 'by ca\n'
	run -0 --separate-stderr weir -u - "$ADDR" <<<"by pin"
	wait_lines "$T/out" 2
	term_weir
	assert_equal "$EXIT_STATUS" 143
	assert_equal "$(cat "$T/out")" $'by ca\nby pin'
}

@test "IPv6: tls-listen:[::1]:0 and its ready line (the ephemeral certificate has the ::1 SAN)" {
	have_ipv6 || skip "no IPv6 loopback"
	start_weir "$T/r" -p line "tls-listen:[::1]:0" "write:$T/out" </dev/null 2>"$T/err"
	[[ $ADDR =~ ^tls:\[::1\]:[1-9][0-9]*,pin=sha256:[0-9a-f]{64}$ ]] || fail "ready file says '$ADDR'"
	run -0 --separate-stderr weir -u - "$ADDR" <<<"over v6"
	wait_exit "$WEIR_PID"
	assert_equal "$EXIT_STATUS" 0
	assert_equal "$(cat "$T/out")" "over v6"
}

# --- half-close and truncation --------------------------------------------------

@test "half-close: weir as client: a late reply after our close_notify is delivered" {
	start_tlspeer "$T/rp" "${PYSERVER[@]}" --reply-delay 1 --reply 'late reply\n' --out "$T/got"
	run -0 --separate-stderr weir "$ADDR,ca=$C/ca.pem" <<<"question"
	assert_equal "$stderr" ""
	assert_output "late reply"
	wait_file "$T/got"
	assert_equal "$(cat "$T/got")" "question"
}

@test "half-close: weir as server: the client's close_notify does not cut weir's late answer" {
	mkfifo "$T/in"
	exec 7<>"$T/in"
	start_weir "$T/r" "tls-listen:127.0.0.1:0,$SERVER" - <"$T/in" >"$T/out" 2>"$T/err" 7>&-
	spawn "$PY" "$TLSPEER" client --connect "$ADDR" --ca "$C/ca.pem" --send 'early\n' \
		--out "$T/got" </dev/null 7>&-
	local client=$LAST_PID
	wait_grep "$T/out" '^early$'
	echo "late answer" >&7
	exec 7>&-
	wait_exit "$WEIR_PID"
	assert_equal "$EXIT_STATUS" 0
	# The client got weir's close_notify, not a bare TCP EOF.
	wait_exit "$client"
	assert_equal "$EXIT_STATUS" 0
	assert_equal "$(cat "$T/got")" "late answer"
	assert_file_empty "$T/err"
}

@test "half-close: the server's close_notify first; weir goes on sending" {
	mkdata "$T/in" 1M
	start_tlspeer "$T/rp" "${PYSERVER[@]}" --greet 'greeting\n' --greet-close --read-delay 0.5 \
		--out "$T/got"
	run -0 --separate-stderr weir "$ADDR,ca=$C/ca.pem" <"$T/in"
	assert_output "greeting"
	wait_file "$T/got"
	assert_same_file "$T/in" "$T/got"
}

@test "truncation: a TCP EOF without close_notify ends the stream, exit 0, -v says truncated" {
	start_tlspeer "$T/rp" "${PYSERVER[@]}" --reply 'bye\n' --close raw --out "$T/got"
	run -0 --separate-stderr weir -v "$ADDR,ca=$C/ca.pem" <<<"hi"
	assert_output "bye"
	assert_stderr 'truncated'
	wait_file "$T/got"
	assert_equal "$(cat "$T/got")" "hi"
}

@test "one-way sender: weir -u reads until the server closes, 5 times every byte arrives" {
	mkdata "$T/in" 4M
	start_tlspeer "$T/rp" "${PYSERVER[@]}" --count 5 --out "$T/got{n}"
	# (Not $i: bats' run sets it.)
	local round
	for round in 1 2 3 4 5; do
		run -0 --separate-stderr weir -u - "$ADDR,ca=$C/ca.pem" <"$T/in"
		assert_output ""
		wait_file "$T/got$round"
		assert_same_file "$T/in" "$T/got$round"
	done
}

# --- bulk data and flow control ---------------------------------------------

@test "32 MiB both ways intact: weir to weir (ephemeral certificate, exec:cat)" {
	mkdata "$T/in" 32M
	start_weir "$T/r" tls-listen:127.0.0.1:0 exec:cat </dev/null 2>"$T/err"
	run -0 --separate-stderr weir_to "$T/out" "$ADDR" <"$T/in"
	assert_equal "$(sha "$T/out")" "$(sha "$T/in")"
	wait_exit "$WEIR_PID"
	assert_equal "$EXIT_STATUS" 0
	assert_file_empty "$T/err"
}

@test "32 MiB both ways intact: weir to a python echo server" {
	mkdata "$T/in" 32M
	start_tlspeer "$T/rp" "${PYSERVER[@]}" --echo
	run -0 --separate-stderr weir_to "$T/out" --stats=json - "$ADDR,ca=$C/ca.pem" <"$T/in"
	assert_equal "$(sha "$T/out")" "$(sha "$T/in")"
	printf '%s\n' "$stderr" >"$T/err"
	assert_conserved "$T/err"
}

@test "32 MiB both ways intact: a python client through a weir listener (exec:cat)" {
	mkdata "$T/in" 32M
	start_weir "$T/r" "tls-listen:127.0.0.1:0,$SERVER" exec:cat </dev/null 2>"$T/err"
	run -0 --separate-stderr tlspeer client --connect "$ADDR" --ca "$C/ca.pem" --send-file "$T/in" \
		--out "$T/out" --timeout 14
	assert_equal "$(sha "$T/out")" "$(sha "$T/in")"
	wait_exit "$WEIR_PID"
	assert_equal "$EXIT_STATUS" 0
}

@test "backpressure over TLS: 64 MiB into a server that reads late, memory stays bounded" {
	need_time
	start_tlspeer "$T/rp" "${PYSERVER[@]}" --read-delay 1 --count-file "$T/count"
	pipeline() {
		head -c 64M /dev/zero |
			"$GNU_TIME" -o "$T/rss" -f %M "$WEIR" -v -u - "$ADDR,ca=$C/ca.pem" 3>&-
		local st=("${PIPESTATUS[@]}")
		return "${st[1]}"
	}
	run -0 --separate-stderr pipeline
	wait_file "$T/count"
	assert_equal "$(cat "$T/count")" 67108864
	assert_stderr "^weir: pause - \(sink tls:127\.0\.0\.1:${PORT}[^ ]* holds [0-9]+ B >= high-water\)$"
	local rss
	rss=$(peak_rss "$T/rss")
	((rss < RSS_LIMIT_KIB)) || fail "peak RSS $rss KiB for 64 MiB through weir over TLS"
}

@test "backpressure over TLS: a TLS listener into a stalled reader, memory stays bounded" {
	need_time
	head -c 64M /dev/zero >"$T/in"
	spawn "$PY" "$TLSPEER" client --connect-ready "$T/r" --ca "$C/ca.pem" --send-file "$T/in" \
		--count-file "$T/back" </dev/null
	local client=$LAST_PID
	pipeline() {
		"$GNU_TIME" -o "$T/rss" -f %M "$WEIR" --ready-file "$T/r" -u \
			"tls-listen:127.0.0.1:0,$SERVER" - 3>&- </dev/null |
			"$PY" "$PEER" slowread --delay 1 --count-file "$T/count"
		local st=("${PIPESTATUS[@]}")
		return "${st[0]}"
	}
	run -0 --separate-stderr pipeline
	assert_equal "$(cat "$T/count")" 67108864
	wait_exit "$client"
	assert_equal "$EXIT_STATUS" 0
	local rss
	rss=$(peak_rss "$T/rss")
	((rss < RSS_LIMIT_KIB)) || fail "peak RSS $rss KiB for 64 MiB through weir over TLS"
}

# --- handshakes that fail or stall --------------------------------------------

@test "tls: a plaintext server: exit 1, handshake: and the reason" {
	start_peer "$T/rp" serve --greet 'SSH-2.0-OpenSSH_9.2p1 Debian\r\n'
	local port=${ADDR##*:}
	run -1 --separate-stderr weir "tls:127.0.0.1:$port,ca=$C/ca.pem" <<<"x"
	assert_output ""
	assert_one_line
	[[ $stderr =~ ^"weir: tls:127.0.0.1:$port"[^\ ]*": handshake: ". ]] ||
		fail "unexpected stderr: $stderr"
}

@test "tls: -w 1 bounds the handshake: a server that never answers" {
	start_peer "$T/rp" serve --no-read
	local port=${ADDR##*:} t0=$EPOCHREALTIME ms
	run -1 --separate-stderr weir -w 1 "tls:127.0.0.1:$port,ca=$C/ca.pem" <<<"x"
	ms=$(elapsed_ms "$t0")
	((ms < 5000)) || fail "gave up after $ms ms"
	assert_output ""
	assert_one_line
	[[ $stderr == "weir: tls:127.0.0.1:$port"* ]] || fail "unexpected stderr: $stderr"
}

@test "tls-listen: a client that says nothing is closed after -w 1; the listener goes on" {
	start_bg -k -v -w 1 -p line "tls-listen:127.0.0.1:0,$SERVER" "append:$T/out" </dev/null 2>"$T/err"
	local t0=$EPOCHREALTIME ms
	run -0 --separate-stderr peer client --connect "$(tcp_of "$ADDR")" --send '' --no-shutdown \
		--timeout 8
	ms=$(elapsed_ms "$t0")
	((ms >= 800 && ms < 5000)) || fail "closed after $ms ms"
	assert_output ""
	run -0 --separate-stderr tlspeer client --connect "$ADDR" --ca "$C/ca.pem" --send 'real\n'
	wait_lines "$T/out" 1
	term_weir
	assert_equal "$EXIT_STATUS" 143
	assert_equal "$(cat "$T/out")" "real"
}

@test "tls-listen: garbage instead of a ClientHello: closed alone and logged, -k serves the next" {
	start_bg -k -v -p line "tls-listen:127.0.0.1:0,$SERVER" "append:$T/out" </dev/null 2>"$T/err"
	# Whether the garbage's sender sees an alert, EOF or a reset is
	# OpenSSL's business.
	run --separate-stderr peer client --connect "$(tcp_of "$ADDR")" --send 'GET / HTTP/1.0\r\n\r\n' \
		--timeout 5 --port-file "$T/bad"
	((status == 0 || status == 1)) || fail "garbage client exited $status"
	run -0 --separate-stderr tlspeer client --connect "$ADDR" --ca "$C/ca.pem" --send 'next\n'
	wait_lines "$T/out" 1
	term_weir
	assert_equal "$EXIT_STATUS" 143
	assert_equal "$(cat "$T/out")" "next"
	grep -E "^weir: tls-listen:127\.0\.0\.1:0[^ ]* \(127\.0\.0\.1:$(cat "$T/bad")\): handshake: ." \
		"$T/err" >/dev/null || fail "no handshake failure logged: $(cat "$T/err")"
}

@test "tls-listen: without -k a failed handshake does not count: the next client is served" {
	start_weir "$T/r" -p line "tls-listen:127.0.0.1:0,$SERVER" "write:$T/out" </dev/null 2>"$T/err"
	run --separate-stderr peer client --connect "$(tcp_of "$ADDR")" --send 'GET / HTTP/1.0\r\n\r\n' \
		--timeout 5
	((status == 0 || status == 1)) || fail "garbage client exited $status"
	run -0 --separate-stderr tlspeer client --connect "$ADDR" --ca "$C/ca.pem" --send 'served\n'
	wait_exit "$WEIR_PID"
	assert_equal "$EXIT_STATUS" 0
	assert_equal "$(cat "$T/out")" "served"
	grep -E '^weir: tls-listen:127\.0\.0\.1:0[^ ]* \(127\.0\.0\.1:[0-9]+\): handshake: ' \
		"$T/err" >/dev/null || fail "no handshake failure logged: $(cat "$T/err")"
}

@test "-m 1 over TLS: a second client is closed while the first is served; a freed slot admits again" {
	start_bg -k -v -m 1 -p line "tls-listen:127.0.0.1:0,$SERVER" "append:$T/out" </dev/null 2>"$T/err"
	local fds
	fds=$(count_fds "$WEIR_PID")
	spawn "$PY" "$TLSPEER" client --connect "$ADDR" --ca "$C/ca.pem" --send 'first\n' \
		--wait-file "$T/go" </dev/null
	local first=$LAST_PID
	wait_grep "$T/out" '^first$'
	run -1 --separate-stderr tlspeer client --connect "$ADDR" --ca "$C/ca.pem" --send 'over\n'
	assert_output ""
	touch "$T/go"
	wait_exit "$first"
	assert_equal "$EXIT_STATUS" 0
	# The slot is free once weir has closed the first one.
	wait_fds "$WEIR_PID" "$fds"
	run -0 --separate-stderr tlspeer client --connect "$ADDR" --ca "$C/ca.pem" --send 'again\n'
	wait_lines "$T/out" 2
	term_weir
	assert_equal "$EXIT_STATUS" 143
	assert_equal "$(cat "$T/out")" $'first\nagain'
}

@test "--deny acts before the handshake: the refused client gets none, nothing is logged as a handshake" {
	start_bg -k -v --deny 127.0.0.2 -p line "tls-listen:127.0.0.1:0,$SERVER" "append:$T/out" \
		</dev/null 2>"$T/err"
	run -1 --separate-stderr tlspeer client --connect "$ADDR" --ca "$C/ca.pem" --bind 127.0.0.2 \
		--send 'denied\n'
	assert_output ""
	run -0 --separate-stderr tlspeer client --connect "$ADDR" --ca "$C/ca.pem" --send 'allowed\n'
	wait_lines "$T/out" 1
	term_weir
	assert_equal "$EXIT_STATUS" 143
	assert_equal "$(cat "$T/out")" "allowed"
	run -0 cat "$T/err"
	assert_line --regexp '^weir: tls-listen:127\.0\.0\.1:0[^ ]*: refused 127\.0\.0\.2:[0-9]+ '
	refute_line --regexp '\(127\.0\.0\.2:[0-9]+\): handshake'
}

# --- protocols --------------------------------------------------------------

@test "protocols over TLS: lines in, netstrings out" {
	start_tlspeer "$T/rp" "${PYSERVER[@]}" --out "$T/got"
	run -0 --separate-stderr weir -p line - "$ADDR,ca=$C/ca.pem,proto=netstring" \
		< <(printf 'one\ntwo\n\nlast')
	assert_output ""
	wait_file "$T/got"
	assert_equal "$(cat "$T/got")" "3:one,3:two,0:,4:last,"
}

@test "protocols over TLS: a TLS listener decodes netstrings into lines" {
	spawn "$PY" "$TLSPEER" client --connect-ready "$T/r" --ca "$C/ca.pem" \
		--send '3:abc,0:,5:hello,' --out "$T/got" </dev/null
	local client=$LAST_PID
	run -0 --separate-stderr weir --ready-file "$T/r" -u -p line \
		"tls-listen:127.0.0.1:0,$SERVER,proto=netstring" - </dev/null
	assert_output $'abc\n\nhello'
	wait_exit "$client"
	assert_equal "$EXIT_STATUS" 0
}

@test "protocols over TLS: a malformed netstring from the server is a protocol error, exit 3" {
	start_tlspeer "$T/rp" "${PYSERVER[@]}" --greet '3:abc;'
	run -3 --separate-stderr weir -p netstring "$ADDR,ca=$C/ca.pem" </dev/null
	assert_output ""
	assert_stderr 'netstring'
}

# --- proxies, shared, broker, stats ---------------------------------------------

@test "-k proxy over TLS: two clients at once, each with its own upstream" {
	start_peer "$T/re" echo --concurrent --count 0
	local echo=$ADDR
	start_bg -k -v --stats=json "tls-listen:127.0.0.1:0,$SERVER" "$echo" </dev/null 2>"$T/err"
	spawn "$PY" "$TLSPEER" client --connect "$ADDR" --ca "$C/ca.pem" --send 'first\n' \
		--wait-file "$T/go" --out "$T/a" </dev/null
	local a=$LAST_PID
	# The first client is in (its handshake logged) while the second one
	# comes and goes.
	wait_grep "$T/err" 'TLSv1\.'
	run -0 --separate-stderr tlspeer client --connect "$ADDR" --ca "$C/ca.pem" --send 'second\n'
	assert_output "second"
	touch "$T/go"
	wait_exit "$a"
	assert_equal "$EXIT_STATUS" 0
	assert_equal "$(cat "$T/a")" "first"
	term_weir
	assert_equal "$EXIT_STATUS" 143
	assert_equal "$(stats_json "$T/err" right connections)" 2
	assert_equal "$(stats_json "$T/err" left bytes_in)" 13
}

@test "--broker over TLS: two clients see each other's lines" {
	start_bg --broker -v -p line "tls-listen:127.0.0.1:0,$SERVER" </dev/null 2>"$T/err"
	spawn "$PY" "$TLSPEER" client --connect "$ADDR" --ca "$C/ca.pem" --expect 'from b\n' \
		--then 'from a\n' --close-now --out "$T/a" </dev/null
	local a=$LAST_PID
	wait_grep "$T/err" 'TLSv1\.'
	run -0 --separate-stderr tlspeer client --connect "$ADDR" --ca "$C/ca.pem" --send 'from b\n' \
		--expect 'from a\n' --close-now
	assert_output "from a"
	wait_exit "$a"
	assert_equal "$EXIT_STATUS" 0
	assert_equal "$(cat "$T/a")" "from b"
	term_weir
	assert_equal "$EXIT_STATUS" 143
}

@test "--stats counts plaintext bytes, not TLS records" {
	head -c 100000 /dev/urandom >"$T/in"
	head -c 5000 /dev/urandom >"$T/reply"
	start_tlspeer "$T/rp" "${PYSERVER[@]}" --reply-file "$T/reply" --out "$T/got"
	run -0 --separate-stderr weir_to "$T/out" --stats=json - "$ADDR,ca=$C/ca.pem" <"$T/in"
	assert_same_file "$T/reply" "$T/out"
	wait_file "$T/got"
	assert_same_file "$T/in" "$T/got"
	printf '%s\n' "$stderr" >"$T/err"
	assert_conserved "$T/err"
	assert_stats "$T/err" left.bytes_in=100000 right.bytes_out=100000 right.bytes_in=5000 \
		left.bytes_out=5000
}

@test "--stats on a TLS listener counts plaintext bytes" {
	head -c 70000 /dev/urandom >"$T/in"
	spawn "$PY" "$TLSPEER" client --connect-ready "$T/r" --ca "$C/ca.pem" --send-file "$T/in" \
		--out "$T/got" </dev/null
	local client=$LAST_PID
	run -0 --separate-stderr weir --ready-file "$T/r" --stats=json \
		"tls-listen:127.0.0.1:0,$SERVER" "write:$T/out" </dev/null
	assert_same_file "$T/in" "$T/out"
	printf '%s\n' "$stderr" >"$T/err"
	assert_stats "$T/err" left.bytes_in=70000 right.bytes_out=70000 left.bytes_out=0
	wait_exit "$client"
	assert_equal "$EXIT_STATUS" 0
}

# --- curl -------------------------------------------------------------------

@test "curl through TLS termination: -k tls-listen: to an HTTP server, three requests" {
	command -v curl >/dev/null || fail "curl is not installed"
	mkdir "$T/www"
	mkdata "$T/www/file" 2M
	spawn "$PY" -u -m http.server --bind 127.0.0.1 --directory "$T/www" 0 \
		</dev/null >"$T/http.log" 2>&1
	wait_grep "$T/http.log" ' port [0-9]+ '
	local hport
	hport=$(sed -nE 's/.* port ([0-9]+) .*/\1/p' "$T/http.log" | head -n 1)
	start_bg -k "tls-listen:127.0.0.1:0,$SERVER" "tcp:127.0.0.1:$hport" </dev/null 2>"$T/err"
	local round
	for round in 1 2; do
		run -0 --separate-stderr timeout 10 curl -sS --cacert "$C/ca.pem" -o "$T/got$round" \
			"https://127.0.0.1:$PORT/file"
		assert_same_file "$T/www/file" "$T/got$round"
	done
	run -0 --separate-stderr timeout 10 curl -sS --cacert "$C/ca.pem" -o "$T/got3" \
		--resolve "localhost:$PORT:127.0.0.1" "https://localhost:$PORT/file"
	assert_same_file "$T/www/file" "$T/got3"
	term_weir
	assert_equal "$EXIT_STATUS" 143
}

@test "curl through TLS origination: -k tcp-listen: to openssl s_server -WWW, three requests" {
	command -v curl >/dev/null || fail "curl is not installed"
	mkdir "$T/www"
	mkdata "$T/www/file" 2M
	S_SERVER_DIR=$T/www start_s_server "$T/s.log" -WWW -cert "$C/server.pem" -key "$C/server.key"
	local sport=$PORT
	start_bg -k tcp-listen:127.0.0.1:0 "tls:127.0.0.1:$sport,ca=$C/ca.pem" </dev/null 2>"$T/err"
	local round
	for round in 1 2 3; do
		run -0 --separate-stderr timeout 10 curl -sS -o "$T/got$round" \
			"http://127.0.0.1:$PORT/file"
		assert_same_file "$T/www/file" "$T/got$round"
	done
	term_weir
	assert_equal "$EXIT_STATUS" 143
}

# --- usage --------------------------------------------------------------------

@test "usage errors: TLS options where they do not apply, bad values: exit 2, nothing opened" {
	local zeros
	zeros=$(printf '%064d' 0)
	local cases=(
		"cert|tcp:127.0.0.1:1,cert=$C/client.pem"
		"cert|unix:$T/s,cert=$C/client.pem"
		"key|tcp-listen:0,key=$C/server.key"
		"mode|tls:127.0.0.1:1,mode=600"
		"pin|tls-listen:0,pin=sha256:$zeros"
		"sni|tls-listen:0,sni=localhost"
		"verify|tls-listen:0,verify=no"
		"pin|tls:127.0.0.1:1,pin=sha256:xyz"
		"pin|tls:127.0.0.1:1,pin=sha256:${zeros:1}"
		"pin|tls:127.0.0.1:1,pin=sha256:${zeros}0"
		"pin|tls:127.0.0.1:1,pin=md5:$zeros"
		"verify|tls:127.0.0.1:1,verify=maybe"
		"key|tls:127.0.0.1:1,key=$C/client.key"
		"key|tls-listen:0,key=$C/server.key"
		"port|tls:127.0.0.1"
		"port|tls-listen:99999"
		"nosuch|tls:127.0.0.1:1,nosuch=1"
	)
	local c word a
	for c in "${cases[@]}"; do
		word=${c%%|*}
		a=${c#*|}
		run -2 --separate-stderr weir --ready-file "$T/rf" - "$a" </dev/null
		assert_output ""
		[[ $stderr == "weir: "*$'\n'"Try 'weir --help'." ]] ||
			fail "weir - $a: unexpected stderr: $stderr"
		[[ ${stderr%%$'\n'*} == *"$word"* ]] || fail "weir - $a: '$word' not named: $stderr"
		assert_equal "$(wc -l <<<"$stderr")" 2
		assert_not_exist "$T/rf"
	done
}
