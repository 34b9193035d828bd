#!/usr/bin/env python3
"""A fake proxy for weir's proxy.bats, where a real one cannot be made to
do what a test needs: it serves one client, SOCKS5 (no authentication)
or HTTP CONNECT, reads the client's whole request, writes the request's
target to --target, then sends its reply with --extra bytes after it in
one write (a destination that speaks first, its greeting arriving with
the proxy's reply).  It is the destination too: what the client sends
next, up to its end, goes to --out.

  proxypeer.py socks5|http --ready FILE [--extra TEXT] [--target FILE]
               [--out FILE]
"""

import argparse
import socket
import sys

from peer import atomic_write, listen, read_all, ready


def recv_exact(conn, n):
    got = b""
    while len(got) < n:
        b = conn.recv(n - len(got))
        if not b:
            raise SystemExit("proxypeer: the client closed mid-request")
        got += b
    return got


def socks5_request(conn):
    """The greeting and the CONNECT request; the target as HOST:PORT."""
    ver, nmethods = recv_exact(conn, 2)
    methods = recv_exact(conn, nmethods)
    if ver != 5 or 0 not in methods:
        raise SystemExit("proxypeer: not a SOCKS5 greeting offering no auth")
    conn.sendall(b"\x05\x00")
    ver, cmd, _, atyp = recv_exact(conn, 4)
    if ver != 5 or cmd != 1:
        raise SystemExit("proxypeer: not a CONNECT request")
    if atyp == 1:
        host = socket.inet_ntop(socket.AF_INET, recv_exact(conn, 4))
    elif atyp == 4:
        host = "[%s]" % socket.inet_ntop(socket.AF_INET6, recv_exact(conn, 16))
    else:
        host = recv_exact(conn, recv_exact(conn, 1)[0]).decode()
    port = int.from_bytes(recv_exact(conn, 2), "big")
    return "%s:%d" % (host, port), b"\x05\x00\x00\x01\x7f\x00\x00\x01\x04\x38"


def http_request(conn):
    """The CONNECT request's head, read byte by byte to its end."""
    head = b""
    while not head.endswith(b"\r\n\r\n"):
        head += recv_exact(conn, 1)
    line = head.split(b"\r\n", 1)[0].split()
    if len(line) != 3 or line[0] != b"CONNECT":
        raise SystemExit("proxypeer: not a CONNECT request: %r" % head)
    return line[1].decode(), b"HTTP/1.1 200 Connection established\r\n\r\n"


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("kind", choices=("socks5", "http"))
    p.add_argument("--ready", required=True)
    p.add_argument("--extra", default="")
    p.add_argument("--target")
    p.add_argument("--out")
    args = p.parse_args()
    s = listen("tcp:127.0.0.1:0", backlog=1)
    ready(args.ready, "%s:%d" % s.getsockname())
    conn, _ = s.accept()
    read = socks5_request if args.kind == "socks5" else http_request
    target, reply = read(conn)
    if args.target:
        atomic_write(args.target, target.encode() + b"\n")
    conn.sendall(reply + args.extra.encode())
    got = read_all(conn)
    if args.out:
        atomic_write(args.out, got)
    conn.shutdown(socket.SHUT_WR)
    conn.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
