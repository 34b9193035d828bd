#!/usr/bin/env python3
"""UDP peers for tests/udp.bats, each bounded in time.

  echo READY LOG [-6] [--quiet]
      bind port 0 on 127.0.0.1 (::1 with -6), write the port to READY,
      log each datagram received as its length and a digest, one a line,
      and send it back unless --quiet; ends after 20 s without traffic.
  client HOST PORT SIZE... [--expect N] [--wait S] [--bind-ready FILE]
      send one datagram of each SIZE (bytes of a pattern; SIZE "tTEXT"
      sends TEXT), then print the length and digest of each datagram that
      comes back, until N have come or S seconds pass in silence.
  ns SIZE...
      write a netstring of each SIZE (as client's) to standard output.
  unns
      read netstrings on standard input, print each one's length and
      digest.
  digests SIZE...
      print what client and unns print for each SIZE.
  flood HOST PORT COUNT SIZE
      send COUNT datagrams of SIZE as fast as the socket takes them.
"""
import argparse
import hashlib
import os
import socket
import sys
import time


def pattern(n):
    return bytes((i * 7 + 3) % 251 for i in range(n))


def digest(data):
    return "%d %s" % (len(data), hashlib.sha256(data).hexdigest()[:16])


def atomic_write(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, path)


def cmd_echo(args):
    fam = socket.AF_INET6 if args.six else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.bind(("::1" if args.six else "127.0.0.1", 0))
    s.settimeout(20)
    atomic_write(args.ready, "%d\n" % s.getsockname()[1])
    with open(args.log, "a") as log:
        while True:
            try:
                data, peer = s.recvfrom(70000)
            except socket.timeout:
                return 0
            log.write(digest(data) + "\n")
            log.flush()
            if not args.quiet:
                s.sendto(data, peer)


def payload(spec):
    if spec.startswith("t"):
        return spec[1:].encode()
    return pattern(int(spec))


def cmd_client(args):
    info = socket.getaddrinfo(args.host, args.port, type=socket.SOCK_DGRAM)
    fam, _, _, _, addr = info[0]
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.connect(addr)
    for spec in args.sizes:
        s.send(payload(spec))
    if args.wait <= 0:
        return 0
    s.settimeout(args.wait)
    got = 0
    while args.expect is None or got < args.expect:
        try:
            data = s.recv(70000)
        except socket.timeout:
            break
        print(digest(data), flush=True)
        got += 1
    return 0


def cmd_ns(args):
    out = sys.stdout.buffer
    for spec in args.sizes:
        data = payload(spec)
        out.write(b"%d:%s," % (len(data), data))
    out.flush()
    return 0


def cmd_unns(args):
    data = sys.stdin.buffer.read()
    while data:
        colon = data.index(b":")
        n = int(data[:colon])
        print(digest(data[colon + 1:colon + 1 + n]))
        assert data[colon + 1 + n:colon + 2 + n] == b",", "bad netstring"
        data = data[colon + 2 + n:]
    return 0


def cmd_digests(args):
    for spec in args.sizes:
        print(digest(payload(spec)))
    return 0


def cmd_flood(args):
    info = socket.getaddrinfo(args.host, args.port, type=socket.SOCK_DGRAM)
    fam, _, _, _, addr = info[0]
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.connect(addr)
    data = pattern(args.size)
    sent = 0
    deadline = time.monotonic() + 60
    while sent < args.count and time.monotonic() < deadline:
        try:
            s.send(data)
            sent += 1
        except (BlockingIOError, ConnectionRefusedError):
            time.sleep(0.001)
    print(sent)
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawTextHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    sp = sub.add_parser("echo")
    sp.add_argument("ready")
    sp.add_argument("log")
    sp.add_argument("-6", dest="six", action="store_true")
    sp.add_argument("--quiet", action="store_true")
    sp = sub.add_parser("client")
    sp.add_argument("host")
    sp.add_argument("port")
    sp.add_argument("sizes", nargs="*")
    sp.add_argument("--expect", type=int)
    sp.add_argument("--wait", type=float, default=5.0)
    sp = sub.add_parser("flood")
    sp.add_argument("host")
    sp.add_argument("port")
    sp.add_argument("count", type=int)
    sp.add_argument("size", type=int)
    for name in ("ns", "digests"):
        sp = sub.add_parser(name)
        sp.add_argument("sizes", nargs="*")
    sub.add_parser("unns")
    args = p.parse_args()
    return {"echo": cmd_echo, "client": cmd_client, "ns": cmd_ns,
            "unns": cmd_unns, "digests": cmd_digests,
            "flood": cmd_flood}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
