#!/usr/bin/env bats
# Documentation follows the program: every long option of --help is in the
# man page and the three completion files; the man page lints clean; the
# README's examples run.

load helper

ROOT="$BATS_TEST_DIRNAME/.."

# long_options: every --option that weir --help mentions, one per line.
long_options() {
	"$WEIR" --help | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u
}

@test "--help lists long options" {
	run -0 long_options
	assert_line "--help"
	assert_line "--version"
}

# man_text: the man page as text (rendered by mandoc when it is installed).
man_text() {
	if command -v mandoc >/dev/null; then
		mandoc -Tascii "$ROOT/man/weir.1" | sed 's/.\x08//g'
	else
		cat "$ROOT/man/weir.1"
	fi
}

@test "every long option is in the man page" {
	assert_file_exist "$ROOT/man/weir.1"
	man_text >"$T/man.txt"
	local opt missing=()
	for opt in $(long_options); do
		# Rendered: --name. Source: ".Fl Fl name", ".Fl -name" or ".Fl \-name".
		grep -qE -- "(^|[^a-z0-9-])${opt}([^a-z0-9-]|$)|Fl (Fl |\\\\?-)${opt#--}([^a-z0-9-]|$)" \
			"$T/man.txt" || missing+=("$opt")
	done
	run -0 echo "${missing[*]}"
	assert_output ""
}

@test "every long option is in the bash completion" {
	assert_file_exist "$ROOT/completions/weir.bash"
	local opt missing=()
	for opt in $(long_options); do
		grep -qE -- "${opt}([^a-z0-9-]|$)" "$ROOT/completions/weir.bash" || missing+=("$opt")
	done
	run -0 echo "${missing[*]}"
	assert_output ""
}

@test "every long option is in the zsh completion" {
	assert_file_exist "$ROOT/completions/_weir"
	local opt missing=()
	for opt in $(long_options); do
		grep -qE -- "${opt}([^a-z0-9-]|$)" "$ROOT/completions/_weir" || missing+=("$opt")
	done
	run -0 echo "${missing[*]}"
	assert_output ""
}

@test "every long option is in the fish completion" {
	assert_file_exist "$ROOT/completions/weir.fish"
	local opt missing=()
	for opt in $(long_options); do
		grep -qE -- "(-l|--long-option|--long) +['\"]?${opt#--}['\"]?([^a-z0-9-]|$)" \
			"$ROOT/completions/weir.fish" || missing+=("$opt")
	done
	run -0 echo "${missing[*]}"
	assert_output ""
}

@test "the completion files parse" {
	run -0 bash -n "$ROOT/completions/weir.bash"
	if command -v zsh >/dev/null; then
		run -0 zsh -n "$ROOT/completions/_weir"
	fi
	if command -v fish >/dev/null; then
		run -0 fish --no-execute "$ROOT/completions/weir.fish"
	fi
}

@test "the bash completion completes long options" {
	run -0 bash -c '
		source "$1"
		COMP_WORDS=(weir --ver)
		COMP_CWORD=1
		COMP_LINE="weir --ver"
		COMP_POINT=${#COMP_LINE}
		fn=$(complete -p weir | sed -n "s/.*-F \([^ ]*\) .*/\1/p")
		[[ -n $fn ]] || { echo "no completion function for weir"; exit 1; }
		"$fn" weir --ver weir
		printf "%s\n" "${COMPREPLY[@]}"' _ "$ROOT/completions/weir.bash"
	assert_line --regexp '^--verbose ?$'
	assert_line --regexp '^--version ?$'
}

@test "the man page is clean under mandoc -Tlint" {
	command -v mandoc >/dev/null || skip "mandoc is not installed"
	run -0 --separate-stderr mandoc -Tlint -W warning "$ROOT/man/weir.1"
	assert_output ""
	assert_equal "$stderr" ""
}

@test "the man page documents every address type and the exit status" {
	command -v mandoc >/dev/null || skip "mandoc is not installed"
	man_text >"$T/man.txt"
	local word
	for word in stdio fd: file: write: append: tcp: tcp-listen: unix: unix-listen: exec:; do
		grep -qE -- "(^|[^a-z-])${word}" "$T/man.txt" || fail "man/weir.1 does not mention ${word}"
	done
	grep -q '^EXIT STATUS' "$T/man.txt" || fail "no EXIT STATUS section"
	grep -q '^PROTOCOLS' "$T/man.txt" || fail "no PROTOCOLS section"
	for word in relay line netstring proto= delim= max-frame=; do
		grep -qE -- "(^|[^a-z-])${word}" "$T/man.txt" || fail "man/weir.1 does not mention ${word}"
	done
	grep -qE '^ +3 +A protocol error' "$T/man.txt" || fail "EXIT STATUS lacks 3"
}

# readme_examples DIR: write each ```sh block that follows a
# "<!-- example: NAME -->" line in README.md to DIR/NAME.sh; print the names.
readme_examples() {
	python3 - "$ROOT/README.md" "$1" <<'EOF'
import re, sys
text = open(sys.argv[1]).read().splitlines()
out = sys.argv[2]
i = 0
while i < len(text):
    m = re.match(r"\s*<!--\s*example:\s*(\S+)\s*-->\s*$", text[i])
    i += 1
    if not m:
        continue
    while i < len(text) and not text[i].strip():
        i += 1
    if i >= len(text) or not re.match(r"\s*```(sh|bash|shell|console)?\s*$", text[i]):
        sys.exit("README.md: example %s is not followed by a ```sh block" % m.group(1))
    i += 1
    body = []
    while i < len(text) and not text[i].strip().startswith("```"):
        body.append(text[i])
        i += 1
    with open("%s/%s.sh" % (out, m.group(1)), "w") as f:
        f.write("\n".join(body) + "\n")
    print(m.group(1))
EOF
}

@test "README examples run and exit 0" {
	assert_file_exist "$ROOT/README.md"
	mkdir -p "$T/bin" "$T/examples"
	ln -s "$(cd "$(dirname "$WEIR")" && pwd)/$(basename "$WEIR")" "$T/bin/weir"
	run -0 readme_examples "$T/examples"
	local names=$output
	[[ -n $names ]] || fail "README.md has no <!-- example: NAME --> blocks"
	local name failed=()
	for name in $names; do
		mkdir "$T/run-$name"
		if ! (cd "$T/run-$name" && PATH="$T/bin:$PATH" timeout -k 2 20 \
			bash -e "$T/examples/$name.sh" </dev/null >"$T/$name.out" 2>&1 3>&-); then
			failed+=("$name")
			echo "# example $name failed:" >&2
			sed 's/^/#   /' "$T/examples/$name.sh" "$T/$name.out" >&2
		fi
	done
	run -0 echo "${failed[*]}"
	assert_output ""
}
