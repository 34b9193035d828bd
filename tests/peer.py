#!/usr/bin/env python3
"""Test peers for weir's bats suites.

Every server listens on the address given with --listen (port 0 or a Unix
path) and, once bound, writes the address another program can connect to
(tcp:127.0.0.1:PORT, tcp:[::1]:PORT, unix:PATH) to the --ready file,
atomically.  Clients take --connect ADDR or --connect-ready FILE.  Files a
test waits for (--out, --count-file) are written atomically at the end, so
their existence means they are complete.

Subcommands:
  serve     accept one connection and play a scripted part (greet, read to
            EOF, reply late, hold the connection open, reset it, ...)
  echo      accept connections and echo each one, full duplex
  client    connect, send, half-close, read to EOF (into --out, or
            standard output)
  write     write pieces to standard output, pausing between them, and
            optionally keep it open (a writer that cuts its data where the
            test says)
  refused   a bound TCP port with nobody listening (connect is refused)
  backlog   a TCP listener whose backlog is full: connects to it hang
  stale     leave a Unix socket file nobody listens on
  slowread  read standard input after a delay, count the bytes
  run       run a command with SIGINT/SIGTERM at their defaults, write its
            pid, and report whether it exited or was killed by a signal
"""

import argparse
import os
import select
import signal
import socket
import sys
import threading
import time

CHUNK = 65536


def atomic_write(path, data):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.rename(tmp, path)


def parse_addr(addr):
    """tcp:HOST:PORT, tcp:[V6]:PORT, unix:PATH, unix:@NAME -> (family, sockaddr)."""
    kind, _, rest = addr.partition(":")
    if kind in ("tcp", "tcp-listen"):
        host, _, port = rest.rpartition(":")
        if host.startswith("["):
            return socket.AF_INET6, (host[1:-1], int(port))
        if host == "":
            host = "127.0.0.1"
        return socket.AF_INET, (host, int(port))
    if kind in ("unix", "unix-listen"):
        if rest.startswith("@"):
            return socket.AF_UNIX, "\0" + rest[1:]
        return socket.AF_UNIX, rest
    raise SystemExit("peer: bad address %r" % addr)


def addr_string(sock):
    name = sock.getsockname()
    if sock.family == socket.AF_INET:
        return "tcp:%s:%d" % (name[0], name[1])
    if sock.family == socket.AF_INET6:
        return "tcp:[%s]:%d" % (name[0], name[1])
    if isinstance(name, bytes):
        name = name.decode()
    if name.startswith("\0"):
        return "unix:@" + name[1:]
    return "unix:" + name


def listen(addr, backlog=16):
    family, sa = parse_addr(addr)
    s = socket.socket(family, socket.SOCK_STREAM)
    if family != socket.AF_UNIX:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(sa)
    s.listen(backlog)
    return s


def ready(path, text):
    if path:
        atomic_write(path, (text + "\n").encode())


def wait_ready_file(path, limit=10.0):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if os.path.exists(path):
            with open(path) as f:
                line = f.readline().strip()
            if line:
                return line
        time.sleep(0.01)
    raise SystemExit("peer: no address in %s after %.0f s" % (path, limit))


def connect(args):
    addr = args.connect or wait_ready_file(args.connect_ready)
    family, sa = parse_addr(addr)
    s = socket.socket(family, socket.SOCK_STREAM)
    s.connect(sa)
    return s


def payload(text, path):
    if path:
        with open(path, "rb") as f:
            return f.read()
    if text is not None:
        return text.encode().decode("unicode_escape").encode("latin-1")
    return b""


def send_pieces(conn, data, chunk, delay):
    """Send DATA in CHUNK-byte writes DELAY seconds apart, each its own
    segment (TCP_NODELAY), so the reader sees the data cut there."""
    if not chunk:
        conn.sendall(data)
        return
    if conn.family != socket.AF_UNIX:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    for i in range(0, len(data), chunk):
        if i and delay:
            time.sleep(delay)
        conn.sendall(data[i:i + chunk])


def hold_forever():
    while True:
        time.sleep(3600)


def log_line(path, text):
    if path:
        with open(path, "a") as f:
            f.write(text + "\n")


def read_all(conn, rate=None):
    got = bytearray()
    start = time.monotonic()
    while True:
        if rate:
            # Read no faster than RATE bytes per second.
            ahead = len(got) / rate - (time.monotonic() - start)
            if ahead > 0:
                time.sleep(ahead)
        b = conn.recv(CHUNK)
        if not b:
            return bytes(got)
        got += b


def cmd_serve(args):
    s = listen(args.listen)
    ready(args.ready, addr_string(s))
    conn, _ = s.accept()
    log_line(args.log, "accept")
    if args.rst:
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                        b"\1\0\0\0\0\0\0\0")
        conn.close()
        return 0
    greet = payload(args.greet, args.greet_file)
    if greet:
        send_pieces(conn, greet, args.chunk, args.chunk_delay)
    if args.greet_close:
        conn.shutdown(socket.SHUT_WR)
    if args.no_read:
        hold_forever()
    if args.read_delay:
        time.sleep(args.read_delay)
    got = read_all(conn, args.read_rate)
    if args.out:
        atomic_write(args.out, got)
    if args.count_file:
        atomic_write(args.count_file, b"%d\n" % len(got))
    if args.reply_delay:
        time.sleep(args.reply_delay)
    reply = payload(args.reply, args.reply_file)
    if reply and not args.greet_close:
        conn.sendall(reply)
    if args.hold:
        hold_forever()
    if not args.greet_close:
        conn.shutdown(socket.SHUT_WR)
    conn.close()
    return 0


def echo_one(conn, log):
    total = 0
    while True:
        b = conn.recv(CHUNK)
        if not b:
            break
        total += len(b)
        conn.sendall(b)
    conn.shutdown(socket.SHUT_WR)
    conn.close()
    log_line(log, "echoed %d" % total)


def cmd_echo(args):
    s = listen(args.listen)
    ready(args.ready, addr_string(s))
    for _ in range(args.count):
        conn, _ = s.accept()
        log_line(args.log, "accept")
        echo_one(conn, args.log)
    return 0


def cmd_client(args):
    s = connect(args)
    data = payload(args.send, args.send_file)
    err = []

    def sender():
        try:
            if args.send_delay:
                time.sleep(args.send_delay)
            send_pieces(s, data, args.chunk, args.chunk_delay)
            if not args.no_shutdown:
                s.shutdown(socket.SHUT_WR)
        except OSError as e:
            err.append(e)

    t = threading.Thread(target=sender)
    t.start()
    rc = 0
    try:
        got = read_all(s)
    except OSError as e:
        # A reset (weir closed with our data unread): report it rather
        # than die with a traceback.
        print("peer: recv: %s" % e, file=sys.stderr)
        got = b""
        rc = 1
    t.join()
    if args.out:
        atomic_write(args.out, got)
    else:
        sys.stdout.buffer.write(got)
        sys.stdout.flush()
    if err:
        print("peer: send: %s" % err[0], file=sys.stderr)
        return 1
    return rc


def cmd_write(args):
    fd = sys.stdout.fileno()
    for i, piece in enumerate(args.pieces):
        if i and args.delay:
            time.sleep(args.delay)
        os.write(fd, payload(piece, None))
    if args.hold:
        hold_forever()
    return 0


def cmd_refused(args):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    ready(args.ready, addr_string(s))
    hold_forever()


def cmd_backlog(args):
    s = listen("tcp:127.0.0.1:0", backlog=0)
    family, sa = parse_addr(addr_string(s))
    held = []
    for _ in range(8):
        c = socket.socket(family, socket.SOCK_STREAM)
        c.setblocking(False)
        c.connect_ex(sa)
        held.append(c)
        _, w, _ = select.select([], [c], [], 0.3)
        if not w:
            # This connect hangs: the backlog is full.
            ready(args.ready, addr_string(s))
            hold_forever()
    ready(args.ready, "none")
    hold_forever()


def cmd_stale(args):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(args.path)
    s.close()
    return 0


def cmd_slowread(args):
    if args.delay:
        time.sleep(args.delay)
    total = 0
    fd = sys.stdin.fileno()
    while True:
        b = os.read(fd, CHUNK)
        if not b:
            break
        total += len(b)
    atomic_write(args.count_file, b"%d\n" % total)
    return 0


def cmd_run(args):
    argv = args.argv
    if argv and argv[0] == "--":
        argv = argv[1:]
    pid = os.posix_spawnp(argv[0], argv, os.environ,
                          setsigdef=(signal.SIGINT, signal.SIGTERM,
                                     signal.SIGQUIT, signal.SIGPIPE))
    atomic_write(args.pid_file, b"%d\n" % pid)
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        print("peer: killed by signal %d" % sig, file=sys.stderr)
        return 128 + sig
    return os.WEXITSTATUS(status)


def add_chunk_args(sp, what):
    sp.add_argument("--chunk", type=int, default=0,
                    help="send %s in writes of this many bytes" % what)
    sp.add_argument("--chunk-delay", type=float, default=0,
                    help="seconds between two of those writes")


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawTextHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)

    sp = sub.add_parser("serve")
    sp.add_argument("--listen", default="tcp:127.0.0.1:0")
    sp.add_argument("--ready")
    sp.add_argument("--log")
    sp.add_argument("--greet")
    sp.add_argument("--greet-file")
    sp.add_argument("--greet-close", action="store_true",
                    help="half-close after the greeting")
    sp.add_argument("--read-delay", type=float, default=0)
    sp.add_argument("--read-rate", type=float, default=0,
                    help="read at most this many bytes per second")
    sp.add_argument("--no-read", action="store_true",
                    help="never read, never close")
    sp.add_argument("--out")
    sp.add_argument("--count-file")
    sp.add_argument("--reply")
    sp.add_argument("--reply-file")
    sp.add_argument("--reply-delay", type=float, default=0)
    sp.add_argument("--hold", action="store_true",
                    help="never close the connection")
    sp.add_argument("--rst", action="store_true",
                    help="reset the connection as soon as it is accepted")
    add_chunk_args(sp, "the greeting")
    sp.set_defaults(fn=cmd_serve)

    sp = sub.add_parser("echo")
    sp.add_argument("--listen", default="tcp:127.0.0.1:0")
    sp.add_argument("--ready")
    sp.add_argument("--log")
    sp.add_argument("--count", type=int, default=1)
    sp.set_defaults(fn=cmd_echo)

    sp = sub.add_parser("client")
    g = sp.add_mutually_exclusive_group(required=True)
    g.add_argument("--connect")
    g.add_argument("--connect-ready")
    sp.add_argument("--send")
    sp.add_argument("--send-file")
    sp.add_argument("--send-delay", type=float, default=0)
    sp.add_argument("--no-shutdown", action="store_true")
    sp.add_argument("--out")
    add_chunk_args(sp, "what is sent")
    sp.set_defaults(fn=cmd_client)

    sp = sub.add_parser("write")
    sp.add_argument("--delay", type=float, default=0,
                    help="seconds between two pieces")
    sp.add_argument("--hold", action="store_true",
                    help="keep standard output open after the last piece")
    sp.add_argument("pieces", nargs="*",
                    help="pieces, with backslash escapes (\\n, \\x00)")
    sp.set_defaults(fn=cmd_write)

    sp = sub.add_parser("refused")
    sp.add_argument("--ready", required=True)
    sp.set_defaults(fn=cmd_refused)

    sp = sub.add_parser("backlog")
    sp.add_argument("--ready", required=True)
    sp.set_defaults(fn=cmd_backlog)

    sp = sub.add_parser("stale")
    sp.add_argument("path")
    sp.set_defaults(fn=cmd_stale)

    sp = sub.add_parser("slowread")
    sp.add_argument("--delay", type=float, default=0)
    sp.add_argument("--count-file", required=True)
    sp.set_defaults(fn=cmd_slowread)

    sp = sub.add_parser("run")
    sp.add_argument("--pid-file", required=True)
    sp.add_argument("argv", nargs=argparse.REMAINDER)
    sp.set_defaults(fn=cmd_run)

    args = p.parse_args()
    return args.fn(args)


if __name__ == "__main__":
    sys.exit(main())
