#!/usr/bin/env bats
# Flow control, rate limits, --stats, -x, -v, --ready-file.

load helper

rss_limit 16384 49152


@test "backpressure: 64 MiB into a stalled reader pauses weir, memory stays bounded" {
	need_time
	# The reader sleeps 0.5 s before it reads: without backpressure weir
	# would hold most of the 64 MiB.
	pipeline() {
		head -c 64M /dev/zero |
			"$GNU_TIME" -o "$T/rss" -f %M "$WEIR" -v -u - - 3>&- |
			python3 "$PEER" slowread --delay 0.5 --count-file "$T/count"
		local st=("${PIPESTATUS[@]}")
		return "${st[1]}"
	}
	run -0 --separate-stderr pipeline
	assert_equal "$(cat "$T/count")" 67108864
	[[ $stderr =~ (^|$'\n')"weir: pause - (sink - holds "[0-9]+" B"(" >= high-water"|": its pipe is full")")"($'\n'|$) ]] ||
		fail "no pause logged: $stderr"
	[[ $stderr =~ (^|$'\n')"weir: resume - (sink - holds "[0-9]+" B <= low-water)"($'\n'|$) ]] ||
		fail "no resume logged: $stderr"
	local rss
	rss=$(peak_rss "$T/rss")
	((rss < RSS_LIMIT_KIB)) || fail "peak RSS $rss KiB for 64 MiB through weir"
}

@test "backpressure: 64 MiB into a TCP server that reads late, memory stays bounded" {
	need_time
	start_peer "$T/r" serve --read-delay 1 --count-file "$T/count"
	pipeline() {
		head -c 64M /dev/zero |
			"$GNU_TIME" -o "$T/rss" -f %M "$WEIR" -v --stats=json -u - "$ADDR" 3>&-
		local st=("${PIPESTATUS[@]}")
		return "${st[1]}"
	}
	run -0 --separate-stderr pipeline
	wait_file "$T/count"
	assert_equal "$(cat "$T/count")" 67108864
	printf '%s\n' "$stderr" >"$T/err"
	assert_conserved "$T/err"
	assert_equal "$(stats_json "$T/err" right bytes_out)" 67108864
	[[ $stderr =~ (^|$'\n')"weir: pause - (sink $ADDR holds "[0-9]+" B"(" >= high-water"|": its pipe is full")")"($'\n'|$) ]] ||
		fail "no pause logged: $stderr"
	local rss
	rss=$(peak_rss "$T/rss")
	((rss < RSS_LIMIT_KIB)) || fail "peak RSS $rss KiB for 64 MiB through weir"
}

@test "backpressure: a regular file source pauses too, memory stays bounded" {
	need_time
	head -c 32M /dev/zero >"$T/in"
	pipeline() {
		"$GNU_TIME" -o "$T/rss" -f %M "$WEIR" -v -u "file:$T/in" - 3>&- </dev/null |
			python3 "$PEER" slowread --delay 0.5 --count-file "$T/count"
		local st=("${PIPESTATUS[@]}")
		return "${st[0]}"
	}
	run -0 --separate-stderr pipeline
	assert_equal "$(cat "$T/count")" 33554432
	[[ $stderr == *"weir: pause file:$T/in (sink - holds "* ]] || fail "no pause logged: $stderr"
	local rss
	rss=$(peak_rss "$T/rss")
	((rss < RSS_LIMIT_KIB)) || fail "peak RSS $rss KiB for 32 MiB through weir"
}

@test "--high-water and --low-water set where weir pauses and resumes" {
	# The reader stalls at first for long enough that weir, however slow
	# to start (under valgrind), fills its buffer and pauses.
	pipeline() {
		head -c 8M /dev/zero |
			"$WEIR" -v --high-water 64k --low-water 16k -u - - 3>&- |
			python3 "$PEER" slowread --delay 3 --count-file "$T/count"
		local st=("${PIPESTATUS[@]}")
		return "${st[1]}"
	}
	run -0 --separate-stderr pipeline
	assert_equal "$(cat "$T/count")" 8388608
	local line n pauses=0 resumes=0
	while IFS= read -r line; do
		if [[ $line =~ ^"weir: pause - (sink - holds "([0-9]+)" B >= high-water)"$ ]]; then
			n=${BASH_REMATCH[1]}
			((n >= 65536)) || fail "paused at $n B: $line"
			pauses=$((pauses + 1))
		elif [[ $line =~ ^"weir: pause - (sink - holds "([0-9]+)" B: its pipe is full)"$ ]]; then
			# splice: the pipe takes a page a piece, and filled first.
			n=${BASH_REMATCH[1]}
			((n < 65536)) || fail "its pipe full at $n B: $line"
			pauses=$((pauses + 1))
		elif [[ $line =~ ^"weir: resume - (sink - holds "([0-9]+)" B <= low-water)"$ ]]; then
			n=${BASH_REMATCH[1]}
			((n <= 16384)) || fail "resumed at $n B: $line"
			resumes=$((resumes + 1))
		fi
	done <<<"$stderr"
	((pauses > 0 && resumes > 0)) || fail "pauses $pauses, resumes $resumes: $stderr"
}

@test "--rate paces a pipe: pauses, and every byte arrives" {
	pipeline() {
		head -c 256k /dev/zero |
			"$WEIR" -v --high-water 32k --rate 256k -u - - 3>&- |
			wc -c
		local st=("${PIPESTATUS[@]}")
		return "${st[1]}"
	}
	run -0 --separate-stderr pipeline
	assert_output --regexp '^ *262144$'
	[[ $stderr == *"weir: pause - (sink - holds "* ]] || fail "no pause logged: $stderr"
}

@test "rate= paces one address: a file" {
	head -c 256k /dev/urandom >"$T/in"
	run -0 --separate-stderr weir -v --high-water 32k - "write:$T/out,rate=256k" <"$T/in"
	assert_same_file "$T/in" "$T/out"
	[[ $stderr == *"weir: pause - (sink write:$T/out,rate=256k holds "* ||
		$stderr == *"weir: pause - (sink write:$T/out holds "* ]] ||
		fail "no pause logged: $stderr"
}

@test "--rate paces a TCP consumer" {
	start_peer "$T/r" serve --count-file "$T/count"
	pipeline() {
		head -c 256k /dev/zero | "$WEIR" -v --high-water 32k --rate 256k -u - "$ADDR" 3>&-
	}
	run -0 --separate-stderr pipeline
	wait_file "$T/count"
	assert_equal "$(cat "$T/count")" 262144
	[[ $stderr == *"weir: pause - (sink $ADDR holds "* ]] || fail "no pause logged: $stderr"
}

@test "--stats prints one text line per transport" {
	printf 'hello' >"$T/in"
	run -0 --separate-stderr weir --stats - - <"$T/in"
	assert_output "hello"
	assert_equal "$stderr" "\
weir: stats LEFT -: in 5 B 1 frames, out 0 B 0 frames, paused 0 times 0.000 s, dropped 0, kernel dropped 0, errors 0, undelivered 0 B, discarded 0 B
weir: stats RIGHT -: in 0 B 0 frames, out 5 B 1 frames, paused 0 times 0.000 s, dropped 0, kernel dropped 0, errors 0, undelivered 0 B, discarded 0 B"
}

@test "--stats=text is --stats" {
	printf 'hello' >"$T/in"
	run -0 --separate-stderr weir --stats - - <"$T/in"
	local plain=$stderr
	run -0 --separate-stderr weir --stats=text - - <"$T/in"
	assert_equal "$stderr" "$plain"
}

@test "--stats names the transports of a TCP pair" {
	start_peer "$T/r" serve --reply 'pong\n'
	run -0 --separate-stderr weir --stats "$ADDR" <<<"ping"
	assert_output "pong"
	[[ $stderr == *"weir: stats LEFT -: in 5 B "*" frames, out 5 B "* ]] || fail "unexpected stderr: $stderr"
	[[ $stderr == *"weir: stats RIGHT $ADDR: in 5 B "*" frames, out 5 B "* ]] || fail "unexpected stderr: $stderr"
}

@test "--stats=json is one valid JSON document on one line" {
	head -c 3000 /dev/urandom >"$T/in"
	run -0 --separate-stderr weir --stats=json - "write:$T/out" <"$T/in"
	assert_equal "$(wc -l <<<"$stderr")" 1
	[[ $stderr == "{"*"}" ]] || fail "unexpected stderr: $stderr"
	run -0 python3 -c '
import json, sys
doc = json.loads(sys.argv[1])
# A pair: one stream a side, so no "connections".
keys = {"name", "bytes_in", "frames_in", "bytes_out", "frames_out",
        "pauses", "paused_s", "dropped", "kernel_dropped", "errors",
        "undelivered", "discarded"}
assert set(doc) >= {"left", "right"}, doc
for side in ("left", "right"):
    assert set(doc[side]) == keys, (side, sorted(doc[side]))
assert doc["left"]["name"] == "-", doc
assert doc["right"]["name"] == sys.argv[2], doc
assert doc["left"]["bytes_in"] == 3000, doc
assert doc["left"]["bytes_out"] == 0, doc
assert doc["right"]["bytes_out"] == 3000, doc
assert doc["right"]["bytes_in"] == 0, doc
assert doc["left"]["frames_in"] >= 1, doc
assert doc["right"]["pauses"] == 0 and doc["right"]["errors"] == 0, doc
assert isinstance(doc["left"]["paused_s"], (int, float)), doc
print("ok")' "$stderr" "write:$T/out"
	assert_output "ok"
}

@test "--stats counts pauses" {
	pipeline() {
		head -c 4M /dev/zero |
			"$WEIR" --stats=json --high-water 64k -u - - 3>&- |
			python3 "$PEER" slowread --delay 3 --count-file "$T/count"
		local st=("${PIPESTATUS[@]}")
		return "${st[1]}"
	}
	run -0 --separate-stderr pipeline
	printf '%s\n' "$stderr" >"$T/err"
	local pauses
	pauses=$(stats_json "$T/err" left pauses)
	((pauses > 0)) || fail "left pauses: $pauses"
	assert_equal "$(stats_json "$T/err" right bytes_out)" 4194304
}

@test "-x traces LEFT -> RIGHT as hex" {
	printf 'hi\0there, weir!\n' >"$T/in"
	run -0 --separate-stderr weir_to "$T/out" -x - - <"$T/in"
	assert_same_file "$T/in" "$T/out"
	local norm
	norm=$(tr -s ' ' <<<"$stderr")
	[[ $stderr == *"weir: > 16 B - -> -"* ]] || fail "no header: $stderr"
	[[ $norm == *"weir: > 0000 68 69 00 74 68 65 72 65 2c 20 77 65 69 72 21 0a |hi.there, weir!.|"* ]] ||
		fail "no hex line: $stderr"
	[[ $stderr != *"weir: > 0010"* ]] || fail "16 B on two lines: $stderr"
}

@test "-x wraps lines every 16 bytes" {
	printf 'ABCDEFGHIJKLMNOPQRST' >"$T/in"
	run -0 --separate-stderr weir -x - - <"$T/in"
	assert_output "ABCDEFGHIJKLMNOPQRST"
	local norm
	norm=$(tr -s ' ' <<<"$stderr")
	[[ $stderr == *"weir: > 20 B - -> -"* ]] || fail "no header: $stderr"
	[[ $norm == *"weir: > 0000 41 42 43 44 45 46 47 48 49 4a 4b 4c 4d 4e 4f 50 |ABCDEFGHIJKLMNOP|"* ]] ||
		fail "unexpected stderr: $stderr"
	[[ $norm == *"weir: > 0010 51 52 53 54 |QRST|"* ]] || fail "unexpected stderr: $stderr"
}

@test "-x traces RIGHT -> LEFT with <" {
	run -0 --separate-stderr weir -x - exec:'printf AB' </dev/null
	assert_output "AB"
	[[ $stderr == *"weir: < 2 B "* ]] || fail "no header: $stderr"
	[[ $stderr == *"weir: < 0000  41 42 "* ]] || fail "no hex line: $stderr"
}

@test "-v names the wiring: both ways" {
	start_peer "$T/r" serve --reply 'pong\n'
	run -0 --separate-stderr weir -v "$ADDR" <<<"ping"
	assert_equal "${stderr%%$'\n'*}" "weir: pair - (relay) <-> $ADDR (relay), splice"
}

@test "-v names the wiring: -u and -U" {
	run -0 --separate-stderr weir -v -u - exec:cat </dev/null
	assert_equal "${stderr%%$'\n'*}" "weir: pair - (relay) -> exec:cat (relay), one-way"
	run -0 --separate-stderr weir -v -U - exec:true </dev/null
	# /dev/null is no pipe; a command's output to a pipe is.
	assert_equal "${stderr%%$'\n'*}" "weir: pair - (relay) <- exec:true (relay), one-way, splice"
}

@test "-v names the wiring: a one-way address" {
	run -0 --separate-stderr weir -v "write:$T/out" - </dev/null
	assert_equal "${stderr%%$'\n'*}" "weir: pair write:$T/out (relay) <- - (relay), one-way"
}

@test "--ready-file without a listener is written empty at start, removed at exit" {
	mkdir "$T/rd"
	mkfifo "$T/in"
	exec 7<>"$T/in"
	spawn_weir --ready-file "$T/rd/ready" - - <"$T/in" >/dev/null 7>&-
	wait_file "$T/rd/ready"
	assert_file_empty "$T/rd/ready"
	# Written through a temporary file and a rename: nothing else is left.
	assert_equal "$(ls -A "$T/rd")" "ready"
	exec 7>&-
	wait_exit "$LAST_PID"
	assert_equal "$EXIT_STATUS" 0
	assert_equal "$(ls -A "$T/rd")" ""
}

@test "--ready-file with a listener: one line, no temporary file left" {
	mkdir "$T/rd"
	start_weir "$T/rd/ready" tcp-listen:127.0.0.1:0 - </dev/null >/dev/null 2>"$T/err"
	assert_equal "$(wc -l <"$T/rd/ready")" 1
	assert_equal "$(ls -A "$T/rd")" "ready"
	run -0 peer client --connect "$ADDR" --send ''
	wait_exit "$WEIR_PID"
	assert_equal "$EXIT_STATUS" 0
}
