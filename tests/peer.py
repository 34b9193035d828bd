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
  pace      copy standard input to standard output at about a given rate
  run       run a command with SIGINT/SIGTERM at their defaults, write its
            pid, and report whether it exited or was killed by a signal
  fanin     many concurrent clients, each sending numbered records of random
            length (line or netstring) in writes that cut them anywhere
  fanin-check  check a file written by a fan-in: whole records, none lost,
            duplicated or torn, each client's in order
  clients   many concurrent clients, each sending its own data and checking
            that it gets exactly that back (or upper-cased)
  broker    clients of a broker: each must get every other client's lines,
            in order, and never its own
  cut       a peer that reads a little, sends while it can, then resets,
            closes, or shuts its read side when told
  sink      read standard input once told to (and at a given rate)
  holders   many clients that send their lines, then hold on until told
  unix-backlog  a Unix listener whose backlog is full: connects to it wait
  flood     write standard output as fast as it will take, until it has
            blocked for a while; count what went
  sockopt   the socket options of a socket another process holds (Linux
            pidfd_getfd: needs the right to trace that process)
"""

import argparse
import ctypes
import errno
import fcntl
import os
import random
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
    if getattr(args, "rcvbuf", 0):
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, args.rcvbuf)
    if getattr(args, "bind", None):
        s.bind((args.bind, 0))
    if getattr(args, "timeout", 0):
        s.settimeout(args.timeout)
    s.connect(sa)
    if getattr(args, "port_file", None):
        atomic_write(args.port_file, b"%d\n" % s.getsockname()[1])
    return s


def wait_path(path, limit=10.0):
    deadline = time.monotonic() + limit
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            raise OSError("%s did not appear in %.0f s" % (path, limit))
        time.sleep(0.01)


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
    conn, peer_sa = s.accept()
    log_line(args.log, "accept")
    if args.peer_file:
        atomic_write(args.peer_file, b"%s:%d\n" % (peer_sa[0].encode(),
                                                  peer_sa[1]))
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
    try:
        while True:
            b = conn.recv(CHUNK)
            if not b:
                break
            total += len(b)
            conn.sendall(b)
        conn.shutdown(socket.SHUT_WR)
    except OSError as e:
        log_line(log, "error %s" % e)
    conn.close()
    log_line(log, "echoed %d" % total)


def cmd_echo(args):
    s = listen(args.listen, backlog=128)
    ready(args.ready, addr_string(s))
    n = 0
    while args.count == 0 or n < args.count:
        conn, _ = s.accept()
        n += 1
        log_line(args.log, "accept")
        if args.concurrent:
            threading.Thread(target=echo_one, args=(conn, args.log),
                             daemon=True).start()
        else:
            echo_one(conn, args.log)
    return 0


def cmd_client(args):
    try:
        s = connect(args)
    except OSError as e:
        print("peer: connect: %s" % e, file=sys.stderr)
        return 1
    data = payload(args.send, args.send_file)
    err = []

    def sender():
        try:
            if args.send_delay:
                time.sleep(args.send_delay)
            send_pieces(s, data, args.chunk, args.chunk_delay)
            if args.wait_file:
                wait_path(args.wait_file)
            if not args.no_shutdown:
                s.shutdown(socket.SHUT_WR)
        except OSError as e:
            err.append(e)

    if args.no_read:
        sender()
        hold_forever()

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
    if args.count_file:
        atomic_write(args.count_file, b"%d\n" % len(got))
    if args.out:
        atomic_write(args.out, got)
    elif not args.count_file:
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
    if args.wait_file:
        wait_path(args.wait_file, args.timeout)
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


def cmd_pace(args):
    fdin, fdout = sys.stdin.fileno(), sys.stdout.fileno()
    start = time.monotonic()
    total = 0
    while True:
        b = os.read(fdin, CHUNK)
        if not b:
            return 0
        ahead = total / args.rate - (time.monotonic() - start)
        if ahead > 0:
            time.sleep(ahead)
        os.write(fdout, b)
        total += len(b)


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


# --- faults -----------------------------------------------------------------


def cmd_cut(args):
    """Read --read-bytes; then, until --wait-file exists, send --send-file
    for as long as the other end takes it, reading nothing more; then cut
    the connection: reset it (SO_LINGER 0), close it, or shut its read
    side and hold the rest open."""
    if args.listen:
        s = listen(args.listen)
        ready(args.ready, addr_string(s))
        conn, _ = s.accept()
        s.close()
    else:
        conn = connect(args)
    got = bytearray()
    while len(got) < args.read_bytes:
        b = conn.recv(min(CHUNK, args.read_bytes - len(got)))
        if not b:
            break
        got += b
    data = payload(None, args.send_file)
    sent = 0
    conn.setblocking(False)
    deadline = time.monotonic() + args.timeout
    while args.wait_file and not os.path.exists(args.wait_file):
        if time.monotonic() > deadline:
            raise SystemExit("peer: %s did not appear" % args.wait_file)
        try:
            if sent < len(data):
                sent += conn.send(data[sent:sent + CHUNK])
                continue
        except BlockingIOError:
            pass
        select.select([], [conn] if sent < len(data) else [], [], 0.01)
    if args.out:
        atomic_write(args.out, bytes(got))
    if args.count_file:
        atomic_write(args.count_file, b"%d\n" % sent)
    if args.how == "rst":
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                        b"\1\0\0\0\0\0\0\0")
        conn.close()
    elif args.how == "close":
        conn.close()
    else:
        conn.shutdown(socket.SHUT_RD)
        # Linux wakes no writer blocked on a full Unix socket when its
        # peer shuts its read side: free the space, so the next write is
        # tried, and fails.
        conn.setblocking(False)
        try:
            while conn.recv(CHUNK):
                pass
        except BlockingIOError:
            pass
        hold_forever()
    return 0


def cmd_sink(args):
    """Once --wait-file exists, read standard input to its end (at about
    --rate bytes per second) into --out."""
    if args.wait_file:
        wait_path(args.wait_file, args.timeout)
    fd = sys.stdin.fileno()
    got = bytearray()
    start = time.monotonic()
    while True:
        if args.rate:
            ahead = len(got) / args.rate - (time.monotonic() - start)
            if ahead > 0:
                time.sleep(ahead)
        b = os.read(fd, CHUNK)
        if not b:
            break
        got += b
    atomic_write(args.out, bytes(got))
    return 0


def cmd_flood(args):
    """Once --wait-file exists, write standard output until a write has
    waited --quiet seconds (the reader stopped taking), then write to
    --count-file the bytes written and the size of the pipe then (when it
    is one), and hold it open."""
    if args.wait_file:
        wait_path(args.wait_file, args.timeout)
    fd = sys.stdout.fileno()
    os.set_blocking(fd, False)
    block = b"\0" * CHUNK
    total = 0
    while True:
        try:
            total += os.write(fd, block)
            continue
        except BlockingIOError:
            pass
        _, w, _ = select.select([], [fd], [], args.quiet)
        if not w:
            break
    # At the end: the reader may have grown the pipe.
    try:
        pipe = fcntl.fcntl(fd, fcntl.F_GETPIPE_SZ)
    except (AttributeError, OSError):
        pipe = 0
    atomic_write(args.count_file, b"%d %d\n" % (total, pipe))
    hold_forever()


SYS_PIDFD_GETFD = 438   # the same number on every Linux architecture


def foreign_sockets(pid):
    """Each socket of process pid, duplicated into this one."""
    libc = ctypes.CDLL(None, use_errno=True)
    pidfd = os.pidfd_open(pid)
    for name in os.listdir("/proc/%d/fd" % pid):
        try:
            if not os.readlink("/proc/%d/fd/%s" % (pid, name)).startswith(
                    "socket:"):
                continue
        except OSError:
            continue
        fd = libc.syscall(SYS_PIDFD_GETFD, pidfd, int(name), 0)
        if fd < 0:
            e = ctypes.get_errno()
            if e == errno.EBADF:
                continue
            raise OSError(e, os.strerror(e))
        yield socket.socket(fileno=fd)


def cmd_sockopt(args):
    """Print the options of the connected socket of --pid whose peer port
    is --peer-port, or whose Unix path is --path: nodelay=N keepalive=N
    sndbuf=N rcvbuf=N (SO_SNDBUF and SO_RCVBUF as the kernel reports them).
    Exit 77 when the system does not let us look."""
    try:
        socks = list(foreign_sockets(args.pid))
    except (OSError, AttributeError) as e:
        print("peer: sockopt: %s" % e, file=sys.stderr)
        return 77
    for s in socks:
        if s.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN):
            continue
        try:
            peer = s.getpeername()
        except OSError:
            continue
        if s.family == socket.AF_UNIX:
            if args.path not in (s.getsockname(), peer):
                continue
        elif args.peer_port is None or peer[1] != args.peer_port:
            continue
        tcp = s.family != socket.AF_UNIX and s.type == socket.SOCK_STREAM
        print("nodelay=%d keepalive=%d sndbuf=%d rcvbuf=%d" % (
            tcp and s.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY),
            tcp and s.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE),
            s.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF),
            s.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)))
        return 0
    print("peer: sockopt: no such socket in %d" % args.pid, file=sys.stderr)
    return 1


def cmd_holders(args):
    """Many concurrent clients, each sending fan-in records (line) at
    once, then holding its connection until --wait-file exists (or, with
    --each, FILE.N for client N); then it half-closes and reads to EOF
    (expecting nothing back)."""
    addr = args.connect or wait_ready_file(args.connect_ready)
    family, sa = parse_addr(addr)

    def hold(i):
        own = "%s.%d" % (args.wait_file, i)
        deadline = time.monotonic() + args.timeout
        while not (os.path.exists(args.wait_file) or
                   (args.each and os.path.exists(own))):
            if time.monotonic() > deadline:
                raise OSError("%s did not appear" % args.wait_file)
            time.sleep(0.01)

    def one(i):
        data = encode("line", fanin_records(args.seed, i, args.lines, "line",
                                            args.max_len))
        s = socket.socket(family, socket.SOCK_STREAM)
        s.settimeout(args.timeout)
        try:
            s.connect(sa)
            s.sendall(data)
            if args.wait_file:
                hold(i)
            s.shutdown(socket.SHUT_WR)
            got = read_all(s)
        finally:
            s.close()
        if got:
            return "got %d unexpected bytes back" % len(got)
        return None

    errors = run_threads(args.clients, one)
    for e in errors:
        print("peer: %s" % e, file=sys.stderr)
    if not errors:
        print("%d clients ok" % args.clients)
    return 1 if errors else 0


def cmd_unix_backlog(args):
    """A Unix listener whose backlog is full: connects to it wait."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(args.path)
    s.listen(0)
    held = []
    for _ in range(8):
        c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        c.setblocking(False)
        try:
            c.connect(args.path)
        except BlockingIOError:
            c.close()
            ready(args.ready, "unix:" + args.path)
            hold_forever()
        held.append(c)
    ready(args.ready, "none")
    hold_forever()


# --- many clients -----------------------------------------------------------


def fanin_records(seed, client, lines, proto, max_len):
    """The payloads client CLIENT sends: "cNNN sNNNNN " then random bytes
    (no LF for line), mostly short, a few up to 40 times longer."""
    r = random.Random(seed * 1000003 + client)
    out = []
    for j in range(lines):
        if r.random() < 0.97:
            n = r.randrange(0, max_len)
        else:
            n = r.randrange(max_len, max_len * 40)
        body = r.randbytes(n)
        if proto == "line":
            body = body.replace(b"\n", b"_")
        out.append(b"c%03d s%05d " % (client, j) + body)
    return out


def encode(proto, frames):
    if proto == "line":
        return b"".join(f + b"\n" for f in frames)
    return b"".join(b"%d:%s," % (len(f), f) for f in frames)


def send_cut(conn, data, r, max_cut, pause):
    """Send DATA in writes of random size (1..MAX_CUT), each its own
    segment, yielding now and then so that clients interleave."""
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    i = 0
    while i < len(data):
        n = r.randrange(1, max_cut + 1)
        conn.sendall(data[i:i + n])
        i += n
        if pause and r.random() < 0.1:
            time.sleep(r.random() * pause)


def run_threads(n, fn):
    """Run fn(i) for i in range(n) on n threads; return their errors."""
    errors = []
    lock = threading.Lock()

    def wrap(i):
        try:
            msg = fn(i)
        except Exception as e:  # noqa: BLE001 - reported, not raised
            msg = "%s: %s" % (type(e).__name__, e)
        if msg:
            with lock:
                errors.append("client %d: %s" % (i, msg))

    ts = [threading.Thread(target=wrap, args=(i,)) for i in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return sorted(errors)


def cmd_fanin(args):
    addr = args.connect or wait_ready_file(args.connect_ready)
    family, sa = parse_addr(addr)
    barrier = threading.Barrier(args.clients, timeout=args.timeout)

    def one(i):
        data = encode(args.proto, fanin_records(args.seed, i, args.lines,
                                                args.proto, args.max_len))
        s = socket.socket(family, socket.SOCK_STREAM)
        s.settimeout(args.timeout)
        s.connect(sa)
        # Everybody connected before anybody sends: they all overlap.
        barrier.wait()
        try:
            send_cut(s, data, random.Random(args.seed * 7 + i),
                     args.max_cut, args.pause)
            s.shutdown(socket.SHUT_WR)
            got = read_all(s)
        except OSError as e:
            return None if args.tolerate else "%s" % e
        finally:
            s.close()
        if got:
            return "got %d unexpected bytes back" % len(got)
        return None

    errors = run_threads(args.clients, one)
    for e in errors:
        print("peer: %s" % e, file=sys.stderr)
    return 1 if errors and not args.tolerate else 0


def parse_frames(proto, data):
    """Frames of DATA, and an error for what is left (torn or garbage)."""
    frames = []
    if proto == "line":
        parts = data.split(b"\n")
        if parts[-1]:
            return parts[:-1], "last line has no LF: %r" % parts[-1][:40]
        return parts[:-1], None
    i = 0
    while i < len(data):
        colon = data.find(b":", i, i + 12)
        if colon < 0 or not data[i:colon].isdigit():
            return frames, "bad netstring header at byte %d: %r" % (
                i, data[i:i + 20])
        n = int(data[i:colon])
        end = colon + 1 + n
        if end >= len(data) or data[end:end + 1] != b",":
            return frames, "netstring at byte %d is torn" % i
        frames.append(data[colon + 1:end])
        i = end + 1
    return frames, None


def cmd_fanin_check(args):
    total = args.clients * args.lines
    deadline = time.monotonic() + args.wait
    while True:
        try:
            with open(args.file, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            data = b""
        frames, err = parse_frames(args.proto, data)
        if len(frames) >= total or time.monotonic() >= deadline:
            break
        time.sleep(0.02)
    expected = [fanin_records(args.seed, i, args.lines, args.proto,
                              args.max_len) for i in range(args.clients)]
    seen = [0] * args.clients
    problems = []
    if err:
        problems.append(err)
    for k, f in enumerate(frames):
        head = f[:12]
        try:
            c = int(head[1:4])
            j = int(head[6:11])
            ok = head[0:1] == b"c" and head[4:6] == b" s" and head[11:12] == b" "
        except ValueError:
            ok = False
        if not ok or c >= args.clients:
            problems.append("frame %d is not a record: %r" % (k, f[:40]))
            continue
        if j != seen[c]:
            problems.append("frame %d: client %d record %d, expected record %d"
                            % (k, c, j, seen[c]))
        elif f != expected[c][j]:
            problems.append("frame %d: client %d record %d differs (%d B, "
                            "expected %d B)" % (k, c, j, len(f),
                                                len(expected[c][j])))
        seen[c] = max(seen[c], j + 1)
        if len(problems) > 10:
            break
    if not args.partial:
        for c in range(args.clients):
            if seen[c] != args.lines:
                problems.append("client %d: %d of %d records"
                                % (c, seen[c], args.lines))
    for p in problems[:20]:
        print("peer: %s" % p, file=sys.stderr)
    if not problems:
        print("%d records from %d clients" % (len(frames), args.clients))
    return 1 if problems else 0


def client_data(mode, seed, i, size):
    r = random.Random(seed * 1000003 + i)
    head = b"client %d\n" % i
    if mode == "upper":
        letters = b"abcdefghijklmnopqrstuvwxyz \n"
        body = bytes(r.choice(letters) for _ in range(size))
        data = head + body
        return data, data.upper()
    data = head + r.randbytes(size)
    return data, data


def cmd_clients(args):
    addr = args.connect or wait_ready_file(args.connect_ready)
    family, sa = parse_addr(addr)
    barrier = threading.Barrier(args.count, timeout=args.timeout)

    def one(i):
        data, want = client_data(args.expect, args.seed, i, args.size)
        s = socket.socket(family, socket.SOCK_STREAM)
        s.settimeout(args.timeout)
        s.connect(sa)
        barrier.wait()
        err = []

        def sender():
            try:
                send_cut(s, data, random.Random(i), 65536, 0)
                s.shutdown(socket.SHUT_WR)
            except OSError as e:
                err.append(e)

        t = threading.Thread(target=sender)
        t.start()
        try:
            got = read_all(s)
        finally:
            t.join()
            s.close()
        if err:
            return "send: %s" % err[0]
        if got != want:
            same = 0
            while same < min(len(got), len(want)) and got[same] == want[same]:
                same += 1
            return "got %d B, expected %d B, first difference at byte %d" % (
                len(got), len(want), same)
        return None

    errors = run_threads(args.count, one)
    for e in errors:
        print("peer: %s" % e, file=sys.stderr)
    if not errors:
        print("%d clients ok" % args.count)
    return 1 if errors else 0


def cmd_broker(args):
    """Clients join one at a time: client K sends "join K" until every
    client before it has received one (so the broker has admitted it).
    Then all send their lines and "end K" at once; each reads until it has
    every other client's end and checks what it got."""
    addr = args.connect or wait_ready_file(args.connect_ready)
    family, sa = parse_addr(addr)
    n = args.clients
    got = [[] for _ in range(n)]
    cond = threading.Condition()
    socks = []
    readers = []
    rerr = []

    def reader(k, s):
        buf = b""
        try:
            while True:
                b = s.recv(CHUNK)
                if not b:
                    break
                buf += b
                *lines, buf = buf.split(b"\n")
                with cond:
                    got[k].extend(lines)
                    cond.notify_all()
                ends = {l for l in got[k] if l.startswith(b"end ")}
                if len(ends) >= n - 1:
                    break
        except OSError as e:
            rerr.append("client %d: recv: %s" % (k, e))
        if buf:
            rerr.append("client %d: torn line %r" % (k, buf[:40]))
        with cond:
            cond.notify_all()

    for k in range(n):
        s = socket.socket(family, socket.SOCK_STREAM)
        s.settimeout(args.timeout)
        s.connect(sa)
        socks.append(s)
        t = threading.Thread(target=reader, args=(k, s), daemon=True)
        t.start()
        readers.append(t)
        if k == 0:
            continue
        join = b"join %d" % k
        deadline = time.monotonic() + args.timeout
        with cond:
            while not all(join in got[j] for j in range(k)):
                if time.monotonic() > deadline:
                    raise SystemExit("peer: client %d never reached the others"
                                     % k)
                s.sendall(join + b"\n")
                cond.wait(0.05)

    def lines_of(k):
        return [b"from %d line %d %s" % (k, j, b"x" * (j % 50))
                for j in range(args.lines)]

    def sender(k):
        data = b"".join(l + b"\n" for l in lines_of(k)) + b"end %d\n" % k
        send_cut(socks[k], data, random.Random(k), 512, 0)

    errors = run_threads(n, sender)
    for t in readers:
        t.join(args.timeout)
    for s in socks:
        s.close()
    errors += rerr
    for k in range(n):
        mine = [l for l in got[k] if l.endswith(b" %d" % k)
                and (l.startswith(b"join ") or l.startswith(b"end "))
                or l.startswith(b"from %d " % k)]
        if mine:
            errors.append("client %d got its own line %r" % (k, mine[0]))
        for j in range(n):
            if j == k:
                continue
            data = [l for l in got[k] if l.startswith(b"from %d " % j)]
            if data != lines_of(j):
                errors.append("client %d got %d of client %d's %d lines"
                              " (or out of order)" % (k, len(data), j,
                                                      args.lines))
            if b"end %d" % j not in got[k]:
                errors.append("client %d: no end from client %d" % (k, j))
    for e in errors:
        print("peer: %s" % e, file=sys.stderr)
    if not errors:
        print("%d clients ok" % n)
    return 1 if errors else 0


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
    sp.add_argument("--peer-file",
                    help="write the peer's address, HOST:PORT, here")
    add_chunk_args(sp, "the greeting")
    sp.set_defaults(fn=cmd_serve)

    sp = sub.add_parser("echo")
    sp.add_argument("--listen", default="tcp:127.0.0.1:0")
    sp.add_argument("--ready")
    sp.add_argument("--log")
    sp.add_argument("--count", type=int, default=1)
    sp.add_argument("--concurrent", action="store_true",
                    help="serve each connection on its own thread"
                    " (--count 0: for ever)")
    sp.set_defaults(fn=cmd_echo)

    sp = sub.add_parser("client")
    g = sp.add_mutually_exclusive_group(required=True)
    g.add_argument("--connect")
    g.add_argument("--connect-ready")
    sp.add_argument("--send")
    sp.add_argument("--send-file")
    sp.add_argument("--send-delay", type=float, default=0)
    sp.add_argument("--no-shutdown", action="store_true")
    sp.add_argument("--no-read", action="store_true",
                    help="after sending, hold the connection, never read")
    sp.add_argument("--wait-file",
                    help="after sending, wait for this file, then half-close")
    sp.add_argument("--out")
    sp.add_argument("--count-file",
                    help="write the number of bytes received here")
    sp.add_argument("--port-file", help="write the local port here")
    sp.add_argument("--bind", help="connect from this local address")
    sp.add_argument("--rcvbuf", type=int, default=0, help="SO_RCVBUF")
    sp.add_argument("--timeout", type=float, default=0,
                    help="give up connect or a read after SEC")
    add_chunk_args(sp, "what is sent")
    sp.set_defaults(fn=cmd_client)

    def add_connect(sp):
        g = sp.add_mutually_exclusive_group(required=True)
        g.add_argument("--connect")
        g.add_argument("--connect-ready")
        sp.add_argument("--timeout", type=float, default=10)
        sp.add_argument("--seed", type=int, default=1)

    sp = sub.add_parser("fanin")
    add_connect(sp)
    sp.add_argument("--clients", type=int, default=20)
    sp.add_argument("--lines", type=int, default=200)
    sp.add_argument("--proto", choices=("line", "netstring"), default="line")
    sp.add_argument("--max-len", type=int, default=200,
                    help="most records are shorter, 3%% up to 40 times longer")
    sp.add_argument("--max-cut", type=int, default=300,
                    help="writes are 1 to this many bytes")
    sp.add_argument("--pause", type=float, default=0.002,
                    help="now and then sleep up to SEC between writes")
    sp.add_argument("--tolerate", action="store_true",
                    help="socket errors are not failures (weir was killed)")
    sp.set_defaults(fn=cmd_fanin)

    sp = sub.add_parser("fanin-check")
    sp.add_argument("--file", required=True)
    sp.add_argument("--seed", type=int, default=1)
    sp.add_argument("--clients", type=int, default=20)
    sp.add_argument("--lines", type=int, default=200)
    sp.add_argument("--proto", choices=("line", "netstring"), default="line")
    sp.add_argument("--max-len", type=int, default=200)
    sp.add_argument("--wait", type=float, default=0,
                    help="wait up to SEC for every record to arrive")
    sp.add_argument("--partial", action="store_true",
                    help="each client's records need only be a prefix")
    sp.set_defaults(fn=cmd_fanin_check)

    sp = sub.add_parser("clients")
    add_connect(sp)
    sp.add_argument("--count", type=int, default=30)
    sp.add_argument("--size", type=int, default=65536)
    sp.add_argument("--expect", choices=("same", "upper"), default="same")
    sp.set_defaults(fn=cmd_clients)

    sp = sub.add_parser("broker")
    add_connect(sp)
    sp.add_argument("--clients", type=int, default=3)
    sp.add_argument("--lines", type=int, default=300)
    sp.set_defaults(fn=cmd_broker)

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
    sp.add_argument("--wait-file",
                    help="read nothing until this file exists")
    sp.add_argument("--timeout", type=float, default=20,
                    help="for --wait-file")
    sp.add_argument("--count-file", required=True)
    sp.set_defaults(fn=cmd_slowread)

    sp = sub.add_parser("pace")
    sp.add_argument("--rate", type=float, required=True,
                    help="bytes per second")
    sp.set_defaults(fn=cmd_pace)

    sp = sub.add_parser("run")
    sp.add_argument("--pid-file", required=True)
    sp.add_argument("argv", nargs=argparse.REMAINDER)
    sp.set_defaults(fn=cmd_run)

    sp = sub.add_parser("cut")
    g = sp.add_mutually_exclusive_group(required=True)
    g.add_argument("--listen")
    g.add_argument("--connect")
    g.add_argument("--connect-ready")
    sp.add_argument("--ready")
    sp.add_argument("--read-bytes", type=int, default=0,
                    help="first read this many bytes (into --out)")
    sp.add_argument("--send-file", help="then send it while the peer takes it")
    sp.add_argument("--wait-file", help="cut once this file exists")
    sp.add_argument("--how", choices=("rst", "close", "shutrd"),
                    default="rst")
    sp.add_argument("--out")
    sp.add_argument("--count-file", help="the number of bytes sent")
    sp.add_argument("--port-file", help="write the local port here")
    sp.add_argument("--timeout", type=float, default=20)
    sp.set_defaults(fn=cmd_cut)

    sp = sub.add_parser("sink")
    sp.add_argument("--wait-file", help="start reading once it exists")
    sp.add_argument("--rate", type=float, default=0, help="bytes per second")
    sp.add_argument("--out", required=True)
    sp.add_argument("--timeout", type=float, default=20)
    sp.set_defaults(fn=cmd_sink)

    sp = sub.add_parser("holders")
    add_connect(sp)
    sp.add_argument("--clients", type=int, default=100)
    sp.add_argument("--lines", type=int, default=5)
    sp.add_argument("--max-len", type=int, default=40)
    sp.add_argument("--wait-file", help="hold each connection until it exists")
    sp.add_argument("--each", action="store_true",
                    help="or until WAIT_FILE.N exists, for client N")
    sp.set_defaults(fn=cmd_holders)

    sp = sub.add_parser("unix-backlog")
    sp.add_argument("--ready", required=True)
    sp.add_argument("path")
    sp.set_defaults(fn=cmd_unix_backlog)

    sp = sub.add_parser("flood")
    sp.add_argument("--quiet", type=float, default=1,
                    help="done once a write has waited this long")
    sp.add_argument("--count-file", required=True)
    sp.add_argument("--wait-file", help="start once it exists")
    sp.add_argument("--timeout", type=float, default=20)
    sp.set_defaults(fn=cmd_flood)

    sp = sub.add_parser("sockopt")
    sp.add_argument("--pid", type=int, required=True)
    g = sp.add_mutually_exclusive_group(required=True)
    g.add_argument("--peer-port", type=int)
    g.add_argument("--path", help="a Unix socket's path")
    sp.set_defaults(fn=cmd_sockopt)

    args = p.parse_args()
    return args.fn(args)


if __name__ == "__main__":
    sys.exit(main())
