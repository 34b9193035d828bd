# fish completion for weir(1)

# Candidates for the address being typed: a type prefix, a path after
# file:/write:/append:/unix:/unix-listen: or a TLS cert=/key=/ca=, a
# command after exec:, or an address option after a comma.
function __weir_address
    set -l tok (commandline -ct)
    # After exec:'s last comma, NAME or NAME=... may be an option (pty).
    if string match -q -- 'exec:*' $tok; and not string match -qr -- ',[a-z-]*(=[^,]*)?$' $tok
        set -l rest (string replace -- 'exec:' '' $tok)
        printf '%s\n' exec:(complete -C "$rest")
        return
    end
    switch $tok
        case '*,proto=*'
            set -l head (string replace -r -- ',[^,]*$' '' $tok)
            printf '%s\t%s\n' \
                "$head,proto=relay" "bytes as they come (the default)" \
                "$head,proto=line" "records cut at a delimiter" \
                "$head,proto=netstring" "length-prefixed records (LEN:DATA,)"
        case '*,delim=*'
            set -l head (string replace -r -- ',[^,]*$' '' $tok)
            printf '%s\t%s\n' \
                "$head,delim=lf" "line feed (the default)" \
                "$head,delim=crlf" "CR LF (on input a bare LF ends a line too)" \
                "$head,delim=nul" "the NUL byte, as find -print0 writes"
        case '*,verify=*'
            set -l head (string replace -r -- ',[^,]*$' '' $tok)
            printf '%s\t%s\n' \
                "$head,verify=yes" "check the chain and the name (the default)" \
                "$head,verify=no" "accept any certificate (encrypted, not authenticated)"
        case '*,msg=*'
            set -l head (string replace -r -- ',[^,]*$' '' $tok)
            printf '%s\t%s\n' \
                "$head,msg=auto" "valid UTF-8 as text, anything else as binary (the default)" \
                "$head,msg=text" "every message as text; one not UTF-8 is a write error" \
                "$head,msg=binary" "every message as binary"
        case '*,proxy=*'
            set -l head (string replace -r -- ',[^,]*$' '' $tok)
            printf '%s\t%s\n' \
                "$head,proxy=socks5://" "a SOCKS5 proxy: socks5://[USER:PASS@]HOST:PORT" \
                "$head,proxy=http://" "an HTTP CONNECT proxy: http://[USER:PASS@]HOST:PORT"
        case '*,nodelay=*' '*,keepalive=*'
            set -l head (string replace -r -- '=[^=]*$' '' $tok)
            printf '%s\t%s\n' "$head=yes" "on" "$head=no" "off (the default)"
        case '*,cert=*' '*,key=*' '*,ca=*'
            set -l head (string replace -r -- '^(.*,(cert|key|ca)=).*$' '$1' $tok)
            set -l rest (string replace -r -- '^.*,(cert|key|ca)=' '' $tok)
            printf '%s\n' $head(__fish_complete_path $rest)
        case '*,*'
            set -l head (string replace -r -- ',[^,]*$' '' $tok)
            printf '%s\t%s\n' \
                "$head,proto=" "cut frames by this protocol at this address" \
                "$head,delim=" "line delimiter at this address" \
                "$head,max-frame=" "the largest frame payload accepted from this address" \
                "$head,high-water=" "pause producers when this address holds SIZE" \
                "$head,low-water=" "resume them when it drains to SIZE" \
                "$head,rate=" "write at most SIZE bytes per second to this address"
            # Socket options.
            switch $tok
                case 'tcp:*' 'tcp4:*' 'tcp6:*' 'tls:*' 'udp:*' 'udp4:*' 'udp6:*' 'ws://*' 'wss://*'
                    printf '%s\t%s\n' "$head,bind=" "connect from this source address, HOST[:PORT]"
            end
            switch $tok
                case 'tcp:*' 'tcp4:*' 'tcp6:*' 'tls:*' 'ws://*' 'wss://*'
                    printf '%s\t%s\n' "$head,proxy=" "connect through this SOCKS5 or HTTP proxy, which resolves the name"
            end
            switch $tok
                case 'tcp:*' 'tcp4:*' 'tcp6:*' 'tls:*' 'tcp-listen:*' 'tcp4-listen:*' 'tcp6-listen:*' 'tls-listen:*' 'ws://*' 'wss://*' 'ws-listen:*' 'wss-listen:*'
                    printf '%s\t%s\n' \
                        "$head,nodelay=" "TCP_NODELAY, send small writes at once (default no)" \
                        "$head,keepalive=" "SO_KEEPALIVE, probe an idle connection (default no)"
            end
            switch $tok
                case 'tcp:*' 'tcp4:*' 'tcp6:*' 'tls:*' 'tcp-listen:*' 'tcp4-listen:*' 'tcp6-listen:*' 'tls-listen:*' 'unix:*' 'unix-listen:*' 'udp:*' 'udp4:*' 'udp6:*' 'udp-listen:*' 'udp4-listen:*' 'udp6-listen:*' 'ws://*' 'wss://*' 'ws-listen:*' 'wss-listen:*'
                    printf '%s\t%s\n' \
                        "$head,sndbuf=" "the kernel's send buffer (SO_SNDBUF)" \
                        "$head,rcvbuf=" "the kernel's receive buffer (SO_RCVBUF)"
            end
            switch $tok
                case 'unix-listen:*'
                    printf '%s\t%s\n' "$head,mode=" "permissions of the socket file (octal)"
                case 'exec:*'
                    printf '%s\t%s\n' "$head,pty" "run the command on a pseudo-terminal, not pipes"
                case 'udp:*' 'udp4:*' 'udp6:*' 'udp-listen:*' 'udp4-listen:*' 'udp6-listen:*'
                    printf '%s\t%s\n' "$head,linger=" "once the other side has ended, read on until quiet this long (default 1 s)"
                case 'tls:*' 'wss://*'
                    printf '%s\t%s\n' \
                        "$head,verify=" "check the certificate chain and name (default yes)" \
                        "$head,ca=" "trust these CA certificates (PEM file or directory)" \
                        "$head,sni=" "the server name sent and checked (default: HOST)" \
                        "$head,pin=" "accept exactly this certificate (sha256:HEX)" \
                        "$head,cert=" "client certificate (PEM)" \
                        "$head,key=" "key of the client certificate (default: in the cert file)"
                case 'tls-listen:*' 'wss-listen:*'
                    printf '%s\t%s\n' \
                        "$head,cert=" "server certificate (PEM; default: a fresh self-signed one)" \
                        "$head,key=" "key of the certificate (default: in the cert file)" \
                        "$head,ca=" "require client certificates signed by these CAs (mutual TLS)"
            end
            # WebSocket options.
            switch $tok
                case 'ws://*' 'wss://*'
                    printf '%s\t%s\n' \
                        "$head,msg=" "type of the messages sent: auto (the default), text or binary" \
                        "$head,header=" "one more request header, NAME: VALUE (repeatable)" \
                        "$head,origin=" "the Origin header sent" \
                        "$head,subprotocol=" "the subprotocol asked for; the server must agree" \
                        "$head,ping=" "a ping every SEC; closed when unanswered for 2 x SEC"
                case 'ws-listen:*' 'wss-listen:*'
                    printf '%s\t%s\n' \
                        "$head,msg=" "type of the messages sent: auto (the default), text or binary" \
                        "$head,subprotocol=" "the subprotocol accepted when a client offers it" \
                        "$head,ping=" "a ping every SEC; closed when unanswered for 2 x SEC"
            end
            # The SOCKS5 server's options.
            switch $tok
                case 'socks5-listen:*'
                    printf '%s\t%s\n' \
                        "$head,user=" "clients must give this user name (RFC 1929)" \
                        "$head,pass=" "and this password" \
                        "$head,nodelay=" "TCP_NODELAY, send small writes at once (default no)" \
                        "$head,keepalive=" "SO_KEEPALIVE, probe an idle connection (default no)" \
                        "$head,sndbuf=" "the kernel's send buffer (SO_SNDBUF)" \
                        "$head,rcvbuf=" "the kernel's receive buffer (SO_RCVBUF)"
            end
        case 'file:*' 'write:*' 'append:*' 'unix:*' 'unix-listen:*'
            set -l type (string replace -r -- ':.*' '' $tok)
            set -l rest (string replace -r -- '^[^:]*:' '' $tok)
            printf '%s\n' $type:(__fish_complete_path $rest)
        case '*'
            printf '%s\t%s\n' \
                "-" "standard input and output" \
                "stdio" "standard input and output" \
                "fd:" "an inherited descriptor, read and written" \
                "file:" "read PATH to its end (a source only)" \
                "write:" "create or truncate PATH and write it (a sink only)" \
                "append:" "append to PATH, creating it (a sink only)" \
                "tcp:" "connect over TCP to HOST:PORT" \
                "tcp-listen:" "listen for TCP connections on [HOST:]PORT" \
                "tcp4:" "connect over TCP to HOST:PORT, IPv4 only" \
                "tcp4-listen:" "listen for TCP connections on [HOST:]PORT, IPv4 only" \
                "tcp6:" "connect over TCP to HOST:PORT, IPv6 only" \
                "tcp6-listen:" "listen for TCP connections on [HOST:]PORT, IPv6 only" \
                "tls:" "connect over TLS to HOST:PORT (the certificate is verified)" \
                "tls-listen:" "listen for TLS connections on [HOST:]PORT" \
                "udp:" "a connected UDP socket to HOST:PORT, one datagram one frame" \
                "udp4:" "a connected UDP socket to HOST:PORT, IPv4 only" \
                "udp6:" "a connected UDP socket to HOST:PORT, IPv6 only" \
                "udp-listen:" "receive datagrams on [HOST:]PORT, each source a peer" \
                "udp4-listen:" "receive datagrams on [HOST:]PORT, IPv4 only" \
                "udp6-listen:" "receive datagrams on [HOST:]PORT, IPv6 only" \
                "unix:" "connect to a Unix socket" \
                "unix-listen:" "listen for connections on a Unix socket" \
                "exec:" "run /bin/sh -c COMMAND" \
                "ws://" "a WebSocket client to HOST[:PORT][/PATH], one message one frame" \
                "wss://" "a WebSocket client over TLS (the certificate is verified)" \
                "ws-listen:" "a WebSocket server on [HOST:]PORT[/PATH]" \
                "wss-listen:" "a WebSocket server over TLS on [HOST:]PORT[/PATH]" \
                "socks5-listen:" "a SOCKS5 server on [HOST:]PORT, alone: each client names its RIGHT"
    end
end

complete -c weir -f
complete -c weir -a '(__weir_address)'

complete -c weir -s u -d 'One way only: LEFT -> RIGHT'
complete -c weir -s U -d 'One way only: RIGHT -> LEFT'
complete -c weir -s 4 -d 'Use IPv4 only'
complete -c weir -s 6 -d 'Use IPv6 only'
complete -c weir -s p -l proto -x -a 'relay\t"bytes as they come (the default)"
line\t"records cut at a delimiter"
netstring\t"length-prefixed records (LEN:DATA,)"' -d 'Cut frames by this protocol'
complete -c weir -l delim -x -a 'lf\t"line feed (the default)"
crlf\t"CR LF (on input a bare LF ends a line too)"
nul\t"the NUL byte, as find -print0 writes"' -d 'Line delimiter (or one character, or \xHH)'
complete -c weir -l max-frame -x -d 'The largest frame payload accepted'
complete -c weir -l oversize -x -a 'error\t"a protocol error (the default)"
skip\t"drop it and count it"' -d 'A frame over max-frame'
complete -c weir -s n -l max-frames -x -d 'Exit 0 once N frames went the main way'
complete -c weir -s q -l eof-timeout -x -d 'After the first EOF, end at most SEC later'
complete -c weir -s w -l connect-timeout -x -d 'Give up a connect (and TLS handshake) after SEC'
complete -c weir -s i -l idle-timeout -x -d 'End after SEC without traffic; with -k close an idle connection'
complete -c weir -l high-water -x -d 'Pause producers when a consumer holds SIZE'
complete -c weir -l low-water -x -d 'Resume them when it drains to SIZE'
complete -c weir -l rate -x -d 'Write at most SIZE bytes per second to each consumer'
complete -c weir -l stats -d 'Print counters at exit (and on SIGUSR1) on stderr'
complete -c weir -l stats-file -r -F -d 'Write the counters to PATH as JSON at exit'
complete -c weir -l ready-file -r -F -d 'Write listener addresses to PATH once bound'
complete -c weir -l progress -d 'Show a live status line on stderr (a terminal)'
complete -c weir -l no-splice -d 'Copy relayed bytes through weir, never splice(2)'
complete -c weir -s k -l keep-open -d 'Keep accepting connections until SIGINT, SIGTERM or SIGHUP'
complete -c weir -s m -l max-conns -x -d 'Serve at most N connections at once (256)'
complete -c weir -l share -d 'All connections share one other side, even a re-openable one'
complete -c weir -l broker -d 'One listener alone: the frames of each client go to every other client'
complete -c weir -l slow -x -a 'block\t"pause every producer feeding it (the default)"
drop\t"drop whole frames for it alone, counted"
close\t"close it, logged"' -d 'What a fan-out does with a connection at high water'
complete -c weir -l allow -x -d 'Admit only peers in CIDR (tcp-listen, tls-listen; repeatable)'
complete -c weir -l deny -x -d 'Refuse peers in CIDR (tcp-listen, tls-listen; repeatable, deny wins)'
complete -c weir -s v -l verbose -d 'Log wiring, pauses and resumes'
complete -c weir -s x -l hexdump -d 'Trace traffic on stderr as hex'
complete -c weir -s h -l help -d 'Show the help and exit'
complete -c weir -s V -l version -d 'Show the version and exit'

# The value of --stats is optional and must be attached: --stats=json.
complete -c weir -n 'string match -q -- "--stats*" (commandline -ct)' \
    -a '--stats=text --stats=json' -d 'Counters format'
