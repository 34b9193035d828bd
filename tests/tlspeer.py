#!/usr/bin/env python3
"""A TLS test peer for tests/tls.bats (Python's ssl module, TLS 1.3 unless
told otherwise).

TLS runs over memory BIOs on a non-blocking socket in one select loop, so
the peer is full duplex and can half-close: send close_notify, shut the
socket's write side, and go on reading.  That is what weir does, and what
Python's blocking SSLSocket cannot.

  serve   listen on 127.0.0.1:0, write tls:127.0.0.1:PORT to --ready
          (atomically) and serve --count connections (0: forever), one
          after the other.  Per connection: handshake (a client
          certificate from --ca required, if given), send --greet (and
          half-close with --greet-close), read to the peer's EOF (echoing
          with --echo; from --read-delay on), write --out ({n} in it: the
          connection's number, from 1) and --count-file, wait
          --reply-delay, send --reply, close: with close_notify, or
          --close raw without it.  A failed handshake or read is reported
          on standard error and the server goes on with the next one.
  client  connect to tls:HOST:PORT (options after a comma are ignored),
          verify it with --ca, send --send, optionally read until --expect
          has come and send --then, wait for --wait-file, half-close, read
          to EOF (or, with --close-now, close at once), write --out (or
          standard output) and --count-file.  A failed handshake or read:
          "tlspeer: handshake: ..." or "tlspeer: recv: ..." on standard
          error, exit 1; so is an EOF without close_notify.
"""

import argparse
import os
import select
import socket
import ssl
import sys
import time

from peer import CHUNK, atomic_write, payload, wait_ready_file

# Ciphertext and plaintext the peer holds before it stops taking more.
HIGH = 1 << 20


class Tls:
    """One TLS connection over a non-blocking socket and memory BIOs."""

    def __init__(self, sock, ctx, server_side, hostname=None, deadline=20.0):
        sock.setblocking(False)
        self.sock = sock
        self.inc = ssl.MemoryBIO()
        self.out = ssl.MemoryBIO()
        self.obj = ctx.wrap_bio(self.inc, self.out, server_side=server_side,
                                server_hostname=hostname)
        self.deadline = time.monotonic() + deadline
        self.wbuf = bytearray()     # ciphertext for the socket
        self.outq = bytearray()     # plaintext for TLS
        self.got = bytearray()      # plaintext received
        self.echo = False
        self.read_from = 0.0        # once handshaken, no reading before
        self.handshaken = False
        self.tcp_eof = False
        self.peer_eof = None        # "close_notify" or "truncated"
        self.want_shut = False      # half-close once outq is sent
        self.sent_notify = False
        self.shut = False

    def _flush(self):
        self.wbuf += self.out.read()

    def _pull(self):
        if not self.handshaken:
            try:
                self.obj.do_handshake()
                self.handshaken = True
            except ssl.SSLWantReadError:
                pass
            finally:
                self._flush()
            if not self.handshaken:
                return
        while self.peer_eof is None:
            try:
                data = self.obj.read(CHUNK)
            except ssl.SSLWantReadError:
                if self.tcp_eof:
                    self.peer_eof = "truncated"
                break
            except ssl.SSLZeroReturnError:
                self.peer_eof = "close_notify"
                break
            except ssl.SSLEOFError:
                self.peer_eof = "truncated"
                break
            if not data:
                # Python's way of saying close_notify (when we have not
                # sent ours yet).
                self.peer_eof = "close_notify"
                break
            self.got += data
            if self.echo:
                self.outq += data
        self._flush()

    def _push(self):
        if not self.handshaken:
            return
        while self.outq and len(self.wbuf) < HIGH:
            n = self.obj.write(self.outq[:16384])
            del self.outq[:n]
            self._flush()
        if self.want_shut and not self.outq and not self.sent_notify:
            # Sends close_notify; the second SSL_shutdown inside finds
            # nothing to read (every record in the BIO was read), so no
            # data is thrown away and reading goes on.
            try:
                self.obj.unwrap()
            except (ssl.SSLWantReadError, ssl.SSLZeroReturnError):
                pass
            self.sent_notify = True
            self._flush()
        if self.sent_notify and not self.wbuf and not self.shut:
            self.sock.shutdown(socket.SHUT_WR)
            self.shut = True

    def run_until(self, done):
        """Move bytes both ways until done() is true."""
        while True:
            self._push()
            if done():
                return
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("timed out")
            # An echo stops reading while its peer does not take the echo.
            reading = (not self.tcp_eof and (not self.handshaken or
                                             time.monotonic() >= self.read_from)
                       and not (self.echo and len(self.outq) >= HIGH))
            rl = [self.sock] if reading else []
            wl = [self.sock] if self.wbuf else []
            r, w, _ = select.select(rl, wl, [], min(left, 0.02))
            if w:
                try:
                    n = self.sock.send(self.wbuf)
                    del self.wbuf[:n]
                except BlockingIOError:
                    pass
            if r:
                b = self.sock.recv(CHUNK)
                if b:
                    self.inc.write(b)
                else:
                    self.tcp_eof = True
                    self.inc.write_eof()
            self._pull()

    def handshake(self):
        self.run_until(lambda: self.handshaken)

    def send(self, data):
        self.outq += data
        self.run_until(lambda: not self.outq or self.peer_eof)

    def half_close(self):
        self.want_shut = True
        self.run_until(lambda: self.shut)

    def read_to_eof(self):
        self.run_until(lambda: self.peer_eof)

    def close(self, raw=False):
        """close_notify (unless raw or already sent), then close."""
        if not raw:
            self.want_shut = True
            self.run_until(lambda: self.shut)
        else:
            self.run_until(lambda: not self.outq and not self.wbuf)
        self.sock.close()


def server_ctx(args):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    if args.ca:
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(args.ca)
    if args.tls12:
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    if args.sni_file:
        def seen(obj, name, _ctx):
            with open(args.sni_file, "a") as f:
                f.write("%s\n" % (name if name is not None else "-"))
        ctx.sni_callback = seen
    return ctx


def serve_one(args, ctx, conn, n):
    t = Tls(conn, ctx, True, deadline=args.timeout)
    t.echo = args.echo
    try:
        t.handshake()
        t.send(payload(args.greet, None))
        if args.greet_close:
            t.half_close()
        t.read_from = time.monotonic() + args.read_delay
        t.read_to_eof()
        if args.out:
            atomic_write(args.out.replace("{n}", str(n)), bytes(t.got))
        if args.count_file:
            atomic_write(args.count_file, b"%d\n" % len(t.got))
        if args.reply_delay:
            time.sleep(args.reply_delay)
        t.send(payload(args.reply, args.reply_file))
        t.close(raw=args.close == "raw")
    except (OSError, ssl.SSLError) as e:
        what = "handshake" if not t.handshaken else "recv"
        print("tlspeer: %s: %s" % (what, e), file=sys.stderr, flush=True)
        # The alert OpenSSL made, if any, tells the client why.
        try:
            conn.setblocking(True)
            conn.settimeout(1)
            conn.sendall(t.wbuf)
        except OSError:
            pass
        conn.close()


def cmd_serve(args):
    ctx = server_ctx(args)
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(64)
    if args.ready:
        atomic_write(args.ready, b"tls:127.0.0.1:%d\n" % s.getsockname()[1])
    n = 0
    while args.count == 0 or n < args.count:
        conn, _ = s.accept()
        n += 1
        serve_one(args, ctx, conn, n)
    return 0


def parse_tls_addr(addr):
    """tls:HOST:PORT[,OPT=VAL...] or tls:[V6]:PORT -> (host, port)."""
    kind, _, rest = addr.partition(":")
    if kind != "tls":
        raise SystemExit("tlspeer: not a tls: address: %r" % addr)
    host, _, port = rest.split(",")[0].rpartition(":")
    return host.strip("[]"), int(port)


def cmd_client(args):
    addr = args.connect or wait_ready_file(args.connect_ready, args.timeout)
    host, port = parse_tls_addr(addr)
    ctx = ssl.create_default_context(cafile=args.ca)
    if args.cert:
        ctx.load_cert_chain(args.cert, args.key)
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    if args.bind:
        sock.bind((args.bind, 0))
    sock.settimeout(args.timeout)
    try:
        sock.connect((host, port))
    except OSError as e:
        print("tlspeer: connect: %s" % e, file=sys.stderr)
        return 1
    t = Tls(sock, ctx, False, host, args.timeout)
    try:
        t.handshake()
    except (OSError, ssl.SSLError) as e:
        print("tlspeer: handshake: %s" % e, file=sys.stderr)
        return 1
    try:
        t.send(payload(args.send, args.send_file))
        if args.expect:
            want = payload(args.expect, None)
            t.run_until(lambda: want in t.got or t.peer_eof)
            if want not in t.got:
                raise OSError("EOF before %r" % args.expect)
            t.send(payload(args.then or "", None))
        if args.wait_file:
            t.run_until(lambda: os.path.exists(args.wait_file))
        if args.close_now:
            t.close()
        else:
            t.half_close()
            t.read_to_eof()
            t.close()
    except (OSError, ssl.SSLError) as e:
        print("tlspeer: recv: %s" % e, file=sys.stderr)
        return 1
    finally:
        if args.count_file:
            atomic_write(args.count_file, b"%d\n" % len(t.got))
        if args.out:
            atomic_write(args.out, bytes(t.got))
        elif not args.count_file:
            sys.stdout.buffer.write(t.got)
            sys.stdout.flush()
    if t.peer_eof == "truncated":
        print("tlspeer: recv: EOF without close_notify", file=sys.stderr)
        return 1
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawTextHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)

    sp = sub.add_parser("serve")
    sp.add_argument("--ready")
    sp.add_argument("--cert", required=True)
    sp.add_argument("--key")
    sp.add_argument("--ca", help="require a client certificate from these")
    sp.add_argument("--tls12", action="store_true", help="at most TLS 1.2")
    sp.add_argument("--sni-file", help="append the name each client sent")
    sp.add_argument("--count", type=int, default=1)
    sp.add_argument("--echo", action="store_true")
    sp.add_argument("--greet")
    sp.add_argument("--greet-close", action="store_true")
    sp.add_argument("--read-delay", type=float, default=0)
    sp.add_argument("--out")
    sp.add_argument("--count-file")
    sp.add_argument("--reply")
    sp.add_argument("--reply-file")
    sp.add_argument("--reply-delay", type=float, default=0)
    sp.add_argument("--close", choices=("notify", "raw"), default="notify")
    sp.add_argument("--timeout", type=float, default=20)
    sp.set_defaults(fn=cmd_serve)

    sp = sub.add_parser("client")
    g = sp.add_mutually_exclusive_group(required=True)
    g.add_argument("--connect")
    g.add_argument("--connect-ready")
    sp.add_argument("--ca")
    sp.add_argument("--cert")
    sp.add_argument("--key")
    sp.add_argument("--bind")
    sp.add_argument("--send")
    sp.add_argument("--send-file")
    sp.add_argument("--expect", help="read until this arrives")
    sp.add_argument("--then", help="and then send this")
    sp.add_argument("--wait-file", help="half-close once it exists")
    sp.add_argument("--close-now", action="store_true",
                    help="close after sending, without reading to EOF")
    sp.add_argument("--out")
    sp.add_argument("--count-file")
    sp.add_argument("--timeout", type=float, default=20)
    sp.set_defaults(fn=cmd_client)

    args = p.parse_args()
    return args.fn(args)


if __name__ == "__main__":
    sys.exit(main())
