#!/usr/bin/env bats
# Standard input and output, inherited descriptors.

load helper

@test "weir - - copies standard input to standard output" {
	run -0 --separate-stderr weir - - <<<"hello, weir"
	assert_output "hello, weir"
	assert_equal "$stderr" ""
}

@test "standard input from a pipe" {
	pipe_in() { printf 'a\nb\nc\n' | weir - -; }
	run -0 --separate-stderr pipe_in
	assert_output $'a\nb\nc'
}

@test "standard input from a regular file" {
	mkdata "$T/in" 300K
	run -0 --separate-stderr weir_to "$T/out" - - <"$T/in"
	assert_equal "$stderr" ""
	assert_same_file "$T/in" "$T/out"
}

@test "standard input from /dev/null" {
	run -0 --separate-stderr weir - - </dev/null
	assert_output ""
	assert_equal "$stderr" ""
}

@test "an empty regular file" {
	: >"$T/empty"
	run -0 --separate-stderr weir_to "$T/out" - - <"$T/empty"
	assert_file_empty "$T/out"
}

@test "standard output to a regular file" {
	printf 'to a file\n' >"$T/in"
	run -0 --separate-stderr weir_to "$T/out" - - <"$T/in"
	assert_equal "$(cat "$T/out")" "to a file"
}

@test "standard output to /dev/null" {
	mkdata "$T/in" 1M
	run -0 --separate-stderr weir_to /dev/null - - <"$T/in"
	assert_equal "$stderr" ""
}

@test "standard output to a pipe" {
	mkdata "$T/in" 1M
	to_pipe() { weir - - <"$T/in" | cat >"$T/out"; return "${PIPESTATUS[0]}"; }
	run -0 --separate-stderr to_pipe
	assert_same_file "$T/in" "$T/out"
}

@test "binary data with NUL bytes passes intact" {
	python3 -c 'import sys; sys.stdout.buffer.write(bytes(range(256)) * 64 + b"\0\0\0")' >"$T/in"
	run -0 --separate-stderr weir_to "$T/out" - - <"$T/in"
	assert_same_file "$T/in" "$T/out"
	assert_equal "$(wc -c <"$T/out")" 16387
}

@test "20 MiB file to file is intact" {
	mkdata "$T/in" 20M
	run -0 --separate-stderr weir_to "$T/out" - - <"$T/in"
	assert_equal "$(sha "$T/out")" "$(sha "$T/in")"
}

@test "20 MiB pipe to pipe is intact" {
	mkdata "$T/in" 20M
	pipes() {
		cat "$T/in" | weir - - | sha256sum | cut -d' ' -f1 >"$T/sum"
		return "${PIPESTATUS[1]}"
	}
	run -0 --separate-stderr pipes
	assert_equal "$(cat "$T/sum")" "$(sha "$T/in")"
}

@test "writing to /dev/full fails with 1 and a message" {
	mkdata "$T/in" 64K
	run -1 --separate-stderr weir_to /dev/full - - <"$T/in"
	[[ $stderr == "weir: "*"No space left on device"* ]] || fail "unexpected stderr: $stderr"
}

@test "write:/dev/full names the address" {
	run -1 --separate-stderr weir - write:/dev/full <<<"abc"
	assert_equal "${stderr%%$'\n'*}" "weir: write:/dev/full: write: No space left on device"
	# It may count what it could not deliver.
	[[ $stderr != *$'\n'* || $stderr == *$'\n'"weir: 4 bytes undelivered" ]] ||
		fail "unexpected stderr: $stderr"
}

@test "fd:N as a source" {
	mkdata "$T/in" 200K
	fd_src() { weir fd:5 "write:$T/out" 5<"$T/in"; }
	run -0 --separate-stderr fd_src
	assert_same_file "$T/in" "$T/out"
}

@test "fd:N as a sink" {
	mkdata "$T/in" 200K
	fd_sink() { weir "file:$T/in" fd:6 6>"$T/out"; }
	run -0 --separate-stderr fd_sink
	assert_same_file "$T/in" "$T/out"
}

@test "fd:N to standard output, from a pipe" {
	fd_pipe() { weir fd:5 - 5< <(printf 'through fd 5\n') </dev/null; }
	run -0 --separate-stderr fd_pipe
	assert_output "through fd 5"
}

@test "fd:N as its open mode allows: fd:0 fd:1 copies a pipe to a pipe, exit 0" {
	fd_01() {
		printf 'x\n' | weir fd:0 fd:1 | cat
		return "${PIPESTATUS[1]}"
	}
	run -0 --separate-stderr fd_01
	assert_output "x"
	assert_equal "$stderr" ""
}

@test "fd:N as its open mode allows: a read-only fd:N is a source, a write-only one a sink" {
	printf 'from the file\n' >"$T/in"
	# Standard input is never read: fd 5, read-only, only flows to it.
	ro() { weir - fd:5 5<"$T/in" < <(printf 'not read\n'; sleep 30); }
	run -0 --separate-stderr ro
	assert_output "from the file"
	# fd 6, write-only, only takes what standard input says.
	wo() { weir fd:6 - 6>"$T/out" <<<"to the file"; }
	run -0 --separate-stderr wo
	assert_output ""
	assert_equal "$(cat "$T/out")" "to the file"
	# Two sinks: nothing can flow.
	run -2 --separate-stderr weir fd:6 fd:7 6>"$T/a" 7>"$T/b" </dev/null
	assert_usage_error "weir: fd:6 and fd:7: no direction can flow"
}

@test "fd:N read and written: a socket pair both ways" {
	# fd 5 is a socket to an echo server: what goes in comes back.
	start_peer "$T/r" echo
	local port=${ADDR##*:}
	mkdata "$T/in" 100K
	fd_sock() {
		exec 5<>"/dev/tcp/127.0.0.1/$port"
		weir - fd:5 <"$T/in" >"$T/out"
	}
	run -0 --separate-stderr fd_sock
	assert_same_file "$T/in" "$T/out"
}

@test "a closed fd:N fails with 1" {
	run -1 --separate-stderr weir fd:9 - </dev/null 9>&-
	[[ $stderr == "weir: fd:9: "* ]] || fail "unexpected stderr: $stderr"
}
