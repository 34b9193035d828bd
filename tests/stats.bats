#!/usr/bin/env bats
# What flows, visible: --stats=json for programs, --stats-file, SIGUSR1,
# a line per connection, refusals logged.

load helper

# start_sig READY ARGS...: weir in the background under the signal
# wrapper, with --ready-file READY; sets ADDR.
start_sig() {
	local readyf=$1
	shift
	spawn_weir_sig --ready-file "$readyf" "$@"
	ADDR=$(ready_addr "$readyf")
}

# json_ok FILE MODE: FILE's one line is a JSON document that jq and
# python3 -m json.tool both read, with the keys of MODE's sides.
json_ok() {
	run -0 wc -l <"$1"
	assert_output 1
	run -0 python3 -m json.tool "$1"
	run -0 jq -e 'has("left")' "$1"
	case $2 in
	broker) run -0 jq -r 'keys | join(" ")' "$1"
		assert_output "left" ;;
	*) run -0 jq -r 'keys | join(" ")' "$1"
		assert_output "left right" ;;
	esac
}

@test "--stats=json, pair: one document, nothing else on its line, jq reads it" {
	printf 'a\nb\n' >"$T/in"
	stats_to_jq() { weir --stats=json -p line "file:$T/in" "write:$T/out" 2>&1 >/dev/null | jq -c .; }
	run -0 stats_to_jq
	assert_output --regexp '^\{"left":\{"name":"file:[^"]*","bytes_in":4,"frames_in":2,'
	weir --stats=json -p line "file:$T/in" "write:$T/out" 2>"$T/json"
	json_ok "$T/json" pair
	# One stream a side: no "connections" key.
	run -0 jq -r '(.left | has("connections")), (.right | has("connections"))' "$T/json"
	assert_output $'false\nfalse'
}

@test "--stats=json, proxy: both sides count their connections" {
	start_sig "$T/r" -k --stats=json tcp-listen:127.0.0.1:0 exec:cat 2>"$T/err"
	run -0 weir "$ADDR" <<<"one"
	run -0 weir "$ADDR" <<<"two"
	kill -TERM "$WEIR_PID"
	wait_exit "$WRAP_PID"
	grep '^{' "$T/err" >"$T/json"
	json_ok "$T/json" proxy
	run -0 jq -r '.left.connections, .right.connections, .left.bytes_in' "$T/json"
	assert_output $'2\n2\n8'
}

@test "--stats=json, shared and broker: jq reads them" {
	start_sig "$T/r" -k -u --stats=json -p line tcp-listen:127.0.0.1:0 "append:$T/all" 2>"$T/err"
	run -0 weir -u - "$ADDR" <<<"shared"
	wait_lines "$T/all" 1
	kill -TERM "$WEIR_PID"
	wait_exit "$WRAP_PID"
	grep '^{' "$T/err" >"$T/json"
	json_ok "$T/json" shared
	run -0 jq -r '.left.connections, .right.bytes_out, (.right | has("connections"))' "$T/json"
	assert_output $'1\n7\nfalse'

	start_sig "$T/r2" --broker --stats=json -p line tcp-listen:127.0.0.1:0 2>"$T/err2"
	run -0 weir -u - "$ADDR" <<<"room"
	kill -TERM "$WEIR_PID"
	wait_exit "$WRAP_PID"
	grep '^{' "$T/err2" >"$T/json2"
	json_ok "$T/json2" broker
	run -0 jq -r '.left.connections, .left.bytes_in' "$T/json2"
	assert_output $'1\n5'
}

@test "--stats-file PATH: the JSON document in PATH at exit, stderr left to the log" {
	printf 'x\n' >"$T/in"
	run -0 --separate-stderr weir --stats-file "$T/stats.json" "file:$T/in" "write:$T/out"
	assert_equal "$stderr" ""
	json_ok "$T/stats.json" pair
	run -0 jq -r '.left.bytes_in, .right.bytes_out' "$T/stats.json"
	assert_output $'2\n2'
	# Written through a temporary file and a rename.
	run -0 ls -A "$T"
	refute_output --partial ".tmp"
	# Next to --stats: both, each where it goes.
	run -0 --separate-stderr weir --stats --stats-file "$T/s2.json" "file:$T/in" "write:$T/out"
	[[ $stderr == "weir: stats LEFT file:"* ]] || fail "unexpected stderr: $stderr"
	json_ok "$T/s2.json" pair
	run -2 --separate-stderr weir --stats-file "" - - </dev/null
	assert_usage_error "weir: --stats-file: empty path"
}

@test "--stats-file to a directory that does not exist: the message, exit 1" {
	run -1 --separate-stderr weir --stats-file "$T/no/such/stats.json" - - </dev/null
	[[ $stderr == "weir: --stats-file: $T/no/such/stats.json."*": No such file or directory" ]] ||
		fail "unexpected stderr: $stderr"
}

@test "SIGUSR1 prints the counters so far and weir goes on, twice; the exit status is unchanged" {
	# 64 KiB a second into the file: a transfer that takes a while.
	mkdata "$T/in" 512K
	spawn_weir_sig --rate 64k - "write:$T/out" <"$T/in" 2>"$T/err"
	local n=0 first second
	wait_file "$T/out"
	kill -USR1 "$WEIR_PID"
	wait_grep "$T/err" '^weir: stats RIGHT '
	first=$(sed -n 's/^weir: stats RIGHT .*out \([0-9]*\) B.*/\1/p' "$T/err" | head -n 1)
	# Until the file has grown past what the first report saw.
	while (($(stat -c %s "$T/out") <= first + 65536 && n++ < 500)); do
		sleep 0.01
	done
	kill -USR1 "$WEIR_PID"
	wait_lines "$T/err" 4
	second=$(sed -n 's/^weir: stats RIGHT .*out \([0-9]*\) B.*/\1/p' "$T/err" | sed -n 2p)
	((second > first)) || fail "the counters did not grow: $first then $second"
	wait_exit "$WRAP_PID" 20
	assert_equal "$EXIT_STATUS" 0
	assert_same_file "$T/in" "$T/out"
	run -0 grep -c '^weir: stats LEFT ' "$T/err"
	assert_output 2
}

@test "SIGUSR1 with --stats=json prints a JSON line" {
	mkfifo "$T/in"
	exec 7<>"$T/in"
	spawn_weir_sig --stats=json - "write:$T/out" <"$T/in" 2>"$T/err" 7>&-
	echo "so far" >&7
	wait_grep "$T/out" '^so far$'
	kill -USR1 "$WEIR_PID"
	wait_grep "$T/err" '^\{'
	run -0 jq -r '.left.bytes_in' <(grep '^{' "$T/err")
	assert_output 7
	exec 7>&-
	wait_exit "$WRAP_PID"
	assert_equal "$EXIT_STATUS" 0
	run -0 grep -c '^{' "$T/err"
	assert_output 2
}

@test "-v: each connection's end is one line: peer, bytes and frames each way, duration, why" {
	start_sig "$T/r" -v -k -i 0.5 tcp-listen:127.0.0.1:0 exec:cat 2>"$T/err"
	run -0 peer client --connect "$ADDR" --send 'hello\n' --port-file "$T/p1"
	assert_output "hello"
	wait_grep "$T/err" "127\.0\.0\.1:$(cat "$T/p1")\): closed after"
	run -0 grep "127.0.0.1:$(cat "$T/p1")): closed after" "$T/err"
	assert_output --regexp '^weir: tcp-listen:127\.0\.0\.1:0 \(127\.0\.0\.1:[0-9]+\): closed after [0-9]+\.[0-9]{3} s \(eof\): in 6 B 1 frame, out 6 B 1 frame$'
	# One that stays silent is closed by -i: "idle".
	spawn_peer client --connect "$ADDR" --send '' --no-shutdown --port-file "$T/p2" </dev/null
	wait_file "$T/p2"
	wait_grep "$T/err" "127\.0\.0\.1:$(cat "$T/p2")\): closed after"
	run -0 grep "127.0.0.1:$(cat "$T/p2")): closed after" "$T/err"
	assert_output --regexp 'closed after 0\.[5-9][0-9]{2} s \(idle\): in 0 B 0 frames, out 0 B 0 frames$'
	kill -TERM "$WEIR_PID"
	wait_exit "$WRAP_PID"
	assert_equal "$EXIT_STATUS" 143
}

@test "-v: a connection ended by a protocol error or a reset says so" {
	start_sig "$T/r" -v -k -p netstring tcp-listen:127.0.0.1:0 "append:$T/all" 2>"$T/err"
	run peer client --connect "$ADDR" --send 'x:bad,' --port-file "$T/p1"
	wait_grep "$T/err" "127\.0\.0\.1:$(cat "$T/p1")\): closed after .* \(protocol error\)"
	python3 - "${ADDR##*:}" <<'PY'
import socket, struct, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"3:abc,2:x")
s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
s.close()
PY
	wait_grep "$T/err" "closed after .* \(read: Connection reset by peer\): in 9 B 1 frame"
	kill -TERM "$WEIR_PID"
	wait_exit "$WRAP_PID"
}

@test "refusals are logged without -v, at most 10 lines a second, the rest summed" {
	start_sig "$T/r" -k -u --deny 127.0.0.0/8 tcp-listen:127.0.0.1:0 "append:$T/all" 2>"$T/err"
	# 100 refused connects, as fast as they come.
	timeout 20 python3 - "${ADDR##*:}" <<'PY'
import socket, sys
for i in range(100):
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
    s.recv(1)
    s.close()
PY
	# Every refusal is in a line of its own or in a sum.
	local n=0 total=0
	while ((n++ < 300)); do
		total=$(awk '
			/: refused 127\.0\.0\.1:[0-9]+ \(denied by --deny 127\.0\.0\.0\/8\)$/ { t++ }
			/: refused [0-9]+ more connections?$/ { t += $(NF - 2) }
			END { print t + 0 }' "$T/err")
		((total >= 100)) && break
		sleep 0.01
	done
	assert_equal "$total" 100
	run -0 grep -c ': refused 127' "$T/err"
	# Rate-limited: far fewer lines than refusals (10 a second at most).
	((output >= 10 && output <= 40)) || fail "$output refusal lines"
	run -0 grep -c ': refused [0-9]* more connection' "$T/err"
	((output >= 1)) || fail "no summary line"
	kill -TERM "$WEIR_PID"
	wait_exit "$WRAP_PID"
	assert_equal "$EXIT_STATUS" 143
}

@test "a refusal of -m is logged without -v" {
	start_sig "$T/r" -k -m 1 tcp-listen:127.0.0.1:0 "exec:cat >/dev/null" 2>"$T/err"
	spawn_peer client --connect "$ADDR" --send '' --no-shutdown --port-file "$T/p1" </dev/null
	# Connected first, so accepted first.
	wait_file "$T/p1"
	# Refused: closed at once (an EOF or a reset, as the kernel has it).
	run peer client --connect "$ADDR" --send '' --no-shutdown --timeout 5 --port-file "$T/p"
	wait_grep "$T/err" "refused 127\.0\.0\.1:$(cat "$T/p") \(1 connection open, -m 1\)$"
	kill -TERM "$WEIR_PID"
	wait_exit "$WRAP_PID"
}
