#!/usr/bin/env bats
# How weir ends: -u, -U, -q, -w, -i, signals, exit status.

load helper

@test "exit status: 0 done, 1 transport failure, 2 usage" {
	run -0 --separate-stderr weir - - </dev/null
	start_peer "$T/r" refused
	run -1 --separate-stderr weir "$ADDR" </dev/null
	run -2 --separate-stderr weir --no-such-option - - </dev/null
}

@test "-u: only LEFT -> RIGHT, the server's greeting is not read" {
	start_peer "$T/r" serve --greet 'not for you\n' --out "$T/got"
	run -0 --separate-stderr weir -u - "$ADDR" <<<"one way"
	assert_output ""
	assert_equal "$stderr" ""
	wait_file "$T/got"
	assert_equal "$(cat "$T/got")" "one way"
}

@test "-u: weir ends when its direction is done, though the server stays" {
	start_peer "$T/r" serve --hold --out "$T/got"
	run -0 --separate-stderr weir -u - "$ADDR" <<<"and done"
	wait_file "$T/got"
	assert_equal "$(cat "$T/got")" "and done"
}

@test "-U: only RIGHT -> LEFT, standard input is not sent" {
	start_peer "$T/r" serve --greet 'from server\n' --greet-close --out "$T/got"
	run -0 --separate-stderr weir -U - "$ADDR" <<<"not sent"
	assert_output "from server"
	wait_file "$T/got"
	assert_file_empty "$T/got"
}

@test "-U with a listener: the client's data is not read back" {
	spawn_peer client --connect-ready "$T/r" --send 'to weir\n' --out "$T/got" </dev/null
	run -0 --separate-stderr weir -U --ready-file "$T/r" tcp-listen:127.0.0.1:0 - <<<"to client"
	assert_output ""
	wait_file "$T/got"
	assert_equal "$(cat "$T/got")" "to client"
}

@test "-q: ends after our EOF though the server never closes" {
	start_peer "$T/r" serve --hold --out "$T/got"
	run -0 --separate-stderr weir -q 0.5 "$ADDR" <<<"eof then quit"
	assert_equal "$stderr" ""
	wait_file "$T/got"
	assert_equal "$(cat "$T/got")" "eof then quit"
}

@test "-q: ends after the server's EOF though standard input stays open" {
	start_peer "$T/r" serve --greet 'greeting\n' --greet-close --hold
	mkfifo "$T/in"
	exec 7<>"$T/in"
	run -0 --separate-stderr weir --eof-timeout=0.5 "$ADDR" <"$T/in" 7>&-
	exec 7>&-
	assert_output "greeting"
}

@test "-q: data left undelivered gives 1" {
	# The server never reads: most of the input stays in weir.
	start_peer "$T/r" serve --listen "unix:$T/s" --no-read
	mkdata "$T/in" 8M
	run -1 --separate-stderr weir --high-water 16M -q 0.5 "$ADDR" <"$T/in"
	[[ $stderr =~ weir:\ [1-9][0-9]*\ bytes\ undelivered ]] || fail "unexpected stderr: $stderr"
}

@test "-w: a connect that never completes times out with 1" {
	start_peer "$T/r" backlog
	[[ $ADDR != none ]] || skip "cannot make a connect hang on loopback here"
	run -1 --separate-stderr weir -w 0.5 "$ADDR" </dev/null
	assert_output ""
	assert_equal "$stderr" "weir: $ADDR: connect: timed out after 0.5 s"
}

@test "--connect-timeout is -w" {
	start_peer "$T/r" backlog
	[[ $ADDR != none ]] || skip "cannot make a connect hang on loopback here"
	run -1 --separate-stderr weir --connect-timeout 1 "$ADDR" </dev/null
	assert_equal "$stderr" "weir: $ADDR: connect: timed out after 1 s"
}

@test "-w does not disturb a connect that completes" {
	start_peer "$T/r" serve --reply 'quick\n'
	run -0 --separate-stderr weir -w 5 "$ADDR" <<<"x"
	assert_output "quick"
}

@test "-i: idle for SEC ends with 1" {
	start_peer "$T/r" serve --hold
	mkfifo "$T/in"
	exec 7<>"$T/in"
	run -1 --separate-stderr weir -i 0.5 "$ADDR" <"$T/in" 7>&-
	exec 7>&-
	assert_equal "$stderr" "weir: idle for 0.5 s, closing"
}

@test "-i: traffic keeps weir alive past SEC" {
	trickle() {
		{
			for i in 1 2 3 4 5 6; do
				echo "$i"
				sleep 0.25
			done
		} | weir -i 1 - -
	}
	run -0 --separate-stderr trickle
	assert_output $'1\n2\n3\n4\n5\n6'
}

@test "SIGINT: 130, what was read is delivered" {
	mkfifo "$T/in"
	exec 7<>"$T/in"
	spawn_weir_sig --stats=json - "write:$T/out" <"$T/in" 2>"$T/err" 7>&-
	echo "before the signal" >&7
	wait_grep "$T/out" '^before the signal$'
	kill -INT "$WEIR_PID"
	wait_exit "$WRAP_PID"
	exec 7>&-
	assert_equal "$EXIT_STATUS" 130
	assert_equal "$(cat "$T/out")" "before the signal"
	run -0 cat "$T/err"
	refute_output --partial "killed by signal"
	refute_output --partial "bytes undelivered"
	assert_conserved "$T/err"
}

@test "SIGTERM: 143, the buffered data is flushed first" {
	# The server starts reading 2 s after it accepts; by then weir holds
	# high water and has paused. On SIGTERM it stops reading and flushes
	# what it has: everything it read reaches the server.
	start_peer "$T/r" serve --listen "unix:$T/s" --read-delay 2 --count-file "$T/count"
	mkdata "$T/in" 8M
	spawn_weir_sig -v --stats=json -u - "$ADDR" <"$T/in" >/dev/null 2>"$T/err"
	wait_grep "$T/err" '^weir: pause '
	kill -TERM "$WEIR_PID"
	wait_exit "$WRAP_PID"
	assert_equal "$EXIT_STATUS" 143
	run -0 cat "$T/err"
	refute_output --partial "killed by signal"
	refute_output --partial "bytes undelivered"
	assert_equal "$(stats_json "$T/err" right undelivered)" 0
	assert_equal "$(stats_json "$T/err" left discarded)" 0
	wait_file "$T/count"
	local got read sent
	got=$(cat "$T/count")
	read=$(stats_json "$T/err" left bytes_in)
	sent=$(stats_json "$T/err" right bytes_out)
	assert_equal "$sent" "$read"
	assert_equal "$got" "$sent"
	((got > 0 && got < 8388608)) || fail "the server got $got bytes"
}

@test "SIGTERM: data that cannot be flushed is counted, 143 after at most 5 s" {
	start_peer "$T/r" serve --listen "unix:$T/s" --no-read
	mkdata "$T/in" 8M
	spawn_weir_sig -v -u - "$ADDR" <"$T/in" >/dev/null 2>"$T/err"
	wait_grep "$T/err" '^weir: pause '
	kill -TERM "$WEIR_PID"
	wait_exit "$WRAP_PID" 9
	assert_equal "$EXIT_STATUS" 143
	run -0 cat "$T/err"
	refute_output --partial "killed by signal"
	assert_line --regexp '^weir: [1-9][0-9]* bytes undelivered$'
}

@test "a second signal exits at once" {
	start_peer "$T/r" serve --listen "unix:$T/s" --no-read
	mkdata "$T/in" 8M
	spawn_weir_sig -v -u - "$ADDR" <"$T/in" >/dev/null 2>"$T/err"
	wait_grep "$T/err" '^weir: pause '
	kill -TERM "$WEIR_PID"
	kill -INT "$WEIR_PID"
	# Well before the 5 s a single signal would wait for the flush.
	wait_exit "$WRAP_PID" 3
	[[ $EXIT_STATUS == 130 || $EXIT_STATUS == 143 ]] || fail "exit status $EXIT_STATUS"
	run -0 cat "$T/err"
	refute_output --partial "killed by signal"
}

@test "a second signal still unlinks a unix-listen: socket file" {
	mkdata "$T/in" 8M
	spawn_weir_sig -k -v --ready-file "$T/r" "unix-listen:$T/s" - <"$T/in" >/dev/null 2>"$T/err"
	wait_file "$T/r"
	spawn_peer client --connect "unix:$T/s" --no-read --no-shutdown </dev/null
	wait_grep "$T/err" '^weir: pause - \(sink '
	assert_exist "$T/s"
	kill -TERM "$WEIR_PID"
	wait_grep "$T/err" "stopping, flushing"
	kill -TERM "$WEIR_PID"
	wait_exit "$WRAP_PID" 3
	assert_equal "$EXIT_STATUS" 143
	assert_not_exist "$T/s"
}

@test "SIGPIPE is ignored: a closed standard output is a write error" {
	mkdata "$T/in" 4M
	closed_pipe() {
		weir - - <"$T/in" | head -c 1 >/dev/null
		return "${PIPESTATUS[0]}"
	}
	run -1 --separate-stderr closed_pipe
	[[ $stderr == "weir: "*"Broken pipe"* ]] || fail "unexpected stderr: $stderr"
}

# --- -q with -k, the flush window, SIGHUP, the ready file --------------------

@test "-q with -k: each connection ends SEC after its own EOF, the listener goes on" {
	# The command never closes its output: only -q ends each connection.
	start_weir "$T/r" -k -q 0.3 tcp-listen:127.0.0.1:0 \
		"exec:cat; exec sleep 30" </dev/null 2>"$T/err"
	local conn
	for conn in 1 2 3; do
		run -0 weir "$ADDR" <<<"ping $conn"
		assert_output "ping $conn"
	done
	kill -0 "$WEIR_PID" || fail "the listener ended: $(cat "$T/err")"
	end_weir
}

# end_weir: SIGTERM the weir of start_weir and wait for it (bounded): it
# ends as a run does, so a checker (valgrind) sees it finish.
end_weir() {
	kill -TERM "$WEIR_PID"
	wait_exit "$WEIR_PID" 20
	assert_equal "$EXIT_STATUS" 143
}

# pid_gone PID [SECONDS]: wait (bounded, default 5 s) until PID has ended.
pid_gone() {
	local n=$((${2:-5} * 100))
	while ((n-- > 0)); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.01
	done
	echo "process $1 still running" >&2
	return 1
}

# track_pids FILE: kill in teardown every PID listed in FILE.
track_pids() {
	local pid
	while read -r pid; do
		track "$pid"
	done <"$1"
}

# signal_ms SIG: send SIG to weir (spawn_weir_sig), wait for it to end
# (bounded) and set MS to how long that took.
signal_ms() {
	local start
	start=$(date +%s%N)
	kill "-$1" "$WEIR_PID"
	wait_exit "$WRAP_PID" 9
	MS=$((($(date +%s%N) - start) / 1000000))
}

@test "SIGINT with nothing to flush ends at once, and the command with it" {
	mkfifo "$T/in"
	exec 7<>"$T/in"
	spawn_weir_sig - "exec:echo \$\$ >$T/pid.tmp; mv $T/pid.tmp $T/pid; exec sleep 30" \
		<"$T/in" 2>"$T/err" 7>&-
	wait_file "$T/pid"
	track_pids "$T/pid"
	signal_ms INT
	exec 7>&-
	assert_equal "$EXIT_STATUS" 130
	# Not the 5 s a flush may take: there was nothing to flush (memcheck,
	# its time bounds raised, takes longer to end a process itself).
	((MS < (WEIR_TIMEOUT > 15 ? 3000 : 500))) || fail "weir took $MS ms to end"
	pid_gone "$(cat "$T/pid")"
	run -0 cat "$T/err"
	refute_output --partial "undelivered"
}

@test "SIGTERM with nothing to flush ends a -k listener and its connection's command at once" {
	spawn_weir_sig -k --ready-file "$T/r" tcp-listen:127.0.0.1:0 \
		"exec:echo \$\$ >$T/pid.tmp; mv $T/pid.tmp $T/pid; exec sleep 30" 2>"$T/err"
	wait_file "$T/r"
	spawn_peer client --connect-ready "$T/r" --no-read --no-shutdown </dev/null
	wait_file "$T/pid"
	track_pids "$T/pid"
	signal_ms TERM
	assert_equal "$EXIT_STATUS" 143
	((MS < (WEIR_TIMEOUT > 15 ? 3000 : 500))) || fail "weir took $MS ms to end"
	pid_gone "$(cat "$T/pid")"
	assert_not_exist "$T/r"
}

@test "SIGHUP: 129, flushed as for SIGTERM" {
	mkfifo "$T/in"
	exec 7<>"$T/in"
	spawn_weir_sig --stats=json - "write:$T/out" <"$T/in" 2>"$T/err" 7>&-
	echo "before the hangup" >&7
	wait_grep "$T/out" '^before the hangup$'
	kill -HUP "$WEIR_PID"
	wait_exit "$WRAP_PID"
	exec 7>&-
	assert_equal "$EXIT_STATUS" 129
	assert_equal "$(cat "$T/out")" "before the hangup"
	run -0 cat "$T/err"
	refute_output --partial "killed by signal"
	assert_conserved "$T/err"
}

@test "the terminal closes (tmux kill-session): stats printed, no command left, no socket file" {
	local sock=$T/tmux.sock
	# weir under a shell on the pane's terminal, as a user runs it; the
	# command it starts leads a process group of its own, which the
	# hangup does not reach.
	tmux -S "$sock" new-session -d -s weir -x 80 -y 24 \
		"'$WEIR' --stats -k --ready-file '$T/r' 'unix-listen:$T/s' \
		'exec:echo \$\$ >$T/pid.tmp; mv $T/pid.tmp $T/pid; exec sleep 30' 2>'$T/err'; true"
	track "$(tmux -S "$sock" display-message -p '#{pane_pid}')"
	track "$(tmux -S "$sock" display-message -p '#{pid}')"
	wait_file "$T/r"
	spawn_peer client --connect "unix:$T/s" --no-read --no-shutdown </dev/null
	wait_file "$T/pid"
	track_pids "$T/pid"
	assert_exist "$T/s"
	tmux -S "$sock" kill-session -t weir
	wait_grep "$T/err" '^weir: stats RIGHT exec:'
	pid_gone "$(cat "$T/pid")"
	assert_not_exist "$T/s"
	assert_not_exist "$T/r"
	run -0 cat "$T/err"
	assert_line --regexp '^weir: stats LEFT unix-listen:.* \(1 connection\): in '
}

@test "--ready-file is removed at exit, after a clean end and after a signal" {
	start_weir "$T/r" tcp-listen:127.0.0.1:0 - </dev/null >/dev/null
	run -0 weir "$ADDR" </dev/null
	wait_exit "$WEIR_PID"
	assert_equal "$EXIT_STATUS" 0
	assert_not_exist "$T/r"
	spawn_weir_sig -k --ready-file "$T/r2" "unix-listen:$T/s" - </dev/null >/dev/null
	wait_file "$T/r2"
	kill -TERM "$WEIR_PID"
	wait_exit "$WRAP_PID"
	assert_equal "$EXIT_STATUS" 143
	assert_not_exist "$T/r2"
	assert_not_exist "$T/s"
}

# --- a proxy's command whose connection is gone --------------------------------

# reset_client PORT WAITFILE: connect, wait for WAITFILE, then reset.
reset_client() {
	timeout 10 python3 - "$1" "$2" <<'PY'
import os, socket, struct, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
deadline = time.monotonic() + 8
while not os.path.exists(sys.argv[2]) and time.monotonic() < deadline:
    time.sleep(0.01)
s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
s.close()
PY
}

@test "a proxy's command is ended when its client resets, and -m 1 serves the next" {
	start_weir "$T/r" -k -m 1 tcp-listen:127.0.0.1:0 \
		"exec:echo \$\$ >>$T/pids; exec sleep 30" </dev/null 2>"$T/err"
	reset_client "${ADDR##*:}" "$T/pids"
	track_pids "$T/pids"
	pid_gone "$(head -n 1 "$T/pids")"
	# The one slot is free: the next client gets its own command.
	spawn_peer client --connect "$ADDR" --no-read --no-shutdown </dev/null
	wait_lines "$T/pids" 2
	track_pids "$T/pids"
	end_weir
}

@test "a proxy's command is ended when its client has closed both ways" {
	# The command answers, closes its output and lingers: the connection
	# is closed both ways, so nothing the command does can reach anyone.
	start_weir "$T/r" -k -m 1 tcp-listen:127.0.0.1:0 \
		"exec:echo \$\$ >>$T/pids; read l; echo got \$l; exec >&-; exec sleep 30" \
		</dev/null 2>"$T/err"
	run -0 weir "$ADDR" <<<"a"
	assert_output "got a"
	track_pids "$T/pids"
	pid_gone "$(head -n 1 "$T/pids")"
	run -0 weir "$ADDR" <<<"b"
	assert_output "got b"
	track_pids "$T/pids"
	run -0 cat "$T/err"
	refute_output --partial "killed by signal"
	end_weir
}

@test "a proxy's command whose output cannot reach its closed client is ended" {
	start_weir "$T/r" -k -m 1 tcp-listen:127.0.0.1:0 \
		"exec:echo \$\$ >>$T/pids; cat >/dev/null; while :; do echo tick; sleep 0.05; done" \
		</dev/null 2>"$T/err"
	timeout 10 python3 - "${ADDR##*:}" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"x\n")
s.close()
PY
	wait_file "$T/pids"
	track_pids "$T/pids"
	pid_gone "$(head -n 1 "$T/pids")"
	end_weir
}
