#!/usr/bin/env bats
# Hostile input: huge netstring lengths, lines over --max-frame, binary data
# in every protocol, invalid UTF-8 in addresses and options, shell
# metacharacters through exec:, very long addresses.  Each is a clear error
# or exact delivery, never a crash or unbounded memory.

load helper

rss_limit 16384 49152

# timed_weir RSS_FILE ARGS...: weir in the foreground, bounded in time, its
# peak RSS in KiB written to RSS_FILE by GNU time.
timed_weir() {
	local rss=$1
	shift
	timeout -k 2 "$WEIR_TIMEOUT" "$GNU_TIME" -o "$rss" -f %M "$WEIR" "$@" 3>&-
}

# assert_rss_small FILE WHAT: the peak RSS GNU time wrote last in FILE is
# under the bound.
assert_rss_small() {
	local rss
	rss=$(tail -n 1 "$1")
	[[ $rss =~ ^[0-9]+$ ]] || fail "no RSS figure in $1: $(cat "$1")"
	((rss < RSS_LIMIT_KIB)) || fail "peak RSS $rss KiB for $2"
}

# assert_usage STDERR: a usage error's two lines, "weir: " first.
assert_usage() {
	[[ $stderr == "weir: "*$'\n'"Try 'weir --help'." ]] ||
		fail "not a usage error: $stderr"
	(($(printf '%s\n' "$stderr" | wc -l) == 2)) ||
		fail "a usage error of more than two lines: $stderr"
}

# weir_err FILE ARGS...: weir with its standard error in FILE.
weir_err() {
	local f=$1
	shift
	weir "$@" 2>"$f"
}

# usage_named NAMES ARGS...: weir ARGS exits 2 with a usage error naming
# one of NAMES (a |-separated list) and holding no control byte but its
# newlines. Read from a file: a shell variable would drop a NUL.
usage_named() {
	local names=$1 name ok=
	shift
	run -2 --separate-stderr weir_err "$T/usage.err" "$@" </dev/null
	assert_output ""
	stderr=$(tr -d '\000' <"$T/usage.err")
	assert_usage "$stderr"
	if (($(LC_ALL=C tr -d '\n\040-\176\200-\377' <"$T/usage.err" | wc -c) != 0)); then
		fail "control bytes in: $(od -c "$T/usage.err" | head -n 3)"
	fi
	IFS='|' read -ra names <<<"$names"
	for name in "${names[@]}"; do
		[[ $stderr == "weir: $name: "* ]] && ok=1
	done
	[[ -n $ok ]] || fail "message does not name ${names[*]}: $stderr"
}

# mkbin FILE SEED: 256 KiB holding every byte value, then 256 KiB random.
mkbin() {
	python3 -c '
import random, sys
r = random.Random(int(sys.argv[2]))
data = bytes(range(256)) * 1024 + r.randbytes(256 * 1024)
open(sys.argv[1], "wb").write(data)' "$1" "$2"
}

# mkframes PAYLOADS NETSTRINGS: frames of every byte value (netstring
# specials on their own too), their payloads back to back in PAYLOADS and
# encoded in NETSTRINGS.
mkframes() {
	python3 -c '
import random, sys
r = random.Random(5)
frames = [b"", b"\0", b"\r", b"\n", b"\r\n", b":", b",", b"0:,", b"1:a,",
          bytes(range(256))]
frames += [r.randbytes(r.randrange(0, 3000)) for _ in range(400)]
open(sys.argv[1], "wb").write(b"".join(frames))
open(sys.argv[2], "wb").write(b"".join(b"%d:%s," % (len(f), f) for f in frames))
' "$1" "$2"
}

# mkrecords FILE DELIM: records holding every byte value but DELIM (a
# byte number), each ended by DELIM, empty ones included.
mkrecords() {
	python3 -c '
import random, sys
d = int(sys.argv[2])
r = random.Random(9)
alphabet = bytes(b for b in range(256) if b != d)
recs = [b"", alphabet, b"\r", b"\0", b"\n", b"\r\n", b"\0\r\n"]
recs = [x.replace(bytes([d]), b"") for x in recs]
recs += [bytes(r.choice(alphabet) for _ in range(r.randrange(0, 2000)))
         for _ in range(300)]
open(sys.argv[1], "wb").write(b"".join(x + bytes([d]) for x in recs))
' "$1" "$2"
}

# tcp_sink READY ARGS...: a weir listener on 127.0.0.1 port 0, then ARGS
# (options and the RIGHT address); sets ADDR and WEIR_PID.
tcp_sink() {
	local readyf=$1
	shift
	start_weir "$readyf" tcp-listen:127.0.0.1:0 "$@" </dev/null 2>"$T/sink.err"
}

# sink_done: the listener of tcp_sink exits 0 with nothing on stderr.
sink_done() {
	wait_exit "$WEIR_PID" 20
	assert_equal "$EXIT_STATUS" 0
	assert_file_empty "$T/sink.err"
}

# fifo_client ADDR: a weir client of ADDR fed by the test through
# descriptor 5 (write to it with >&5, close it with exec 5>&-); sets
# CLIENT_PID. The pipe is opened read-write so nothing blocks.
fifo_client() {
	mkfifo "$T/fifo"
	exec 5<>"$T/fifo"
	spawn "$WEIR" -u - "$1" <"$T/fifo" 5>&- 2>"$T/client.err"
	CLIENT_PID=$LAST_PID
}

# --- netstring lengths --------------------------------------------------

@test "netstring: lengths of 20, 40 and 400 digits fail at once, exit 3, memory stays small" {
	need_time
	local digits
	for digits in "$(printf '9%.0s' {1..20})" "$(printf '9%.0s' {1..40})" "1$(printf '0%.0s' {1..399})"; do
		rm -f "$T/fifo" "$T/o"
		# The writer holds the pipe open after the digits: weir must not
		# wait for more.
		spawn_writer "$T/fifo" --hold "1:a,$digits:"
		run -3 --separate-stderr timed_weir "$T/rss" -p netstring - "write:$T/o,proto=line" <"$T/fifo"
		if [[ $digits == 1* ]]; then
			assert_equal "$stderr" "weir: -: netstring: length exceeds max-frame (1048576), got '0', at byte 11"
		else
			assert_equal "$stderr" "weir: -: netstring: length exceeds max-frame (1048576), got '9', at byte 10"
		fi
		assert_equal "$(cat "$T/o")" "a"
		assert_rss_small "$T/rss" "a ${#digits}-digit length"
	done
}

@test "netstring: 20+ digit lengths under --max-frame 1G and --oversize skip are still errors" {
	# Skipping needs the length; one that cannot be a max-frame is an error.
	run -3 --separate-stderr weir -p netstring --max-frame 1G --oversize skip - - < <(printf '1:a,99999999999999999999:b,1:z,')
	assert_output "1:a,"
	assert_equal "$stderr" "weir: -: netstring: length too large, got '9', at byte 23"
	run -3 --separate-stderr weir -p netstring --max-frame 1G --oversize skip - - < <(printf '18446744073709551616:')
	assert_output ""
	assert_equal "$stderr" "weir: -: netstring: length too large, got '6', at byte 19"
	run -3 --separate-stderr weir -p netstring --max-frame 1G - - < <(printf '18446744073709551616:')
	assert_output ""
	assert_equal "$stderr" "weir: -: netstring: length exceeds max-frame (1073741824), got '7', at byte 9"
}

@test "netstring: a length just over --max-frame fails, exit 3; --oversize skip skips that frame alone" {
	python3 -c '
import sys
w = sys.stdout.buffer.write
w(b"1:a,1000:" + b"x" * 1000 + b",1001:" + b"\0,:\n" * 250 + b"y," + b"1:z,")' >"$T/in"
	run -3 --separate-stderr weir -p netstring --max-frame 1000 "file:$T/in" "write:$T/o,proto=line"
	assert_equal "$stderr" "weir: file:$T/in: netstring: length exceeds max-frame (1000), got '1', at byte 1013"
	assert_equal "$(cat "$T/o")" "a"$'\n'"$(printf 'x%.0s' {1..1000})"
	run -0 --separate-stderr weir --stats=json -p netstring --max-frame 1000 --oversize skip "file:$T/in" "write:$T/o,proto=line"
	assert_equal "$(cat "$T/o")" "a"$'\n'"$(printf 'x%.0s' {1..1000})"$'\n'"z"
	printf '%s\n' "$stderr" >"$T/err"
	assert_equal "$(stats_json "$T/err" left dropped)" 1
	assert_equal "$(stats_json "$T/err" left frames_in)" 3
	assert_equal "$(stats_json "$T/err" right frames_out)" 3
}

@test "netstring: a huge length with little data: exit 3 at the end, memory follows the data, not the length" {
	need_time
	{
		printf '1073741824:'
		head -c 4M /dev/zero
	} >"$T/in"
	run -3 --separate-stderr timed_weir "$T/rss" -p netstring --max-frame 1G - - <"$T/in"
	assert_output ""
	assert_equal "$stderr" "weir: -: netstring: end of input inside a frame, at byte 4194315"
	assert_rss_small "$T/rss" "a 1 GiB length with 4 MiB of data"
	# Nothing at all after the colon.
	run -3 --separate-stderr timed_weir "$T/rss" -p netstring --max-frame 1G - - < <(printf '1:a,1073741824:')
	assert_output "1:a,"
	assert_equal "$stderr" "weir: -: netstring: end of input inside a frame, at byte 15"
	assert_rss_small "$T/rss" "a 1 GiB length with no data"
}

# --- lines over max-frame -------------------------------------------------

@test "line: a 64 MiB line at the default max-frame fails, exit 3, memory stays small" {
	need_time
	pipeline() {
		{
			echo a
			head -c 64M /dev/zero | tr '\0' x
			echo
			echo b
		} | timed_weir "$T/rss" -p line - -
		local st=("${PIPESTATUS[@]}")
		return "${st[1]}"
	}
	run -3 --separate-stderr pipeline
	assert_output "a"
	assert_equal "$stderr" "weir: -: line: longer than max-frame (1048576), got 'x', at byte 1048578"
	assert_rss_small "$T/rss" "a 64 MiB line"
}

@test "line: --oversize skip drops a 64 MiB line, the lines around it are delivered, memory stays small" {
	need_time
	pipeline() {
		{
			echo a
			head -c 64M /dev/zero | tr '\0' x
			echo
			echo b
		} | timed_weir "$T/rss" --stats=json -p line --oversize skip - -
		local st=("${PIPESTATUS[@]}")
		return "${st[1]}"
	}
	run -0 --separate-stderr pipeline
	assert_output $'a\nb'
	printf '%s\n' "$stderr" >"$T/err"
	assert_equal "$(stats_json "$T/err" left dropped)" 1
	assert_equal "$(stats_json "$T/err" left frames_in)" 2
	assert_equal "$(stats_json "$T/err" left bytes_in)" $((64 * 1048576 + 5))
	assert_equal "$(stats_json "$T/err" right frames_out)" 2
	assert_rss_small "$T/rss" "a skipped 64 MiB line"
}

@test "line: --max-frame 1 with --oversize skip: only the empty and one-byte lines pass" {
	printf 'ab\n\nc\nxyz\n\0\n\r\n' >"$T/in"
	printf '\nc\n\0\n\r\n' >"$T/want"
	run -0 --separate-stderr weir_to "$T/o" -p line --max-frame 1 --oversize skip - - <"$T/in"
	assert_equal "$stderr" ""
	assert_same_file "$T/want" "$T/o"
}

# bad_client_closed_alone PROTO MAX-FRAME BAD MESSAGE-PATTERN: under a -k
# listener fanning in to one file, a client sending BAD is closed and
# logged while another, connected before and writing after, goes on.
bad_client_closed_alone() {
	local proto=$1 max=$2 bad=$3 pattern=$4 enc1 enc2
	if [[ $proto == line ]]; then
		enc1=$'good1\n' enc2=$'good2\n'
	else
		enc1='5:good1,' enc2='5:good2,'
	fi
	rm -f "$T/r"
	spawn_weir_sig -k --stats=json --ready-file "$T/r" -p "$proto" --max-frame "$max" \
		tcp-listen:127.0.0.1:0 "write:$T/o,proto=line" </dev/null 2>"$T/err"
	ADDR=$(ready_addr "$T/r")
	fifo_client "$ADDR"
	printf '%s' "$enc1" >&5
	wait_lines "$T/o" 1 20
	run -0 --separate-stderr peer client --connect "$ADDR" --send "$bad" --out "$T/bad.out"
	assert_output ""
	wait_grep "$T/err" "$pattern" 20
	printf '%s' "$enc2" >&5
	exec 5>&-
	wait_exit "$CLIENT_PID" 20
	assert_equal "$EXIT_STATUS" 0
	assert_file_empty "$T/client.err"
	wait_lines "$T/o" 3 20
	kill -TERM "$WEIR_PID"
	wait_exit "$WRAP_PID" 20
	assert_equal "$EXIT_STATUS" 143
	assert_equal "$(stats_json "$T/err" left connections)" 2
	assert_equal "$(stats_json "$T/err" left errors)" 1
	assert_equal "$(stats_json "$T/err" right frames_out)" 3
	assert_equal "$(stats_json "$T/err" right errors)" 0
	# One line for the bad client, one for the stats, nothing else.
	assert_equal "$(grep -c '' "$T/err")" 2
}

@test "line: under a -k listener a client sending a line over max-frame is closed alone" {
	bad_client_closed_alone line 8 'bad1\nxxxxxxxxxxxxxxxxxxxxxx\nbad2\n' \
		"^weir: tcp-listen:127\.0\.0\.1:0 \(127\.0\.0\.1:[0-9]+\): line: longer than max-frame \(8\), got 'x', at byte 13$"
	assert_equal "$(cat "$T/o")" $'good1\nbad1\ngood2'
}

@test "netstring: under a -k listener a client sending a 20-digit length is closed alone" {
	bad_client_closed_alone netstring 1M '4:bad1,99999999999999999999:xyz,4:bad2,' \
		"^weir: tcp-listen:127\.0\.0\.1:0 \(127\.0\.0\.1:[0-9]+\): netstring: length exceeds max-frame \(1048576\), got '9', at byte 13$"
	assert_equal "$(cat "$T/o")" $'good1\nbad1\ngood2'
}

# --- binary data ------------------------------------------------------------

@test "relay: every byte value passes exactly through stdio, file and TCP" {
	mkbin "$T/in" 1
	run -0 --separate-stderr weir_to "$T/o1" - - <"$T/in"
	assert_equal "$stderr" ""
	assert_same_file "$T/in" "$T/o1"
	run -0 --separate-stderr weir "file:$T/in" "write:$T/o2"
	assert_same_file "$T/in" "$T/o2"
	tcp_sink "$T/r" "write:$T/o3"
	run -0 --separate-stderr weir "file:$T/in" "$ADDR"
	sink_done
	assert_same_file "$T/in" "$T/o3"
	# And back from a TCP server to standard output.
	start_peer "$T/r2" serve --greet-file "$T/in" --greet-close
	run -0 --separate-stderr weir_to "$T/o4" -u "$ADDR" - </dev/null
	assert_same_file "$T/in" "$T/o4"
}

@test "netstring: frames holding NUL, CR, LF, ':', ',' and every byte value pass exactly through stdio, file and TCP" {
	mkframes "$T/payloads" "$T/in"
	run -0 --separate-stderr weir_to "$T/o1" -p netstring - - <"$T/in"
	assert_same_file "$T/in" "$T/o1"
	run -0 --separate-stderr weir -p netstring "file:$T/in" "write:$T/o2"
	assert_same_file "$T/in" "$T/o2"
	run -0 --separate-stderr weir -p netstring "file:$T/in" "write:$T/o3,proto=relay"
	assert_same_file "$T/payloads" "$T/o3"
	tcp_sink "$T/r" -p netstring "write:$T/o4"
	run -0 --separate-stderr weir -p netstring - "$ADDR" <"$T/in"
	sink_done
	assert_same_file "$T/in" "$T/o4"
}

@test "line --delim nul: records with CR, LF and every other byte pass exactly through stdio, file and TCP" {
	mkrecords "$T/in" 0
	run -0 --separate-stderr weir_to "$T/o1" -p line --delim nul - - <"$T/in"
	assert_same_file "$T/in" "$T/o1"
	run -0 --separate-stderr weir -p line --delim nul "file:$T/in" "write:$T/o2"
	assert_same_file "$T/in" "$T/o2"
	tcp_sink "$T/r" -p line --delim nul "write:$T/o3"
	run -0 --separate-stderr weir -p line --delim nul "file:$T/in" "$ADDR"
	sink_done
	assert_same_file "$T/in" "$T/o3"
	# Through netstring and back.
	run -0 --separate-stderr weir -p line --delim nul "file:$T/in" "write:$T/o4,proto=netstring"
	run -0 --separate-stderr weir -p netstring "file:$T/o4" "write:$T/o5,proto=line,delim=nul"
	assert_same_file "$T/in" "$T/o5"
}

@test "line -> netstring -> line: records with NUL, CR and every byte but LF round trip through stdio, file and TCP" {
	mkrecords "$T/in" 10
	pipeline() {
		"$WEIR" -p line - -,proto=netstring <"$T/in" 3>&- |
			"$WEIR" -p netstring - "write:$T/o1,proto=line" 3>&-
		local st=("${PIPESTATUS[@]}")
		((st[0] == 0 && st[1] == 0))
	}
	run -0 --separate-stderr pipeline
	assert_equal "$stderr" ""
	assert_same_file "$T/in" "$T/o1"
	run -0 --separate-stderr weir -p line "file:$T/in" "write:$T/ns,proto=netstring"
	run -0 --separate-stderr weir -p netstring "file:$T/ns" "write:$T/o2,proto=line"
	assert_same_file "$T/in" "$T/o2"
	tcp_sink "$T/r" -p netstring "write:$T/o3,proto=line"
	run -0 --separate-stderr weir -p line "file:$T/in" "$ADDR,proto=netstring"
	sink_done
	assert_same_file "$T/in" "$T/o3"
}

# --- invalid UTF-8 ------------------------------------------------------------

@test "paths with invalid UTF-8: file:, write: and append: use exactly those bytes" {
	local name=$'\xff\xfe' names
	mkdir "$T/d"
	printf 'one\n' >"$T/src"
	run -0 --separate-stderr weir "file:$T/src" "write:$T/d/$name"
	assert_equal "$stderr" ""
	run -0 --separate-stderr weir - "append:$T/d/$name" < <(printf 'two\n')
	names=("$T/d/"*)
	assert_equal "${#names[@]}" 1
	assert_equal "${names[0]}" "$T/d/$name"
	assert_equal "$(cat "$T/d/$name")" $'one\ntwo'
	run -0 --separate-stderr weir "file:$T/d/$name" -
	assert_output $'one\ntwo'
	# A missing one is named in the message, exit 1.
	run -1 --separate-stderr weir "file:$T/d/$name$name" -
	assert_equal "$stderr" "weir: file:$T/d/$name$name: No such file or directory"
}

@test "unix-listen: with an invalid UTF-8 path: the socket has exactly those bytes, a client gets through" {
	local name=$'\xff\xfe.s' names
	mkdir "$T/d"
	start_weir "$T/d/r"$'\xff' "unix-listen:$T/d/$name" "write:$T/o" </dev/null 2>"$T/err"
	assert_equal "$ADDR" "unix:$T/d/$name"
	names=("$T/d/"*.s)
	assert_equal "${#names[@]}" 1
	assert_equal "${names[0]}" "$T/d/$name"
	[[ -S $T/d/$name ]] || fail "no socket at $T/d/$name"
	run -0 --separate-stderr weir -u - "$ADDR" < <(printf 'through\n')
	wait_exit "$WEIR_PID"
	assert_equal "$EXIT_STATUS" 0
	assert_equal "$(cat "$T/o")" "through"
	assert_not_exist "$T/d/$name"
	assert_file_empty "$T/err"
}

@test "a hostname with invalid UTF-8 is a usage error" {
	local a
	for a in tcp:$'\xff\xfe':80 tcp-listen:$'\xff\xfe':0 tcp:$'[\xff]':80; do
		run -2 --separate-stderr weir - "$a" </dev/null
		assert_output ""
		assert_usage "$stderr"
		[[ $stderr == "weir: $a: "* ]] || fail "message does not name $a: $stderr"
	done
}

@test "options and address options with invalid UTF-8 are usage errors naming them" {
	local x=$'\xff\xfe' args opt
	for args in "-p $x" "--delim $x" "--delim \\x$x" "--max-frame 1$x" "--oversize $x" \
		"--slow $x" "--stats=$x" "--allow $x" "--deny 10.0.0.0/$x" "-q $x" "-w 1$x" \
		"-i $x" "-n $x" "-m $x" "--high-water $x" "--low-water $x" "--rate $x" \
		"--$x"; do
		# shellcheck disable=SC2086
		run -2 --separate-stderr weir $args - "write:$T/w" </dev/null
		assert_output ""
		assert_usage "$stderr"
		opt=${args%%[ =]*}
		[[ $stderr == "weir: $opt: "* || $stderr == "weir: --proto: "* && $opt == -p ]] ||
			fail "weir $args: message does not name $opt: $stderr"
		assert_not_exist "$T/w"
	done
	# An unknown short option is named by its first byte.
	run -2 --separate-stderr weir "-$x" - "write:$T/w" </dev/null
	assert_usage "$stderr"
	[[ $stderr == "weir: -"$'\xff'": "* ]] || fail "message does not name -\\xff: $stderr"
	for args in "write:$T/w,proto=$x" "write:$T/w,delim=$x" "write:$T/w,max-frame=$x" \
		"write:$T/w,rate=$x" "write:$T/w,high-water=$x" \
		"$x:$T/w" "unix-listen:$T/w,mode=$x" "fd:$x"; do
		run -2 --separate-stderr weir - "$args" </dev/null
		assert_output ""
		assert_usage "$stderr"
		[[ $stderr == "weir: $args: "* ]] || fail "message does not name $args: $stderr"
		assert_not_exist "$T/w"
	done
}

# --- what the fuzzer found ------------------------------------------------------

# short_of LONG: the short option of a long one ("-" when there is none).
short_of() {
	case $1 in
	--proto) echo -p ;;
	--max-frames) echo -n ;;
	--max-conns) echo -m ;;
	--eof-timeout) echo -q ;;
	--connect-timeout) echo -w ;;
	--idle-timeout) echo -i ;;
	--keep-open) echo -k ;;
	--verbose) echo -v ;;
	--hexdump) echo -x ;;
	*) echo - ;;
	esac
}

@test "a long option missing its argument, or given one it does not take, is named in the message" {
	local opt
	# tests/fuzz/corpus/cli/regress-long-missing-arg: "--high-", alone.
	usage_named "--high-|--high-water" --high-
	for opt in --high-water --low-water --rate --delim --max-frame --oversize --slow \
		--allow --deny --ready-file --proto --max-frames --max-conns --eof-timeout \
		--connect-timeout --idle-timeout; do
		usage_named "$opt|$(short_of "$opt")" - - "$opt"
	done
	# tests/fuzz/corpus/cli/regress-long-with-arg: "--share=1 -".
	for opt in --share --broker --keep-open --verbose --hexdump; do
		usage_named "$opt|$opt=1|$(short_of "$opt")" "$opt=1" -
	done
}

# --- exec: and shell metacharacters ----------------------------------------------

@test "exec: shell metacharacters from a TCP peer reach the child's stdin exactly and run nothing" {
	local payload
	# shellcheck disable=SC2016 # the peer's bytes, never expanded here.
	payload='$(touch '"$T"'/X1)\n; touch '"$T"'/X2\n`touch '"$T"'/X3`\n| touch '"$T"'/X4 && touch '"$T"'/X5\n'"'"'"$(touch '"$T"'/X6)"\n\x00\r\n$IFS${PATH}*?[a]~\\\n'
	printf '%b' "$payload" >"$T/want"
	cd "$T"
	start_weir "$T/r" tcp-listen:127.0.0.1:0 exec:cat </dev/null >/dev/null 2>"$T/err"
	run -0 --separate-stderr peer client --connect "$ADDR" --send "$payload" --out "$T/got"
	wait_exit "$WEIR_PID"
	assert_equal "$EXIT_STATUS" 0
	assert_same_file "$T/want" "$T/got"
	start_weir "$T/r2" tcp-listen:127.0.0.1:0 exec:'wc -c' </dev/null >/dev/null 2>"$T/err2"
	run -0 --separate-stderr peer client --connect "$ADDR" --send "$payload" --out "$T/count"
	wait_exit "$WEIR_PID"
	assert_equal "$EXIT_STATUS" 0
	assert_equal "$(tr -d ' ' <"$T/count")" "$(wc -c <"$T/want" | tr -d ' ')"
	# The child's stdin, as a file it wrote itself.
	run -0 --separate-stderr weir -u - exec:"cat >'$T/stdin'" <"$T/want"
	assert_same_file "$T/want" "$T/stdin"
	local k
	for k in 1 2 3 4 5 6; do
		assert_not_exist "$T/X$k"
	done
	assert_file_empty "$T/err"
	assert_file_empty "$T/err2"
}

@test "exec: per connection under -k, each peer's metacharacters stay data" {
	spawn_weir_sig -k --ready-file "$T/r" tcp-listen:127.0.0.1:0 exec:'tr a-z A-Z' </dev/null >/dev/null 2>"$T/err"
	ADDR=$(ready_addr "$T/r")
	# Not i: bats' run sets it.
	local k
	for k in 1 2 3; do
		# shellcheck disable=SC2016 # the peer's bytes, never expanded here.
		run -0 --separate-stderr peer client --connect "$ADDR" --send '$(touch '"$T"'/Y'"$k"');`touch '"$T"'/Z'"$k"'`\n'
		# shellcheck disable=SC2016
		assert_output '$(TOUCH '"${T^^}"'/Y'"$k"');`TOUCH '"${T^^}"'/Z'"$k"'`'
		assert_not_exist "$T/Y$k"
		assert_not_exist "$T/Z$k"
	done
	kill -TERM "$WEIR_PID"
	wait_exit "$WRAP_PID" 20
	assert_equal "$EXIT_STATUS" 143
	assert_file_empty "$T/err"
}

# --- very long addresses ----------------------------------------------------------

@test "a 100 KB path is a usage error that says so, and creates nothing" {
	local long a
	long=$(head -c 100000 /dev/zero | tr '\0' a)
	for a in "unix:$T/$long" "unix-listen:$T/$long" "write:$T/$long" "append:$T/$long" "file:$T/$long"; do
		run -2 --separate-stderr weir - "$a" </dev/null
		assert_output ""
		assert_usage "$stderr"
		[[ $stderr == *"too long"* ]] || fail "${a:0:20}...: no reason given: ${stderr: -200}"
	done
	run -0 ls -A "$T"
	refute_output --partial aaaa
}

@test "a 100 KB host or port is a usage error" {
	local long digits a
	long=$(head -c 100000 /dev/zero | tr '\0' a)
	digits=$(head -c 100000 /dev/zero | tr '\0' 9)
	for a in "tcp:127.0.0.1:$digits" "tcp-listen:$digits" "fd:$digits" "tcp:$long:80" "tcp-listen:$long:0"; do
		run -2 --separate-stderr weir - "$a" </dev/null
		assert_output ""
		assert_usage "$stderr"
	done
}

@test "thousands of address options: all good ones apply, one bad or empty piece is a usage error" {
	local opts bad
	# Twice this stays under the kernel's 128 KiB for one argument.
	opts=$(printf ',rate=1M,high-water=64k%.0s' {1..2000})
	run -0 --separate-stderr weir - "write:$T/o$opts" < <(printf 'kept\n')
	assert_equal "$stderr" ""
	assert_equal "$(cat "$T/o")" "kept"
	for bad in ",bogus=1" ",rate" ",rate=0" "," ",,"; do
		rm -f "$T/o"
		run -2 --separate-stderr weir - "write:$T/o$opts$bad$opts" </dev/null
		assert_output ""
		assert_usage "$stderr"
		[[ $stderr == "weir: write:$T/o,rate=1M,"* ]] || fail "message does not name the address"
		assert_not_exist "$T/o"
	done
	# Commas that start no option are the path's own; nothing but commas.
	rm -f "$T"/o*
	run -0 weir - "write:$T/o$(printf ',%.0s' {1..200})" </dev/null
	assert_exist "$T/o$(printf ',%.0s' {1..200})"
	rm -f "$T"/o*
	run -2 --separate-stderr weir - "$(printf ',%.0s' {1..5000})" </dev/null
	assert_usage "$stderr"
	assert_not_exist "$T/o"
}
