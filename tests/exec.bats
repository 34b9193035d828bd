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
	# It never reads (what weir holds for it keeps the flush window open)
	# and ignores SIGTERM: only SIGKILL ends it.
	head -c 4M /dev/zero >"$T/in"
	spawn_weir_sig -v - "exec:trap '' TERM; $marker; :" <"$T/in" 2>"$T/err"
	wait_grep "$T/err" "^weir: pause -"
	kill -TERM "$WEIR_PID"
	wait_grep "$T/err" "stopping, flushing for at most 5 s"
	kill -INT "$WEIR_PID"
	wait_exit "$WRAP_PID" 3
	assert_equal "$EXIT_STATUS" 130
	gone_within 5 "$marker"
}

# --- pty ---------------------------------------------------------------------

@test "exec: pty: the command prompts, nothing is echoed, output comes as written" {
	# read -p prompts only when its input is a terminal, and on standard
	# error, which stays weir's own; no echo of "bob", no CR before LF.
	weir - exec:'read -p "name? " n; echo hi $n',pty <<<"bob" >"$T/out" 2>"$T/err"
	printf 'hi bob\n' >"$T/want"
	assert_same_file "$T/want" "$T/out"
	printf 'name? ' >"$T/want"
	assert_same_file "$T/want" "$T/err"
	run -0 --separate-stderr weir - exec:'printf "name? "; read n; echo "hi $n"',pty <<<"bob"
	assert_output "name? hi bob"
	assert_equal "$stderr" ""
}

@test "exec: pty: the child leads a session whose terminal it is on" {
	cat >"$T/check.py" <<-'PY'
		import os
		os.close(os.open("/dev/tty", os.O_RDWR))
		print(os.isatty(0), os.isatty(1), os.isatty(2),
		      os.getsid(0) == os.getpid(), os.tcgetpgrp(0) == os.getpid(),
		      os.ttyname(0) == os.ttyname(1))
	PY
	run -0 --separate-stderr weir - "exec:exec python3 '$T/check.py',pty" </dev/null
	# Standard error is weir's (a file here), not the terminal.
	assert_output "True True False True True True"
	assert_equal "$stderr" ""
}

@test "exec: pty: our end of input is the EOF character, a last line without newline included" {
	run -0 --separate-stderr weir - exec:cat,pty < <(printf 'a\nb')
	assert_output $'a\nb'
	assert_equal "$stderr" ""
	printf 'a\nb' >"$T/want"
	weir - exec:cat,pty < <(printf 'a\nb') >"$T/out"
	assert_same_file "$T/want" "$T/out"
	# After a whole line, a second read also sees the end, as from a pipe.
	run -0 --separate-stderr weir - exec:'cat; cat; echo end',pty <<<"x"
	assert_output $'x\nend'
}

@test "exec: pty: one way, a slow child still reads all our input" {
	# weir has closed its side before the child reads: the terminal must
	# still hold the input, not hang the child up.
	seq 1000 >"$T/want"
	run -0 --separate-stderr weir -u - exec:"sleep 0.5; cat >'$T/got'",pty <"$T/want"
	assert_output ""
	assert_same_file "$T/want" "$T/got"
}

@test "exec: pty: a command weir closes early is hung up, as closed pipes end it" {
	# -n 1: weir ends after one line, the command still waiting for more.
	spawn_writer "$T/fifo" 'a\n' --hold
	run -1 --separate-stderr weir -n 1 -p line - exec:cat,pty <"$T/fifo"
	# SIGHUP, or an I/O error first, as it happens; cat's own words on
	# the same stderr may come first, even around weir's (no line of
	# its own: a slow weir, under memcheck, writes between them).
	[[ $stderr =~ weir:\ exec:cat:\ (killed\ by\ signal\ 1\ |exited\ with\ status\ 1($|$'\n')) ]] ||
		fail "unexpected stderr: $stderr"
}

@test "exec: pty: a failing command still fails" {
	run -1 --separate-stderr weir - exec:'echo out; exit 4',pty </dev/null
	assert_output "out"
	assert_equal "$stderr" "weir: exec:echo out; exit 4: exited with status 4"
}

@test "exec: pty takes no value, and is no option of other addresses" {
	run -2 --separate-stderr weir - exec:cat,pty=1 </dev/null
	assert_usage_error "weir: exec:cat,pty=1: pty takes no value"
	# Not a switch of tcp:, so the comma is part of its argument.
	run -2 --separate-stderr weir - tcp:127.0.0.1:1,pty </dev/null
	assert_usage_error "weir: tcp:127.0.0.1:1,pty: invalid port '1,pty'"
}

# --- environment -------------------------------------------------------------

# conn_report ADDR [PATH]: connect to ADDR (as in a ready file), from the
# Unix socket PATH if given; print our own address as the child should see
# it ("HOST PORT", or the path), then what the other end sent until EOF.
conn_report() {
	timeout -k 2 "$WEIR_TIMEOUT" python3 -c '
import socket, sys
sys.path.insert(0, sys.argv[1])
import peer
family, sa = peer.parse_addr(sys.argv[2])
s = socket.socket(family, socket.SOCK_STREAM)
if len(sys.argv) > 3:
    s.bind(sys.argv[3])
s.connect(sa)
me = s.getsockname()
print(me if family == socket.AF_UNIX else "%s %d" % me[:2], flush=True)
s.shutdown(socket.SHUT_WR)
sys.stdout.buffer.write(peer.read_all(s))' "$BATS_TEST_DIRNAME" "$@" 3>&-
}

ENV_CMD='echo "$WEIR_PEER_ADDR ${WEIR_PEER_PORT-none} $WEIR_LOCAL_ADDR ${WEIR_LOCAL_PORT-none}"'

# end_weir: SIGTERM to the -k weir of start_weir; it ends 143, silent.
end_weir() {
	kill -TERM "$WEIR_PID"
	wait_exit "$WEIR_PID"
	assert_equal "$EXIT_STATUS" 143
	assert_file_empty "$T/err"
}

@test "exec: the child finds its TCP connection in WEIR_PEER_* and WEIR_LOCAL_*" {
	# Inherited values are replaced.
	WEIR_PEER_ADDR=stale WEIR_LOCAL_PORT=stale start_weir "$T/r" -k \
		tcp-listen:127.0.0.1:0 "exec:$ENV_CMD" </dev/null >/dev/null 2>"$T/err"
	run -0 conn_report "$ADDR"
	assert_equal "${#lines[@]}" 2
	assert_equal "${lines[1]}" "${lines[0]} 127.0.0.1 ${ADDR##*:}"
	[[ ${lines[0]} =~ ^127\.0\.0\.1\ [0-9]+$ ]] || fail "client: ${lines[0]}"
	end_weir
	# Serving no connection, the child gets weir's environment as it is.
	WEIR_PEER_ADDR=outer run -0 --separate-stderr weir - "exec:$ENV_CMD" </dev/null
	assert_output "outer none  none"
}

@test "exec: WEIR_* over IPv6, without brackets" {
	have_ipv6 || skip "no IPv6 loopback"
	start_weir "$T/r" -k 'tcp-listen:[::1]:0' "exec:$ENV_CMD" </dev/null >/dev/null 2>"$T/err"
	run -0 conn_report "$ADDR"
	assert_equal "${lines[1]}" "${lines[0]} ::1 ${ADDR##*:}"
	[[ ${lines[0]} =~ ^::1\ [0-9]+$ ]] || fail "client: ${lines[0]}"
	end_weir
}

@test "exec: WEIR_* of an IPv4 client of a listener on every interface is IPv4" {
	start_weir "$T/r" -k tcp-listen:0 "exec:$ENV_CMD" </dev/null >/dev/null 2>"$T/err"
	[[ $ADDR == tcp:127.0.0.1:* ]] || skip "not a dual-stack listener: $ADDR"
	run -0 conn_report "$ADDR"
	assert_equal "${lines[1]}" "${lines[0]} 127.0.0.1 ${ADDR##*:}"
	end_weir
}

@test "exec: WEIR_* of a Unix connection: paths, no ports" {
	WEIR_PEER_PORT=stale WEIR_LOCAL_PORT=stale start_weir "$T/r" -k "unix-listen:$T/s" \
		"exec:$ENV_CMD" </dev/null >/dev/null 2>"$T/err"
	# An unnamed client has no path (nor has its own report).
	run -0 conn_report "$ADDR"
	assert_output $'\n'" none $T/s none"
	run -0 conn_report "$ADDR" "$T/c"
	assert_equal "${lines[0]}" "$T/c"
	assert_equal "${lines[1]}" "$T/c none $T/s none"
	end_weir
}

# --- ending ------------------------------------------------------------------

@test "exec: SIGTERM: a command that ignores SIGTERM is killed 2 s after it" {
	local start end
	spawn_writer "$T/fifo" --hold
	spawn_weir_sig - exec:'trap "" TERM; echo $$; exec sleep 44' <"$T/fifo" >"$T/out" 2>"$T/err"
	wait_lines "$T/out" 1
	track "$(cat "$T/out")"
	start=$(date +%s%N)
	kill -TERM "$WEIR_PID"
	wait_exit "$WRAP_PID" 10
	end=$(date +%s%N)
	assert_equal "$EXIT_STATUS" 143
	# The 5 s flush window the command gets, then 2 s after SIGTERM.
	((end - start < 9500000000)) || fail "took $(((end - start) / 1000000)) ms"
	run -1 kill -0 "$(cat "$T/out")"
}

@test "exec: a command ended early that ignores SIGTERM gets SIGKILL 2 s later" {
	local marker="sleep 45.$$$RANDOM" start end
	spawn_writer "$T/fifo" --hold
	start=$(date +%s%N)
	run -1 --separate-stderr weir -v -i 1 - "exec:trap '' TERM; $marker; :" <"$T/fifo"
	end=$(date +%s%N)
	[[ $stderr == *"still running 2 s after SIGTERM: SIGKILL"* ]] ||
		fail "unexpected stderr: $stderr"
	# -i 1, then 2 s.
	((end - start >= 2900000000 && end - start < 8000000000)) ||
		fail "took $(((end - start) / 1000000)) ms"
	gone_within 2 "$marker"
}
