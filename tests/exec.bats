#!/usr/bin/env bats
# exec:COMMAND.

load helper

@test "exec: on the right: standard input through the command" {
	run -0 --separate-stderr weir - exec:'tr a-z A-Z' <<<"shout"
	assert_equal "$stderr" ""
	assert_output "SHOUT"
}

@test "exec: on the left: the command's output to standard output" {
	run -0 --separate-stderr weir exec:'tr a-z A-Z' - <<<"shout"
	assert_output "SHOUT"
}

@test "exec: alone talks to standard input and output" {
	run -0 --separate-stderr weir exec:'tr a-z A-Z' <<<"alone"
	assert_output "ALONE"
}

@test "exec: runs /bin/sh -c, pipes and quotes included" {
	run -0 --separate-stderr weir - exec:'sed "s/a/b/g" | rev' <<<"banana"
	assert_output "bnbnbb"
}

@test "exec: a command with a comma needs \\," {
	run -0 --separate-stderr weir - 'exec:echo a\,b' </dev/null
	assert_output "a,b"
}

@test "exec: large data both ways through cat" {
	mkdata "$T/in" 16M
	run -0 --separate-stderr weir_to "$T/out" - exec:cat <"$T/in"
	assert_equal "$(sha "$T/out")" "$(sha "$T/in")"
}

@test "exec: the child's stderr is inherited" {
	run -0 --separate-stderr weir - exec:'echo to-stderr >&2; cat' <<<"to-stdout"
	assert_output "to-stdout"
	assert_equal "$stderr" "to-stderr"
}

@test "exec: the child sees EOF when our input ends" {
	run -0 --separate-stderr weir - exec:'wc -c' <<<"12345"
	assert_output --regexp '^ *6$'
}

@test "exec: output after the child's input ended is still delivered" {
	run -0 --separate-stderr weir - exec:'cat >/dev/null; sleep 1; echo late' <<<"x"
	assert_output "late"
}

@test "exec: a child exiting non-zero: exit 1 and a message" {
	run -1 --separate-stderr weir - exec:'exit 3' </dev/null
	assert_output ""
	assert_equal "$stderr" "weir: exec:exit 3: exited with status 3"
}

@test "exec: a failing child after its output: output delivered, exit 1" {
	run -1 --separate-stderr weir - exec:'echo partial; exit 7' </dev/null
	assert_output "partial"
	assert_equal "$stderr" "weir: exec:echo partial; exit 7: exited with status 7"
}

@test "exec: a command that is not found: exit 1" {
	run -1 --separate-stderr weir - exec:'no-such-command-weir-test' </dev/null
	[[ $stderr == *"no-such-command-weir-test"* ]] || fail "unexpected stderr: $stderr"
	[[ $stderr == *"weir: exec:no-such-command-weir-test: exited with status 127" ]] ||
		fail "unexpected stderr: $stderr"
}

@test "exec: a child killed by a signal: exit 1" {
	run -1 --separate-stderr weir - exec:'kill -KILL $$' </dev/null
	[[ $stderr == "weir: exec:kill -KILL \$\$: "* ]] || fail "unexpected stderr: $stderr"
}

@test "exec: a child that exits without reading: data undelivered, exit 1" {
	mkdata "$T/in" 8M
	run -1 --separate-stderr weir - exec:true <"$T/in"
	[[ $stderr == "weir: "* ]] || fail "unexpected stderr: $stderr"
}

@test "-u with exec: the child's output goes to weir's standard output" {
	# One way: LEFT -> RIGHT only, so the child's stdout is not read by
	# weir but inherited from it.
	run -0 --separate-stderr weir -u - exec:'tr a-z A-Z; echo done' <<<"one way"
	assert_output $'ONE WAY\ndone'
}

@test "-u with exec: nothing flows back from the child" {
	run -0 --separate-stderr weir -u - exec:"cat >'$T/got'" <<<"into child"
	assert_output ""
	assert_equal "$(cat "$T/got")" "into child"
}

@test "-U with exec: the child reads weir's standard input itself" {
	run -0 --separate-stderr weir -U - exec:'read -r x; echo "got $x"' <<<"input"
	assert_output "got input"
}

@test "exec: on the left with -u writes to a file" {
	run -0 --separate-stderr weir -u exec:'seq 3' "write:$T/out" </dev/null
	assert_equal "$(cat "$T/out")" $'1\n2\n3'
}

@test "exec: per connection: started when a client connects, once" {
	start_weir "$T/r" tcp-listen:127.0.0.1:0 exec:"echo started >>'$T/count'; tr a-z A-Z" \
		</dev/null >/dev/null 2>"$T/err"
	# Nothing runs before a connection arrives.
	assert_not_exist "$T/count"
	run -0 peer client --connect "$ADDR" --send 'per pair\n'
	assert_output "PER PAIR"
	wait_exit "$WEIR_PID"
	assert_equal "$EXIT_STATUS" 0
	assert_equal "$(cat "$T/count")" "started"
	assert_file_empty "$T/err"
}

@test "exec: behind a Unix listener" {
	start_weir "$T/r" "unix-listen:$T/s" exec:'rev' </dev/null >/dev/null 2>"$T/err"
	run -0 peer client --connect "$ADDR" --send 'stressed\n'
	assert_output "desserts"
	wait_exit "$WEIR_PID"
	assert_equal "$EXIT_STATUS" 0
}

# gone_within SECONDS PATTERN: no process matches PATTERN (pgrep -f) within
# SECONDS, in 0.05 s steps.
gone_within() {
	local n=$(($1 * 20)) pattern=$2
	while ((n-- > 0)); do
		pgrep -f -- "$pattern" >/dev/null || return 0
		sleep 0.05
	done
	fail "still running: $(pgrep -af -- "$pattern")"
}

@test "exec: a command ended early takes what its shell started with it" {
	# '; :' keeps sh from exec-ing sleep: sleep is the shell's child.
	local marker="sleep 41.$$$RANDOM"
	head -c 4M /dev/zero >"$T/in"
	run -1 --separate-stderr weir -i 1 - "exec:$marker; :" <"$T/in"
	[[ $stderr == "weir: idle for 1 s, closing"$'\n'"weir: "*" bytes undelivered" ]] ||
		fail "unexpected stderr: $stderr"
	gone_within 5 "$marker"
}

@test "exec: SIGTERM with nothing to flush: the command still running is ended at once, group and all" {
	local marker="sleep 42.$$$RANDOM"
	spawn_writer "$T/fifo" --hold
	spawn_weir_sig -v - "exec:$marker; :" <"$T/fifo" 2>"$T/err"
	wait_grep "$T/err" "exec:$marker; :: open"
	kill -TERM "$WEIR_PID"
	# Nothing is left to flush, and it would not end by itself: it is
	# made to, without waiting out the flush window.
	wait_exit "$WRAP_PID" 3
	assert_equal "$EXIT_STATUS" 143
	run -1 grep -c "killed by signal" "$T/err"
	gone_within 5 "$marker"
}

@test "exec: a second signal ends the command's whole group at once" {
	local marker="sleep 43.$$$RANDOM"
	# The command never reads: what weir holds for it keeps the flush
	# window open.
	head -c 4M /dev/zero >"$T/in"
	spawn_weir_sig -v - "exec:$marker; :" <"$T/in" 2>"$T/err"
	wait_grep "$T/err" "^weir: pause -"
	kill -TERM "$WEIR_PID"
	wait_grep "$T/err" "stopping, flushing for at most 5 s"
	kill -INT "$WEIR_PID"
	wait_exit "$WRAP_PID" 3
	assert_equal "$EXIT_STATUS" 130
	gone_within 5 "$marker"
}
