#!/usr/bin/env bats
# Command line: help, version, usage errors.

load helper

@test "--help prints usage on stdout and exits 0" {
	run -0 --separate-stderr weir --help
	assert_equal "$stderr" ""
	assert_line --index 0 "Usage: weir [OPTIONS] ADDRESS [ADDRESS]"
	assert_line "Options:"
	assert_output --partial "Addresses:"
	assert_line "Exit status: 0 done, 1 transport failure, 2 usage, 3 protocol error,"
	assert_line "129/130/143 signal (HUP, INT, TERM)."
}

@test "-h is --help" {
	run -0 --separate-stderr weir --help
	local long=$output
	run -0 --separate-stderr weir -h
	assert_equal "$stderr" ""
	assert_equal "$output" "$long"
}

@test "--help lists every address type and option" {
	run -0 --separate-stderr weir --help
	local word
	for word in stdio fd:N file:PATH write:PATH append:PATH tcp:HOST:PORT \
		'tcp-listen:[HOST:]PORT' unix:PATH unix-listen:PATH exec:COMMAND \
		proto=NAME delim=D max-frame=SIZE \
		high-water=SIZE low-water=SIZE rate=SIZE mode=OCTAL \
		bind=HOST sndbuf=SIZE nodelay=yes\|no tcp4: tcp6: tcp4-listen: \
		-u -U -4 -6 -p -n -q -w -i -v -x -h -V \
		--proto --delim --max-frame --oversize --max-frames \
		--eof-timeout --connect-timeout --idle-timeout --high-water \
		--low-water --rate --stats --ready-file --verbose --hexdump \
		-k -m --keep-open --max-conns --share --broker --slow --allow --deny \
		--help --version; do
		[[ $output == *" $word"[\ ,=\[]* ]] || fail "--help does not mention $word"
	done
	assert_output --partial "rcvbuf=SIZE"
	assert_output --partial "keepalive=yes|no"
}

@test "--version and -V print the version on stdout and exit 0" {
	run -0 --separate-stderr weir --version
	assert_equal "$stderr" ""
	assert_output --regexp '^weir [0-9]+\.[0-9]+\.[0-9]+$'
	local long=$output
	run -0 --separate-stderr weir -V
	assert_equal "$output" "$long"
}

@test "help and version ignore the rest of the line" {
	run -0 --separate-stderr weir --help tcp:h:1
	assert_line --index 0 "Usage: weir [OPTIONS] ADDRESS [ADDRESS]"
	run -0 --separate-stderr weir -V - -
	assert_output --regexp '^weir [0-9]'
}

@test "no address: usage error" {
	run -2 --separate-stderr weir </dev/null
	assert_output ""
	assert_usage_error "weir: missing address"
}

@test "three addresses: usage error" {
	run -2 --separate-stderr weir - - - </dev/null
	assert_output ""
	assert_usage_error "weir: too many addresses"
}

@test "tcp address without port" {
	run -2 --separate-stderr weir tcp:host </dev/null
	assert_output ""
	assert_usage_error "weir: tcp:host: missing port"
}

@test "unknown address type" {
	run -2 --separate-stderr weir bogus:x </dev/null
	assert_usage_error "weir: bogus:x: unknown address type 'bogus'"
}

@test "unknown address option" {
	run -2 --separate-stderr weir - tcp:h:1,foo=1 </dev/null
	assert_usage_error "weir: tcp:h:1,foo=1: unknown option 'foo' (a comma that is part of the address is written \\,)"
}

@test "commas: only one that an option follows starts an option" {
	# cut -d, and a printf format need no escaping.
	run -0 --separate-stderr weir -u - "exec:cut -d, -f2" <<<"a,b,c"
	assert_output "b"
	run -0 --separate-stderr weir -u - "exec:cut -d, -f2,proto=line" <<<"a,b,c"
	assert_output "b"
	run -0 --separate-stderr weir -U - "exec:printf 'a,b\n'"
	assert_output "a,b"
	# A path with a comma, and \, for one that an option's shape follows.
	run -0 weir - "write:$T/a,b.log" <<<"one"
	assert_equal "$(cat "$T/a,b.log")" "one"
	run -0 weir - "write:$T/a\,proto=x.log" <<<"two"
	assert_equal "$(cat "$T/a,proto=x.log")" "two"
	run -0 weir - "write:$T/c\\\,d,proto=line" <<<"three"
	assert_equal "$(cat "$T/c\,d")" "three"
	# An option's shape with an unknown name is a typo, caught.
	run -2 --separate-stderr weir - "write:$T/o,nosuch=1" </dev/null
	assert_usage_error "weir: write:$T/o,nosuch=1: unknown option 'nosuch' (a comma that is part of the address is written \\,)"
	assert_not_exist "$T/o"
}

@test "invalid size" {
	run -2 --separate-stderr weir --rate x - - </dev/null
	assert_usage_error "weir: --rate: invalid size 'x'"
	run -2 --separate-stderr weir --rate=x - - </dev/null
	assert_usage_error "weir: --rate: invalid size 'x'"
}

@test "-u and -U together" {
	run -2 --separate-stderr weir -u -U - - </dev/null
	assert_usage_error "weir: -u and -U: only one direction may be chosen"
}

@test "two listeners are a usage error and bind nothing" {
	run -2 --separate-stderr weir tcp-listen:0 "unix-listen:$T/s" </dev/null
	assert_usage_error "weir: tcp-listen:0 and unix-listen:$T/s: only one listener is allowed"
	assert_not_exist "$T/s"
}

@test "two read-only addresses: no direction can flow" {
	run -2 --separate-stderr weir file:a file:b </dev/null
	assert_usage_error "weir: file:a and file:b: no direction can flow"
}

@test "two write-only addresses: no direction can flow" {
	run -2 --separate-stderr weir write:"$T/a" append:"$T/b" </dev/null
	[[ $stderr == "weir: write:$T/a and append:$T/b: no direction can flow"$'\n'"Try 'weir --help'." ]] ||
		fail "unexpected stderr: $stderr"
	assert_not_exist "$T/a"
	assert_not_exist "$T/b"
}

@test "-u against a read-only RIGHT: no direction can flow" {
	run -2 --separate-stderr weir -u - file:/etc/hostname </dev/null
	[[ $stderr == "weir: "*$'\n'"Try 'weir --help'." ]] || fail "unexpected stderr: $stderr"
}

@test "usage error creates nothing: write:x bogus:y" {
	cd "$T"
	run -2 --separate-stderr weir write:x bogus:y </dev/null
	assert_usage_error "weir: bogus:y: unknown address type 'bogus'"
	assert_not_exist "$T/x"
}

@test "usage error creates nothing: bad option after write:" {
	run -2 --separate-stderr weir --rate x "write:$T/out" - </dev/null
	assert_not_exist "$T/out"
	run -2 --separate-stderr weir "append:$T/out" tcp:host </dev/null
	assert_usage_error "weir: tcp:host: missing port"
	assert_not_exist "$T/out"
	run -2 --separate-stderr weir "unix-listen:$T/s" tcp:h:1,foo=1 </dev/null
	assert_not_exist "$T/s"
}

@test "usage error writes no ready file" {
	run -2 --separate-stderr weir --ready-file "$T/r" tcp-listen:0 bogus:y </dev/null
	assert_not_exist "$T/r"
}

@test "options of later issues are rejected with 2" {
	local args
	for args in "--no-such-option"; do
		# shellcheck disable=SC2086
		run -2 --separate-stderr weir $args - - </dev/null
		assert_output ""
		[[ $stderr == "weir: "*$'\n'"Try 'weir --help'." ]] ||
			fail "weir $args: unexpected stderr: $stderr"
	done
}

@test "address types of later issues are rejected with 2" {
	local a
	for a in socks5-listen:0 socks5://127.0.0.1:1; do
		run -2 --separate-stderr weir - "$a" </dev/null
		[[ $stderr == "weir: $a: "*$'\n'"Try 'weir --help'." ]] ||
			fail "weir - $a: unexpected stderr: $stderr"
	done
}

@test "missing option argument" {
	run -2 --separate-stderr weir - - --rate </dev/null
	[[ $stderr == "weir: "*$'\n'"Try 'weir --help'." ]] || fail "unexpected stderr: $stderr"
	run -2 --separate-stderr weir -q </dev/null
	[[ $stderr == "weir: "*$'\n'"Try 'weir --help'." ]] || fail "unexpected stderr: $stderr"
}

@test "bad numbers name the option" {
	local args
	for args in "-q abc" "-w -1" "-i 1x" "--eof-timeout=abc" "--high-water 0" \
		"--high-water 1Q" "--low-water -5" "--rate 0x" "--connect-timeout nan"; do
		# shellcheck disable=SC2086
		run -2 --separate-stderr weir $args - - </dev/null
		local opt=${args%%[ =]*}
		[[ $stderr == "weir: "*$'\n'"Try 'weir --help'." ]] ||
			fail "weir $args: unexpected stderr: $stderr"
		# -q and --eof-timeout may name either spelling.
		case $opt in
		-q | --eof-timeout) [[ $stderr == *-q* || $stderr == *--eof-timeout* ]] ;;
		-w | --connect-timeout) [[ $stderr == *-w* || $stderr == *--connect-timeout* ]] ;;
		-i | --idle-timeout) [[ $stderr == *-i* || $stderr == *--idle-timeout* ]] ;;
		*) [[ $stderr == *"$opt"* ]] ;;
		esac || fail "weir $args: message does not name the option: $stderr"
	done
}

@test "low water above high water is rejected" {
	run -2 --separate-stderr weir --high-water 1k --low-water 2k - - </dev/null
	[[ $stderr == "weir: "*$'\n'"Try 'weir --help'." ]] || fail "unexpected stderr: $stderr"
}

@test "--stats takes text or json only" {
	run -2 --separate-stderr weir --stats=xml - - </dev/null
	[[ $stderr == "weir: "*xml*$'\n'"Try 'weir --help'." ]] || fail "unexpected stderr: $stderr"
}

@test "bad addresses are usage errors" {
	local a
	for a in "fd:" "fd:x" "fd:-1" "tcp:" "tcp::80" "tcp:h:" "tcp:h:65536" \
		"tcp:[::1:80" "tcp-listen:" "tcp-listen:70000" "unix:" \
		"unix-listen:" "exec:" "file:" "write:" "append:" \
		"unix-listen:$T/s,mode=9" "unix-listen:$T/s,mode=" "write:$T/w,rate=x" \
		"write:$T/w,high-water=" "tcp:h:1,=1" "nocolon"; do
		run -2 --separate-stderr weir - "$a" </dev/null
		[[ $stderr == "weir: "*$'\n'"Try 'weir --help'." ]] ||
			fail "weir - $a: unexpected stderr: $stderr"
	done
	assert_not_exist "$T/s"
	assert_not_exist "$T/w"
}

@test "a port is a number from 0 to 65535, for connecting and listening alike" {
	local a
	for a in tcp-listen:abc tcp:h:http tls:h:x1 tcp:h:65536 tls-listen:127.0.0.1:ssh \
		'tcp:[::1]:-1' tcp:h:+80 tcp:h:0x50 'tcp-listen:1 '; do
		run -2 --separate-stderr weir --ready-file "$T/r" - "$a" </dev/null
		assert_output ""
		assert_usage_error "weir: $a: invalid port '${a##*:}'"
		assert_not_exist "$T/r"
	done
	run -2 --separate-stderr weir - tcp:h:0 </dev/null
	assert_usage_error "weir: tcp:h:0: port 0 cannot be connected to"
}

@test "mode= is only for unix-listen" {
	run -2 --separate-stderr weir - "write:$T/w,mode=600" </dev/null
	# (Which part of the address is named is checked with foo= above.)
	[[ $stderr == "weir: write:$T/w"*": "*mode*$'\n'"Try 'weir --help'." ]] ||
		fail "unexpected stderr: $stderr"
	assert_not_exist "$T/w"
}

@test "-- ends the options" {
	run -0 --separate-stderr weir -u -- - - <<<"def"
	assert_output "def"
}

@test "--opt=value and --opt value both work" {
	run -0 --separate-stderr weir --high-water=64k --low-water 16k --rate=1G - - <<<"abc"
	assert_output "abc"
	run -0 --separate-stderr weir --eof-timeout 5 --idle-timeout=5 -w 5 - - <<<"abc"
	assert_output "abc"
	run -0 --separate-stderr weir --proto=line -p line --delim=lf --max-frame=1k \
		--oversize=skip --oversize error -n 5 --max-frames=5 - - <<<"abc"
	assert_output "abc"
}

@test "a one-address command talks to standard input and output" {
	run -0 --separate-stderr weir "write:$T/out" <<<"one"
	assert_equal "$(cat "$T/out")" "one"
	run -0 --separate-stderr weir "file:$T/out" </dev/null
	assert_output "one"
}

@test "stdio is a synonym of -" {
	run -0 --separate-stderr weir stdio stdio <<<"abc"
	assert_output "abc"
	run -0 --separate-stderr weir - stdio <<<"def"
	assert_output "def"
}

@test "address types are case-insensitive" {
	run -0 --separate-stderr weir STDIO EXEC:'tr a-z A-Z' <<<"shout"
	assert_output "SHOUT"
	run -0 --separate-stderr weir Stdio "Write:$T/out" <<<"w"
	assert_equal "$(cat "$T/out")" "w"
	run -0 --separate-stderr weir "FILE:$T/out" </dev/null
	assert_output "w"
}

@test "tcp4 and tcp6 fix the family: -4 or -6 against it is a usage error" {
	run -2 --separate-stderr weir -4 - tcp6:127.0.0.1:80 </dev/null
	assert_output ""
	assert_usage_error "weir: tcp6:127.0.0.1:80: IPv6 address with -4"
	run -2 --separate-stderr weir -6 --ready-file "$T/r" TCP4-LISTEN:0 - </dev/null
	assert_usage_error "weir: TCP4-LISTEN:0: IPv4 address with -6"
	assert_not_exist "$T/r"
}

@test "a family digit only where one belongs: tcp4-listen, not tcp-listen4 or unix4" {
	local a
	for a in tcp-listen4:0 tcp46:h:1 unix4:/x exec6:true tls4:h:1 tcp5:h:1; do
		run -2 --separate-stderr weir --ready-file "$T/r" - "$a" </dev/null
		assert_usage_error "weir: $a: unknown address type '${a%%:*}'"
		assert_not_exist "$T/r"
	done
}

@test "-v names the wiring" {
	run -0 --separate-stderr weir -v - - <<<"abc"
	assert_output "abc"
	assert_equal "${stderr%%$'\n'*}" "weir: pair - (relay) -> - (relay), one-way, splice"
}

@test "an option's argument that looks like -,OPT is left as written" {
	run -2 --separate-stderr weir -p -,x -
	assert_usage_error "weir: -p: unknown protocol '-,x' (relay, line or netstring)"
	run -2 --separate-stderr weir --proto -,x -
	assert_usage_error "weir: -p: unknown protocol '-,x' (relay, line or netstring)"
	cd "$T"
	# The ready file is there while weir runs (and gone at exit).
	spawn_weir --ready-file -,r tcp-listen:127.0.0.1:0 </dev/null >/dev/null
	wait_file "$T/-,r"
	assert_file_not_exists "$T/stdio,r"
}
