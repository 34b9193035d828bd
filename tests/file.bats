#!/usr/bin/env bats
# file:, write:, append:.

load helper

@test "file: to write:" {
	mkdata "$T/in" 3M
	run -0 --separate-stderr weir "file:$T/in" "write:$T/out" </dev/null
	assert_equal "$stderr" ""
	assert_output ""
	assert_same_file "$T/in" "$T/out"
}

@test "file: to standard output" {
	printf 'from a file\n' >"$T/in"
	run -0 --separate-stderr weir "file:$T/in" </dev/null
	assert_output "from a file"
}

@test "file: on the right flows right to left" {
	printf 'right to left\n' >"$T/in"
	run -0 --separate-stderr weir - "file:$T/in" </dev/null
	assert_output "right to left"
}

@test "file: of an empty file" {
	: >"$T/in"
	run -0 --separate-stderr weir "file:$T/in" "write:$T/out" </dev/null
	assert_file_exist "$T/out"
	assert_file_empty "$T/out"
}

@test "file: reads a file with NUL bytes intact" {
	python3 -c 'import sys; sys.stdout.buffer.write(b"\0" * 1000 + bytes(range(256)))' >"$T/in"
	run -0 --separate-stderr weir "file:$T/in" "write:$T/out" </dev/null
	assert_same_file "$T/in" "$T/out"
}

@test "write: creates the file from standard input" {
	run -0 --separate-stderr weir - "write:$T/out" <<<"written"
	assert_output ""
	assert_equal "$(cat "$T/out")" "written"
}

@test "write: truncates an existing file" {
	printf 'a much longer old content\n' >"$T/out"
	run -0 --separate-stderr weir - "write:$T/out" <<<"new"
	assert_equal "$(cat "$T/out")" "new"
}

@test "write: on the left flows right to left" {
	run -0 --separate-stderr weir "write:$T/out" - <<<"leftwards"
	assert_equal "$(cat "$T/out")" "leftwards"
}

@test "write: with no input still creates an empty file" {
	run -0 --separate-stderr weir - "write:$T/out" </dev/null
	assert_file_exist "$T/out"
	assert_file_empty "$T/out"
}

@test "append: creates a missing file" {
	run -0 --separate-stderr weir - "append:$T/log" <<<"first"
	assert_equal "$(cat "$T/log")" "first"
}

@test "append: appends to an existing file" {
	printf 'first\n' >"$T/log"
	run -0 --separate-stderr weir - "append:$T/log" <<<"second"
	run -0 --separate-stderr weir - "append:$T/log" <<<"third"
	assert_equal "$(cat "$T/log")" $'first\nsecond\nthird'
}

@test "file: of a missing file fails with 1" {
	run -1 --separate-stderr weir "file:$T/nope" - </dev/null
	assert_output ""
	assert_equal "$stderr" "weir: file:$T/nope: No such file or directory"
}

@test "file: of a missing file fails before anything flows" {
	run -1 --separate-stderr weir "file:$T/nope" "write:$T/out" </dev/null
	assert_equal "$stderr" "weir: file:$T/nope: No such file or directory"
}

@test "write: into a missing directory fails with 1" {
	run -1 --separate-stderr weir - "write:$T/no/such/dir/out" <<<"x"
	assert_equal "$stderr" "weir: write:$T/no/such/dir/out: No such file or directory"
}

@test "file: of a directory fails with 1" {
	run -1 --separate-stderr weir "file:$T" - </dev/null
	[[ $stderr == "weir: file:$T: "* ]] || fail "unexpected stderr: $stderr"
}

@test "write: to a directory fails with 1" {
	run -1 --separate-stderr weir - "write:$T" <<<"x"
	assert_equal "$stderr" "weir: write:$T: Is a directory"
}

@test "write: to an unwritable file fails with 1" {
	((EUID != 0)) || skip "root can write anywhere"
	: >"$T/ro"
	chmod 444 "$T/ro"
	run -1 --separate-stderr weir - "write:$T/ro" <<<"x"
	assert_equal "$stderr" "weir: write:$T/ro: Permission denied"
}

@test '\, in a path is a literal comma' {
	run -0 --separate-stderr weir - "write:$T/a\\,b.log" <<<"comma"
	assert_file_exist "$T/a,b.log"
	assert_equal "$(cat "$T/a,b.log")" "comma"
	run -0 --separate-stderr weir "file:$T/a\\,b.log" </dev/null
	assert_output "comma"
}

@test '\\ in a path is a backslash' {
	run -0 --separate-stderr weir - "write:$T/back\\\\slash" <<<"bs"
	assert_file_exist "$T/back\\slash"
	assert_equal "$(cat "$T/back\\slash")" "bs"
}

@test "a comma ends the path and starts the options" {
	run -0 --separate-stderr weir - "write:$T/out,rate=1M" <<<"opt"
	assert_file_exist "$T/out"
	assert_not_exist "$T/out,rate=1M"
	assert_equal "$(cat "$T/out")" "opt"
}

@test "a large file through file: and write:" {
	mkdata "$T/in" 20M
	run -0 --separate-stderr weir "file:$T/in" "write:$T/out" </dev/null
	assert_equal "$(sha "$T/out")" "$(sha "$T/in")"
}

@test "file: is a source only: weir does not read standard input" {
	printf 'file\n' >"$T/in"
	# Standard input would block forever if weir read it.
	mkfifo "$T/fifo"
	exec 7<>"$T/fifo"
	run -0 --separate-stderr weir "file:$T/in" - <"$T/fifo"
	exec 7>&-
	assert_output "file"
}
