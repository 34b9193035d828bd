#!/usr/bin/env python3
"""SOCKS5 peers for tests/socks5.bats: what curl cannot do.

Subcommands:
  request   greet (with -U user:pass, RFC 1929), send one request (CONNECT
            by default, or BIND, UDP ASSOCIATE), print the reply code, and
            whether the server then closed the connection ("reply 5 closed")
  relay     CONNECT, then send --in (a file) while reading everything back
            into --out; half-close after --in, read to EOF (--late-send:
            half-close first, then wait for the reply)
  raw       send bytes as given (Python escapes), then read to EOF (at most
            --wait seconds); print "closed after S s, got N bytes" (and
            write them to --out)
  many      N concurrent clients through the server, client i to port i of
            the ready file of `ports`, each checking that its own server
            answered and echoed its data
  ports     listen on N ports; each connection gets "port P\\n", then its
            data echoed; the ports, one a line, go to --ready
  http      a tiny HTTP server on 127.0.0.1 (and ::1 with --ipv6): every
            request gets "hello from PORT\\n"; its port goes to --ready
"""
import argparse
import os
import socket
import struct
import sys
import threading
import time


def proxy_of(text):
    if text.startswith("socks5://"):
        text = text[len("socks5://"):]
    host, port = text.rsplit(":", 1)
    return host.strip("[]"), int(port)


def recv_exact(s, n):
    b = b""
    while len(b) < n:
        got = s.recv(n - len(b))
        if not got:
            raise EOFError("closed after %d of %d bytes" % (len(b), n))
        b += got
    return b


def target_bytes(host, atyp):
    if atyp == "ipv4":
        return b"\x01" + socket.inet_pton(socket.AF_INET, host)
    if atyp == "ipv6":
        return b"\x04" + socket.inet_pton(socket.AF_INET6, host)
    if atyp == "bad":
        return b"\x09" + socket.inet_pton(socket.AF_INET, "127.0.0.1")
    name = host.encode()
    return b"\x03" + bytes([len(name)]) + name


def handshake(s, to, atyp="name", cmd=1, user=None):
    """Greeting, authentication, request: the reply code."""
    if user is not None:
        s.sendall(b"\x05\x01\x02")
    else:
        s.sendall(b"\x05\x01\x00")
    ver, method = recv_exact(s, 2)
    if method == 0xFF:
        return "no-method"
    if method == 2:
        u, p = user.split(":", 1)
        s.sendall(b"\x01" + bytes([len(u)]) + u.encode() + bytes([len(p)]) +
                  p.encode())
        if recv_exact(s, 2)[1] != 0:
            return "auth-failed"
    host, port = to.rsplit(":", 1)
    host = host.strip("[]")
    s.sendall(b"\x05" + bytes([cmd]) + b"\x00" + target_bytes(host, atyp) +
              struct.pack(">H", int(port)))
    head = recv_exact(s, 4)
    rest = {1: 4, 4: 16}.get(head[3])
    if rest is None:
        rest = recv_exact(s, 1)[0]
    recv_exact(s, rest + 2)
    return head[1]


def closed_soon(s, wait=5.0):
    s.settimeout(wait)
    try:
        while True:
            if not s.recv(65536):
                return True
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def connect(proxy):
    return socket.create_connection(proxy_of(proxy), timeout=10)


def cmd_request(a):
    s = connect(a.proxy)
    code = handshake(s, a.to, a.atyp, a.cmd, a.user)
    print("reply %s %s" % (code, "closed" if closed_soon(s) else "open"))


def cmd_relay(a):
    s = connect(a.proxy)
    code = handshake(s, a.to, a.atyp, 1, a.user)
    if code != 0:
        sys.exit("socks5peer: reply %s" % code)
    s.settimeout(None)
    data = open(a.input, "rb").read() if a.input else a.send.encode()

    def send():
        if a.late_send:
            s.shutdown(socket.SHUT_WR)
            return
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)

    th = threading.Thread(target=send)
    th.start()
    got = []
    while True:
        b = s.recv(1 << 16)
        if not b:
            break
        got.append(b)
    th.join()
    out = b"".join(got)
    if a.out:
        tmp = a.out + ".tmp"
        with open(tmp, "wb") as f:
            f.write(out)
        os.rename(tmp, a.out)
    else:
        sys.stdout.buffer.write(out)


def cmd_raw(a):
    s = connect(a.proxy)
    start = time.monotonic()
    s.sendall(a.bytes.encode().decode("unicode_escape").encode("latin-1"))
    s.settimeout(a.wait)
    got = b""
    state = "closed after %.1f s"
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            got += b
    except ConnectionResetError:
        pass
    except socket.timeout:
        state = "open after %.1f s"
    if a.out:
        with open(a.out, "wb") as f:
            f.write(got)
    print((state + ", got %d bytes") % (time.monotonic() - start, len(got)))


def cmd_many(a):
    ports = [int(p) for p in open(a.ports).read().split()]
    bad = []

    def one(i, port):
        try:
            s = connect(a.proxy)
            code = handshake(s, "127.0.0.1:%d" % port, "ipv4")
            if code != 0:
                raise RuntimeError("reply %s" % code)
            data = (("client %d " % i) * 1000).encode()
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
            got = b""
            while True:
                b = s.recv(65536)
                if not b:
                    break
                got += b
            if got != b"port %d\n" % port + data:
                raise RuntimeError("got %d bytes, not its own" % len(got))
        except Exception as e:  # noqa: BLE001 -- reported below
            bad.append("client %d: %s" % (i, e))

    ths = [threading.Thread(target=one, args=(i, p))
           for i, p in enumerate(ports)]
    for t in ths:
        t.start()
    for t in ths:
        t.join()
    if bad:
        sys.exit("\n".join(bad))
    print("%d clients ok" % len(ports))


def cmd_ports(a):
    socks = []
    for _ in range(a.count):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        s.listen(16)
        socks.append(s)

    def serve(ls):
        port = ls.getsockname()[1]
        while True:
            c, _ = ls.accept()
            threading.Thread(target=echo, args=(c, port), daemon=True).start()

    def echo(c, port):
        c.sendall(b"port %d\n" % port)
        while True:
            b = c.recv(65536)
            if not b:
                break
            c.sendall(b)
        c.close()

    for s in socks:
        threading.Thread(target=serve, args=(s,), daemon=True).start()
    tmp = a.ready + ".tmp"
    with open(tmp, "w") as f:
        for s in socks:
            f.write("%d\n" % s.getsockname()[1])
    os.rename(tmp, a.ready)
    while True:
        time.sleep(3600)


def cmd_http(a):
    fams = [(socket.AF_INET, "127.0.0.1")]
    if a.ipv6:
        fams.append((socket.AF_INET6, "::1"))
    port = 0
    socks = []
    for fam, host in fams:
        s = socket.socket(fam)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((host, port))
        port = s.getsockname()[1]
        s.listen(16)
        socks.append(s)

    def answer(c):
        head = b""
        while b"\r\n\r\n" not in head:
            b = c.recv(4096)
            if not b:
                break
            head += b
        body = b"hello from %d\n" % port
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n"
                  b"Connection: close\r\n\r\n" % len(body) + body)
        c.close()

    def serve(ls):
        while True:
            c, _ = ls.accept()
            threading.Thread(target=answer, args=(c,), daemon=True).start()

    for s in socks:
        threading.Thread(target=serve, args=(s,), daemon=True).start()
    tmp = a.ready + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.rename(tmp, a.ready)
    while True:
        time.sleep(3600)


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawTextHelpFormatter)
    sub = p.add_subparsers(dest="cmd_name", required=True)
    for name in ("request", "relay", "raw", "many"):
        sp = sub.add_parser(name)
        sp.add_argument("--proxy", required=True)
        sp.add_argument("-U", "--user")
    sp = sub.choices["request"]
    sp.add_argument("--to", required=True)
    sp.add_argument("--atyp", default="name",
                    choices=("name", "ipv4", "ipv6", "bad"))
    sp.add_argument("--cmd", type=int, default=1)
    sp = sub.choices["relay"]
    sp.add_argument("--to", required=True)
    sp.add_argument("--atyp", default="name",
                    choices=("name", "ipv4", "ipv6"))
    sp.add_argument("--in", dest="input")
    sp.add_argument("--send", default="")
    sp.add_argument("--out")
    sp.add_argument("--late-send", action="store_true",
                    help="half-close at once, then read the late reply")
    sp = sub.choices["raw"]
    sp.add_argument("--bytes", required=True)
    sp.add_argument("--wait", type=float, default=10.0)
    sp.add_argument("--out")
    sub.choices["many"].add_argument("--ports", required=True)
    sp = sub.add_parser("ports")
    sp.add_argument("--count", type=int, default=20)
    sp.add_argument("--ready", required=True)
    sp = sub.add_parser("http")
    sp.add_argument("--ipv6", action="store_true")
    sp.add_argument("--ready", required=True)
    a = p.parse_args()
    {"request": cmd_request, "relay": cmd_relay, "raw": cmd_raw,
     "many": cmd_many, "ports": cmd_ports, "http": cmd_http}[a.cmd_name](a)


if __name__ == "__main__":
    main()
