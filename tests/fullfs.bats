#!/usr/bin/env bats
# File sinks that fill up: a full disk (a 1 MiB tmpfs) or a file size limit
# (ulimit -f). A write that fails in the middle of a frame has what went of
# that frame cut off again, so the file ends on a whole frame, and the cut
# bytes are counted undelivered: everything weir read is either in the file
# or in "N bytes undelivered" (left bytes_in = file size + N). The cut is
# left alone when another writer has appended since weir's last write.

load helper

MNT=

teardown() {
	weir_teardown
	if [[ -n $MNT ]]; then
		umount "$MNT"
		rmdir "$MNT"
	fi
}

# mount_full: a 1 MiB tmpfs at $MNT, unmounted in teardown (skip where
# mounting is not permitted: CI runs the tests as root).
mount_full() {
	local dir
	dir=$(mktemp -d /tmp/weir-fullfs.XXXXXX)
	if ! mount -t tmpfs -o size=1m tmpfs "$dir" 2>"$T/mount.err"; then
		rmdir "$dir"
		skip "cannot mount a tmpfs: $(head -n 1 "$T/mount.err")"
	fi
	MNT=$dir
}

# messages FILE: the lines of FILE but the --stats=json one.
messages() {
	grep -v '^{' "$1" || true
}

# mklines FILE NAME N: lines "NAME SEQ PAYLOAD", SEQ from 0, PAYLOAD 10 to
# 259 letters, a function of SEQ (check_lines knows it).
mklines() {
	python3 - "$@" <<'EOF'
import sys
path, name, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
letters = "abcdefghijklmnopqrstuvwxyz" * 10
with open(path, "w") as f:
    for seq in range(n):
        f.write("%s %d %s\n" % (name, seq, letters[:(seq * 37) % 250 + 10]))
EOF
}

# check_lines FILE: every line of FILE is whole and as mklines wrote it,
# each NAME's lines in order from 0 with none missing, and FILE ends with
# a delimiter. Prints how many lines it has.
check_lines() {
	python3 - "$1" <<'EOF'
import sys
letters = "abcdefghijklmnopqrstuvwxyz" * 10
data = open(sys.argv[1], "rb").read().decode()
if not data or not data.endswith("\n"):
    sys.exit("%s does not end with a whole line: %r" % (sys.argv[1], data[-80:]))
nextseq = {}
lines = data[:-1].split("\n")
for i, line in enumerate(lines):
    name, seq, payload = line.split(" ")
    want = nextseq.get(name, 0)
    if int(seq) != want or payload != letters[:(want * 37) % 250 + 10]:
        sys.exit("line %d is not %s's line %d: %r" % (i + 1, name, want, line[:80]))
    nextseq[name] = want + 1
print(len(lines))
EOF
}

# assert_prefix FILE INPUT: FILE holds the first bytes of INPUT, some.
assert_prefix() {
	local size
	size=$(stat -c %s "$1")
	((size > 0)) || fail "$1 is empty"
	cmp -s -n "$size" -- "$1" "$2" || fail "$1 is not the start of $2"
}

# assert_counted ERR FILE: what weir read (left bytes_in) is what FILE
# holds plus the bytes ERR says are undelivered, and FILE's size is what
# weir says it wrote (right bytes_out).
assert_counted() {
	local size lost
	size=$(stat -c %s "$2")
	lost=$(sed -n 's/^weir: \([0-9]*\) bytes undelivered$/\1/p' "$1")
	[[ -n $lost ]] || fail "no undelivered count: $(cat "$1")"
	assert_equal "$(stats_json "$1" left bytes_in)" "$((size + lost))"
	assert_equal "$(stats_json "$1" right bytes_out)" "$size"
}

@test "a full disk under -p line: the file ends on a whole line, the torn one cut and counted undelivered" {
	mount_full
	mklines "$T/in" line 20000
	run -1 --separate-stderr weir --stats=json -p line - "write:$MNT/out" <"$T/in"
	printf '%s\n' "$stderr" >"$T/err"
	run -0 messages "$T/err"
	assert_line -n 0 "weir: write:$MNT/out: write: No space left on device"
	assert_line -n 1 --regexp '^weir: [0-9]+ bytes undelivered$'
	assert_equal "${#lines[@]}" 2
	# Full, but for the torn line's bytes.
	(($(stat -c %s "$MNT/out") < 1048576)) || fail "nothing was cut"
	assert_prefix "$MNT/out" "$T/in"
	run -0 check_lines "$MNT/out"
	assert_counted "$T/err" "$MNT/out"
	assert_conserved "$T/err"
}

@test "a full disk under -p netstring: the file ends after a whole LEN:DATA," {
	mount_full
	python3 - "$T/in" <<'EOF'
import sys
with open(sys.argv[1], "wb") as f:
    for i in range(12000):
        data = (b"record %d, with\na newline " % i) + b"x" * (i * 31 % 200)
        f.write(b"%d:%s," % (len(data), data))
EOF
	run -1 --separate-stderr weir --stats=json -p netstring - "append:$MNT/out" <"$T/in"
	printf '%s\n' "$stderr" >"$T/err"
	run -0 messages "$T/err"
	assert_line -n 0 "weir: append:$MNT/out: write: No space left on device"
	(($(stat -c %s "$MNT/out") < 1048576)) || fail "nothing was cut"
	assert_prefix "$MNT/out" "$T/in"
	run -0 python3 - "$MNT/out" <<'EOF'
import sys
data = open(sys.argv[1], "rb").read()
pos = n = 0
while pos < len(data):
    colon = data.index(b":", pos)
    end = colon + 1 + int(data[pos:colon])
    if data[end:end + 1] != b",":
        sys.exit("no whole netstring at %d: %r" % (pos, data[pos:pos + 40]))
    pos = end + 1
    n += 1
print(n)
EOF
	assert_counted "$T/err" "$MNT/out"
	assert_conserved "$T/err"
}

@test "a -k line collector on a full disk: every client's lines whole and in order, the cut counted" {
	mount_full
	local c
	for c in 1 2 3 4; do
		mklines "$T/c$c" "c$c" 6000
	done
	start_weir "$T/ready" --stats=json -k -p line tcp-listen:127.0.0.1:0 "append:$MNT/all.log" \
		</dev/null 2>"$T/err"
	for c in 1 2 3 4; do
		spawn_weir "file:$T/c$c" "$ADDR" </dev/null 2>/dev/null
	done
	wait_exit "$WEIR_PID" 20
	assert_equal "$EXIT_STATUS" 1
	run -0 messages "$T/err"
	assert_line -n 0 "weir: append:$MNT/all.log: write: No space left on device"
	(($(stat -c %s "$MNT/all.log") < 1048576)) || fail "nothing was cut"
	run -0 check_lines "$MNT/all.log"
	assert_counted "$T/err" "$MNT/all.log"
}

@test "ulimit -f: a write past the limit is an error (EFBIG), not a kill; the torn line is cut" {
	mklines "$T/in" line 20000
	run -1 --separate-stderr timeout -k 2 "$WEIR_TIMEOUT" bash -c 'ulimit -f 1000 && exec "$@"' bash \
		"$WEIR" --stats=json -p line - "write:$T/out" <"$T/in" 3>&-
	printf '%s\n' "$stderr" >"$T/err"
	run -0 messages "$T/err"
	assert_line -n 0 "weir: write:$T/out: write: File too large"
	(($(stat -c %s "$T/out") < 1024000)) || fail "nothing was cut"
	assert_prefix "$T/out" "$T/in"
	run -0 check_lines "$T/out"
	assert_counted "$T/err" "$T/out"
	assert_conserved "$T/err"
}

@test "relay: a file sink that fails is cut back to the end of a read" {
	# A regular file on standard input is read in chunks (each one read,
	# one frame, as much as the high-water mark) that do not end on the
	# limit: 1500 KiB, where the second read of 1 MiB is cut.
	mkdata "$T/in" 4M
	run -1 --separate-stderr timeout -k 2 "$WEIR_TIMEOUT" bash -c 'ulimit -f 1500 && exec "$@"' bash \
		"$WEIR" --stats=json - "write:$T/out" <"$T/in" 3>&-
	printf '%s\n' "$stderr" >"$T/err"
	run -0 messages "$T/err"
	assert_line -n 0 "weir: write:$T/out: write: File too large"
	# Without the cut the file would end at the limit, in a read.
	(($(stat -c %s "$T/out") < 1536000)) || fail "nothing was cut"
	assert_prefix "$T/out" "$T/in"
	assert_counted "$T/err" "$T/out"
	assert_conserved "$T/err"
}

@test "another writer appended since weir's last write: the torn line is left, and -v says why" {
	mount_full
	{
		printf 'first\n'
		head -c 300000 /dev/zero | tr '\0' x
		printf '\n'
	} >"$T/in"
	# Paced, weir writes the long line a few hundred bytes at a time.
	spawn_weir -v --stats=json -p line --rate 10k - "append:$MNT/log" <"$T/in" 2>"$T/err"
	WEIR_PID=$LAST_PID
	local n=1000 size
	while ((n-- > 0)) && (($(stat -c %s "$MNT/log" 2>/dev/null || echo 0) <= 6)); do
		sleep 0.01
	done
	((n >= 0)) || fail "weir did not begin the long line"
	# One write fills the disk after weir's torn line.
	python3 -c 'import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_APPEND)
os.write(fd, bytes(2 << 20))' "$MNT/log"
	size=$(stat -c %s "$MNT/log")
	wait_exit "$WEIR_PID" 20
	assert_equal "$EXIT_STATUS" 1
	assert_equal "$(stat -c %s "$MNT/log")" "$size"
	assert_equal "$(head -c 6 "$MNT/log")" "first"
	grep -qE "^weir: append:$MNT/log: [0-9]+ bytes of a torn frame left: the file is $size B, weir's last write ended at [0-9]+ \(another writer\)$" "$T/err" ||
		fail "no word of the torn frame left: $(cat "$T/err")"
	grep -q "^weir: append:$MNT/log: write: No space left on device$" "$T/err" ||
		fail "no write error: $(cat "$T/err")"
}

@test "-q ends a paced file sink in the middle of a line: what went of the line is cut" {
	{
		printf 'first\n'
		head -c 300000 /dev/zero | tr '\0' x
		printf '\n'
	} >"$T/in"
	run -1 --separate-stderr weir --stats=json -q 0.3 -p line --rate 10k - "write:$T/out" <"$T/in"
	printf '%s\n' "$stderr" >"$T/err"
	assert_equal "$(cat "$T/out")" "first"
	run -0 messages "$T/err"
	assert_output "weir: 300001 bytes undelivered"
	assert_counted "$T/err" "$T/out"
	assert_conserved "$T/err"
}

@test "-q ends a paced file sink after many short lines: the file ends on a whole line" {
	# Writes of the rate's size end anywhere in a line; the cut finds the
	# last delimiter written.
	for i in $(seq 1 3000); do printf '%099d\n' "$i"; done >"$T/in"
	run -1 --separate-stderr weir --stats=json -q 0.3 -p line --rate 10k - "write:$T/out" <"$T/in"
	printf '%s\n' "$stderr" >"$T/err"
	size=$(stat -c %s "$T/out")
	[ "$size" -gt 0 ]
	assert_equal "$((size % 100))" 0
	cmp -n "$size" "$T/in" "$T/out"
	run -0 messages "$T/err"
	assert_output "weir: $((300000 - size)) bytes undelivered"
	assert_counted "$T/err" "$T/out"
	assert_conserved "$T/err"
}

@test "a command run by exec: keeps SIGXFSZ's default, which weir catches for itself" {
	# Past its limit (512 B in sh's blocks) head is killed by SIGXFSZ: 153.
	run -0 --separate-stderr weir -u "exec:ulimit -f 1; head -c 4096 /dev/zero >$T/big; echo \$?" -
	assert_output "153"
}
