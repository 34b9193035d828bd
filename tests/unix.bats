#!/usr/bin/env bats
# unix: and unix-listen:.

load helper

@test "unix-listen: writes its address, serves a client, unlinks the socket" {
	start_weir "$T/r" "unix-listen:$T/s" - <<<"answer" >"$T/out" 2>"$T/err"
	assert_equal "$ADDR" "unix:$T/s"
	run -0 --separate-stderr peer client --connect "$ADDR" --send 'over unix\n'
	assert_output "answer"
	wait_exit "$WEIR_PID"
	assert_equal "$EXIT_STATUS" 0
	assert_equal "$(cat "$T/out")" "over unix"
	assert_equal "$(cat "$T/err")" ""
	assert_not_exist "$T/s"
	assert_not_exist "$T/r"
}

@test "unix: connects to a server" {
	start_peer "$T/r" serve --listen "unix:$T/s" --reply 'unix reply\n' --out "$T/got"
	assert_equal "$ADDR" "unix:$T/s"
	run -0 --separate-stderr weir "unix:$T/s" <<<"unix request"
	assert_output "unix reply"
	wait_file "$T/got"
	assert_equal "$(cat "$T/got")" "unix request"
}

@test "unix: full duplex through an echo server" {
	start_peer "$T/r" echo --listen "unix:$T/s"
	mkdata "$T/in" 8M
	run -0 --separate-stderr weir_to "$T/out" "unix:$T/s" <"$T/in"
	assert_equal "$(sha "$T/out")" "$(sha "$T/in")"
}

@test "weir to weir over a Unix socket" {
	mkdata "$T/in" 8M
	start_weir "$T/r" "unix-listen:$T/s" "write:$T/out" </dev/null 2>"$T/err"
	run -0 --separate-stderr weir "file:$T/in" "$ADDR" </dev/null
	wait_exit "$WEIR_PID"
	assert_equal "$EXIT_STATUS" 0
	assert_equal "$(sha "$T/out")" "$(sha "$T/in")"
	assert_not_exist "$T/s"
}

@test "abstract socket: unix-listen:@name and unix:@name" {
	local name="weir-test-$$-$RANDOM"
	cd "$T"
	start_weir "$T/r" "unix-listen:@$name" "write:$T/out" </dev/null 2>"$T/err"
	assert_equal "$ADDR" "unix:@$name"
	run -0 --separate-stderr weir "unix:@$name" <<<"abstract"
	wait_exit "$WEIR_PID"
	assert_equal "$EXIT_STATUS" 0
	assert_equal "$(cat "$T/out")" "abstract"
	assert_not_exist "$T/@$name"
}

@test "abstract socket: a python server" {
	local name="weir-test-$$-$RANDOM"
	start_peer "$T/r" serve --listen "unix:@$name" --reply 'hidden\n' --out "$T/got"
	run -0 --separate-stderr weir "unix:@$name" <<<"knock"
	assert_output "hidden"
	wait_file "$T/got"
	assert_equal "$(cat "$T/got")" "knock"
}

@test "unix: to a missing path fails with 1" {
	run -1 --separate-stderr weir "unix:$T/nope" <<<"x"
	assert_equal "$stderr" "weir: unix:$T/nope: connect: No such file or directory"
}

@test "unix: to a socket nobody listens on is refused" {
	peer stale "$T/s"
	run -1 --separate-stderr weir "unix:$T/s" <<<"x"
	assert_equal "$stderr" "weir: unix:$T/s: connect: Connection refused"
}

@test "unix-listen: removes a stale socket file" {
	peer stale "$T/s"
	[[ -S $T/s ]] || fail "no stale socket to test with"
	spawn_peer client --connect-ready "$T/r" --send 'after stale\n' --out "$T/got" </dev/null
	run -0 --separate-stderr weir --ready-file "$T/r" "unix-listen:$T/s" - </dev/null
	assert_output "after stale"
	assert_not_exist "$T/s"
}

@test "unix-listen: refuses a live socket without connecting to it" {
	start_peer "$T/r" echo --listen "unix:$T/s" --log "$T/log"
	run -1 --separate-stderr weir "unix-listen:$T/s" - </dev/null
	local why=${stderr#"weir: unix-listen:$T/s: "}
	[[ $stderr == "weir: unix-listen:$T/s: "* && ${why,,} == *"address"*"in use"* ]] ||
		fail "unexpected stderr: $stderr"
	[[ -S $T/s ]] || fail "the live socket is gone"
	# Nothing is broken: the server still answers, and this is its first client.
	run -0 peer client --connect "unix:$T/s" --send 'still alive\n'
	assert_output "still alive"
	wait_grep "$T/log" '^echoed'
	assert_equal "$(cat "$T/log")" $'accept\nechoed 12'
}

@test "unix-listen: refuses a non-socket file and leaves it alone" {
	printf 'precious\n' >"$T/s"
	run -1 --separate-stderr weir "unix-listen:$T/s" - </dev/null
	[[ $stderr == "weir: unix-listen:$T/s: "* ]] || fail "unexpected stderr: $stderr"
	assert_equal "$(cat "$T/s")" "precious"
}

@test "unix-listen: unlinks its socket when ended by SIGTERM" {
	start_weir "$T/r" "unix-listen:$T/s" - </dev/null >/dev/null 2>"$T/err"
	[[ -S $T/s ]] || fail "no socket while listening"
	kill -TERM "$WEIR_PID"
	wait_exit "$WEIR_PID"
	assert_equal "$EXIT_STATUS" 143
	assert_not_exist "$T/s"
}

@test "unix-listen:PATH,mode=600 gives srw-------" {
	start_weir "$T/r" "unix-listen:$T/s,mode=600" - </dev/null >/dev/null 2>"$T/err"
	assert_equal "$ADDR" "unix:$T/s"
	run -0 stat -c %A "$T/s"
	assert_output "srw-------"
}

@test "unix-listen:PATH,mode=660 gives srw-rw----" {
	start_weir "$T/r" "unix-listen:$T/s,mode=660" - </dev/null >/dev/null 2>"$T/err"
	run -0 stat -c %A "$T/s"
	assert_output "srw-rw----"
}

@test "unix-listen: without mode= respects the umask" {
	local mask want
	for mask in 077 027 002; do
		case $mask in
		077) want=srwx------ ;;
		027) want=srwxr-x--- ;;
		002) want=srwxrwxr-x ;;
		esac
		(umask "$mask" && exec "$WEIR" --ready-file "$T/r$mask" \
		    "unix-listen:$T/s$mask" - </dev/null >/dev/null 2>"$T/err") 3>&- &
		track $!
		wait_file "$T/r$mask"
		run -0 stat -c %A "$T/s$mask"
		assert_output "$want"
	done
}

@test "unix-listen: mode= leaves the umask as it was for later files" {
	(umask 077 && exec "$WEIR" --ready-file "$T/r" -k \
	    "unix-listen:$T/s,mode=666" "append:$T/out" >/dev/null 2>"$T/err") 3>&- &
	track $!
	wait_file "$T/r"
	run -0 stat -c %A "$T/s"
	assert_output "srw-rw-rw-"
	printf 'x\n' | timeout 10 "$WEIR" - "unix:$T/s"
	wait_file "$T/out"
	run -0 stat -c %A "$T/out"
	assert_output "-rw-------"
}

@test "a Unix path too long for sun_path is refused" {
	local long
	long=$T/$(printf 'x%.0s' {1..120})
	run --separate-stderr weir "unix-listen:$long" - </dev/null
	((status == 1 || status == 2)) || fail "exit status $status"
	[[ $stderr == "weir: unix-listen:$long: "* ]] || fail "unexpected stderr: $stderr"
}
