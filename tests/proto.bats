#!/usr/bin/env bats
# Protocols: relay, line and netstring; delimiters, conversion, max-frame,
# --oversize, protocol errors and their exit status, -n/--max-frames.

load helper

# nsdecode FILE: the payloads of the netstrings in FILE, concatenated (a
# check independent of weir's decoder).
nsdecode() {
	python3 -c '
import sys
data = open(sys.argv[1], "rb").read()
out = bytearray()
i = 0
while i < len(data):
    colon = data.index(b":", i)
    n = int(data[i:colon])
    out += data[colon + 1:colon + 1 + n]
    assert data[colon + 1 + n:colon + 2 + n] == b",", "bad netstring"
    i = colon + 2 + n
sys.stdout.buffer.write(out)' "$1"
}

# writer ARGS...: peer.py write (pieces on standard output).
writer() {
	python3 "$PEER" write "$@" 3>&-
}

# --- the examples of the description ---------------------------------

@test "line to netstring: each line becomes LEN:DATA," {
	run -0 --separate-stderr weir -p line - "write:$T/o,proto=netstring" < <(printf 'hello\nworld\n')
	assert_equal "$stderr" ""
	assert_equal "$(cat "$T/o")" "5:hello,5:world,"
}

@test "netstring to line: each payload becomes a line, the empty one too" {
	run -0 --separate-stderr weir -p netstring - "write:$T/o,proto=line" < <(printf '5:hello,0:,')
	assert_equal "$stderr" ""
	printf 'hello\n\n' >"$T/want"
	assert_same_file "$T/want" "$T/o"
}

@test "-v names each side's protocol in the wiring line" {
	run -0 --separate-stderr weir -v -p line - "write:$T/o,proto=netstring" <<<"x"
	assert_equal "${stderr%%$'\n'*}" "weir: pair - (line) -> write:$T/o (netstring), one-way"
}

@test "-v logs the frames at end of input" {
	run -0 --separate-stderr weir -v -p netstring - "write:$T/o,proto=line" < <(printf '5:hello,1:x,')
	[[ $stderr =~ (^|$'\n')"weir: -: end of input after 12 B, 2 frames"($'\n'|$) ]] ||
		fail "no end-of-input line: $stderr"
}

@test "--stats counts frames in and out" {
	run -0 --separate-stderr weir --stats=json -p line - "write:$T/o,proto=netstring" < <(printf 'a\nbb\n\nccc')
	assert_equal "$(cat "$T/o")" "1:a,2:bb,0:,3:ccc,"
	printf '%s\n' "$stderr" >"$T/err"
	assert_equal "$(stats_json "$T/err" left frames_in)" 4
	assert_equal "$(stats_json "$T/err" left bytes_in)" 9
	assert_equal "$(stats_json "$T/err" right frames_out)" 4
	assert_equal "$(stats_json "$T/err" right bytes_out)" 18
	assert_equal "$(stats_json "$T/err" left dropped)" 0
}

@test "--stats text shows the frames" {
	run -0 --separate-stderr weir --stats -p line - - < <(printf 'a\nb\n')
	assert_output $'a\nb'
	assert_equal "$stderr" "weir: stats LEFT -: in 4 B 2 frames, out 0 B 0 frames, paused 0 times 0.000 s, dropped 0, kernel dropped 0, errors 0, undelivered 0 B, discarded 0 B
weir: stats RIGHT -: in 0 B 0 frames, out 4 B 2 frames, paused 0 times 0.000 s, dropped 0, kernel dropped 0, errors 0, undelivered 0 B, discarded 0 B"
}

# --- line: delimiters --------------------------------------------------

@test "line lf (the default) passes lines through" {
	run -0 --separate-stderr weir -p line - - < <(printf 'one\ntwo\n')
	assert_output $'one\ntwo'
	run -0 --separate-stderr weir -p line --delim lf - "write:$T/o,proto=netstring" < <(printf 'a\r\nb\n')
	assert_equal "$(cat "$T/o")" $'2:a\r,1:b,'
}

@test "empty lines are frames" {
	run -0 --separate-stderr weir -p line - "write:$T/o,proto=netstring" < <(printf 'a\n\n\nb\n')
	assert_equal "$(cat "$T/o")" "1:a,0:,0:,1:b,"
	run -0 --separate-stderr weir -p line - "write:$T/o,proto=netstring" < <(printf '\n')
	assert_equal "$(cat "$T/o")" "0:,"
}

@test "a last line without delimiter is delivered, with the delimiter added" {
	run -0 --separate-stderr weir -p line - "write:$T/o" < <(printf 'a\nb')
	printf 'a\nb\n' >"$T/want"
	assert_same_file "$T/want" "$T/o"
	run -0 --separate-stderr weir -p line - "write:$T/o,proto=netstring" < <(printf 'a\nb')
	assert_equal "$(cat "$T/o")" "1:a,1:b,"
}

@test "empty input: no frame" {
	run -0 --separate-stderr weir --stats=json -p line - "write:$T/o,proto=netstring" </dev/null
	assert_file_empty "$T/o"
	printf '%s\n' "$stderr" >"$T/err"
	assert_equal "$(stats_json "$T/err" left frames_in)" 0
}

@test "crlf input: LF ends a line, one CR before it is dropped, a bare LF ends one too" {
	run -0 --separate-stderr weir -p line --delim crlf - "write:$T/o,proto=netstring" \
		< <(printf 'a\r\nb\nc\r\r\n\r\nd')
	assert_equal "$(cat "$T/o")" $'1:a,1:b,2:c\r,0:,1:d,'
}

@test "crlf output: every frame ends with CRLF" {
	run -0 --separate-stderr weir -p line - "write:$T/o,delim=crlf" < <(printf 'a\nb\n\nc')
	printf 'a\r\nb\r\n\r\nc\r\n' >"$T/want"
	assert_same_file "$T/want" "$T/o"
	run -0 --separate-stderr weir -p line --delim crlf - "write:$T/o" < <(printf 'a\r\nb\nc\r\r\n')
	printf 'a\r\nb\r\nc\r\r\n' >"$T/want"
	assert_same_file "$T/want" "$T/o"
}

@test "crlf: CR and LF in separate writes" {
	run -0 --separate-stderr weir -p line --delim crlf - "write:$T/o,proto=netstring" \
		< <(writer --delay 0.05 'a\r' '\nb\r' '\n' 'c\r' 'x\r\n')
	assert_equal "$(cat "$T/o")" $'1:a,1:b,3:c\rx,'
}

@test "nul delimiter, as find -print0 writes" {
	mkdir -p "$T/tree/sub dir"
	touch "$T/tree/a" "$T/tree/sub dir/b"
	(cd "$T/tree" && find . -type f -print0 | sort -z) >"$T/list"
	run -0 --separate-stderr weir -p line --delim nul "file:$T/list" "write:$T/o,delim=lf"
	assert_equal "$(cat "$T/o")" $'./a\n./sub dir/b'
	# Payloads may hold CR and LF.
	run -0 --separate-stderr weir -p line --delim nul - "write:$T/o,proto=netstring" \
		< <(printf 'a b\0c\nd\r\0\0e')
	assert_equal "$(cat "$T/o")" $'3:a b,4:c\nd\r,0:,1:e,'
	# And back: netstring to NUL-terminated records.
	run -0 --separate-stderr weir -p netstring - "write:$T/o,proto=line,delim=nul" < <(printf '1:a,0:,2:b\n,')
	printf 'a\0\0b\n\0' >"$T/want"
	assert_same_file "$T/want" "$T/o"
}

@test "a one-character delimiter" {
	run -0 --separate-stderr weir -p line --delim '|' - "write:$T/o,proto=netstring" < <(printf 'a|bc||d')
	assert_equal "$(cat "$T/o")" "1:a,2:bc,0:,1:d,"
	run -0 --separate-stderr weir -p line --delim ';' - - < <(printf 'a;b\n;')
	assert_output $'a;b\n;'
	run -0 --separate-stderr weir -p netstring - "write:$T/o,proto=line,delim=:" < <(printf '1:a,1:b,')
	assert_equal "$(cat "$T/o")" "a:b:"
}

@test "a \\xHH delimiter" {
	run -0 --separate-stderr weir -p line --delim '\x09' - "write:$T/o,proto=netstring" < <(printf 'a\tb c\t')
	assert_equal "$(cat "$T/o")" "1:a,3:b c,"
	run -0 --separate-stderr weir -p line --delim '\x00' - "write:$T/o,proto=netstring" < <(printf 'a\0b\0')
	assert_equal "$(cat "$T/o")" "1:a,1:b,"
}

@test "a comma delimiter in an address: delim=\\x2c" {
	run -0 --separate-stderr weir -p line '-,delim=\x2c' "write:$T/o,proto=netstring" < <(printf 'a,b,,c\n')
	assert_equal "$(cat "$T/o")" $'1:a,1:b,0:,2:c\n,'
	run -0 --separate-stderr weir -p netstring - "write:$T/o,proto=line,delim=\\x2c" < <(printf '1:a,0:,2:bc,')
	assert_equal "$(cat "$T/o")" "a,,bc,"
	run -0 --separate-stderr weir -p line --delim , - "write:$T/o,proto=netstring" < <(printf 'x,y')
	assert_equal "$(cat "$T/o")" "1:x,1:y,"
}

@test "line to line with different delimiters re-cuts the records" {
	run -0 --separate-stderr weir -p line --delim nul - "write:$T/o,delim=crlf" < <(printf 'a\0b\0')
	printf 'a\r\nb\r\n' >"$T/want"
	assert_same_file "$T/want" "$T/o"
}

# --- conversions -------------------------------------------------------

@test "relay to line: each read becomes a line" {
	run -0 --separate-stderr weir - "write:$T/o,proto=line" < <(printf 'abc')
	assert_equal "$(cat "$T/o")" "abc"
	assert_equal "$(wc -c <"$T/o")" 4
}

@test "relay to netstring: the payloads are the bytes read" {
	mkdata "$T/in" 1M
	run -0 --separate-stderr weir "file:$T/in" "write:$T/o,proto=netstring"
	nsdecode "$T/o" >"$T/back"
	assert_same_file "$T/in" "$T/back"
}

@test "line to relay and netstring to relay: payloads only" {
	run -0 --separate-stderr weir -p line - "write:$T/o,proto=relay" < <(printf 'a\nbc\n\nd')
	assert_equal "$(cat "$T/o")" "abcd"
	run -0 --separate-stderr weir -p netstring - "write:$T/o,proto=relay" < <(printf '2:ab,0:,1:c,')
	assert_equal "$(cat "$T/o")" "abc"
}

@test "valid netstrings: 0:, 1:a, and a nested 4:1:a,," {
	run -0 --separate-stderr weir -p netstring - "write:$T/o,proto=line" < <(printf '0:,1:a,4:1:a,,')
	printf '\na\n1:a,\n' >"$T/want"
	assert_same_file "$T/want" "$T/o"
	run -0 --separate-stderr weir -p netstring - - < <(printf '0:,1:a,4:1:a,,')
	assert_output "0:,1:a,4:1:a,,"
}

@test "conversion both ways over TCP: lines out as netstrings, netstrings back as lines" {
	start_peer "$T/r" serve --greet '3:abc,0:,2:de,' --out "$T/got"
	run -0 --separate-stderr weir -p line - "$ADDR,proto=netstring" < <(printf 'x\nyz\n')
	assert_equal "$stderr" ""
	assert_output $'abc\n\nde'
	wait_file "$T/got"
	assert_equal "$(cat "$T/got")" "1:x,2:yz,"
}

@test "per-address options override -p, --delim and --max-frame" {
	run -0 --separate-stderr weir -p netstring '-,proto=line' "write:$T/o" < <(printf 'a\nb\n')
	assert_equal "$(cat "$T/o")" "1:a,1:b,"
	run -0 --separate-stderr weir -p line --delim nul '-,delim=lf' "write:$T/o,proto=netstring" < <(printf 'a\0b\n')
	printf '3:a\0b,' >"$T/want"
	assert_same_file "$T/want" "$T/o"
	run -0 --separate-stderr weir -p line --max-frame 2 '-,max-frame=5' "write:$T/o,proto=netstring" < <(printf 'abcde\n')
	assert_equal "$(cat "$T/o")" "5:abcde,"
	printf 'ab\nabc\n' >"$T/in"
	run -3 --separate-stderr weir -p line --max-frame 5 "file:$T/in,max-frame=2" "write:$T/o"
	assert_equal "$stderr" "weir: file:$T/in: line: longer than max-frame (2), got 'c', at byte 5"
	assert_equal "$(cat "$T/o")" "ab"
}

# --- netstring errors: exit 3, exact message, earlier frames delivered --

# ns_error INPUT MESSAGE: weir -p netstring on INPUT (printf format) exits
# 3 with MESSAGE, after delivering the frame "1:a," that INPUT starts with.
ns_error() {
	# shellcheck disable=SC2059 # INPUT is a printf format on purpose.
	run -3 --separate-stderr weir -p netstring - "write:$T/o,proto=line" < <(printf "$1")
	assert_equal "$stderr" "$2"
	assert_equal "$(cat "$T/o")" "a"
}

@test "netstring: a leading zero is an error" {
	run -3 --separate-stderr weir -p netstring - - < <(printf '01:a,')
	assert_output ""
	assert_equal "$stderr" "weir: -: netstring: length has a leading zero, got '1', at byte 1"
	ns_error '1:a,01:a,' "weir: -: netstring: length has a leading zero, got '1', at byte 5"
	ns_error '1:a,00:,' "weir: -: netstring: length has a leading zero, got '0', at byte 5"
}

@test "netstring: a missing length is an error" {
	run -3 --separate-stderr weir -p netstring - - < <(printf ':a,')
	assert_equal "$stderr" "weir: -: netstring: length expected, got ':', at byte 0"
	ns_error '1:a,:a,' "weir: -: netstring: length expected, got ':', at byte 4"
	ns_error '1:a,-1:a,' "weir: -: netstring: length expected, got '-', at byte 4"
}

@test "netstring: a missing colon or a non-digit in the length is an error" {
	run -3 --separate-stderr weir -p netstring - - < <(printf '3aaa,')
	assert_equal "$stderr" "weir: -: netstring: ':' expected after the length, got 'a', at byte 1"
	ns_error '1:a,3aaa,' "weir: -: netstring: ':' expected after the length, got 'a', at byte 5"
	ns_error '1:a,1x:a,' "weir: -: netstring: ':' expected after the length, got 'x', at byte 5"
}

@test "netstring: a missing comma is an error" {
	run -3 --separate-stderr weir -p netstring - - < <(printf '3:abc;')
	assert_equal "$stderr" "weir: -: netstring: ',' expected after 3-byte payload, got ';', at byte 5"
	ns_error '1:a,3:abc;' "weir: -: netstring: ',' expected after 3-byte payload, got ';', at byte 9"
}

@test "netstring: end of input inside a frame is an error" {
	run -3 --separate-stderr weir -p netstring - "write:$T/o,proto=line" < <(printf '5:hello,3:ab')
	assert_equal "$stderr" "weir: -: netstring: end of input inside a frame, at byte 12"
	assert_equal "$(cat "$T/o")" "hello"
	ns_error '1:a,12' "weir: -: netstring: end of input inside a frame, at byte 6"
	ns_error '1:a,3:' "weir: -: netstring: end of input inside a frame, at byte 6"
	ns_error '1:a,3:abc' "weir: -: netstring: end of input inside a frame, at byte 9"
}

@test "netstring: non-printable bytes are shown as \\xHH" {
	ns_error '1:a,\001' "weir: -: netstring: length expected, got '\\x01', at byte 4"
	ns_error '1:a,3:abc\377' "weir: -: netstring: ',' expected after 3-byte payload, got '\\xff', at byte 9"
	ns_error '1:a,\n' "weir: -: netstring: length expected, got '\\x0a', at byte 4"
}

@test "netstring: a length over max-frame fails while the digits arrive" {
	run -3 --separate-stderr weir -p netstring - - < <(printf '99999999:')
	assert_equal "$stderr" "weir: -: netstring: length exceeds max-frame (1048576), got '9', at byte 6"
	ns_error '1:a,99999999999999999999:' "weir: -: netstring: length exceeds max-frame (1048576), got '9', at byte 10"
}

@test "netstring: a 20-digit length fails at once, the writer still holding the pipe" {
	# The writer keeps the pipe open after the digits: weir must not wait
	# for more.
	spawn_writer "$T/fifo" --hold '1:a,12345678901234567890'
	WEIR_TIMEOUT=5 run -3 --separate-stderr weir -p netstring - "write:$T/o,proto=line" <"$T/fifo"
	assert_equal "$stderr" "weir: -: netstring: length exceeds max-frame (1048576), got '7', at byte 10"
	assert_equal "$(cat "$T/o")" "a"
}

@test "netstring: an error split across writes" {
	run -3 --separate-stderr weir -p netstring - "write:$T/o,proto=line" \
		< <(writer --delay 0.05 '1:a,2' ':b' 'c,3:ab' 'c' ';1:z,')
	assert_equal "$stderr" "weir: -: netstring: ',' expected after 3-byte payload, got ';', at byte 14"
	assert_equal "$(cat "$T/o")" $'a\nbc'
}

@test "netstring: an error sent byte by byte by a TCP server" {
	start_peer "$T/r" serve --greet '1:a,2:bc,3:abc;1:z,' --chunk 1 --chunk-delay 0.005 --hold
	run -3 --separate-stderr weir -u -p netstring "$ADDR" "write:$T/o,proto=line" </dev/null
	assert_equal "$stderr" "weir: $ADDR: netstring: ',' expected after 3-byte payload, got ';', at byte 14"
	assert_equal "$(cat "$T/o")" $'a\nbc'
}

@test "netstring: an error on the RIGHT->LEFT direction exits 3 too" {
	start_peer "$T/r" serve --greet '2:ok,x' --out "$T/got"
	run -3 --separate-stderr weir -p netstring - "$ADDR" </dev/null
	assert_output "2:ok,"
	assert_equal "$stderr" "weir: $ADDR: netstring: length expected, got 'x', at byte 5"
}

# --- line errors and max-frame ------------------------------------------

@test "line: longer than max-frame is an error; earlier lines are delivered" {
	run -3 --separate-stderr weir -p line --max-frame 4 - - < <(printf 'ab\nabcd\nabcdefg\nz\n')
	assert_output $'ab\nabcd'
	assert_equal "$stderr" "weir: -: line: longer than max-frame (4), got 'e', at byte 12"
}

@test "line: a frame of exactly max-frame passes, one byte more fails" {
	run -0 --separate-stderr weir -p line --max-frame 4 - - < <(printf 'abcd\nabcd')
	assert_output $'abcd\nabcd'
	run -3 --separate-stderr weir -p line --max-frame 4 - - < <(printf 'abcde\n')
	assert_output ""
	assert_equal "$stderr" "weir: -: line: longer than max-frame (4), got 'e', at byte 4"
	# The last line, without delimiter, is checked as well.
	run -3 --separate-stderr weir -p line --max-frame 4 - - < <(printf 'a\nabcde')
	assert_output "a"
	assert_equal "$stderr" "weir: -: line: longer than max-frame (4), got 'e', at byte 6"
	# With crlf the dropped CR does not count.
	run -0 --separate-stderr weir -p line --delim crlf --max-frame 4 - "write:$T/o,proto=netstring" < <(printf 'abcd\r\n')
	assert_equal "$(cat "$T/o")" "4:abcd,"
}

@test "line: the default max-frame is 1M; k suffix" {
	head -c 1048576 /dev/zero | tr '\0' x >"$T/in"
	echo >>"$T/in"
	run -0 --separate-stderr weir -p line "file:$T/in" "write:$T/o"
	assert_same_file "$T/in" "$T/o"
	{ head -c 1048577 /dev/zero | tr '\0' x; echo; } >"$T/in"
	run -3 --separate-stderr weir -p line "file:$T/in" "write:$T/o"
	assert_equal "$stderr" "weir: file:$T/in: line: longer than max-frame (1048576), got 'x', at byte 1048576"
	{ head -c 1024 /dev/zero | tr '\0' y; echo; } >"$T/in"
	run -0 --separate-stderr weir -p line --max-frame 1k "file:$T/in" "write:$T/o"
	assert_same_file "$T/in" "$T/o"
	run -3 --separate-stderr weir -p line --max-frame 1023 "file:$T/in" "write:$T/o"
	assert_equal "$stderr" "weir: file:$T/in: line: longer than max-frame (1023), got 'y', at byte 1023"
}

@test "netstring: a frame of exactly max-frame passes, one byte more fails" {
	run -0 --separate-stderr weir -p netstring --max-frame 4 - - < <(printf '4:abcd,')
	assert_output "4:abcd,"
	run -3 --separate-stderr weir -p netstring --max-frame 4 - - < <(printf '1:a,5:abcde,')
	assert_output "1:a,"
	assert_equal "$stderr" "weir: -: netstring: length exceeds max-frame (4), got '5', at byte 4"
	run -3 --separate-stderr weir -p netstring --max-frame 9 - - < <(printf '10:abcdefghij,')
	assert_equal "$stderr" "weir: -: netstring: length exceeds max-frame (9), got '0', at byte 1"
}

@test "--oversize skip: line frames over max-frame are dropped and counted" {
	run -0 --separate-stderr weir --stats=json -p line --max-frame 4 --oversize skip - - \
		< <(printf 'ab\nabcdefgh\ncd\nabcde\nabcd\n')
	assert_output $'ab\ncd\nabcd'
	printf '%s\n' "$stderr" >"$T/err"
	assert_equal "$(stats_json "$T/err" left dropped)" 2
	assert_equal "$(stats_json "$T/err" left frames_in)" 3
	assert_equal "$(stats_json "$T/err" right frames_out)" 3
	assert_equal "$(stats_json "$T/err" right dropped)" 0
}

@test "--oversize skip: netstring frames over max-frame are dropped and counted" {
	run -0 --separate-stderr weir --stats=json -p netstring --max-frame 4 --oversize skip - - \
		< <(printf '2:ab,8:abcdefgh,2:cd,4:abcd,5:abcde,0:,')
	assert_output "2:ab,2:cd,4:abcd,0:,"
	printf '%s\n' "$stderr" >"$T/err"
	assert_equal "$(stats_json "$T/err" left dropped)" 2
	assert_equal "$(stats_json "$T/err" left frames_in)" 4
}

@test "--oversize skip: a skipped frame spanning many reads" {
	python3 -c '
import sys
w = sys.stdout.buffer.write
w(b"1:a,3000000:" + b"\n" * 3000000 + b",1:b,")' >"$T/in"
	run -0 --separate-stderr weir --stats=json -p netstring --max-frame 10 --oversize skip - "write:$T/o,proto=line" <"$T/in"
	assert_equal "$(cat "$T/o")" $'a\nb'
	printf '%s\n' "$stderr" >"$T/err"
	assert_equal "$(stats_json "$T/err" left dropped)" 1
	{ echo a; head -c 3000000 /dev/zero | tr '\0' x; echo; echo b; } >"$T/in"
	run -0 --separate-stderr weir --stats=json -p line --max-frame 10 --oversize skip - - <"$T/in"
	assert_output $'a\nb'
	printf '%s\n' "$stderr" >"$T/err"
	assert_equal "$(stats_json "$T/err" left dropped)" 1
}

@test "--oversize skip: a bad frame is still an error" {
	run -3 --separate-stderr weir -p netstring --max-frame 4 --oversize skip - - < <(printf '8:abcdefgh;1:a,')
	assert_equal "$stderr" "weir: -: netstring: ',' expected after 8-byte payload, got ';', at byte 10"
}

# --- -n, --max-frames ---------------------------------------------------

@test "-n N: N frames through a pipe, then exit 0" {
	run -0 --separate-stderr weir -p line -n 3 - - < <(seq 10)
	assert_output $'1\n2\n3'
	run -0 --separate-stderr weir -v -p line --max-frames 2 - "write:$T/o,proto=netstring" < <(seq 10)
	assert_equal "$(cat "$T/o")" "1:1,1:2,"
	[[ $stderr =~ (^|$'\n')"weir: 2 frames delivered: ending"($'\n'|$) ]] || fail "no ending line: $stderr"
}

@test "-n N: the N frames are all written to a slow consumer before the end" {
	run -0 --separate-stderr weir -p line -n 50000 --rate 256k - "write:$T/o" < <(seq 100000)
	seq 50000 >"$T/want"
	assert_same_file "$T/want" "$T/o"
}

@test "-n N: fewer frames than N end as usual" {
	run -0 --separate-stderr weir -p line -n 5 - - < <(printf 'a\nb\n')
	assert_output $'a\nb'
}

@test "-n with relay: a frame is one read" {
	run -0 --separate-stderr weir -n 1 - - < <(printf 'abc')
	assert_output "abc"
}

@test "-n ends weir while the writer keeps the pipe open" {
	spawn_writer "$T/fifo" --hold 'a\nb\nc'
	WEIR_TIMEOUT=5 run -0 --separate-stderr weir -p line -n 2 - - <"$T/fifo"
	assert_output $'a\nb'
}

@test "-n 1 with tcp-listen:0 prints one line and exits 0 while the client keeps sending" {
	seq 1000000 >"$T/many"
	spawn_peer client --connect-ready "$T/r" --send-file "$T/many" --no-shutdown --out "$T/got" </dev/null
	run -0 --separate-stderr weir --ready-file "$T/r" -p line -n 1 tcp-listen:0 - </dev/null
	assert_output "1"
	assert_equal "$stderr" ""
}

@test "-n with -U counts RIGHT -> LEFT" {
	run -0 --separate-stderr weir -U -p line -n 2 "write:$T/o" - < <(printf 'x\ny\nz\n')
	assert_equal "$(cat "$T/o")" $'x\ny'
	run -0 --separate-stderr weir -U -p line -n 2 - "file:$BATS_TEST_FILENAME" </dev/null
	assert_output "$(head -n 2 "$BATS_TEST_FILENAME")"
}

@test "-n counts the main direction only" {
	# The server greets with five lines (RIGHT -> LEFT); weir sends the
	# server only once the greeting is out, and ends after two lines
	# LEFT -> RIGHT.
	start_peer "$T/r" serve --greet 'g1\ng2\ng3\ng4\ng5\n' --out "$T/got"
	# shellcheck disable=SC2094 # out is read only once weir wrote it.
	two_way() {
		{
			wait_grep "$T/out" '^g5$' 5
			printf '1\n2\n3\n'
		} | "$WEIR" -p line -n 2 - "$ADDR" >"$T/out" 3>&-
	}
	run -0 --separate-stderr two_way
	wait_file "$T/got"
	assert_equal "$(cat "$T/got")" $'1\n2'
	assert_equal "$(cat "$T/out")" $'g1\ng2\ng3\ng4\ng5'
}

# --- listeners ------------------------------------------------------------

@test "a protocol error on an accepted connection closes it: exit 1, earlier frames delivered" {
	spawn_peer client --connect-ready "$T/r" --send '1:a,2:bc,3:abc;1:z,' --out "$T/got" </dev/null
	run -1 --separate-stderr weir --ready-file "$T/r" -p netstring tcp-listen:127.0.0.1:0 "write:$T/o,proto=line" </dev/null
	assert_equal "$(cat "$T/o")" $'a\nbc'
	[[ $stderr =~ ^"weir: tcp-listen:127.0.0.1:0 (127.0.0.1:"[0-9]+"): netstring: ',' expected after 3-byte payload, got ';', at byte 14"$ ]] ||
		fail "unexpected stderr: $stderr"
}

@test "a protocol error on an accepted Unix connection: exit 1" {
	spawn_peer client --connect-ready "$T/r" --send 'a\nb\nxyzxyz\nc\n' --out "$T/got" </dev/null
	run -1 --separate-stderr weir --ready-file "$T/r" -p line --max-frame 3 "unix-listen:$T/s" - </dev/null
	assert_output $'a\nb'
	assert_equal "$stderr" "weir: unix-listen:$T/s: line: longer than max-frame (3), got 'x', at byte 7"
}

@test "a protocol error on a connection accepted from a pipe-fed pair: exit 1 even with stdin open" {
	spawn_peer client --connect-ready "$T/r" --send '1:a,x' --no-shutdown --out "$T/got" </dev/null
	spawn_writer "$T/fifo" --hold
	WEIR_TIMEOUT=5 run -1 --separate-stderr weir --ready-file "$T/r" -p netstring tcp-listen:127.0.0.1:0 - <"$T/fifo"
	assert_output "1:a,"
	[[ $stderr == *"netstring: length expected, got 'x', at byte 4" ]] || fail "unexpected stderr: $stderr"
}

# --- volume and binary data ---------------------------------------------

@test "200k lines of random length through line, and through line -> netstring -> line" {
	python3 -c '
import random, sys
r = random.Random(7)
out = bytearray()
for _ in range(200000):
    n = r.randrange(0, 200) if r.random() < 0.999 else r.randrange(200, 70000)
    out += r.randbytes(n).replace(b"\n", b"x") + b"\n"
sys.stdout.buffer.write(out)' >"$T/in"
	run -0 --separate-stderr weir -p line "file:$T/in" "write:$T/o"
	assert_same_file "$T/in" "$T/o"
	pipeline() {
		"$WEIR" -p line - -,proto=netstring <"$T/in" 3>&- |
			"$WEIR" -p netstring - "write:$T/o2,proto=line" 3>&-
		local st=("${PIPESTATUS[@]}")
		((st[0] == 0 && st[1] == 0))
	}
	run -0 --separate-stderr pipeline
	assert_same_file "$T/in" "$T/o2"
}

@test "binary payloads (NUL, CR, LF, ':' and ',') round trip through netstring over TCP" {
	python3 -c '
import random, sys
r = random.Random(11)
frames = [b"", b"\0", b"\r\n", b"\n", b",", b":", b"1:a,"]
frames += [r.randbytes(r.randrange(0, 5000)) for _ in range(2000)]
sys.stdout.buffer.write(b"".join(b"%d:%s," % (len(f), f) for f in frames))
open(sys.argv[1], "wb").write(b"".join(frames))' "$T/payloads" >"$T/in.ns"
	start_weir "$T/r" -p netstring tcp-listen:127.0.0.1:0 "write:$T/out.ns" </dev/null 2>"$T/err"
	run -0 --separate-stderr weir -p netstring "file:$T/in.ns" "$ADDR"
	wait_exit "$WEIR_PID"
	assert_equal "$EXIT_STATUS" 0
	assert_same_file "$T/in.ns" "$T/out.ns"
	# The same through a listener that keeps only the payloads.
	start_weir "$T/r2" -p netstring tcp-listen:127.0.0.1:0 "write:$T/out.raw,proto=relay" </dev/null 2>"$T/err"
	run -0 --separate-stderr weir -p netstring "file:$T/in.ns" "$ADDR"
	wait_exit "$WEIR_PID"
	assert_equal "$EXIT_STATUS" 0
	assert_same_file "$T/payloads" "$T/out.raw"
}

@test "NUL-delimited records with CR and LF: line -> netstring -> line through two weirs" {
	printf 'a\r\nb\0\0c\nd\r\0plain\0' >"$T/in"
	start_weir "$T/r" -p netstring tcp-listen:127.0.0.1:0 "write:$T/o,proto=line,delim=nul" </dev/null 2>"$T/err"
	run -0 --separate-stderr weir -p line --delim nul "file:$T/in" "$ADDR,proto=netstring"
	wait_exit "$WEIR_PID"
	assert_equal "$EXIT_STATUS" 0
	assert_same_file "$T/in" "$T/o"
}

# --- usage errors -----------------------------------------------------------

@test "bad protocol options are usage errors naming the option" {
	local args
	for args in "-p foo" "--proto=bogus" "--proto=" "--delim xx" "--delim \\xZZ" \
		"--delim \\x0" "--delim=" "--max-frame 0" "--max-frame x" "--max-frame -1" \
		"--max-frame=1Q" "--oversize drop" "--oversize=" "-n 0" "-n x" "-n 1.5" \
		"--max-frames -1" "--max-frames=0"; do
		# shellcheck disable=SC2086
		run -2 --separate-stderr weir $args - "write:$T/w" </dev/null
		assert_output ""
		[[ $stderr == "weir: "*$'\n'"Try 'weir --help'." ]] ||
			fail "weir $args: unexpected stderr: $stderr"
		local opt=${args%%[ =]*}
		case $opt in
		-p | --proto) [[ $stderr == "weir: -p: "* || $stderr == "weir: --proto: "* ]] ;;
		-n | --max-frames) [[ $stderr == "weir: -n: "* || $stderr == "weir: --max-frames: "* ]] ;;
		*) [[ $stderr == "weir: $opt: "* ]] ;;
		esac || fail "weir $args: message does not name the option: $stderr"
		assert_not_exist "$T/w"
	done
}

@test "bad protocol address options are usage errors naming the address" {
	local a
	for a in "write:$T/w,proto=x" "write:$T/w,proto=" "write:$T/w,delim=xx" \
		"write:$T/w,delim=" "write:$T/w,max-frame=0" "write:$T/w,max-frame=k"; do
		run -2 --separate-stderr weir - "$a" </dev/null
		assert_output ""
		[[ $stderr == "weir: $a: "*$'\n'"Try 'weir --help'." ]] ||
			fail "weir - $a: unexpected stderr: $stderr"
		assert_not_exist "$T/w"
	done
}

@test "the exact messages of bad protocol values" {
	run -2 --separate-stderr weir -p foo - - </dev/null
	assert_usage_error "weir: -p: unknown protocol 'foo' (relay, line or netstring)"
	run -2 --separate-stderr weir --oversize drop - - </dev/null
	assert_usage_error "weir: --oversize: unknown action 'drop' (error or skip)"
	run -2 --separate-stderr weir - "write:$T/w,proto=x" </dev/null
	assert_usage_error "weir: write:$T/w,proto=x: unknown protocol 'x' (relay, line or netstring)"
}
