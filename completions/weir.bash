# bash completion for weir(1)                              -*- shell-script -*-

# Print the words of "$2" that start with "$1", one per line.
_weir_match()
{
	local w
	for w in $2; do
		[[ $w == "$1"* ]] && printf '%s\n' "$w"
	done
}

# Complete the word "$cur" from "$@", each candidate the whole word.
# Bash replaces only the text after the last ':' or '=' in
# COMP_WORDBREAKS, so that much is cut off the front of each candidate.
# Candidates that end in ':', '=' or '/' wait for more; others get a space.
_weir_reply()
{
	local brk= pre= c
	[[ $COMP_WORDBREAKS == *:* ]] && brk+=':'
	[[ $COMP_WORDBREAKS == *=* ]] && brk+='='
	[[ -n $brk && $cur == *["$brk"]* ]] && pre=${cur%"${cur##*["$brk"]}"}
	COMPREPLY=()
	for c in "$@"; do
		[[ $c == "$cur"* ]] || continue
		case $c in
		*[:=/]) ;;
		*) c+=' ' ;;
		esac
		COMPREPLY+=("${c#"$pre"}")
	done
	compopt -o nospace 2>/dev/null
}

# Complete a file name after the prefix "$1" (such as "write:").
_weir_files()
{
	local pfx=$1 rest=${cur#"$1"} f
	local -a c=()
	while IFS= read -r f; do
		[[ -d $f ]] && f+=/
		c+=("$pfx$f")
	done < <(compgen -f -- "$rest")
	_weir_reply "${c[@]}"
}

_weir()
{
	local cur prev line
	local opts='-u -U -4 -6 -p -n -q -w -i -k -m -v -x -h -V
		--proto --delim --max-frame --oversize --max-frames
		--eof-timeout --connect-timeout --idle-timeout --high-water
		--low-water --rate --no-splice --stats --stats= --stats-file --ready-file --keep-open
		--max-conns --share --broker --slow --allow --deny --verbose
		--hexdump --progress --help --version'
	local protos='relay line netstring' delims='lf crlf nul'
	local slows='block drop close'
	local o
	local addrs='- stdio fd: file: write: append: tcp: tcp-listen: tcp4:
		tcp4-listen: tcp6: tcp6-listen: tls: tls-listen: udp: udp4: udp6:
		udp-listen: udp4-listen: udp6-listen: unix: unix-listen: exec:
		ws:// wss:// ws-listen: wss-listen: socks5-listen:'
	local msgs='auto text binary'

	# The whole word before the cursor, ':' and '=' included.
	line=${COMP_LINE:0:COMP_POINT}
	cur=${line##*[[:space:]]}
	line=${line%"$cur"}
	line=${line%"${line##*[![:space:]]}"}
	prev=${line##*[[:space:]]}

	case $prev in
	-p|--proto)
		_weir_reply $protos
		return
		;;
	--delim)
		_weir_reply $delims
		return
		;;
	--oversize)
		_weir_reply error skip
		return
		;;
	--slow)
		_weir_reply $slows
		return
		;;
	-n|--max-frames|--max-frame|-q|-w|-i|--eof-timeout|--connect-timeout|\
	--idle-timeout|--high-water|--low-water|--rate|-m|--max-conns|\
	--allow|--deny)
		COMPREPLY=()
		return
		;;
	--ready-file|--stats-file)
		_weir_files ''
		return
		;;
	esac

	case $cur in
	--stats=*)
		_weir_reply --stats=text --stats=json
		;;
	--ready-file=*)
		_weir_files --ready-file=
		;;
	--stats-file=*)
		_weir_files --stats-file=
		;;
	--proto=*)
		_weir_reply $(for o in $protos; do printf '%s\n' "--proto=$o"; done)
		;;
	--delim=*)
		_weir_reply $(for o in $delims; do printf '%s\n' "--delim=$o"; done)
		;;
	--oversize=*)
		_weir_reply --oversize=error --oversize=skip
		;;
	--slow=*)
		_weir_reply $(for o in $slows; do printf '%s\n' "--slow=$o"; done)
		;;
	--*=*)
		COMPREPLY=()
		;;
	# Address options; '-,delim=nul' is an address, not an option.
	*,proto=*)
		local head=${cur%,*}
		local -a c=()
		for o in $protos; do
			c+=("$head,proto=$o")
		done
		_weir_reply "${c[@]}"
		;;
	*,delim=*)
		local head=${cur%,*}
		local -a c=()
		for o in $delims; do
			c+=("$head,delim=$o")
		done
		_weir_reply "${c[@]}"
		;;
	*,msg=*)
		local head=${cur%,*}
		local -a c=()
		for o in $msgs; do
			c+=("$head,msg=$o")
		done
		_weir_reply "${c[@]}"
		;;
	*,proxy=*)
		_weir_reply "${cur%,*},proxy=socks5://" "${cur%,*},proxy=http://"
		;;
	*,verify=*|*,nodelay=*|*,keepalive=*)
		o=${cur##*,}
		o=${o%%=*}
		_weir_reply "${cur%,*},$o=yes" "${cur%,*},$o=no"
		;;
	*,cert=*|*,key=*|*,ca=*)
		o=${cur##*,}
		_weir_files "${cur%,*},${o%%=*}="
		;;
	*,*)
		local head=${cur%,*}
		local -a c=()
		for o in proto= delim= max-frame= high-water= low-water= rate=; do
			c+=("$head,$o")
		done
		# Socket options.
		case $head in
		tcp:*|tcp[46]:*|tls:*|ws://*|wss://*)
			o='bind= sndbuf= rcvbuf= nodelay= keepalive= proxy='
			;;
		tcp-listen:*|tcp[46]-listen:*|tls-listen:*|ws-listen:*|wss-listen:*)
			o='sndbuf= rcvbuf= nodelay= keepalive='
			;;
		unix:*|unix-listen:*)
			o='sndbuf= rcvbuf='
			;;
		udp:*|udp[46]:*)
			o='bind= sndbuf= rcvbuf= linger='
			;;
		udp-listen:*|udp[46]-listen:*)
			o='sndbuf= rcvbuf= linger='
			;;
		*)
			o=
			;;
		esac
		for o in $o; do
			c+=("$head,$o")
		done
		case $head in
		unix-listen:*)
			c+=("$head,mode=")
			;;
		exec:*)
			c+=("$head,pty")
			;;
		tls:*|wss://*)
			for o in verify= ca= sni= pin= cert= key=; do
				c+=("$head,$o")
			done
			;;
		tls-listen:*|wss-listen:*)
			for o in cert= key= ca=; do
				c+=("$head,$o")
			done
			;;
		esac
		# WebSocket options.
		case $head in
		ws://*|wss://*)
			o='msg= header= origin= subprotocol= ping='
			;;
		ws-listen:*|wss-listen:*)
			o='msg= subprotocol= ping='
			;;
		socks5-listen:*)
			o='user= pass= sndbuf= rcvbuf= nodelay= keepalive='
			;;
		*)
			o=
			;;
		esac
		for o in $o; do
			c+=("$head,$o")
		done
		_weir_reply "${c[@]}"
		;;
	-*)
		_weir_reply $(_weir_match "$cur" "$opts -")
		;;
	file:*|write:*|append:*|unix-listen:*|unix:*)
		_weir_files "${cur%%:*}:"
		;;
	exec:*)
		local -a c=()
		local w
		while IFS= read -r w; do
			c+=("exec:$w")
		done < <(compgen -c -- "${cur#exec:}" | sort -u)
		_weir_reply "${c[@]}"
		;;
	*)
		_weir_reply $(_weir_match "$cur" "$addrs")
		;;
	esac
}

complete -F _weir weir
